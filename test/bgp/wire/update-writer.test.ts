// UpdateWriter: exact bytes for small announcements, withdrawals and End-of-RIB (hand-written fixtures),
// packing across messages, 2-octet AS encoding with AS4_PATH, and a round-trip property through the decoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UpdateWriter, type OutPrefix } from '../../../src/bgp/wire/update-writer.js';
import { decodeUpdate } from '../../../src/bgp/wire/update.js';
import { Interner, type PathAttrsInput } from '../../../src/rib/intern.js';
import { Framer } from '../../../src/bgp/wire/framer.js';
import { forEachPrefix } from '../../../src/bgp/wire/nlri.js';
import { formatPrefix, parsePrefix } from '../../../src/bgp/wire/prefix.js';
import { formatIpv6 } from '../../../src/net/index.js';
import { ErrorAction, IPV4_UNICAST, IPV6_UNICAST, type CodecContext, type FamilyKey, type UpdateMessage } from '../../../src/bgp/wire/types.js';
import { attr, ip4, msg, u16, u32, updateBody } from '../../fixtures/bytes.js';

const ctx = (o: Partial<CodecContext> = {}): CodecContext => ({
  fourOctetAs: true, addPathRx: new Set(), addPathTx: new Set(), extendedMessage: false, ibgp: false, ...o,
});
const collect = (f: (out: (m: Buffer) => void) => void): Buffer[] => { const o: Buffer[] = []; f((m) => o.push(m)); return o; };
const pfx = (...t: string[]): OutPrefix[] => t.map((x) => parsePrefix(x));

const interner = new Interner();
const attrs4 = interner.internAttrs({
  origin: 0, asPath: [{ type: 2, asns: [65001, 4200000000] }], nextHop: '192.0.2.1', atomicAggregate: false, unknown: [],
  med: 10, communities: [0xfde80001],
});

describe('UpdateWriter exact bytes', () => {
  it('announces IPv4 with classic NLRI and NEXT_HOP', () => {
    const msgs = collect((o) => new UpdateWriter(ctx()).announce(IPV4_UNICAST, attrs4, pfx('10.0.1.0/24', '10.2.0.0/15'), o));
    expect(msgs).toEqual([msg(2, updateBody('',
      attr(0x40, 1, '00') +                                        // ORIGIN IGP
      attr(0x40, 2, '02', '02', u32(65001), u32(4200000000)) +     // AS_PATH
      attr(0x40, 3, ip4('192.0.2.1')) +                            // NEXT_HOP
      attr(0x80, 4, u32(10)) +                                     // MED
      attr(0xc0, 8, u32(0xfde80001)),                              // COMMUNITIES
      '18' + '0a0001' + '0f' + '0a02'))]);                         // 10.0.1.0/24, 10.2.0.0/15
  });

  it('uses 2-octet ASNs with AS_TRANS and AS4_PATH/AS4_AGGREGATOR on a 2-octet session (RFC 6793 §4.2.2)', () => {
    const a = interner.internAttrs({ ...attrs4, aggregator: { asn: 4200000001, address: '10.0.0.1' }, med: undefined, communities: undefined });
    const msgs = collect((o) => new UpdateWriter(ctx({ fourOctetAs: false })).announce(IPV4_UNICAST, a, pfx('10.0.1.0/24'), o));
    expect(msgs).toEqual([msg(2, updateBody('',
      attr(0x40, 1, '00') +
      attr(0x40, 2, '02', '02', u16(65001), u16(23456)) +          // AS_PATH with AS_TRANS
      attr(0x40, 3, ip4('192.0.2.1')) +
      attr(0xc0, 7, u16(23456), ip4('10.0.0.1')) +                 // AGGREGATOR with AS_TRANS
      attr(0xc0, 17, '02', '02', u32(65001), u32(4200000000)) +    // AS4_PATH
      attr(0xc0, 18, u32(4200000001), ip4('10.0.0.1')),            // AS4_AGGREGATOR
      '18' + '0a0001'))]);
  });

  it('announces IPv6 in MP_REACH_NLRI with global + link-local next hop, with path ids under ADD-PATH', () => {
    const a = interner.internAttrs({ origin: 0, asPath: [], nextHop: '2001:db8::1', nextHopLinkLocal: 'fe80::1', atomicAggregate: false, unknown: [], localPref: 100 });
    const p = [{ ...parsePrefix('2001:db8:1::/48'), pathId: 5 }];
    const msgs = collect((o) => new UpdateWriter(ctx({ ibgp: true, addPathTx: new Set([IPV6_UNICAST]) })).announce(IPV6_UNICAST, a, p, o));
    expect(msgs).toEqual([msg(2, updateBody('',
      attr(0x90, 14, u16(2), '01', '20',                           // MP_REACH: IPv6 unicast, next hop length 32
        '20010db8000000000000000000000001', 'fe800000000000000000000000000001', '00',
        u32(5), '30', '20010db80001') +                            // path id 5, 2001:db8:1::/48
      attr(0x40, 1, '00') + attr(0x40, 2) + attr(0x40, 5, u32(100)), // ORIGIN, empty AS_PATH, LOCAL_PREF (iBGP)
      ''))]);
  });

  it('withdraws IPv4 and IPv6', () => {
    const w = new UpdateWriter(ctx());
    expect(collect((o) => w.withdraw(IPV4_UNICAST, pfx('10.0.0.0/8'), o))).toEqual([msg(2, updateBody('08' + '0a', '', ''))]);
    expect(collect((o) => w.withdraw(IPV6_UNICAST, pfx('2001:db8::/32'), o)))
      .toEqual([msg(2, updateBody('', attr(0x90, 15, u16(2), '01', '20' + '20010db8'), ''))]);
  });

  it('writes End-of-RIB markers (RFC 4724 §2)', () => {
    const w = new UpdateWriter(ctx());
    expect(w.endOfRib(IPV4_UNICAST)).toEqual(msg(2, '0000', '0000'));
    expect(w.endOfRib(IPV6_UNICAST)).toEqual(msg(2, updateBody('', attr(0x80, 15, u16(2), '01'), '')));
  });
});

