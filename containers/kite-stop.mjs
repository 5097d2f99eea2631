#!/usr/bin/env node
// kite-stop: how the DaemonSet stops Kite (its preStop hook), and how an operator withdraws a node.
// Installed in the image as /usr/local/bin/kite-stop; finds the `kite run` process in /proc.
//
//   kite-stop restart   SIGKILLs it, so that Kite stops the way a restart looks to BGP: no
//                       NOTIFICATION, so peers keep its routes as stale (RFC 4724 helper) and the
//                       kernel keeps them, until the next Kite restarts gracefully (it finds its
//                       .running marker in /run/kite) and sends End-of-RIB. The pod must share its
//                       process namespace: a PID 1 ignores SIGKILL sent from inside its namespace.
//   kite-stop cease     SIGUSR2s it instead, Kite's decommission signal: it sends every peer a
//                       Cease/Administrative Shutdown (inside Cease/Hard Reset to a peer with the
//                       RFC 8538 N bit), so they drop its routes at once (a node leaving for good).
//                       (SIGTERM is a graceful restart too since issue 12.)
//
// Exit 0 once signalled; 1 with the reason when there is nothing it may signal.
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The pids of `kite run` processes visible here, from <proc>/<pid>/cmdline. */
export function kiteRunPids(proc = '/proc') {
  const pids = [];
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let argv;
    try {
      argv = readFileSync(`${proc}/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const i = argv.findIndex((a) => a === 'kite' || a.endsWith('/kite'));
    if (i >= 0 && argv[i + 1] === 'run') pids.push(Number(name));
  }
  return pids;
}

function main(mode) {
  if (mode !== 'restart' && mode !== 'cease') {
    process.stderr.write('usage: kite-stop restart|cease\n');
    return 2;
  }
  const pids = kiteRunPids();
  if (pids.length === 0) {
    process.stderr.write('kite-stop: no kite run process found\n');
    return 1;
  }
  if (mode === 'restart' && pids.includes(1)) {
    // SIGKILL from inside cannot end a PID 1 (Kite's own SIGTERM stop is a graceful restart as well).
    process.stderr.write('kite-stop: kite run is PID 1 here, which ignores SIGKILL: set shareProcessNamespace: true\n');
    return 1;
  }
  // Said before the signal: with `restart`, the container may stop with Kite before we could say it.
  process.stderr.write(mode === 'restart'
    ? `kite-stop: killing kite run (pid ${pids.join(', ')}) without a NOTIFICATION: peers keep its routes until it restarts\n`
    : `kite-stop: asking kite run (pid ${pids.join(', ')}) to send every peer a Cease and exit\n`);
  for (const pid of pids) process.kill(pid, mode === 'restart' ? 'SIGKILL' : 'SIGUSR2');
  return 0;
}

// Run as a program, not when a test imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main(process.argv[2]));
