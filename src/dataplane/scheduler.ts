// The one scheduler that drives the dataplane's managers: coalesces bursts of updates into one
// apply (a zero-delay kick), runs one apply at a time (a flush during an apply asks for another
// round), retries failures with doubling backoff, wakes for deferred work (grace periods), asks
// for a periodic resync, and cuts large route changes into slices with the event loop in between.

import type { Clock, DpLog, TimerHandle } from './types.js';

/** What one apply reports back. */
export interface ApplyOutcome {
  /** False when something failed and a retry is due. */
  ok: boolean;
  /** Clock time (ms) at which deferred work falls due. */
  wakeAt?: number;
  /** Work was left to an operation in flight: run again once this apply is done. */
  again?: boolean;
  /** The kernel view is suspect (a route appeared under us): resync before the next apply. */
  resync?: boolean;
}

export interface SchedulerOptions {
  clock: Clock;
  log: DpLog;
  /** First retry delay after a failure (doubles up to 30 s). */
  retryMs: number;
  /** A periodic resync every this many ms. */
  resyncIntervalMs: number;
  /** One apply: every manager in order. */
  apply(): Promise<ApplyOutcome>;
  /** A resync is due: the periodic one, or after an apply threw (the kernel view is suspect). */
  resyncDue(): void;
  /** Each apply's wall time in seconds (measured on the monotonic clock, not `clock`) and outcome. */
  onApplied?(seconds: number, ok: boolean): void;
}

const MAX_RETRY_MS = 30_000;

export class Scheduler {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private kick: TimerHandle | undefined;
  private retry: TimerHandle | undefined;
  private wake: TimerHandle | undefined;
  private periodic: TimerHandle | undefined;
  private retryDelay: number;
  private applyingSince: number | null = null;

  constructor(private readonly o: SchedulerOptions) {
    this.retryDelay = o.retryMs;
    this.armPeriodic();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Clock time the apply in flight started, null when idle: liveness calls a long one stuck. */
  get busySince(): number | null {
    return this.applyingSince;
  }

  /** Apply soon: every update in the same turn shares one apply. */
  schedule(): void {
    if (this.stopped || this.kick !== undefined) return;
    this.kick = this.o.clock.setTimeout(() => {
      this.kick = undefined;
      void this.flush();
    }, 0);
  }

  /** Apply now; during an apply, one more round once it is done. Resolves when the work is applied. */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Run `step` until it reports nothing more to do, letting the event loop run between steps:
   * the kernel installs one slice (on the netlink thread) while the next is computed, and BGP
   * runs in between.
   */
  async slices(step: () => boolean): Promise<void> {
    while (step() && !this.stopped) await new Promise<void>((r) => setImmediate(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.kick, this.retry, this.wake, this.periodic]) if (t !== undefined) this.o.clock.clearTimeout(t);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      this.applyingSince = this.o.clock.now();
      const started = process.hrtime.bigint();
      const took = (): number => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const res = await this.o.apply();
        this.o.onApplied?.(took(), res.ok);
        if (res.again === true) this.again = true;
        if (res.resync === true) this.o.resyncDue();
        if (res.wakeAt !== undefined) this.armWake(res.wakeAt);
        if (res.ok) this.retryDelay = this.o.retryMs;
        else this.armRetry();
      } catch (e) {
        this.o.onApplied?.(took(), false);
        this.o.resyncDue();
        this.o.log.error({ err: e instanceof Error ? e.message : String(e) }, 'dataplane apply failed; resyncing from a dump');
        this.armRetry();
      } finally {
        this.applyingSince = null;
      }
    } while (this.again && !this.stopped);
  }

  private armPeriodic(): void {
    this.periodic = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.o.resyncDue();
      void this.flush();
      this.armPeriodic();
    }, this.o.resyncIntervalMs);
  }

  private armRetry(): void {
    if (this.stopped || this.retry !== undefined) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(delay * 2, MAX_RETRY_MS);
    this.retry = this.o.clock.setTimeout(() => {
      this.retry = undefined;
      void this.flush();
    }, delay);
  }

  private armWake(at: number): void {
    if (this.wake !== undefined) this.o.clock.clearTimeout(this.wake);
    this.wake = this.o.clock.setTimeout(() => {
      this.wake = undefined;
      void this.flush();
    }, Math.max(0, at - this.o.clock.now()));
  }
}
