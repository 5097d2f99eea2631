// UPDATE decoding: per-attribute parse / encode / mirror, the RFC 7606 table case by case, End-of-RIB,
// MP_REACH/MP_UNREACH (RFC 4760, RFC 2545), AS4 merging (RFC 6793 §4.2.3), ADD-PATH and interning.
import { describe, expect, it } from 'vitest';
import { decodeUpdate } from '../../../src/bgp/wire/update.js';
import { Interner } from '../../../src/rib/intern.js';
import { ATTRIBUTES, encodeAttrs, formatAttrs } from '../../../src/bgp/wire/attributes/table.js';
import { forEachIPv4, forEachPrefix, countPrefixes } from '../../../src/bgp/wire/nlri.js';
import { formatPrefix } from '../../../src/bgp/wire/prefix.js';
import { BufWriter } from '../../../src/bgp/wire/writer.js';
import { ErrorAction, IPV4_UNICAST, IPV6_UNICAST, type CodecContext, type PathAttrs, type UpdateMessage } from '../../../src/bgp/wire/types.js';
import { attr, hex, ip4, u16, u32, u8, updateBody } from '../../fixtures/bytes.js';

const ctx = (o: Partial<CodecContext> = {}): CodecContext => ({
  fourOctetAs: true, addPathRx: new Set(), addPathTx: new Set(), extendedMessage: false, ibgp: true, ...o,
});
const ORIGIN_IGP = attr(0x40, 1, '00');                                   // ORIGIN IGP
const AS_PATH_1 = attr(0x40, 2, '02', '01', u32(65001));                  // AS_SEQUENCE [65001], 4-octet
const NH = attr(0x40, 3, ip4('192.0.2.1'));                              // NEXT_HOP 192.0.2.1
const BASE = ORIGIN_IGP + AS_PATH_1 + NH;
const AS_PATH_1_2OCT = attr(0x40, 2, '02', '01', u16(65001));             // the same path on a 2-octet session
const BASE_2OCT = ORIGIN_IGP + AS_PATH_1_2OCT + NH;
const NLRI = '18' + '0a0001';                                             // 10.0.1.0/24

const dec = (attrs: string, c = ctx(), nlri = NLRI, withdrawn = '', interner = new Interner()) =>
  decodeUpdate(hex(updateBody(withdrawn, attrs, nlri)), c, interner);

const v4 = (view: UpdateMessage['nlri']): string[] => {
  const out: string[] = [];
  if (view) forEachPrefix(view, (b, len, id) => out.push(formatPrefix(view.family, b, len) + (id ? `#${id}` : '')));
  return out;
};

