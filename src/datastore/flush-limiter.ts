// When the watch-based datastores (Kubernetes, etcd) turn their caches into a snapshot: at once
// (after a few milliseconds, so the events of one watch read share a snapshot) while changes are
// rare, and at most one snapshot per `intervalMs` on average while they keep coming. A token
// bucket (issue 16): a fixed debounce put its whole window, 100 ms, into every block's path from
// the datastore to the kernel; the bucket keeps the old rate limit for a busy cluster.

export interface FlushLimiterOptions {
  /** Average time between snapshots under sustained change (the old debounce window). */
  intervalMs: number;
  /** Snapshots allowed back to back after a quiet period, before the rate limit applies. */
  burst?: number;
  /** Delay of a snapshot that has a token: events arriving meanwhile join it. */
  quickMs?: number;
  flush(): void;
  /** Monotonic milliseconds (tests). */
  now?: () => number;
}

export class FlushLimiter {
  private timer: NodeJS.Timeout | undefined;
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private readonly quickMs: number;
  private readonly now: () => number;

  constructor(private readonly o: FlushLimiterOptions) {
    this.burst = Math.max(1, o.burst ?? 3);
    this.quickMs = Math.max(0, Math.min(o.quickMs ?? 2, o.intervalMs));
    this.now = o.now ?? (() => performance.now());
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** A change arrived: make sure a snapshot follows (one already pending takes it along). */
  changed(): void {
    if (this.timer !== undefined) return;
    this.refill();
    const delay = this.tokens >= 1 ? this.quickMs : Math.max(this.quickMs, Math.ceil((1 - this.tokens) * this.o.intervalMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.o.flush();
    }, delay);
  }

  /**
   * The owner is taking a snapshot now (from the timer or on its own, e.g. at sync): spends a
   * token and drops a pending timer, whose changes this snapshot includes.
   */
  flushing(): void {
    this.cancel();
    this.refill();
    this.tokens = Math.max(0, this.tokens - 1);
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refill(): void {
    const t = this.now();
    if (this.o.intervalMs <= 0) this.tokens = this.burst;
    else this.tokens = Math.min(this.burst, this.tokens + (t - this.last) / this.o.intervalMs);
    this.last = t;
  }
}
