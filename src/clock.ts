// The one clock interface every part takes its time and timers from (BGP timers, graceful
// restart, the dataplane's scheduler and grace periods), so tests drive time with a fake clock;
// and the process clock. Parts with special timer needs implement it (dataplane/kernel.ts).

/** Whatever setTimeout returned; only the same clock's clearTimeout reads it. */
export type TimerHandle = unknown;

export interface Clock {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds, monotonic enough for uptime, grace periods, backoff and counters. */
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
