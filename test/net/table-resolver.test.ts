// Tests for tableResolver (src/net/table-resolver.ts), the cache under connectedInterfaceResolver
// and kernelRouteInterfaceResolver: one reading of the table per ttlMs, each next hop scanned once
// per reading, the first entry holding the address winning, and a property test against a model.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { mustParsePrefix, type Prefix } from '../../src/net/index.js';
import { tableResolver } from '../../src/net/table-resolver.js';

type Entry = { net: Prefix; name: string };
const entry = (cidr: string, name: string): Entry => ({ net: mustParsePrefix(cidr), name });

/** A resolver over `table()` with a clock the test sets, counting readings and prefix tests. */
function harness(table: () => Entry[], ttlMs = 1000) {
  const h = { t: 0, reads: 0, scans: 0 };
  const resolve = tableResolver({
    ttlMs,
    now: () => h.t,
    read: () => {
      h.reads++;
      return table().map((e) => {
        const net = mustParsePrefix(e.net.toString());
        const has = net.has.bind(net);
        vi.spyOn(net, 'has').mockImplementation((a) => { h.scans++; return has(a); });
        return { net, name: e.name };
      });
    },
  });
  return { h, resolve };
}

describe('tableResolver', () => {
  it('the first entry holding the address wins, in the order read() gives (callers sort longest first)', () => {
    let table = [entry('198.18.0.0/15', 'wide'), entry('198.18.0.0/24', 'narrow')];
    const wideFirst = harness(() => table).resolve;
    expect(wideFirst('198.18.0.7')).toBe('wide');
    table = [entry('198.18.0.0/24', 'narrow'), entry('198.18.0.0/15', 'wide')];
    const narrowFirst = harness(() => table).resolve;
    expect(narrowFirst('198.18.0.7')).toBe('narrow');
    expect(narrowFirst('198.19.0.7')).toBe('wide');
    expect(narrowFirst('fd00::1')).toBeUndefined(); // no IPv6 entry
  });

  it('text that is no address, and an address no entry holds, answer undefined', () => {
    const { resolve } = harness(() => [entry('0.0.0.0/0', 'default4')]);
    expect(resolve('not an address')).toBeUndefined();
    expect(resolve('')).toBeUndefined();
    expect(resolve('198.18.0.1/24')).toBeUndefined(); // a prefix is not a next hop
    expect(resolve('198.18.0.1')).toBe('default4');
    expect(resolve('fd00::1')).toBeUndefined();
  });

  it('reads nothing until asked, then once for a burst of next hops within ttlMs', () => {
    const { h, resolve } = harness(() => [entry('198.18.0.0/24', 'eth0'), entry('fd00::/64', 'eth0')]);
    expect(h.reads).toBe(0);
    for (let i = 1; i < 50; i++) resolve(`198.18.0.${i}`);
    resolve('fd00::9');
    expect(h.reads).toBe(1);
  });

  it('scans the table once per next hop per reading (answers, undefined included, are memoised)', () => {
    const { h, resolve } = harness(() => [entry('198.18.1.0/24', 'eth1'), entry('198.18.0.0/24', 'eth0')]);
    expect(resolve('198.18.0.2')).toBe('eth0');
    const afterOne = h.scans;
    expect(afterOne).toBe(2);
    expect(resolve('198.18.0.2')).toBe('eth0');
    expect(resolve('203.0.113.1')).toBeUndefined();
    const afterMiss = h.scans;
    expect(resolve('203.0.113.1')).toBeUndefined();
    expect(h.scans).toBe(afterMiss);
    h.t = 2000; // a new reading forgets the answers
    expect(resolve('198.18.0.2')).toBe('eth0');
    expect(h.scans).toBe(afterMiss + 2);
  });

  it('a reading is used while its age is at most ttlMs and replaced after; the answers go with it', () => {
    let table = [entry('198.18.0.0/24', 'eth0')];
    const { h, resolve } = harness(() => table, 1000);
    h.t = 5000;
    expect(resolve('198.18.0.2')).toBe('eth0');
    table = [entry('198.18.0.0/24', 'ens3')];
    h.t = 6000; // exactly ttlMs old: still used
    expect(resolve('198.18.0.2')).toBe('eth0');
    expect(h.reads).toBe(1);
    h.t = 6001;
    expect(resolve('198.18.0.2')).toBe('ens3');
    expect(h.reads).toBe(2);
    // The new reading's age counts from when it was taken, not from the first.
    table = [];
    h.t = 7001;
    expect(resolve('198.18.0.2')).toBe('ens3');
    h.t = 7002;
    expect(resolve('198.18.0.2')).toBeUndefined();
    expect(h.reads).toBe(3);
  });

  it('the memo is bounded: past 10,000 next hops it starts again (a next hop scanned earlier is scanned anew)', () => {
    const { h, resolve } = harness(() => [entry('10.0.0.0/8', 'eth0')]);
    resolve('10.0.0.0');
    const one = h.scans;
    for (let i = 1; i <= 10_001; i++) resolve(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const before = h.scans;
    expect(resolve('10.0.0.0')).toBe('eth0');
    expect(h.scans).toBe(before + one);
    expect(h.reads).toBe(1);
  });

  it('property: every answer is the first entry, of the table as it was at the latest reading, that holds the address', () => {
    // Independent containment: IPv4 prefixes in 198.18.0.0/15 as (network word, length).
    const v4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const holds = (net: number, len: number, a: number): boolean => len === 0 || ((net ^ a) >>> (32 - len)) === 0;
    const addr = fc.integer({ min: 0, max: 0x1ffff }).map((x) => (0xc6120000 + x) >>> 0);
    const pfx = fc.tuple(addr, fc.integer({ min: 15, max: 32 })).map(([a, len]) => {
      const net = len === 32 ? a : (a & ~(0xffffffff >>> len)) >>> 0;
      return { net, len };
    });
    const table = fc.array(fc.tuple(pfx, fc.constantFrom('eth0', 'eth1', 'tunl0', 'vxlan.calico')), { maxLength: 6 });
    const step = fc.oneof(
      fc.record({ kind: fc.constant('lookup' as const), a: addr }),
      fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
      fc.record({ kind: fc.constant('table' as const), table }),
    );
    fc.assert(fc.property(table, fc.array(step, { maxLength: 40 }), (initial, steps) => {
      const ttlMs = 1000;
      let live = initial;
      const { h, resolve } = harness(() => live.map(([p, name]) => entry(`${v4(p.net)}/${p.len}`, name)), ttlMs);
      let seen = initial; // the table as at the model's latest reading
      let readAt = -Infinity;
      let reads = 0;
      for (const s of steps) {
        if (s.kind === 'time') h.t += s.ms;
        else if (s.kind === 'table') live = s.table;
        else {
          if (h.t - readAt > ttlMs) { readAt = h.t; seen = live; reads++; }
          const want = seen.find(([p]) => holds(p.net, p.len, s.a))?.[1];
          expect(resolve(v4(s.a))).toBe(want);
          expect(h.reads).toBe(reads);
        }
      }
    }), { numRuns: 200 });
  });
});
