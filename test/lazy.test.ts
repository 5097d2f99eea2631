// Tests for Lazy (src/lazy.ts), the "load once, forget a failure" shape of Kite's lazy loads:
// callers share one load in flight or done, a failed load is not kept (the next call loads
// again), and `current` never starts a load.
import { describe, expect, it } from 'vitest';
import { Lazy } from '../src/lazy.js';

describe('Lazy', () => {
  it('loads once for concurrent and later callers', async () => {
    let loads = 0;
    const l = new Lazy(async () => ({ n: ++loads }));
    expect(l.current).toBeUndefined();
    const [a, b] = await Promise.all([l.get(), l.get()]);
    expect(a).toBe(b);
    expect(await l.get()).toBe(a);
    expect(await l.current).toBe(a);
    expect(loads).toBe(1);
  });

  it('after a failed load the next call loads again, and its success is kept', async () => {
    let loads = 0;
    const l = new Lazy(async () => {
      loads++;
      if (loads === 1) throw new Error('cannot load');
      return `load ${loads}`;
    });
    const first = l.get();
    const shared = l.get();
    await expect(first).rejects.toThrow('cannot load');
    await expect(shared).rejects.toThrow('cannot load');
    expect(l.current).toBeUndefined();
    expect(await l.get()).toBe('load 2');
    expect(await l.get()).toBe('load 2');
    expect(loads).toBe(2);
  });
});