function decodeAll(msgs: Buffer[], c: CodecContext, inter: Interner): UpdateMessage[] {
  const f = new Framer(c.extendedMessage ? 65535 : 4096);
  const out: UpdateMessage[] = [];
  for (const m of msgs) f.push(m, (_t, body) => out.push(decodeUpdate(Buffer.from(body), c, inter)));
  return out;
}
function prefixesOf(ms: UpdateMessage[], which: 'reach' | 'unreach'): string[] {
  const out: string[] = [];
  for (const m of ms) {
    for (const v of which === 'reach' ? [m.nlri, m.mpReach] : [m.withdrawn, m.mpUnreach]) {
      if (v) forEachPrefix(v, (b, len, id) => out.push(`${formatPrefix(v.family, b, len)}#${id}`));
    }
  }
  return out;
}

describe('UpdateWriter packing', () => {
  const many = Array.from({ length: 3000 }, (_, i) => ({ bytes: Uint8Array.of(10, i >> 8, i & 255, 0), len: 24 }));
  it.each([[false, 4096], [true, 65535]])('packs as many NLRI as fit (extended message %s)', (ext, max) => {
    const c = ctx({ extendedMessage: ext });
    const msgs = collect((o) => new UpdateWriter(c).announce(IPV4_UNICAST, attrs4, many, o));
    expect(msgs.length).toBe(ext ? 1 : Math.ceil(3000 * 4 / (4096 - 23 - 42)));
    for (const m of msgs) expect(m.length).toBeLessThanOrEqual(max);
    expect(msgs.slice(0, -1).every((m) => m.length > max - 4)).toBe(true);
    const decoded = decodeAll(msgs, c, interner);
    expect(decoded.every((d) => d.attrs === attrs4)).toBe(true);
    expect(prefixesOf(decoded, 'reach')).toHaveLength(3000);
    const wd = collect((o) => new UpdateWriter(c).withdraw(IPV4_UNICAST, many, o));
    expect(prefixesOf(decodeAll(wd, c, interner), 'unreach')).toHaveLength(3000);
  });
  it('packs IPv6 announcements and withdrawals across messages', () => {
    const v6 = Array.from({ length: 1000 }, (_, i) => ({ bytes: Uint8Array.of(0x20, 1, 0x0d, 0xb8, i >> 8, i & 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), len: 64 }));
    const a = interner.internAttrs({ origin: 0, asPath: [], nextHop: '2001:db8::1', atomicAggregate: false, unknown: [] });
    const c = ctx();
    const msgs = collect((o) => new UpdateWriter(c).announce(IPV6_UNICAST, a, v6, o));
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(m.length).toBeLessThanOrEqual(4096);
    expect(prefixesOf(decodeAll(msgs, c, interner), 'reach')).toHaveLength(1000);
    const wd = collect((o) => new UpdateWriter(c).withdraw(IPV6_UNICAST, v6, o));
    expect(wd.length).toBeGreaterThan(1);
    expect(prefixesOf(decodeAll(wd, c, interner), 'unreach')).toHaveLength(1000);
  });
});

// Random valid attribute sets for a context: only what that context can carry back unchanged.
const u32Arb = fc.integer({ min: 0, max: 0xffffffff });
const ipv4Arb = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 }))
  .map((t) => t.join('.'));
// A usable next hop: not multicast or unspecified (those are treated as withdraw: RFC 4760 §3, RFC 4271 §6.3).
const ipv6Arb = fc.uint8Array({ minLength: 16, maxLength: 16 })
  .filter((b) => b[0] !== 0xff && !b.every((x) => x === 0))
  .map((b) => formatIpv6(b));
