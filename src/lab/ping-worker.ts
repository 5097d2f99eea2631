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

/** IPv4 and IPv6 targets need a session each (an ICMP and an ICMPv6 raw socket); results in target order. */
async function pingAll(targets: readonly string[], timeoutMs: number, retries: number): Promise<PingResult[]> {
  const v6 = targets.filter((t) => t.includes(':'));
  const v4 = targets.filter((t) => !t.includes(':'));
  const [r4, r6] = await Promise.all([pingFamily(v4, 4, timeoutMs, retries), pingFamily(v6, 6, timeoutMs, retries)]);
  const by = new Map([...r4, ...r6].map((r) => [r.target, r]));
  return targets.map((t) => by.get(t) ?? { target: t, ok: false, error: 'not pinged' });
}

function pingFamily(targets: readonly string[], family: 4 | 6, timeoutMs: number, retries: number): Promise<PingResult[]> {
  if (targets.length === 0) return Promise.resolve([]);
  // The session id is the ICMP identifier: per process, so concurrent workers in different
  // pods never take each other's replies.
  const session = netPing.createSession({
    timeout: timeoutMs, retries, sessionId: process.pid % 65535,
    networkProtocol: family === 6 ? netPing.NetworkProtocol.IPv6 : netPing.NetworkProtocol.IPv4,
  });
  return new Promise((resolve, reject) => {
    session.on('error', (e) => reject(e));
    const results: PingResult[] = [];
    let left = targets.length;
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
