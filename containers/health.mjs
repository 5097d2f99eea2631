#!/usr/bin/env node
// kite-health: the image's HEALTHCHECK and the DaemonSet's exec probes, until Kite serves HTTP
// health endpoints (issue 12). It asks the running daemon through `kite show … --json`.
//
//   kite-health live    the daemon answers on its control socket (a dead or wedged Kite fails)
//   kite-health ready   live, at least $KITE_HEALTH_MIN_PEERS peers (default 1) and every one of
//                       them Established, and the Linux dataplane (when on) in sync: the
//                       datastore synced and every peer's End-of-RIB in, so the kernel routes
//                       are complete. A single-node cluster sets KITE_HEALTH_MIN_PEERS=0.
//
// Exit 0 when healthy, 1 with the reason on stderr otherwise. $KITE_SOCKET picks the socket.
import { execFile } from 'node:child_process';

const TIMEOUT_MS = 8000;

/** Runs `kite show <what> --json` and parses its answer; rejects with kite's own message. */
function show(what) {
  const args = ['show', what, '--json'];
  if (process.env.KITE_SOCKET) args.push('--socket', process.env.KITE_SOCKET);
  return new Promise((resolve, reject) => {
    execFile('kite', args, { timeout: TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`kite show ${what}: ${(stderr || err.message).trim()}`));
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`kite show ${what}: not JSON: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** The reasons Kite is not ready; empty when it is. */
export function notReady(summary, fib, minPeers) {
  const reasons = [];
  const peers = Array.isArray(summary.peers) ? summary.peers : [];
  if (peers.length < minPeers) reasons.push(`${peers.length} BGP peers configured, at least ${minPeers} expected`);
  for (const p of peers) {
    if (p.state !== 'Established') reasons.push(`peer ${p.address} is ${p.state}${p.lastError ? ` (${p.lastError})` : ''}`);
  }
  if (fib && fib.enabled && !fib.inSync) reasons.push('kernel routes not in sync yet (waiting for the datastore or a peer\'s End-of-RIB)');
  return reasons;
}

async function main(mode) {
  if (mode !== 'live' && mode !== 'ready') {
    process.stderr.write('usage: kite-health live|ready\n');
    return 2;
  }
  const summary = await show('summary');
  if (mode === 'live') return 0;
  const minPeers = Number.parseInt(process.env.KITE_HEALTH_MIN_PEERS ?? '1', 10);
  const fib = await show('fib');
  const reasons = notReady(summary, fib, Number.isNaN(minPeers) ? 1 : minPeers);
  if (reasons.length === 0) return 0;
  process.stderr.write(`kite-health: not ready: ${reasons.join('; ')}\n`);
  return 1;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kite-health: ${err.message}\n`);
    process.exit(1);
  },
);
