// The watch-based datastores' snapshot timing (issue 16): a change after a quiet period is
// flushed within milliseconds, a burst shares snapshots, and sustained change is held to one
// snapshot per interval on average (the old fixed debounce's rate), never starved.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlushLimiter } from '../../src/datastore/flush-limiter.js';

describe('FlushLimiter', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  const make = (intervalMs = 100, burst = 3) => {
    const at: number[] = [];
    const start = Date.now();
    const l: FlushLimiter = new FlushLimiter({ intervalMs, burst, quickMs: 2, now: () => Date.now(), flush: () => { l.flushing(); at.push(Date.now() - start); } });
    return { l, at };
  };

  it('flushes a lone change after quickMs, not after the interval', () => {
    const { l, at } = make();
    l.changed();
    vi.advanceTimersByTime(1);
    expect(at).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(at).toEqual([2]);
  });

  it('takes every change made before the flush along in one snapshot', () => {
    const { l, at } = make();
    l.changed();
    l.changed();
    vi.advanceTimersByTime(1);
    l.changed();
    vi.advanceTimersByTime(10);
    expect(at).toEqual([2]);
  });

  it('allows `burst` quick snapshots back to back, then waits for a token', () => {
    const { l, at } = make(100, 3);
    for (let i = 0; i < 4; i++) {
      l.changed();
      vi.advanceTimersByTime(5);
    }
    expect(at).toEqual([2, 7, 12]);
    // The fourth waits until the bucket has refilled one token (~100 ms after the burst began).
    vi.advanceTimersByTime(200);
    expect(at).toHaveLength(4);
    expect(at[3]).toBeGreaterThanOrEqual(95);
    expect(at[3]).toBeLessThanOrEqual(110);
  });

  it('holds sustained change to one snapshot per interval on average, and always flushes the last change', () => {
    const { l, at } = make(100, 3);
    for (let t = 0; t < 2000; t++) {
      l.changed();
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(200);
    // 2 s at 100 ms a token plus the initial 3: at most 23 snapshots; without a limit, ~670.
    expect(at.length).toBeGreaterThanOrEqual(20);
    expect(at.length).toBeLessThanOrEqual(23);
    expect(at.at(-1)).toBeGreaterThanOrEqual(1999); // the change at 1,999 ms is not lost
  });

  it('refills while quiet: a change a whole interval after a burst is quick again', () => {
    const { l, at } = make(100, 3);
    for (let i = 0; i < 3; i++) {
      l.changed();
      vi.advanceTimersByTime(3);
    }
    vi.advanceTimersByTime(300);
    const before = at.length;
    l.changed();
    vi.advanceTimersByTime(2);
    expect(at.length).toBe(before + 1);
  });

  it('a snapshot the owner takes itself (sync) cancels the pending timer', () => {
    const flushes: string[] = [];
    const l: FlushLimiter = new FlushLimiter({ intervalMs: 100, now: () => Date.now(), flush: () => { flushes.push('timer'); } });
    l.changed();
    l.flushing(); // the owner flushed on its own before the timer fired
    vi.advanceTimersByTime(50);
    expect(flushes).toEqual([]);
  });
});
