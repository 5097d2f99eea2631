// One polling helper for suites whose subject works asynchronously (sockets, timers, file and API
// watches): wait until a condition holds, or fail naming what never happened.

/** Resolves once `cond()` is true (checked every 10 ms); rejects "timed out waiting for <what>" after `timeoutMs`. */
export async function eventually(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** eventually() for a condition that must itself wait (an HTTP scrape, a CLI call); checked every 100 ms. */
export async function eventuallyAsync(what: string, cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
