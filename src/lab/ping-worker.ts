// The lab's ping probe, run inside one pod's network namespace (`ip netns exec <pod> node
// dist/lab/ping-worker.js <ip>...`): ICMP echo to every target with net-ping, all at once, and
// one JSON array of PingResult on stdout. A separate process because a raw socket pings from
// the namespace of the process that opened it.
import netPing from 'net-ping';

export interface PingResult {
  target: string;
  ok: boolean;
  /** Round-trip time in milliseconds when ok. */
  rttMs?: number;
  error?: string;
}

function pingAll(targets: readonly string[], timeoutMs: number, retries: number): Promise<PingResult[]> {
  // The session id is the ICMP identifier: per process, so concurrent workers in different
  // pods never take each other's replies.
  const session = netPing.createSession({ timeout: timeoutMs, retries, sessionId: process.pid % 65535 });
  return new Promise((resolve, reject) => {
    session.on('error', (e) => reject(e));
    const results: PingResult[] = [];
    let left = targets.length;
    if (left === 0) { session.close(); resolve(results); return; }
    targets.forEach((target, i) => {
      session.pingHost(target, (error, _t, sent, rcvd) => {
        results[i] = error || !sent || !rcvd
          ? { target, ok: false, error: error ? `${error.name}: ${error.message}` : 'no reply' }
          : { target, ok: true, rttMs: rcvd.getTime() - sent.getTime() };
        if (--left === 0) { session.close(); resolve(results); }
      });
    });
  });
}

const targets = process.argv.slice(2);
pingAll(targets, Number(process.env['KITE_LAB_PING_TIMEOUT'] ?? 1000), Number(process.env['KITE_LAB_PING_RETRIES'] ?? 2))
  .then((r) => { process.stdout.write(JSON.stringify(r) + '\n'); })
  .catch((e: unknown) => {
    process.stderr.write(`ping-worker: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