describe('UPDATE basics', () => {
  it('parses a plain IPv4 announcement', () => {
    const m = dec(BASE, ctx(), NLRI + '10' + 'ac10' + '00', '08' + '0b');
    expect(m.action).toBe(ErrorAction.None);
    expect(m.errors).toEqual([]);
    expect(v4(m.nlri)).toEqual(['10.0.1.0/24', '172.16.0.0/16', '0.0.0.0/0']);
    expect(v4(m.withdrawn)).toEqual(['11.0.0.0/8']);
    expect(m.attrs).toMatchObject({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1', atomicAggregate: false, unknown: [] });
    const seen: number[] = [];
    forEachIPv4(m.nlri!, (a, l) => seen.push(a, l));
    expect(seen).toEqual([0x0a000100, 24, 0xac100000, 16, 0, 0]);
    expect(countPrefixes(m.nlri!)).toBe(3);
  });

  it('reads ADD-PATH path identifiers when receiving is negotiated (RFC 7911 §3)', () => {
    const m = dec(BASE, ctx({ addPathRx: new Set([IPV4_UNICAST]) }), u32(7) + NLRI + u32(9) + NLRI);
    expect(v4(m.nlri)).toEqual(['10.0.1.0/24#7', '10.0.1.0/24#9']);
  });

  it('detects End-of-RIB for IPv4 (empty UPDATE) and IPv6 (empty MP_UNREACH)', () => {
    expect(decodeUpdate(hex('0000', '0000'), ctx(), new Interner()).endOfRib).toBe(IPV4_UNICAST);
    const m = decodeUpdate(hex(updateBody('', attr(0x80, 15, u16(2), '01'), '')), ctx(), new Interner());
    expect(m.endOfRib).toBe(IPV6_UNICAST);
    expect(m.action).toBe(ErrorAction.None);
    expect(dec(BASE).endOfRib).toBeUndefined();
  });

  it('parses MP_REACH_NLRI for IPv6 with a link-local next hop (RFC 2545 §3) and MP_UNREACH_NLRI', () => {
    const reach = attr(0x90, 14,
      u16(2), '01',                                   // AFI IPv6, SAFI unicast
      '20',                                           // next hop length 32
      '20010db8000000000000000000000001',             // global 2001:db8::1
      'fe800000000000000000000000000001',             // link-local fe80::1
      '00',                                           // reserved
      '20' + '20010db8',                              // 2001:db8::/32
      '40' + '20010db800010002');                     // 2001:db8:1:2::/64
    const unreach = attr(0x80, 15, u16(2), '01', '30' + '20010db80009'); // 2001:db8:9::/48
    const m = dec(ORIGIN_IGP + AS_PATH_1 + reach + unreach, ctx(), '');
    expect(m.action).toBe(ErrorAction.None);
    expect(v4(m.mpReach)).toEqual(['2001:db8::/32', '2001:db8:1:2::/64']);
    expect(v4(m.mpUnreach)).toEqual(['2001:db8:9::/48']);
    expect(m.attrs).toMatchObject({ nextHop: '2001:db8::1', nextHopLinkLocal: 'fe80::1' });
  });
});

// One row per attribute: the TLV as bytes, the PathAttrs fields it means, and the context it needs.
const ATTR_CASES: { name: string; code: number; tlv: string; value: Partial<PathAttrs>; c?: Partial<CodecContext> }[] = [
  { name: 'ORIGIN incomplete', code: 1, tlv: attr(0x40, 1, '02'), value: { origin: 2 } },
  { name: 'AS_PATH 4-octet sequence + set', code: 2, tlv: attr(0x40, 2, '02', '02', u32(65001), u32(4200000000), '01', '02', u32(1), u32(2)),
    value: { asPath: [{ type: 2, asns: [65001, 4200000000] }, { type: 1, asns: [1, 2] }] } },
  { name: 'AS_PATH 2-octet', code: 2, tlv: attr(0x40, 2, '02', '02', u16(65001), u16(65002)), value: { asPath: [{ type: 2, asns: [65001, 65002] }] }, c: { fourOctetAs: false } },
  { name: 'NEXT_HOP', code: 3, tlv: attr(0x40, 3, ip4('198.51.100.7')), value: { nextHop: '198.51.100.7' } },
  { name: 'MED', code: 4, tlv: attr(0x80, 4, u32(50)), value: { med: 50 } },
  { name: 'LOCAL_PREF', code: 5, tlv: attr(0x40, 5, u32(200)), value: { localPref: 200 } },
  { name: 'ATOMIC_AGGREGATE', code: 6, tlv: attr(0x40, 6), value: { atomicAggregate: true } },
  { name: 'AGGREGATOR 4-octet', code: 7, tlv: attr(0xc0, 7, u32(4200000000), ip4('10.9.9.9')), value: { aggregator: { asn: 4200000000, address: '10.9.9.9' } } },
  { name: 'AGGREGATOR 2-octet', code: 7, tlv: attr(0xc0, 7, u16(65001), ip4('10.9.9.9')), value: { aggregator: { asn: 65001, address: '10.9.9.9' } }, c: { fourOctetAs: false } },
  { name: 'COMMUNITIES', code: 8, tlv: attr(0xc0, 8, u32(0xfde80064), u32(0xffffff01)), value: { communities: [0xfde80064, 0xffffff01] } },
  { name: 'ORIGINATOR_ID', code: 9, tlv: attr(0x80, 9, ip4('10.0.0.9')), value: { originatorId: 0x0a000009 } },
  { name: 'CLUSTER_LIST', code: 10, tlv: attr(0x80, 10, ip4('10.0.0.1'), ip4('10.0.0.2')), value: { clusterList: [0x0a000001, 0x0a000002] } },
  { name: 'EXTENDED COMMUNITIES', code: 16, tlv: attr(0xc0, 16, '0002fde800000064'), value: { extCommunities: [0x0002fde800000064n] } },
  { name: 'LARGE_COMMUNITY', code: 32, tlv: attr(0xc0, 32, u32(4200000000), u32(1), u32(2)), value: { largeCommunities: [[4200000000, 1, 2]] } },
];

describe('attributes: parse / encode / mirror', () => {
  const full = (code: number, tlv: string, four: boolean) => {
    const parts = [ORIGIN_IGP, four ? AS_PATH_1 : AS_PATH_1_2OCT, NH].filter((p) => hex(p)[1] !== code);
    return [...parts, tlv].join('');
  };
  for (const tc of ATTR_CASES) {
    const c = ctx(tc.c);
    const fix = tc.tlv;
    it(`${tc.name}: parse`, () => {
      const m = dec(full(tc.code, fix, c.fourOctetAs), c);
      expect(m.errors).toEqual([]);
      expect(m.attrs).toMatchObject(tc.value);
    });
    it(`${tc.name}: encode`, () => {
      const m = dec(full(tc.code, fix, c.fourOctetAs), c);
      const w = new BufWriter(4096);
      ATTRIBUTES.get(tc.code)!.encode(m.attrs!, w, { ...c, nextHop: true });
      expect(w.buf.subarray(0, w.pos).toString('hex')).toBe(fix);
    });
    it(`${tc.name}: mirror`, () => {
      const a = { ...dec(c.fourOctetAs ? BASE : BASE_2OCT, c).attrs!, ...tc.value } as PathAttrs;
      const w = new BufWriter(4096);
      ATTRIBUTES.get(tc.code)!.encode(a, w, { ...c, nextHop: true });
      const m = dec(full(tc.code, w.buf.subarray(0, w.pos).toString('hex'), c.fourOctetAs), c);
      expect(m.attrs).toMatchObject(tc.value);
    });
  }

  it('keeps unknown optional transitive attributes and re-encodes them with the Partial bit', () => {
    const m = dec(BASE + attr(0xc0, 200, 'cafe'));
    expect(m.attrs!.unknown).toEqual([{ flags: 0xc0, code: 200, value: hex('cafe') }]);
    const w = new BufWriter(4096);
    encodeAttrs(m.attrs!, w, { fourOctetAs: true, ibgp: true, nextHop: true });
    expect(w.buf.subarray(0, w.pos).toString('hex')).toBe(BASE + attr(0xe0, 200, 'cafe')); // RFC 4271 §5: Partial set
  });
  // Issue 11, the differential check (npm run check:differential): Kite passed a 3-octet OTC on and
  // set the Partial bit on a good one; BIRD 2.0.12 and FRR 8.4.4 treat the first as withdraw and pass
  // the second as a recognized attribute. RFC 9234 §5: OTC (35) of a length other than 4 is malformed,
  // treat-as-withdraw (RFC 7606). Kite has no BGP Roles, so a good OTC passes unchanged.
  it('RFC 9234 §5: OTC of 4 octets is passed on without the Partial bit; another length is treat-as-withdraw', () => {
    const ok = dec(BASE + attr(0xc0, 35, u32(65001)));                          // OTC 65001
    expect(ok.action).toBe(ErrorAction.None);
    const w = new BufWriter(4096);
    encodeAttrs(ok.attrs!, w, { fourOctetAs: true, ibgp: false, nextHop: true });
    expect(w.buf.subarray(0, w.pos).toString('hex')).toBe(BASE + attr(0xc0, 35, u32(65001)));
    const short = dec(BASE + attr(0xc0, 35, '00fde9'));                        // 3 octets
    expect(short.action).toBe(ErrorAction.TreatAsWithdraw);
    expect(short.attrs).toBeNull();
    expect(dec(BASE + attr(0x40, 35, u32(65001))).action).toBe(ErrorAction.TreatAsWithdraw); // well-known flags
  });
  it('formats attributes for logs', () => {
    const m = dec(BASE + attr(0xc0, 8, u32(0xfde80064)) + attr(0x40, 5, u32(100)) + attr(0xc0, 32, u32(1), u32(2), u32(3)));
    expect(formatAttrs(m.attrs!)).toEqual({
      ORIGIN: 'IGP', AS_PATH: '65001', NEXT_HOP: '192.0.2.1', LOCAL_PREF: '100', COMMUNITIES: '65000:100', LARGE_COMMUNITY: '1:2:3',
    });
  });
  it('drops unknown optional non-transitive attributes', () => {
    const m = dec(BASE + attr(0x80, 201, 'cafe'));
    expect(m.attrs!.unknown).toEqual([]);
    expect(m.action).toBe(ErrorAction.None);
  });
  it('uses extended length attributes (flag 0x10)', () => {
    const comms = Array.from({ length: 100 }, (_, i) => u32(i)).join('');
    const m = dec(BASE + attr(0xd0, 8, comms));
    expect(m.attrs!.communities).toHaveLength(100);
  });
});

describe('AS4_PATH / AS4_AGGREGATOR on a 2-octet session (RFC 6793 §4.2.3)', () => {
  const c2 = ctx({ fourOctetAs: false, ibgp: false });
  const path2 = attr(0x40, 2, '02', '04', u16(65001), u16(23456), u16(65002), u16(23456));
  it('merges AS4_PATH into AS_PATH', () => {
    const as4 = attr(0xc0, 17, '02', '03', u32(4200000001), u32(65002), u32(4200000002));
    const m = dec(ORIGIN_IGP + path2 + NH + as4, c2);
    expect(m.attrs!.asPath).toEqual([{ type: 2, asns: [65001, 4200000001, 65002, 4200000002] }]);
  });
  it('ignores an AS4_PATH longer than AS_PATH', () => {
    const as4 = attr(0xc0, 17, '02', '05', u32(1), u32(2), u32(3), u32(4), u32(5));
    expect(dec(ORIGIN_IGP + path2 + NH + as4, c2).attrs!.asPath).toEqual([{ type: 2, asns: [65001, 23456, 65002, 23456] }]);
  });
  it('takes AS4_AGGREGATOR when AGGREGATOR is AS_TRANS, else ignores both AS4 attributes', () => {
    const as4agg = attr(0xc0, 18, u32(4200000009), ip4('10.1.1.1'));
    const as4 = attr(0xc0, 17, '02', '01', u32(4200000001));
    let m = dec(ORIGIN_IGP + path2 + NH + attr(0xc0, 7, u16(23456), ip4('10.1.1.1')) + as4 + as4agg, c2);
    expect(m.attrs!.aggregator).toEqual({ asn: 4200000009, address: '10.1.1.1' });
    expect(m.attrs!.asPath[0]!.asns).toEqual([65001, 23456, 65002, 4200000001]);
    m = dec(ORIGIN_IGP + path2 + NH + attr(0xc0, 7, u16(65005), ip4('10.1.1.1')) + as4 + as4agg, c2);
    expect(m.attrs!.aggregator).toEqual({ asn: 65005, address: '10.1.1.1' });
    expect(m.attrs!.asPath[0]!.asns).toEqual([65001, 23456, 65002, 23456]);
  });
  it('ignores AS4 attributes between two 4-octet speakers', () => {
    const m = dec(BASE + attr(0xc0, 17, '02', '01', u32(7)));
    expect(m.attrs!.asPath).toEqual([{ type: 2, asns: [65001] }]);
    expect(m.errors).toEqual([]);
  });
});

// RFC 7606 case by case: attribute bytes, context, expected action and NOTIFICATION code/subcode.
const TAW = ErrorAction.TreatAsWithdraw, DISCARD = ErrorAction.AttributeDiscard, RESET = ErrorAction.SessionReset, AFI = ErrorAction.AfiSafiDisable;
const ERROR_CASES: { name: string; attrs: string; nlri?: string; withdrawn?: string; c?: Partial<CodecContext>; action: ErrorAction; sub: number | null }[] = [
  { name: '§7.1 ORIGIN bad length', attrs: attr(0x40, 1, '0000') + AS_PATH_1 + NH, action: TAW, sub: 5 },
  { name: '§7.1 ORIGIN bad value', attrs: attr(0x40, 1, '03') + AS_PATH_1 + NH, action: TAW, sub: 6 },
  { name: '§3(c) ORIGIN flags (optional bit)', attrs: attr(0xc0, 1, '00') + AS_PATH_1 + NH, action: TAW, sub: 4 },
  { name: '§7.2 AS_PATH segment overrun', attrs: ORIGIN_IGP + attr(0x40, 2, '02', '02', u32(1)) + NH, action: TAW, sub: 11 },
  { name: '§7.2 AS_PATH unknown segment type', attrs: ORIGIN_IGP + attr(0x40, 2, '07', '01', u32(1)) + NH, action: TAW, sub: 11 },
  { name: '§7.2 AS_PATH zero-length segment', attrs: ORIGIN_IGP + attr(0x40, 2, '02', '00') + NH, action: TAW, sub: 11 },
  { name: '§7.2 AS_PATH confed segment from eBGP', attrs: ORIGIN_IGP + attr(0x40, 2, '03', '01', u32(1)) + NH, c: { ibgp: false }, action: TAW, sub: 11 },
  // Issue 11 (differential fuzzing): Kite accepted these from iBGP and re-exported the segment to
  // eBGP. RFC 5065 §5: segments from a peer outside our confederation are a malformed AS_PATH, and
  // Kite is in none, so every peer is outside one; RFC 7606 §7.2 makes that treat-as-withdraw (BIRD too).
  { name: '§7.2 AS_CONFED_SEQUENCE from iBGP, no confederation configured (RFC 5065 §5)', attrs: ORIGIN_IGP + attr(0x40, 2, '03', '01', u32(64512), '02', '01', u32(65001)) + NH, c: { ibgp: true }, action: TAW, sub: 11 },
  { name: '§7.2 AS_CONFED_SET from iBGP, no confederation configured (RFC 5065 §5)', attrs: ORIGIN_IGP + attr(0x40, 2, '04', '01', u32(64512)) + NH, c: { ibgp: true }, action: TAW, sub: 11 },
  { name: '§7.3 NEXT_HOP bad length', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x40, 3, '0a0000'), action: TAW, sub: 5 },
  { name: '§7.3 NEXT_HOP 0.0.0.0', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x40, 3, ip4('0.0.0.0')), action: TAW, sub: 8 },
  { name: '§7.3 NEXT_HOP multicast', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x40, 3, ip4('224.0.0.5')), action: TAW, sub: 8 },
  { name: '§7.3 NEXT_HOP 240.0.0.1 (class E)', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x40, 3, ip4('240.0.0.1')), action: TAW, sub: 8 },
  { name: '§7.4 MED bad length', attrs: BASE + attr(0x80, 4, '000001'), action: TAW, sub: 5 },
  { name: '§3(c) MED flags (transitive)', attrs: BASE + attr(0xc0, 4, u32(1)), action: TAW, sub: 4 },
  // Issue 11, the differential check: Kite discarded these (their §7 action is for lengths); BIRD
  // treats them as withdraw, and BIRD and FRR both reset when such an UPDATE only withdraws (§5.2).
  { name: '§3(c) ATOMIC_AGGREGATE flags (optional bit) → treat-as-withdraw', attrs: BASE + attr(0xc0, 6), action: TAW, sub: 4 },
  { name: '§3(c) AGGREGATOR flags (well-known) → treat-as-withdraw', attrs: BASE + attr(0x40, 7, u32(65001), ip4('192.0.2.1')), action: TAW, sub: 4 },
  { name: '§3(c) AS4_PATH flags (non-transitive) → treat-as-withdraw', attrs: BASE + attr(0x80, 17, '02', '01', u32(65001)), action: TAW, sub: 4 },
  { name: '§3(c) AS4_AGGREGATOR flags (well-known) → treat-as-withdraw', attrs: BASE + attr(0x40, 18, u32(65001), ip4('192.0.2.1')), action: TAW, sub: 4 },
  { name: '§7.6 ATOMIC_AGGREGATE bad length stays attribute discard', attrs: BASE + attr(0x40, 6, '00'), action: DISCARD, sub: 5 },
  { name: '§7.5 LOCAL_PREF bad length (iBGP)', attrs: BASE + attr(0x40, 5, '0001'), action: TAW, sub: 5 },
  { name: '§7.5 LOCAL_PREF from eBGP is discarded silently', attrs: BASE + attr(0x40, 5, '0001'), c: { ibgp: false }, action: ErrorAction.None, sub: null },
  { name: '§7.6 ATOMIC_AGGREGATE bad length', attrs: BASE + attr(0x40, 6, '00'), action: DISCARD, sub: 5 },
  { name: '§7.7 AGGREGATOR bad length', attrs: BASE + attr(0xc0, 7, u16(1), ip4('1.1.1.1')), action: DISCARD, sub: 5 },
  { name: '§7.8 COMMUNITIES not a multiple of 4', attrs: BASE + attr(0xc0, 8, '000001'), action: TAW, sub: 9 },
  { name: '§7.8 COMMUNITIES empty', attrs: BASE + attr(0xc0, 8), action: TAW, sub: 9 },
  { name: '§7.9 ORIGINATOR_ID bad length', attrs: BASE + attr(0x80, 9, '01'), action: TAW, sub: 5 },
  { name: '§7.9 ORIGINATOR_ID from eBGP is discarded', attrs: BASE + attr(0x80, 9, '01'), c: { ibgp: false }, action: ErrorAction.None, sub: null },
  { name: '§7.10 CLUSTER_LIST bad length', attrs: BASE + attr(0x80, 10, '010203'), action: TAW, sub: 5 },
  { name: '§7.14 EXTENDED COMMUNITIES bad length', attrs: BASE + attr(0xc0, 16, '0102030405'), action: TAW, sub: 9 },
  { name: 'RFC 8092 §6 LARGE_COMMUNITY bad length', attrs: BASE + attr(0xc0, 32, u32(1), u32(2)), action: TAW, sub: 9 },
  { name: 'RFC 6793 §6 AS4_PATH malformed', attrs: BASE_2OCT + attr(0xc0, 17, '02', '02', u32(1)), c: { fourOctetAs: false }, action: DISCARD, sub: 9 },
  { name: 'RFC 6793 §6 AS4_AGGREGATOR bad length', attrs: BASE_2OCT + attr(0xc0, 18, u16(1), ip4('1.1.1.1')), c: { fourOctetAs: false }, action: DISCARD, sub: 9 },
  { name: '§3(d) missing ORIGIN', attrs: AS_PATH_1 + NH, action: TAW, sub: 3 },
  { name: '§3(d) missing AS_PATH', attrs: ORIGIN_IGP + NH, action: TAW, sub: 3 },
  { name: '§3(d) missing NEXT_HOP with classic NLRI', attrs: ORIGIN_IGP + AS_PATH_1, action: TAW, sub: 3 },
  { name: '§3(d) nothing missing when nothing is announced', attrs: ORIGIN_IGP, nlri: '', action: ErrorAction.None, sub: null },
  { name: '§3(g) duplicate attribute: later copy discarded', attrs: BASE + attr(0x80, 4, u32(1)) + attr(0x80, 4, u32(2)), action: DISCARD, sub: 1 },
  { name: '§3(g) duplicate MP_REACH_NLRI', attrs: BASE + attr(0x80, 14, u16(1), '01', '04', ip4('1.1.1.1'), '00') + attr(0x80, 14, u16(1), '01', '04', ip4('1.1.1.1'), '00'), action: RESET, sub: 1 },
  { name: 'unrecognized well-known attribute', attrs: BASE + attr(0x40, 99, '00'), action: RESET, sub: 2 },
  { name: '§4 attribute length overrun → treat-as-withdraw', attrs: BASE + '8004' + '05' + u32(1), action: TAW, sub: 1 },
  { name: '§4 fewer than 3 octets left → treat-as-withdraw', attrs: BASE + '80', action: TAW, sub: 1 },
  { name: '§4 overrun with nothing locatable → session reset', attrs: '400105' + '00', nlri: '', action: RESET, sub: 1 },
  { name: '§7.11 MP_REACH IPv6 next hop length 8 → AFI/SAFI disable', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x80, 14, u16(2), '01', '08', '0'.repeat(16), '00'), nlri: '', action: AFI, sub: 9 },
  { name: '§7.11 MP_REACH too short to read the family → session reset', attrs: BASE + attr(0x80, 14, '00'), action: RESET, sub: 9 },
  { name: '§5.3 MP_REACH NLRI prefix length 129 → AFI/SAFI disable', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x80, 14, u16(2), '01', '10', '0'.repeat(32), '00', '81' + '0'.repeat(34)), nlri: '', action: AFI, sub: 9 },
  { name: '§7.11 MP_UNREACH NLRI overrun → AFI/SAFI disable', attrs: attr(0x80, 15, u16(2), '01', '40' + '2001'), nlri: '', action: AFI, sub: 9 },
  // Issue 11: Kite accepted an MP_REACH next hop of 0.0.0.0. RFC 4760 §3 makes it the route's next
  // hop, which RFC 4271 §6.3 requires to be a valid host address: the NLRI are treated as withdrawn
  // (BIRD), the session stays (the length is fine, so §7.11's AFI/SAFI disable does not apply).
  { name: 'RFC 4760 §3 MP_REACH IPv4 next hop 0.0.0.0 → treat-as-withdraw', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x80, 14, u16(1), '01', '04', ip4('0.0.0.0'), '00', '18' + '0a0001'), nlri: '', action: TAW, sub: 8 },
  { name: 'RFC 4760 §3 MP_REACH IPv4 next hop 240.0.0.1 → treat-as-withdraw', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x80, 14, u16(1), '01', '04', ip4('240.0.0.1'), '00', '18' + '0a0001'), nlri: '', action: TAW, sub: 8 },
  { name: 'RFC 4760 §3 MP_REACH IPv6 next hop :: → treat-as-withdraw', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x80, 14, u16(2), '01', '10', '0'.repeat(32), '00', '20' + '20010db8'), nlri: '', action: TAW, sub: 8 },
  { name: 'RFC 4760 §3 MP_REACH IPv6 next hop ff02::1 → treat-as-withdraw', attrs: ORIGIN_IGP + AS_PATH_1 + attr(0x80, 14, u16(2), '01', '10', 'ff02' + '0'.repeat(27) + '1', '00', '20' + '20010db8'), nlri: '', action: TAW, sub: 8 },
  // Issue 11: with a malformed attribute, no reachable NLRI and only withdrawals, Kite withdrew and
  // kept the session; BIRD (3/1) and FRR reset it. RFC 7606 §5.2: path attributes other than
  // MP_UNREACH_NLRI without reachable NLRI is no well-defined UPDATE, so the NLRI may have been
  // misread: "session reset" instead of treat-as-withdraw. Each treat-as-withdraw attribute class:
  ...([
    ['ORIGIN', attr(0x40, 1, '03') + AS_PATH_1 + NH, 6],
    ['NEXT_HOP', ORIGIN_IGP + AS_PATH_1 + attr(0x40, 3, '0a0000'), 5],
    ['MED', BASE + attr(0x80, 4, '000001'), 5],
    ['COMMUNITIES', BASE + attr(0xc0, 8, '000001'), 9],
    ['EXTENDED COMMUNITIES', BASE + attr(0xc0, 16, '0102030405'), 9],
    ['LARGE_COMMUNITY', BASE + attr(0xc0, 32, u32(1), u32(2)), 9],
    ['ORIGINATOR_ID', BASE + attr(0x80, 9, '01'), 5],
    ['CLUSTER_LIST', BASE + attr(0x80, 10, '010203'), 5],
  ] as const).map(([what, attrs, sub]) => ({ name: `§5.2 malformed ${what}, no reachable NLRI, withdrawing a route → session reset`, attrs, nlri: '', withdrawn: '18' + '0a0009', action: RESET, sub })),
  { name: '§3(c) MP_REACH flags → AFI/SAFI disable', attrs: BASE + attr(0xc0, 14, u16(1), '01', '04', ip4('1.1.1.1'), '00'), action: AFI, sub: 4 },
];

