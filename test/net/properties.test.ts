// Property tests for src/net against independent oracles: Node's net.isIPv4/isIPv6 decide what
// is an address, ip-cidr (ip-address underneath) decides networks, sizes and containment.
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import IPCIDR from 'ip-cidr';
import { blockRange } from '../../src/ipam/range.js';
import { describe, expect, it } from 'vitest';
import { formatIpv4, IpAddr, parseAddr, parseIpv4, parsePrefix, Prefix } from '../../src/net/index.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const v6bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
/** IPv6 bytes with runs of zero groups, so "::" placement is exercised. */
const v6sparse = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((g) => Uint8Array.from(g.flatMap((x) => [x >> 8, x & 255])));
const v6 = fc.oneof(v6bytes, v6sparse);
const bigOf = (a: IpAddr): bigint => a.toBytes().reduce((v, b) => (v << 8n) | BigInt(b), 0n);
const oracle = (p: Prefix): IPCIDR => new IPCIDR(p.toString());

describe('text round trip', () => {
  it('IPv4: format → parse is the identity, and the text is what Node calls IPv4', () => {
    fc.assert(fc.property(u32, (n) => {
      const t = formatIpv4(n);
      expect(isIPv4(t)).toBe(true);
      expect(parseIpv4(t)).toBe(n);
      expect(parseAddr(t)?.v4).toBe(n);
    }), { numRuns: 300 });
  });
  it('IPv6: format → parse is the identity, Node accepts the text, ip-address agrees it is RFC 5952', () => {
    fc.assert(fc.property(v6, (b) => {
      const t = IpAddr.v6(b).toString();
      expect(isIPv6(t)).toBe(true);
      expect(parseAddr(t)?.toBytes()).toEqual(b);
      expect(t).toBe(IPCIDR.createAddress(t).correctForm());
    }), { numRuns: 300 });
  });
  it('parse → format → parse is stable for generated address text', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (t) => {
      const a = parseAddr(t);
      expect(a).not.toBeNull();
      expect(parseAddr(a!.toString())!.equals(a!)).toBe(true);
    }), { numRuns: 300 });
  });
});

describe('what is an address agrees with Node', () => {
  const chars = (alphabet: string) => fc.array(fc.constantFrom(...alphabet), { maxLength: 20 }).map((c) => c.join(''));
  it('IPv4-looking text', () => {
    fc.assert(fc.property(chars('0123456789.'), fc.ipV4Extended(), (junk, ext) => {
      for (const t of [junk, ext]) expect(parseIpv4(t) >= 0, t).toBe(isIPv4(t));
    }), { numRuns: 500 });
  });
  it('IPv6-looking text', () => {
    fc.assert(fc.property(chars('0f:.1'), fc.ipV6(), fc.integer({ min: 0, max: 40 }), (junk, good, cut) => {
      // Mangled valid text (a cut, a doubled colon) hits the boundaries random junk rarely does.
      for (const t of [junk, good.slice(0, cut), `${good}:`, good.replace(':', '::'), `${good}.1`]) {
        expect(parseAddr(t)?.family === 6, t).toBe(isIPv6(t));
      }
    }), { numRuns: 500 });
  });
});

describe('prefixes against ip-cidr', () => {
  const p4 = fc.tuple(u32, fc.integer({ min: 0, max: 32 })).map(([n, l]) => Prefix.v4(n, l));
  const p6 = fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([b, l]) => Prefix.of(IpAddr.v6(b), l));
  const pfx = fc.oneof(p4, p6);

  it('network() is the range start, and round-trips through text', () => {
    fc.assert(fc.property(pfx, (p) => {
      expect(bigOf(p.network().addr)).toBe(oracle(p).start({ type: 'bigInteger' }));
      expect(p.network().isAligned()).toBe(true);
      expect(p.isAligned()).toBe(p.network().equals(p));
      expect(parsePrefix(p.toString())!.equals(p)).toBe(true);
      expect(parsePrefix(p.toString(), { hostBits: 'clear' })!.equals(p.network())).toBe(true);
      expect(parsePrefix(p.toString(), { hostBits: 'reject' }) !== null).toBe(p.isAligned());
    }), { numRuns: 300 });
  });
  it('IPAM\'s blockRange() (start and size, issue 16: no ip-cidr in the daemon) agrees with ip-cidr', () => {
    fc.assert(fc.property(pfx, (p) => {
      const r = blockRange(p.toString());
      expect(r.start).toBe(oracle(p).start({ type: 'bigInteger' }));
      expect(r.size).toBe(BigInt(oracle(p).size.toString()));
      expect([r.family, r.len]).toEqual([p.family, p.len]);
    }), { numRuns: 300 });
  });
  it('has() agrees with ip-cidr contains()', () => {
    fc.assert(fc.property(pfx, u32, v6, fc.boolean(), (p, n, b, near) => {
      // Half the probes start from the prefix's own address so that inside cases are common.
      const probe = p.family === 4 ? IpAddr.v4(near ? (p.v4 ^ (n >>> p.len)) >>> 0 : n) : IpAddr.v6(near ? xorTail(p.addr.toBytes(), b, p.len) : b);
      expect(p.has(probe)).toBe(oracle(p).contains(probe.toString()));
    }), { numRuns: 300 });
  });
  it('contains() is has() of the inner network plus a length check, and compare() is a total order', () => {
    fc.assert(fc.property(pfx, pfx, (a, b) => {
      expect(a.contains(b)).toBe(a.family === b.family && b.len >= a.len && a.has(b.addr));
      expect(Math.sign(a.compare(b))).toBe(-Math.sign(b.compare(a)));
      expect(a.compare(b) === 0).toBe(a.equals(b));
    }), { numRuns: 300 });
  });
  it('NLRI bytes: writeNlri → readNlri gives the network', () => {
    const buf = new Uint8Array(20);
    fc.assert(fc.property(pfx, (p) => {
      const end = p.writeNlri(buf, 2);
      expect(end).toBe(3 + ((p.len + 7) >> 3));
      expect(buf[2]).toBe(p.len);
      expect(Prefix.readNlri(p.family, p.len, buf, 3).equals(p.network())).toBe(true);
    }), { numRuns: 300 });
  });
});

/** a's first len bits, then b's. */
function xorTail(a: Uint8Array, b: Uint8Array, len: number): Uint8Array {
  const out = Uint8Array.from(a);
  for (let bit = len; bit < 128; bit++) {
    const m = 0x80 >> (bit & 7);
    out[bit >> 3] = (out[bit >> 3]! & ~m) | (b[bit >> 3]! & m);
  }
  return out;
}
