// The routes manager keeps no Prefix per remote route: the key says it. keyPrefix must invert
// prefixKey exactly, for every IPv4 prefix (keyed by number) and IPv6 prefix (keyed by text).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpAddr, Prefix } from '../../src/net/index.js';
import { keyPrefix, prefixKey } from '../../src/dataplane/route-key.js';

describe('route keys', () => {
  it('keyPrefix(prefixKey(p)) is p, IPv4 and IPv6', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
      .map(([n, len]) => Prefix.v4(len === 0 ? 0 : (n & (0xffffffff << (32 - len))) >>> 0, len));
    const v6 = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 })).map(([b, len]) => {
      const out = Uint8Array.from(b);
      for (let i = len; i < 128; i++) out[i >> 3]! &= ~(0x80 >> (i & 7));
      return Prefix.of(IpAddr.v6(out), len);
    });
    fc.assert(fc.property(fc.oneof(v4, v6), (p) => {
      const k = prefixKey(p);
      expect(typeof k).toBe(p.family === 4 ? 'number' : 'string');
      expect(keyPrefix(k).equals(p)).toBe(true);
    }), { numRuns: 2000 });
  });
  it('the edges: 0.0.0.0/0, 255.255.255.255/32, ::/0', () => {
    for (const p of [Prefix.v4(0, 0), Prefix.v4(0xffffffff, 32)]) expect(keyPrefix(prefixKey(p)).toString()).toBe(p.toString());
    expect(keyPrefix('::/0').toString()).toBe('::/0');
  });
});