describe('RFC 7606 error handling, case by case', () => {
  for (const tc of ERROR_CASES) {
    it(tc.name, () => {
      const m = dec(tc.attrs, ctx(tc.c), tc.nlri ?? NLRI, tc.withdrawn ?? '');
      expect(m.action).toBe(tc.action);
      if (tc.sub === null) expect(m.errors).toEqual([]);
      else {
        const strongest = m.errors.find((e) => e.action === tc.action)!;
        expect([strongest.code, strongest.subcode]).toEqual([3, tc.sub]);
      }
      if (tc.action >= TAW) expect(m.attrs).toBeNull();
    });
  }

  // Issue 11, the differential check: on an IPv4-only session (Calico's sessions carry one family)
  // Kite reset the session (3/9) over an IPv6 MP_REACH_NLRI with a prefix length of 200; BIRD 2.0.12
  // and FRR 8.4.4 ignore the attribute and take the UPDATE's IPv4 routes. RFC 4760 §8 with RFC 5492:
  // a family not negotiated is not exchanged, so its MP attributes are not read.
  it('MP_REACH/MP_UNREACH_NLRI of a family the session did not negotiate are ignored unread', () => {
    const badV6 = attr(0x80, 14, u16(2), '01', '10', '0'.repeat(32), '00', 'c8' + '20010db8'); // IPv6 NLRI /200
    const badUnreach = attr(0x80, 15, u16(2), '01', 'c8' + '20010db8');
    const v4only = ctx({ families: [IPV4_UNICAST] });
    const m = dec(BASE + badV6, v4only);
    expect(m.action).toBe(ErrorAction.None);
    expect(m.mpReach).toBeNull();
    expect(v4(m.nlri)).toEqual(['10.0.1.0/24']);
    expect(dec(BASE + badUnreach, v4only).action).toBe(ErrorAction.None);
    // Negotiated (or not known, as in the codec's own tests): the error stands.
    expect(dec(BASE + badV6, ctx({ families: [IPV4_UNICAST, IPV6_UNICAST] })).action).toBe(ErrorAction.AfiSafiDisable);
    expect(dec(BASE + badV6).action).toBe(ErrorAction.AfiSafiDisable);
  });

  it('session-reset framing errors are returned, not thrown', () => {
    const cases: [string, number][] = [
      ['0005' + '0000', 1],                              // withdrawn length past the message
      ['0000' + '0009' + '400101', 1],                   // attribute length past the message
      ['0002' + '2100' + '0000', 10],                    // withdrawn prefix /33
      [updateBody('', BASE, '21' + '0a000000ff'), 10],   // NLRI prefix /33
      [updateBody('', BASE, '18' + '0a00'), 10],         // NLRI prefix runs past the end
    ];
    for (const [h, sub] of cases) {
      const m = decodeUpdate(hex(h), ctx(), new Interner());
      expect(m.action, h).toBe(RESET);
      expect(m.errors[0]!.subcode, h).toBe(sub);
    }
  });
  it('puts the erroneous attribute in the NOTIFICATION data (RFC 4271 §6.3)', () => {
    const bad = attr(0x40, 1, '03');
    const m = dec(bad + AS_PATH_1 + NH);
    expect(m.errors[0]!.data.toString('hex')).toBe(bad);
  });
});

