// Load once, forget a failure: the shape of Kite's lazy loads (gRPC, prom-client, the Kubernetes
// client, issue 16). A load in flight or done is shared by every caller; one that failed (a module
// or a file unreadable for a moment) is dropped, so the next call loads again instead of failing
// the same way for the life of the daemon.

export class Lazy<T> {
  private loading: Promise<T> | undefined;

  constructor(private readonly load: () => Promise<T>) {}

  /** The value: loaded at the first call, and again at the next call after a failed load. */
  get(): Promise<T> {
    let p = this.loading;
    if (p === undefined) {
      p = this.load();
      const started = p;
      started.catch(() => { if (this.loading === started) this.loading = undefined; });
      this.loading = p;
    }
    return p;
  }

  /** The load in flight or done, without starting one; undefined before the first and after a failure. */
  get current(): Promise<T> | undefined {
    return this.loading;
  }
}
