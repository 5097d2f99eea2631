// The daemon as a process (`kite run`): the logger, calico-node's start-up and health served by
// default, and what each signal means. SIGTERM/SIGINT stop for a restart (peers keep our routes
// through graceful restart) unless --on-stop decommission; SIGUSR2 always decommissions (Cease).
import { DEFAULT_HTTP_PORT } from '../api/http.js';
import { Daemon, type DaemonOptions } from '../daemon.js';
import { createLogger } from '../logger.js';

/** Runs until SIGTERM/SIGINT; resolves once every peer has been told (or left holding our routes) and the socket is closed. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const log = createLogger({ level: opts.logLevel ?? 'info', format: opts.logFormat ?? 'auto', base: { node: opts.node } });
  // The command line serves health by default; in-process daemons (tests) only when asked.
  // The command line also runs calico-node's start-up (its variables, or their defaults).
  const daemon = new Daemon({ ...opts, httpPort: opts.httpPort ?? DEFAULT_HTTP_PORT, startup: opts.startup ?? {}, logLevelFromDatastore: opts.logLevel === undefined }, log);
  await daemon.start();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string, restart: boolean) => {
      if (stopping) return;
      stopping = true;
      if (restart) log.info({ signal: sig }, 'stopping for a restart: kernel routes stay, peers keep our routes through graceful restart (Cease/Administrative Reset to peers with the RFC 8538 N bit, no NOTIFICATION to the others)');
      else log.info({ signal: sig }, 'decommissioning: sending Cease/Administrative Shutdown to every peer (inside Cease/Hard Reset to peers with the RFC 8538 N bit)');
      void daemon.stop(`kite on ${opts.node} ${restart ? 'restarting' : 'shutting down'} (${sig})`, { restart }).finally(resolve);
    };
    const onStopRestarts = (opts.onStop ?? 'restart') === 'restart';
    process.once('SIGTERM', () => stop('SIGTERM', onStopRestarts));
    process.once('SIGINT', () => stop('SIGINT', onStopRestarts));
    // A deliberate decommission of a running Kite (kite-stop cease): Cease, peers withdraw at once.
    process.once('SIGUSR2', () => stop('SIGUSR2', false));
  });
}
