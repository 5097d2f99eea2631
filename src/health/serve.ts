// Serves the health verdicts on Kite's HTTP server: /livez and /readyz answer 200 "ok", or 503 with
// one reason a line (what `kite health` prints). The inputs are read fresh at every probe.
import type { HttpServer } from '../api/http.js';
import { liveness, readiness, type HealthInputs, type Verdict } from './health.js';

export function serveHealth(http: Pick<HttpServer, 'handle'>, inputs: () => HealthInputs): void {
  http.handle('/livez', () => verdictReply(liveness(inputs())));
  http.handle('/readyz', () => verdictReply(readiness(inputs())));
}

export function verdictReply(v: Verdict): { status: number; body: string } {
  return v.ok ? { status: 200, body: 'ok\n' } : { status: 503, body: `${v.reasons.join('\n')}\n` };
}