const asnArb = fc.oneof(fc.integer({ min: 1, max: 65535 }), u32Arb);

function attrsArb(c: CodecContext, family: FamilyKey): fc.Arbitrary<PathAttrsInput> {
  const seg = fc.record({ type: fc.constantFrom(1, 2), asns: fc.array(asnArb, { minLength: 1, maxLength: 12 }) });
  // No confederation segments: Kite is in no confederation, so no session carries them back
  // (RFC 5065 §5; test/bgp/wire/update.test.ts pins both directions).
  const path = fc.array(seg, { maxLength: 4 });
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  return fc.record({
    origin: fc.integer({ min: 0, max: 2 }),
    asPath: path,
    nextHop: family === IPV4_UNICAST ? ipv4Arb : ipv6Arb,
    nextHopLinkLocal: family === IPV4_UNICAST ? fc.constant(undefined) : opt(ipv6Arb),
    med: opt(u32Arb),
    localPref: c.ibgp ? opt(u32Arb) : fc.constant(undefined),
    atomicAggregate: fc.boolean(),
    aggregator: opt(fc.record({ asn: asnArb, address: ipv4Arb })),
    communities: opt(fc.array(u32Arb, { minLength: 1, maxLength: 5 })),
    // eBGP carries only transitive extended communities back (RFC 4360 §6: T bit 0x40 clear).
    extCommunities: opt(fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((x) => (c.ibgp ? x : x & ~(0x40n << 56n))), { minLength: 1, maxLength: 3 })),
    largeCommunities: opt(fc.array(fc.tuple(u32Arb, u32Arb, u32Arb), { minLength: 1, maxLength: 3 })),
    originatorId: c.ibgp ? opt(u32Arb) : fc.constant(undefined),
    clusterList: c.ibgp ? opt(fc.array(u32Arb, { minLength: 1, maxLength: 4 })) : fc.constant(undefined),
    unknown: fc.uniqueArray(fc.record({ flags: fc.constant(0xe0), code: fc.integer({ min: 100, max: 250 }), value: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)) }),
      { maxLength: 2, selector: (u) => u.code }).map((us) => us.sort((a, b) => a.code - b.code)),
  });
}
function prefixArb(family: FamilyKey, addPath: boolean): fc.Arbitrary<OutPrefix> {
  const bits = family === IPV4_UNICAST ? 32 : 128;
  return fc.record({ len: fc.integer({ min: 0, max: bits }), raw: fc.uint8Array({ minLength: bits / 8, maxLength: bits / 8 }), pathId: addPath ? u32Arb : fc.constant(0) })
    .map(({ len, raw, pathId }) => {
      const bytes = Uint8Array.from(raw);
      for (let b = len; b < bits; b++) bytes[b >> 3]! &= ~(0x80 >> (b & 7));
      return { bytes, len, pathId };
    })
    // Multicast prefixes are ignored on receipt (RFC 4271 §6.3; update.test.ts pins it), so they do not come back.
    .filter((p) => (bits === 32 ? !(p.len >= 4 && (p.bytes[0]! >> 4) === 0xe) : !(p.len >= 8 && p.bytes[0] === 0xff)));
}

describe('round trip: random PathAttrs + prefixes → UpdateWriter → decodeUpdate', () => {
  const cases = fc.record({ four: fc.boolean(), ibgp: fc.boolean(), addPath: fc.boolean(), ext: fc.boolean(), v6: fc.boolean() }).chain((o) => {
    const family = o.v6 ? IPV6_UNICAST : IPV4_UNICAST;
    const set = new Set(o.addPath ? [family] : []);
    const c = ctx({ fourOctetAs: o.four, ibgp: o.ibgp, extendedMessage: o.ext, addPathRx: set, addPathTx: set });
    return fc.tuple(fc.constant(c), fc.constant(family), attrsArb(c, family), fc.array(prefixArb(family, o.addPath), { minLength: 1, maxLength: 400 }));
  });
  it('gives back the same interned attributes and the same prefixes', () => {
    fc.assert(fc.property(cases, ([c, family, input, prefixes]) => {
      const inter = new Interner();
      const attrs = inter.internAttrs(input);
      const w = new UpdateWriter(c);
      const msgs = collect((o) => w.announce(family, attrs, prefixes, o));
      const decoded = decodeAll(msgs, c, inter);
      for (const d of decoded) {
        expect(d.errors).toEqual([]);
        expect(d.action).toBe(ErrorAction.None);
        expect(d.attrs).toBe(attrs);
      }
      const want = prefixes.map((p) => `${formatPrefix(family, p.bytes, p.len)}#${p.pathId ?? 0}`);
      expect(prefixesOf(decoded, 'reach')).toEqual(want);
      const wd = decodeAll(collect((o) => w.withdraw(family, prefixes, o)), c, inter);
      expect(prefixesOf(wd, 'unreach')).toEqual(want);
    }), { numRuns: 400 });
  }, 30_000);
});
