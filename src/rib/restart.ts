// Graceful restart (RFC 4724), restarting-speaker role for the whole BGP instance: a marker file
// left by a run that did not stop for good (a crash, or a stop for a restart) means the kernel
// still forwards with its routes, so
// OPENs carry Restart State (and forwarding preserved) until every peer has sent End-of-RIB or
// a deadline passes. The receiving-speaker role is per peer, in channel.ts.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../bgp/timers.js';

export interface LocalRestartOptions {
  /** The marker file: present while Kite runs, removed by a clean stop. */
  marker: string;
  clock: Clock;
  log: Logger;
}

export class LocalRestart {
  private live: boolean;
  private deadline: TimerHandle | null = null;

  constructor(private readonly o: LocalRestartOptions) {
    this.live = existsSync(o.marker);
    if (this.live) o.log.warn({ marker: o.marker }, 'previous run did not stop cleanly: announcing graceful restart (Restart State, forwarding preserved)');
  }

  /** Read when each OPEN is built: Restart State and the forwarding bits (RFC 4724 §3). */
  get restarting(): boolean { return this.live; }

  /** Forwarding state left by another daemon is this node's (a migration): restart as if it were ours. */
  assume(why: string): void {
    if (this.live) return;
    this.live = true;
    this.o.log.warn({ why }, 'announcing graceful restart (Restart State, forwarding preserved)');
  }

  /** Kite runs from now on: an unclean exit leaves the marker behind. */
  arm(): void {
    mkdirSync(dirname(this.o.marker), { recursive: true });
    writeFileSync(this.o.marker, `${process.pid}\n`);
  }

  /** Peers that never come back do not keep the restart open forever (as the dataplane's wait). */
  startDeadline(ms: number): void {
    if (!this.live) return;
    this.deadline = this.o.clock.setTimeout(() => this.done(`no End-of-RIB from every peer within ${ms / 1000} s`), ms);
  }

  /**
   * RFC 4724 §4.1: the restart ends once every peer's End-of-RIB is in (or after the deadline).
   * From then on OPENs carry Restart State 0 again: a session that resets later is a plain
   * reconnect, not part of the restart.
   */
  done(why: string): void {
    if (!this.live) return;
    this.live = false;
    this.clearDeadline();
    this.o.log.info({ why }, 'graceful restart complete: later OPENs no longer announce Restart State');
  }

  /** A stop for a restart: the marker stays, so the next run announces Restart State. */
  release(): void {
    this.clearDeadline();
  }

  /** A clean stop: the next run starts normally. */
  disarm(): void {
    this.clearDeadline();
    rmSync(this.o.marker, { force: true });
  }

  private clearDeadline(): void {
    if (this.deadline !== null) this.o.clock.clearTimeout(this.deadline);
    this.deadline = null;
  }
}
