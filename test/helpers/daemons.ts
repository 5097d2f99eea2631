// In-process Kite daemons for the daemon tests: a scratch directory holding the cluster file and
// the control sockets, daemons started from that file on loopback addresses without a dataplane,
// and one clean-up that stops them all and removes the directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Daemon, type DaemonOptions } from '../../src/daemon.js';

/** A BGP port for one suite: `base` plus a per-process offset, so concurrent runs do not collide. */
export const testPort = (base: number, spread = 400): number => base + (process.pid % spread);

export class DaemonDir {
  readonly dir: string;
  /** The cluster file every daemon here reads (the file datastore watches it). */
  readonly file: string;
  readonly daemons: Daemon[] = [];

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `kite-${name}-`));
    this.file = join(this.dir, 'cluster.yaml');
  }

  /** Replace the cluster file (running daemons apply a valid edit live). */
  write(yaml: string): void {
    writeFileSync(this.file, yaml);
  }

  /** A daemon for `node` listening on `address` with a silent log, neither started nor kept here. */
  daemon(node: string, address: string, opts: Partial<DaemonOptions> = {}): Daemon {
    return new Daemon({ config: this.file, node, socket: join(this.dir, `${node}.sock`), dataplane: 'none', listenAddress: address, ...opts }, pino({ level: 'silent' }));
  }

  /** A started daemon, stopped by stopAll() and close(). */
  async start(node: string, address: string, opts: Partial<DaemonOptions> = {}): Promise<Daemon> {
    const d = this.daemon(node, address, opts);
    await d.start();
    this.daemons.push(d);
    return d;
  }

  /** Stop one daemon started here (it tells its peers `reason`). */
  async stop(d: Daemon, reason: string): Promise<void> {
    const i = this.daemons.indexOf(d);
    if (i >= 0) this.daemons.splice(i, 1);
    await d.stop(reason);
  }

  /** Stop every daemon started here (a stop that fails is ignored: the test is over). */
  async stopAll(reason = 'test over'): Promise<void> {
    for (const d of this.daemons.splice(0)) await d.stop(reason).catch(() => {});
  }

  /** Stop every daemon and remove the directory. */
  async close(): Promise<void> {
    await this.stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