describe('interning', () => {
  it('returns the identical frozen object for equal attribute sets', () => {
    const interner = new Interner();
    const a = dec(BASE, ctx(), NLRI, '', interner).attrs!;
    const b = dec(BASE, ctx(), '18' + '0a0002', '', interner).attrs!;
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.asPath)).toBe(true);
    expect(interner.get(a.id)).toBe(a);
    // Same content in another byte order, and built locally: still the same object.
    expect(dec(NH + AS_PATH_1 + ORIGIN_IGP, ctx(), NLRI, '', interner).attrs).toBe(a);
    const { id: _id, ...input } = a;
    expect(interner.internAttrs(input)).toBe(a);
    expect(dec(BASE + attr(0x80, 4, u32(1)), ctx(), NLRI, '', interner).attrs).not.toBe(a);
  });
  it('shares an IPv6 set only with the same next hop', () => {
    const interner = new Interner();
    const reach = (nh: string, pfx: string) => attr(0x90, 14, u16(2), '01', '10', nh, '00', pfx);
    const a = dec(ORIGIN_IGP + AS_PATH_1 + reach('20010db8000000000000000000000001', '20' + '20010db8'), ctx(), '', '', interner).attrs!;
    const b = dec(ORIGIN_IGP + AS_PATH_1 + reach('20010db8000000000000000000000001', '30' + '20010db80001'), ctx(), '', '', interner).attrs!;
    const c = dec(ORIGIN_IGP + AS_PATH_1 + reach('20010db8000000000000000000000002', '20' + '20010db8'), ctx(), '', '', interner).attrs!;
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(c.nextHop).toBe('2001:db8::2');
  });
  it('frees a set when its last reference goes, and sweep() frees unreferenced ones', () => {
    const interner = new Interner();
    const a = dec(BASE, ctx(), NLRI, '', interner).attrs!;
    interner.ref(a); interner.ref(a);
    interner.unref(a);
    expect(interner.has(a.id)).toBe(true);
    interner.unref(a.id);
    expect(interner.has(a.id)).toBe(false);
    const b = dec(BASE, ctx(), NLRI, '', interner).attrs!;
    expect(b.id).not.toBe(a.id); // decoded again after release, not served from a stale cache
    expect(interner.sweep()).toBe(1);
    expect(interner.size).toBe(0);
  });
  it('decodes a 500-prefix UPDATE with a cached attribute set quickly and without per-prefix work', () => {
    const nlri = Array.from({ length: 500 }, (_, i) => '18' + '0a' + u8(i >> 8) + u8(i & 255)).join('');
    const body = hex(updateBody('', BASE + attr(0xc0, 8, u32(1), u32(2)), nlri));
    const interner = new Interner();
    const c = ctx();
    decodeUpdate(body, c, interner);
    const t0 = performance.now();
    let sum = 0;
    for (let i = 0; i < 2000; i++) {
      const m = decodeUpdate(body, c, interner);
      forEachIPv4(m.nlri!, (a) => { sum += a & 1; });
    }
    const ms = performance.now() - t0;
    expect(sum).toBe(0);
    expect(interner.size).toBe(1);
    expect(ms).toBeLessThan(3000); // 1M prefixes; ~10x headroom over a typical run
  });
});

