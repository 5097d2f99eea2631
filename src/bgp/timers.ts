// The BGP session layer's timers (ConnectRetry, Hold, Keepalive, idle hold) on the shared clock
// (src/clock.ts), and the RFC 4271 §10 jitter helper.
import type { Clock, TimerHandle } from '../clock.js';

export { realClock, type Clock, type TimerHandle } from '../clock.js';

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
