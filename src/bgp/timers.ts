// The clock the BGP session layer uses for its timers (ConnectRetry, Hold, Keepalive, idle hold),
// behind a small interface so tests drive time with a fake clock or vi.useFakeTimers, and the
// RFC 4271 §10 jitter helper.

export type TimerHandle = unknown;

export interface Clock {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds, monotonic enough for uptime and counters. */
  now(): number;
}

/**
 * The process clock. Looks the globals up at call time (not import time), so that
 * vi.useFakeTimers() installed after import still takes effect.
 */
export const realClock: Clock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

/**
 * RFC 4271 §10: ConnectRetry and Keepalive timers are jittered by a random factor in
 * 0.75–1.0, so that peers restarting together do not stay synchronised.
 */
export const jitter = (ms: number, random: () => number = Math.random): number =>
  Math.round(ms * (0.75 + 0.25 * random()));

/** One named, restartable timer on a Clock. */
export class Timer {
  private handle: TimerHandle | null = null;
  constructor(private readonly clock: Clock, private readonly fire: () => void) {}

  get running(): boolean { return this.handle !== null; }

  start(ms: number): void {
    this.stop();
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.fire();
    }, ms);
  }

  stop(): void {
    if (this.handle !== null) {
      this.clock.clearTimeout(this.handle);
      this.handle = null;
    }
  }
}