// Issue 11, differential fuzzing against BIRD 2.0.12 and FRR 8.4.4: what leaves toward an eBGP peer.
describe('what is not sent across an AS boundary', () => {
  const enc = (a: PathAttrs, ibgp: boolean, code: number): string => {
    const w = new BufWriter(256);
    ATTRIBUTES.get(code)!.encode(a, w, { fourOctetAs: true, ibgp, nextHop: true });
    return w.buf.subarray(0, w.pos).toString('hex');
  };
  const base: PathAttrs = { id: 0, origin: 0, asPath: [], nextHop: '192.0.2.1', atomicAggregate: false, unknown: [] };
  it('RFC 4360 §6: a non-transitive extended community (T bit 0x40) goes to iBGP, not to eBGP', () => {
    const a: PathAttrs = { ...base, extCommunities: [0x0002fde800000064n, 0x4002fde800000065n] };
    expect(enc(a, true, 16)).toBe(attr(0xc0, 16, '0002fde800000064', '4002fde800000065'));
    expect(enc(a, false, 16)).toBe(attr(0xc0, 16, '0002fde800000064'));
    // Only non-transitive ones: no attribute at all toward eBGP.
    expect(enc({ ...base, extCommunities: [0x4302000000000001n] }, false, 16)).toBe('');
  });
  it('RFC 5065 §5: confederation segments never leave toward an eBGP peer', () => {
    const a: PathAttrs = { ...base, asPath: [{ type: 3, asns: [64512] }, { type: 2, asns: [65001] }] };
    expect(enc(a, true, 2)).toBe(attr(0x40, 2, '03', '01', u32(64512), '02', '01', u32(65001)));
    expect(enc(a, false, 2)).toBe(attr(0x40, 2, '02', '01', u32(65001)));
  });
});

