// PrefixSet against a naive BigInt implementation (fast-check), plus the edge cases BIRD's
// `net ~ cidr` semantics imply: tiling /25s do not contain their /24, /0 holds everything,
// IPv4 and IPv6 never mix, short byte arrays read as zero-padded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr, PrefixSet, prefixContains } from '../../src/policy/prefix-set.js';

const v4 = (t: string) => { const p = parseCidr(t); if (p === null) throw new Error(t); return p; };

// Naive model: a prefix is (family, value bigint, len); containment by masking.
interface Naive { fam: 4 | 6; value: bigint; len: number }
const bits = (f: 4 | 6) => (f === 4 ? 32 : 128);
const mask = (f: 4 | 6, len: number) => { const all = (1n << BigInt(bits(f))) - 1n; return (all >> BigInt(len)) ^ all; };
const naiveContains = (outer: Naive, inner: Naive) =>
  outer.fam === inner.fam && inner.len >= outer.len && (inner.value & mask(outer.fam, outer.len)) === outer.value;
const toBytes = (n: Naive): Uint8Array => {
  const b = new Uint8Array(bits(n.fam) / 8);
  for (let i = 0; i < b.length; i++) b[i] = Number((n.value >> BigInt((b.length - 1 - i) * 8)) & 0xffn);
  return b;
};

// Generates prefixes clustered in a small space so that containment happens often.
const arbPrefix = (fam: 4 | 6): fc.Arbitrary<Naive> =>
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: bits(fam) }), fc.bigInt({ min: 0n, max: (1n << BigInt(bits(fam) - 4)) - 1n }))
    .map(([top, len, rest]) => {
      const raw = (BigInt(top) << BigInt(bits(fam) - 4)) | rest;
      return { fam, value: raw & mask(fam, len), len };
    });
const arbAny = fc.oneof(arbPrefix(4), arbPrefix(6));

describe('PrefixSet vs naive', () => {
  it('contains / outermost / innermost / exact agree with a linear scan', () => {
    fc.assert(fc.property(fc.array(arbAny, { maxLength: 30 }), fc.array(arbAny, { minLength: 1, maxLength: 30 }), (entries, queries) => {
      const set = new PrefixSet<number>();
      const firstIndex = new Map<string, number>();
      entries.forEach((e, i) => {
        const key = `${e.fam}/${e.value}/${e.len}`;
        if (!firstIndex.has(key)) firstIndex.set(key, i);
        set.add({ family: e.fam, bytes: toBytes(e), len: e.len }, i);
      });
      for (const q of queries) {
        const holders = entries.map((e, i) => ({ e, i })).filter(({ e }) => naiveContains(e, q))
          .filter(({ e, i }) => firstIndex.get(`${e.fam}/${e.value}/${e.len}`) === i);
        const b = toBytes(q);
        const f = q.fam;
        expect(set.contains(f, b, q.len)).toBe(holders.length > 0);
        const shortest = holders.reduce<typeof holders[number] | undefined>((m, h) => (m === undefined || h.e.len < m.e.len ? h : m), undefined);
        const longest = holders.reduce<typeof holders[number] | undefined>((m, h) => (m === undefined || h.e.len > m.e.len ? h : m), undefined);
        expect(set.outermost(f, b, q.len)).toBe(shortest?.i);
        expect(set.innermost(f, b, q.len)).toBe(longest?.i);
        const same = holders.find(({ e }) => e.len === q.len);
        expect(set.exact(f, b, q.len)).toBe(same?.i);
      }
    }), { numRuns: 300 });
  });

  it('prefixContains agrees with the naive model', () => {
    fc.assert(fc.property(arbPrefix(4), arbPrefix(4), (o, i) => {
      const outer = { family: 4 as const, bytes: toBytes(o), len: o.len };
      expect(prefixContains(outer, toBytes(i), i.len)).toBe(naiveContains(o, i));
    }), { numRuns: 1000 });
  });

  it('contains4 agrees with contains on bytes', () => {
    fc.assert(fc.property(fc.array(arbPrefix(4), { maxLength: 10 }), arbPrefix(4), (entries, q) => {
      const set = new PrefixSet<number>();
      entries.forEach((e, i) => set.add({ family: 4, bytes: toBytes(e), len: e.len }, i));
      expect(set.contains4(Number(q.value), q.len)).toBe(set.contains(4, toBytes(q), q.len));
    }), { numRuns: 300 });
  });
});

describe('PrefixSet edges', () => {
  const set = PrefixSet.of([['10.0.0.0/25', 'a'], ['10.0.0.128/25', 'b'], ['2001:db8::/32', 'v6']]);
  it('two /25s do not contain the /24 they tile (BIRD net ~ a || net ~ b)', () => {
    const p = v4('10.0.0.0/24');
    expect(set.contains(p.family, p.bytes, p.len)).toBe(false);
    const q = v4('10.0.0.200/32');
    expect(set.outermost(q.family, q.bytes, q.len)).toBe('b');
  });
  it('families never mix: an IPv4 query with the v6 entry\'s leading bytes misses', () => {
    const p = v4('32.1.13.184/32'); // 0x20010db8 as IPv4
    expect(set.contains(4, p.bytes, p.len)).toBe(false);
    const q = v4('2001:db8:1::/48');
    expect(set.outermost(q.family, q.bytes, q.len)).toBe('v6');
  });
  it('a /0 entry holds every prefix of its family only', () => {
    const all = PrefixSet.of([['0.0.0.0/0', 'default']]);
    expect(all.contains(4, Uint8Array.of(203, 0, 113, 7), 32)).toBe(true);
    expect(all.contains(6, new Uint8Array(16), 0)).toBe(false);
  });
  it('short byte arrays read as zero-padded (NLRI carry only the significant bytes)', () => {
    expect(set.exact(4, Uint8Array.of(10, 0, 0), 25)).toBe('a');
    expect(set.contains(6, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8), 32)).toBe(true);
  });
  it('a second entry for the same prefix keeps the first value', () => {
    const s = PrefixSet.of([['10.1.0.0/16', 'first'], ['10.1.0.0/16', 'second']]);
    expect(s.size).toBe(1);
    expect(s.exact(4, Uint8Array.of(10, 1, 0, 0), 16)).toBe('first');
  });
  it('grows past its initial capacity', () => {
    const s = new PrefixSet<number>();
    for (let i = 0; i < 300; i++) s.add(v4(`10.${i >> 8}.${i & 255}.0/24`), i);
    expect(s.exact(4, Uint8Array.of(10, 1, 10, 0), 24)).toBe(266);
    expect(s.contains(4, Uint8Array.of(10, 1, 10, 77), 32)).toBe(true);
    expect(s.contains(4, Uint8Array.of(10, 2, 0, 0), 24)).toBe(false);
  });
  it('parseCidr clears host bits like Go net.ParseCIDR and rejects junk', () => {
    expect(parseCidr('77.0.0.1/16')?.bytes).toEqual(Uint8Array.of(77, 0, 0, 0));
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0')).toBeNull();
    expect(parseCidr('nonsense/8')).toBeNull();
    expect(() => PrefixSet.of([['10.0.0.0/99', 1]])).toThrow('invalid CIDR "10.0.0.0/99"');
  });
});