// Issue 11: Kite stored a 232.x/24 from the NLRI field. RFC 4271 §6.3: a semantically incorrect NLRI
// field, "e.g., an unexpected multicast IP address", is ignored (the prefix, not the UPDATE).
describe('RFC 4271 §6.3: multicast prefixes in NLRI are ignored', () => {
  it('skips 232.1.2.0/24 and keeps the unicast prefixes beside it, in every iterator', () => {
    const m = dec(BASE, ctx(), '18' + 'e80102' + '18' + '0a0001' + '04' + 'e0' + '03' + 'e0');
    expect(m.action).toBe(ErrorAction.None);
    // 232.1.2.0/24 and 224.0.0.0/4 are multicast; 224.0.0.0/3 also covers class E, so it is no multicast prefix.
    expect(v4(m.nlri)).toEqual(['10.0.1.0/24', '224.0.0.0/3']);
    const seen: string[] = [];
    forEachIPv4(m.nlri!, (a, l) => seen.push(`${a >>> 24}/${l}`));
    expect(seen).toEqual(['10/24', '224/3']);
    expect(countPrefixes(m.nlri!)).toBe(2);
  });
  it('skips ff00::/8 prefixes in MP_REACH_NLRI and MP_UNREACH_NLRI', () => {
    const reach = attr(0x90, 14, u16(2), '01', '10', '20010db8000000000000000000000001', '00', '10' + 'ff0e' + '20' + '20010db8');
    const m = dec(ORIGIN_IGP + AS_PATH_1 + reach, ctx(), '');
    const out: string[] = [];
    forEachPrefix(m.mpReach!, (b, l) => out.push(formatPrefix(IPV6_UNICAST, b, l)));
    expect(out).toEqual(['2001:db8::/32']);
    const un = dec(attr(0x80, 15, u16(2), '01', '10' + 'ff0e'), ctx(), '');
    let n = 0;
    forEachPrefix(un.mpUnreach!, () => n++);
    expect(n).toBe(0);
  });
});
