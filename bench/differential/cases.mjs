// The differential check's cases: seeded and deterministic, a few thousand malformed or unusual
// OPEN, UPDATE and KEEPALIVE messages (RFC 4271, RFC 7606's per-attribute table, RFC 4760, 6793,
// 5065, 1997, 4360, 8092). A case names its class (for grouping), the session it needs (eBGP or
// iBGP, 4-octet AS or not) and builds its bytes per session, since addresses differ per daemon.
import * as B from './bytes.mjs';

const { A, F } = B;
export const DUT_AS = 65000;
export const EBGP_AS = 65001;

/** mulberry32: a small seeded PRNG, so a seed names a case list. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The prefixes of case `id`: P (IPv4 probe), P6 (IPv6 probe), S (the sentinel). */
export function prefixesOf(id) {
  const hi = id >> 8, lo = id & 255;
  return { P: `20.${hi}.${lo}.0/24`, P6: `fd00:20:${id.toString(16)}::/48`, S: `21.${hi}.${lo}.0/24`, S6: `fd00:21:${id.toString(16)}::/48` };
}

/** The session a case runs on: ctx = { local, local6, dut, dut6, peerAs, ibgp, as4, other, id } plus prefixesOf(id). */
const peerSeg = (c, ...rest) => (c.ibgp ? [B.seq(...rest)] : [B.seq(c.peerAs, ...rest)]);

/** Attributes of the "base" announcement: ORIGIN INCOMPLETE, path ending 64999 (the observer tells base from new by these). */
export function baseAttrs(c) {
  return [B.origin(2), B.asPath(peerSeg(c, 64999), c.as4), B.nextHop(c.local), ...(c.ibgp ? [B.localPref(100)] : [])];
}
export const baseUpdate = (c) => B.update({ attrs: B.cat(...baseAttrs(c)), nlri: B.nlri(c.P) });
export const baseUpdate6 = (c) => B.update({ attrs: B.cat(B.origin(2), B.asPath(peerSeg(c, 64999), c.as4), ...(c.ibgp ? [B.localPref(100)] : []), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) })) });
/** The sentinel: valid, ORIGIN IGP, path ending 64997. When the observer has it, the case was processed. */
export const sentinel = (c) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64997), c.as4), B.nextHop(c.local), ...(c.ibgp ? [B.localPref(100)] : [])), nlri: B.nlri(c.S) });
export const sentinel6 = (c) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64997), c.as4), ...(c.ibgp ? [B.localPref(100)] : []), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.S6) })) });
/** Withdraws what a case announced: IPv4 in the classic field, IPv6 in MP_UNREACH_NLRI, or both. */
export function cleanup(c, extra = [], family = 'both') {
  const v4 = family !== 'v6' ? B.nlri(c.P, c.S, ...extra.filter((p) => !p.includes(':'))) : Buffer.alloc(0);
  const v6 = family !== 'v4' ? B.mpUnreach({ nlri: B.nlri(c.P6, c.S6, ...extra.filter((p) => p.includes(':'))) }) : Buffer.alloc(0);
  return B.update({ withdrawn: v4, attrs: v6 });
}

/**
 * The "new" attributes, in type order, with one attribute replaced (a Buffer), removed (null) or
 * added (codes not in the list). ORIGIN IGP and a path ending 64998 mark a route as new.
 */
function attrs(c, change = {}, extra = []) {
  const std = {
    [A.ORIGIN]: B.origin(0),
    [A.AS_PATH]: B.asPath(peerSeg(c, 64998), c.as4),
    [A.NEXT_HOP]: B.nextHop(c.local),
    ...(c.ibgp ? { [A.LOCAL_PREF]: B.localPref(100) } : {}),
  };
  const all = { ...std, ...change };
  const out = Object.keys(all).map(Number).sort((a, b) => a - b).map((k) => all[k]).filter((v) => v !== null);
  return B.cat(...out, ...extra);
}

/** A good value of each attribute in RFC 7606's table (what the mutations start from). */
const GOOD = {
  [A.ORIGIN]: () => Buffer.of(0),
  [A.AS_PATH]: (c) => B.pathValue(peerSeg(c, 64998), c.as4),
  [A.NEXT_HOP]: (c) => B.ip4(c.local),
  [A.MED]: () => B.u32be(5),
  [A.LOCAL_PREF]: () => B.u32be(200),
  [A.ATOMIC_AGGREGATE]: () => Buffer.alloc(0),
  [A.AGGREGATOR]: (c) => B.cat(c.as4 ? B.u32be(64998) : B.u16be(64998), B.ip4('192.0.2.1')),
  [A.COMMUNITIES]: () => B.u32be((65001 << 16) | 100),
  [A.ORIGINATOR_ID]: () => B.ip4('192.0.2.9'),
  [A.CLUSTER_LIST]: () => B.ip4('192.0.2.10'),
  [A.EXT_COMMUNITIES]: () => Buffer.from('0002fde900000064', 'hex'),
  [A.AS4_PATH]: () => B.pathValue([B.seq(65001, 4200000001)], true),
  [A.AS4_AGGREGATOR]: () => B.cat(B.u32be(4200000001), B.ip4('192.0.2.1')),
  [A.LARGE_COMMUNITY]: () => B.cat(B.u32be(65001), B.u32be(1), B.u32be(2)),
};
const NAME = {
  1: 'ORIGIN', 2: 'AS_PATH', 3: 'NEXT_HOP', 4: 'MED', 5: 'LOCAL_PREF', 6: 'ATOMIC_AGGREGATE', 7: 'AGGREGATOR', 8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID', 10: 'CLUSTER_LIST', 14: 'MP_REACH_NLRI', 15: 'MP_UNREACH_NLRI', 16: 'EXT_COMMUNITIES', 17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR', 32: 'LARGE_COMMUNITY',
};
/** What the observer is asked about, per attribute: does it survive the daemon's export? */
const PROBE = { 7: 'agg', 6: 'atomic', 8: 'comm', 16: 'ext', 32: 'large', 17: 'path', 18: 'agg', 2: 'path' };

const SESSIONS = [
  { ibgp: false, as4: true, tag: 'eBGP' },
  { ibgp: true, as4: true, tag: 'iBGP' },
];

/**
 * Every case, in id order. `kind`: 'update' (runs on an Established session, base route first when
 * `base`), 'open' (its own OPEN on a new connection), 'raw' (bytes on an Established session).
 */
export function generate({ seed = 11, random = 1600 } = {}) {
  const cases = [];
  const add = (c) => cases.push({ probes: ['P'], probe: null, base: 'P', as4: true, ibgp: false, ...c, id: cases.length + 1 });
  const upd = (c, change, extra = [], n = (x) => B.nlri(x.P)) => B.update({ attrs: attrs(c, change, extra), nlri: n(c) });

  // 1. Each attribute of RFC 7606's table: flags, lengths, duplicates; announcing, and in an UPDATE
  //    that only withdraws (RFC 7606 §5.2: attributes with no reachable NLRI).
  for (const code of Object.keys(GOOD).map(Number)) {
    const name = NAME[code];
    const right = B.RIGHT_FLAGS[code];
    const muts = [];
    for (const f of [0x00, F.T, F.O, F.O | F.T]) if (f !== right) muts.push([`flags 0x${f.toString(16)}`, (c) => B.attr(f, code, GOOD[code](c))]);
    muts.push(['partial bit', (c) => B.attr(right | F.P, code, GOOD[code](c))]);
    muts.push(['extended length form', (c) => B.attr(right | F.X, code, GOOD[code](c))]);
    muts.push(['length 0', () => B.attr(right, code, Buffer.alloc(0))]);
    muts.push(['length -1', (c) => { const v = GOOD[code](c); return v.length ? B.attr(right, code, v.subarray(0, v.length - 1)) : null; }]);
    muts.push(['length +1', (c) => B.attr(right, code, B.cat(GOOD[code](c), Buffer.of(0)))]);
    muts.push(['length +2', (c) => B.attr(right, code, B.cat(GOOD[code](c), Buffer.of(0, 0)))]);
    muts.push(['duplicate', (c) => B.cat(B.attr(right, code, GOOD[code](c)), B.attr(right, code, GOOD[code](c)))]);
    for (const s of SESSIONS) {
      for (const [what, build] of muts) {
        const probe = PROBE[code] ?? null;
        add({ ...s, kind: 'update', cls: `${name} ${what} (${s.tag}, announce)`, probe, build: (c) => { const a = build(c); return a ? [upd(c, { [code]: a })] : [upd(c, {})]; } });
        add({ ...s, kind: 'update', cls: `${name} ${what} (${s.tag}, withdraw only)`, build: (c) => { const a = build(c) ?? B.attr(right, code, GOOD[code](c)); return [B.update({ withdrawn: B.nlri(c.P), attrs: attrs(c, { [code]: a }) })]; } });
      }
      // Each well-known mandatory attribute missing.
      for (const m of [A.ORIGIN, A.AS_PATH, A.NEXT_HOP]) add({ ...s, kind: 'update', cls: `${NAME[m]} missing (${s.tag})`, build: (c) => [upd(c, { [m]: null })] });
      if (s.ibgp) add({ ...s, kind: 'update', cls: 'LOCAL_PREF missing (iBGP)', build: (c) => [upd(c, { [A.LOCAL_PREF]: null })] });
    }
  }

  // 2. Attribute values.
  const values = [
    ['ORIGIN value 3', A.ORIGIN, () => Buffer.of(3)], ['ORIGIN value 255', A.ORIGIN, () => Buffer.of(255)],
    ['MED 0', A.MED, () => B.u32be(0)], ['MED 0xffffffff', A.MED, () => B.u32be(0xffffffff)],
    ['LOCAL_PREF 0', A.LOCAL_PREF, () => B.u32be(0)],
    ['AGGREGATOR AS 0', A.AGGREGATOR, (c) => B.cat(c.as4 ? B.u32be(0) : B.u16be(0), B.ip4('192.0.2.1'))],
    ['AGGREGATOR address 0.0.0.0', A.AGGREGATOR, (c) => B.cat(c.as4 ? B.u32be(64998) : B.u16be(64998), B.ip4('0.0.0.0'))],
    ['ORIGINATOR_ID 0.0.0.0', A.ORIGINATOR_ID, () => B.ip4('0.0.0.0')],
    ['ORIGINATOR_ID = the daemon\'s router id', A.ORIGINATOR_ID, (c) => B.ip4(c.dut)],
    ['CLUSTER_LIST holding the daemon\'s router id', A.CLUSTER_LIST, (c) => B.ip4(c.dut)],
    ['CLUSTER_LIST of 3', A.CLUSTER_LIST, () => B.cat(B.ip4('192.0.2.1'), B.ip4('192.0.2.2'), B.ip4('192.0.2.3'))],
  ];
  const nextHops = [
    ['0.0.0.0', () => '0.0.0.0'], ['127.0.0.1', () => '127.0.0.1'], ['127.9.9.9', () => '127.9.9.9'], ['224.0.0.5', () => '224.0.0.5'],
    ['232.1.1.1', () => '232.1.1.1'], ['239.255.255.250', () => '239.255.255.250'], ['240.0.0.1', () => '240.0.0.1'],
    ['255.255.255.255', () => '255.255.255.255'], ['the daemon\'s own address', (c) => c.dut], ['another address on the subnet', (c) => c.other],
    ['off-subnet 10.99.99.1', () => '10.99.99.1'], ['169.254.1.1', () => '169.254.1.1'], ['the subnet\'s broadcast', (c) => c.dut.replace(/\.\d+$/, '.255')],
    ['the subnet\'s network address', (c) => c.dut.replace(/\.\d+$/, '.0')], ['0.1.2.3', () => '0.1.2.3'],
  ];
  for (const s of SESSIONS) {
    for (const [what, code, v] of values) add({ ...s, kind: 'update', cls: `${what} (${s.tag})`, build: (c) => [upd(c, { [code]: B.right(code, v(c)) })] });
    for (const [what, nh] of nextHops) add({ ...s, kind: 'update', cls: `NEXT_HOP ${what} (${s.tag})`, build: (c) => [upd(c, { [A.NEXT_HOP]: B.nextHop(nh(c)) })] });
  }

  // 3. AS_PATH segments (RFC 4271 §4.3, RFC 5065 §3 confederation segments, RFC 7606 §7.2).
  const paths = [
    ['AS_SET only', (c) => [{ type: 1, asns: c.ibgp ? [64998] : [c.peerAs, 64998] }]],
    ['a trailing AS_SET', (c) => [...peerSeg(c, 64998), { type: 1, asns: [64990, 64991] }]],
    ['AS_CONFED_SEQUENCE first', (c) => [{ type: 3, asns: [65100] }, ...peerSeg(c, 64998)]],
    ['AS_CONFED_SET first', (c) => [{ type: 4, asns: [65100, 65101] }, ...peerSeg(c, 64998)]],
    ['AS_CONFED_SEQUENCE after AS_SEQUENCE', (c) => [...peerSeg(c, 64998), { type: 3, asns: [65100] }]],
    ['segment type 0', (c) => [{ type: 0, asns: [64998] }, ...peerSeg(c, 64998)]],
    ['segment type 5', (c) => [...peerSeg(c, 64998), { type: 5, asns: [64990] }]],
    ['an empty segment', (c) => [...peerSeg(c, 64998), { type: 2, asns: [] }]],
    ['segment count past the end', (c) => [{ type: 2, asns: c.ibgp ? [64998] : [c.peerAs, 64998], count: c.ibgp ? 2 : 3 }]],
    ['segment count short', (c) => [{ type: 2, asns: c.ibgp ? [64998, 64998] : [c.peerAs, 64998], count: 1 }]],
    ['empty AS_PATH', () => []],
    ['first AS not the peer\'s', () => [B.seq(64998)]],
    ['AS 0 inside', (c) => peerSeg(c, 0, 64998)],
    ['the daemon\'s AS inside (loop)', (c) => peerSeg(c, DUT_AS, 64998)],
    ['AS_TRANS inside', (c) => peerSeg(c, 23456, 64998)],
    ['255 ASNs', (c) => peerSeg(c, ...Array(c.ibgp ? 254 : 253).fill(64990), 64998)],
    ['two segments of 200', (c) => [...peerSeg(c, ...Array(199).fill(64990)), B.seq(...Array(199).fill(64991), 64998)]],
    ['a 4-octet ASN', (c) => peerSeg(c, 4200000001, 64998)],
  ];
  for (const s of SESSIONS) {
    for (const [what, segs] of paths) add({ ...s, kind: 'update', probe: 'path', cls: `AS_PATH ${what} (${s.tag})`, build: (c) => [upd(c, { [A.AS_PATH]: B.asPath(segs(c), c.as4) })] });
  }
  // 2-octet sessions: AS_PATH with 2-octet ASNs, AS4_PATH and AS4_AGGREGATOR (RFC 6793 §4.2.3, §6).
  const two = { ibgp: false, as4: false, tag: 'eBGP, 2-octet' };
  const as4Cases = [
    ['plain', {}],
    ['AS4_PATH merged', { [A.AS_PATH]: (c) => B.asPath([B.seq(c.peerAs, 23456)], false), [A.AS4_PATH]: () => B.right(A.AS4_PATH, B.pathValue([B.seq(4200000001)], true)) }],
    ['AS4_PATH longer than AS_PATH', { [A.AS4_PATH]: () => B.right(A.AS4_PATH, B.pathValue([B.seq(1, 2, 3, 4, 5)], true)) }],
    ['AS4_PATH with a confed segment', { [A.AS4_PATH]: () => B.right(A.AS4_PATH, B.pathValue([{ type: 3, asns: [65100] }], true)) }],
    ['AS4_PATH length 3', { [A.AS4_PATH]: () => B.right(A.AS4_PATH, Buffer.of(2, 1, 0)) }],
    ['AS4_PATH as well-known', { [A.AS4_PATH]: () => B.attr(F.T, A.AS4_PATH, B.pathValue([B.seq(4200000001)], true)) }],
    ['AS4_AGGREGATOR with AGGREGATOR AS_TRANS', { [A.AGGREGATOR]: () => B.right(A.AGGREGATOR, B.cat(B.u16be(23456), B.ip4('192.0.2.1'))), [A.AS4_AGGREGATOR]: () => B.right(A.AS4_AGGREGATOR, B.cat(B.u32be(4200000001), B.ip4('192.0.2.1'))) }],
    ['AS4_AGGREGATOR length 6', { [A.AS4_AGGREGATOR]: () => B.right(A.AS4_AGGREGATOR, Buffer.alloc(6)) }],
    ['AS4_AGGREGATOR without AGGREGATOR', { [A.AS4_AGGREGATOR]: () => B.right(A.AS4_AGGREGATOR, B.cat(B.u32be(4200000001), B.ip4('192.0.2.1'))) }],
    ['AGGREGATOR length 8 on a 2-octet session', { [A.AGGREGATOR]: () => B.right(A.AGGREGATOR, B.cat(B.u32be(64998), B.ip4('192.0.2.1'))) }],
    ['AS_PATH in 4-octet form on a 2-octet session', { [A.AS_PATH]: (c) => B.asPath([B.seq(c.peerAs, 64998)], true) }],
  ];
  for (const [what, ch] of as4Cases) {
    add({ ...two, kind: 'update', probe: 'path', cls: `${what} (${two.tag})`, build: (c) => [upd(c, Object.fromEntries(Object.entries(ch).map(([k, f]) => [k, f(c)])))] });
  }

  // 4. Communities of each kind (RFC 1997, RFC 7999, RFC 8326, RFC 4360, RFC 8092).
  const comms = [
    ['NO_EXPORT', 0xffffff01], ['NO_ADVERTISE', 0xffffff02], ['NO_EXPORT_SUBCONFED', 0xffffff03], ['NOPEER', 0xffffff04],
    ['GRACEFUL_SHUTDOWN', 0xffff0000], ['ACCEPT_OWN', 0xffff0001], ['LLGR_STALE', 0xffff0006], ['NO_LLGR', 0xffff0007],
    ['BLACKHOLE', 0xffff029a], ['0:0', 0], ['0:1', 1], ['65535:1 (reserved)', 0xffff0001 + 100], ['65001:100', (65001 << 16) | 100],
  ];
  const exts = [
    ['route target 2-octet AS (0x0002)', '0002fde900000064'], ['route target IPv4 (0x0102)', '0102c000020100 64'.replace(' ', '')],
    ['route target 4-octet AS (0x0202)', '0202fa56ea010064'], ['route origin (0x0003)', '0003fde900000064'],
    ['non-transitive 2-octet AS (0x4002)', '4002fde900000064'], ['non-transitive opaque (0x4300)', '4300000000000001'],
    ['transitive opaque (0x0300)', '030c000000000008'], ['link bandwidth (0x4004)', '4004fde94a000000'],
    ['flowspec redirect (0x8008)', '8008fde900000064'], ['unknown type 0x2f', '2f00000000000001'], ['non-transitive unknown 0x6f', '6f00000000000001'],
  ];
  const larges = [['65001:1:2', [65001, 1, 2]], ['0:0:0', [0, 0, 0]], ['the daemon\'s AS', [DUT_AS, 1, 1]], ['4-octet', [4200000001, 4294967295, 0]]];
  for (const s of SESSIONS) {
    for (const [what, v] of comms) add({ ...s, kind: 'update', probe: 'comm', cls: `COMMUNITIES ${what} (${s.tag})`, build: (c) => [upd(c, { [A.COMMUNITIES]: B.communities(v >>> 0) })] });
    add({ ...s, kind: 'update', probe: 'comm', cls: `COMMUNITIES repeated value (${s.tag})`, build: (c) => [upd(c, { [A.COMMUNITIES]: B.communities(100, 100, 100) })] });
    add({ ...s, kind: 'update', probe: 'comm', cls: `COMMUNITIES 300 values (${s.tag})`, build: (c) => [upd(c, { [A.COMMUNITIES]: B.communities(...Array.from({ length: 300 }, (_, i) => (65001 << 16) | i)) })] });
    for (const [what, hex] of exts) add({ ...s, kind: 'update', probe: 'ext', cls: `EXT_COMMUNITIES ${what} (${s.tag})`, build: (c) => [upd(c, { [A.EXT_COMMUNITIES]: B.right(A.EXT_COMMUNITIES, Buffer.from(hex, 'hex')) })] });
    for (const [what, v] of larges) add({ ...s, kind: 'update', probe: 'large', cls: `LARGE_COMMUNITY ${what} (${s.tag})`, build: (c) => [upd(c, { [A.LARGE_COMMUNITY]: B.right(A.LARGE_COMMUNITY, B.cat(...v.map(B.u32be))) })] });
    add({ ...s, kind: 'update', probe: 'large', cls: `LARGE_COMMUNITY repeated value (${s.tag})`, build: (c) => [upd(c, { [A.LARGE_COMMUNITY]: B.right(A.LARGE_COMMUNITY, B.cat(...[1, 2, 3, 1, 2, 3].map(B.u32be))) })] });
  }

  // 5. Unknown and unusual attribute codes (RFC 4271 §5, §6.3).
  const unknowns = [
    ['optional transitive 99', 0xc0, 99], ['optional non-transitive 99', 0x80, 99], ['well-known 99', 0x40, 99], ['flags 0x00 code 99', 0x00, 99],
    ['optional transitive 99 with Partial', 0xe0, 99], ['optional transitive 99 extended length', 0xd0, 99], ['optional transitive 99 length 0', 0xc0, 99, 0],
    ['code 0', 0xc0, 0], ['code 255', 0xc0, 255], ['code 11 (DPA)', 0xc0, 11], ['code 12 (ADVERTISER)', 0x80, 12], ['code 13 (RCID_PATH)', 0x80, 13],
    ['code 22 (PMSI_TUNNEL)', 0xc0, 22], ['code 23 (TUNNEL_ENCAP)', 0xc0, 23], ['code 26 (AIGP)', 0x80, 26], ['code 28 (ENTROPY_LABEL)', 0xc0, 28],
    ['code 29 (BGP-LS)', 0x80, 29], ['code 33 (BGPsec_Path)', 0x80, 33], ['code 35 (OTC) length 4', 0xc0, 35], ['code 35 (OTC) length 3', 0xc0, 35, 3],
    ['code 40 (PREFIX_SID)', 0xc0, 40], ['code 128 (ATTR_SET)', 0xc0, 128], ['code 19 (SAFI_SPECIFIC)', 0xc0, 19],
  ];
  for (const s of SESSIONS) {
    for (const [what, flags, code, len = 4] of unknowns) {
      add({ ...s, kind: 'update', probe: `unk${code}`, cls: `attribute ${what} (${s.tag})`, build: (c) => [upd(c, {}, [B.attr(flags, code, Buffer.alloc(len, 7))])] });
    }
  }

  // 6. NLRI and withdrawn routes encodings (RFC 4271 §4.3, §6.3; RFC 7606 §5.3).
  const nlriCases = [
    ['a multicast prefix 232.x/24 beside P', (c) => B.nlri(c.P, '232.1.0.0/24'), ['P', 'M:232.1.0.0/24']],
    ['a multicast prefix 224.0.0.0/4 beside P', (c) => B.nlri(c.P, '224.0.0.0/4'), ['P', 'M:224.0.0.0/4']],
    ['a class E prefix 240.1.0.0/16 beside P', (c) => B.nlri(c.P, '240.1.0.0/16'), ['P', 'M:240.1.0.0/16']],
    ['255.255.255.255/32 beside P', (c) => B.nlri(c.P, '255.255.255.255/32'), ['P', 'M:255.255.255.255/32']],
    ['a loopback prefix 127.1.0.0/16 beside P', (c) => B.nlri(c.P, '127.1.0.0/16'), ['P', 'M:127.1.0.0/16']],
    ['0.0.0.0/8 beside P', (c) => B.nlri(c.P, '0.0.0.0/8'), ['P', 'M:0.0.0.0/8']],
    ['the default route beside P', (c) => B.nlri(c.P, '0.0.0.0/0'), ['P', 'M:0.0.0.0/0']],
    ['host bits set', (c) => B.prefix(c.P.replace('.0/24', '.77/24'), { octets: 4 }), ['P']],
    ['a /32', (c) => B.nlri(c.P.replace('.0/24', '.1/32')), ['P32']],
    ['P twice', (c) => B.nlri(c.P, c.P), ['P']],
    ['prefix length 33', (c) => B.cat(B.nlri(c.P), B.prefix('10.1.1.1/32', { len: 33 })), ['P']],
    ['prefix length 255', (c) => B.cat(B.nlri(c.P), B.prefix('10.1.1.1/32', { len: 255, octets: 4 })), ['P']],
    ['a prefix cut short', (c) => B.cat(B.nlri(c.P), Buffer.of(24, 10, 1)), ['P']],
    ['a trailing length octet', (c) => B.cat(B.nlri(c.P), Buffer.of(24)), ['P']],
    ['/0 with a stray octet', (c) => B.cat(B.nlri(c.P), Buffer.of(0, 5)), ['P']],
  ];
  for (const s of SESSIONS) {
    for (const [what, n, probes] of nlriCases) {
      add({ ...s, kind: 'update', probes, cls: `NLRI ${what} (${s.tag})`, build: (c) => [B.update({ attrs: attrs(c), nlri: n(c) })] });
    }
    const wd = [
      ['withdrawn prefix length 33', (c) => B.cat(B.nlri(c.P), B.prefix('10.1.1.1/32', { len: 33 }))],
      ['withdrawn prefix cut short', (c) => B.cat(B.nlri(c.P), Buffer.of(24, 10))],
      ['withdrawn multicast prefix with P', (c) => B.nlri('232.1.0.0/24', c.P)],
      ['withdrawn P and announced P in one UPDATE', null],
    ];
    for (const [what, w] of wd) {
      add({ ...s, kind: 'update', cls: `${what} (${s.tag})`, build: (c) => (w ? [B.update({ withdrawn: w(c) })] : [B.update({ withdrawn: B.nlri(c.P), attrs: attrs(c), nlri: B.nlri(c.P) })]) });
    }
    const lens = [
      ['withdrawn length past the message', (c) => B.update({ withdrawn: B.nlri(c.P), wLen: 200 })],
      ['withdrawn length one short', (c) => B.update({ withdrawn: B.nlri(c.P), wLen: 3 })],
      ['total attribute length past the message', (c) => B.update({ attrs: attrs(c), nlri: B.nlri(c.P), aLen: attrs(c).length + 10 })],
      ['total attribute length one short', (c) => B.update({ attrs: attrs(c), nlri: B.nlri(c.P), aLen: attrs(c).length - 1 })],
      ['total attribute length one long', (c) => B.update({ attrs: attrs(c), nlri: B.nlri(c.P), aLen: attrs(c).length + 1 })],
      ['last attribute length past the attributes', (c) => B.update({ attrs: B.cat(attrs(c), Buffer.of(0xc0, 99, 20, 1, 2)), nlri: B.nlri(c.P) })],
      ['attributes, no NLRI, nothing withdrawn', (c) => B.update({ attrs: attrs(c) })],
      ['only NLRI, no attributes', (c) => B.update({ nlri: B.nlri(c.P) })],
      ['empty UPDATE (End-of-RIB)', () => B.update({})],
    ];
    for (const [what, m] of lens) add({ ...s, kind: 'update', cls: `UPDATE ${what} (${s.tag})`, build: (c) => [m(c)] });
  }

  // 7. MP_REACH / MP_UNREACH (RFC 4760, RFC 2545 next hops, RFC 7606 §7.11).
  const v6nh = [
    ['global', (c) => B.ip6(c.local6)], ['::', () => Buffer.alloc(16)], ['::1', () => B.ip6('::1')], ['ff02::1', () => B.ip6('ff02::1')],
    ['fe80::1 alone', () => B.ip6('fe80::1')], ['global + link-local', (c) => B.cat(B.ip6(c.local6), B.ip6('fe80::1'))],
    ['link-local + global', (c) => B.cat(B.ip6('fe80::1'), B.ip6(c.local6))], [':: + link-local', () => B.cat(Buffer.alloc(16), B.ip6('fe80::1'))],
    ['v4-mapped ::ffff:tester', (c) => B.cat(Buffer.alloc(10), Buffer.of(0xff, 0xff), B.ip4(c.local))], ['the daemon\'s own', (c) => B.ip6(c.dut6)],
    ['off-link 2001:db8::1', () => B.ip6('2001:db8::1')], ['length 4', (c) => B.ip4(c.local)], ['length 0', () => Buffer.alloc(0)],
    ['length 24', (c) => B.cat(B.ip6(c.local6), Buffer.alloc(8))], ['length 48', (c) => B.cat(B.ip6(c.local6), B.ip6('fe80::1'), Buffer.alloc(16))],
  ];
  const v4nh = [
    ['tester', (c) => B.ip4(c.local)], ['0.0.0.0', () => B.ip4('0.0.0.0')], ['127.0.0.1', () => B.ip4('127.0.0.1')], ['224.0.0.1', () => B.ip4('224.0.0.1')],
    ['240.0.0.1', () => B.ip4('240.0.0.1')], ['the daemon\'s own', (c) => B.ip4(c.dut)], ['length 16 (IPv6)', (c) => B.ip6(c.local6)],
    ['length 32', (c) => B.cat(B.ip6(c.local6), B.ip6('fe80::1'))], ['length 12', (c) => B.cat(Buffer.alloc(8), B.ip4(c.local))],
  ];
  const mp6 = (c, o) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64998), c.as4), ...(c.ibgp ? [B.localPref(100)] : []), B.mpReach(o)) });
  for (const s of SESSIONS) {
    for (const [what, nh] of v6nh) add({ ...s, kind: 'update', base: 'P6', probes: ['P6'], cls: `MP_REACH IPv6 next hop ${what} (${s.tag})`, build: (c) => [mp6(c, { nh: nh(c), nlri: B.nlri(c.P6) })] });
    for (const [what, nh] of v4nh) add({ ...s, kind: 'update', cls: `MP_REACH IPv4 next hop ${what} (${s.tag})`, build: (c) => [B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64998), c.as4), ...(c.ibgp ? [B.localPref(100)] : []), B.mpReach({ afi: 1, safi: 1, nh: nh(c), nlri: B.nlri(c.P) })) })] });
    const mpOther = [
      ['IPv6 NLRI prefix length 129', (c) => mp6(c, { nh: B.ip6(c.local6), nlri: B.cat(B.nlri(c.P6), Buffer.of(129), Buffer.alloc(17)) })],
      ['IPv6 NLRI cut short', (c) => mp6(c, { nh: B.ip6(c.local6), nlri: B.cat(B.nlri(c.P6), Buffer.of(64, 0xfd)) })],
      ['next hop length past the attribute', (c) => mp6(c, { nh: B.ip6(c.local6), nhLen: 40, nlri: Buffer.alloc(0) })],
      ['reserved octet 1', (c) => mp6(c, { nh: B.ip6(c.local6), reserved: 1, nlri: B.nlri(c.P6) })],
      ['no NLRI', (c) => mp6(c, { nh: B.ip6(c.local6) })],
      ['AFI 1 SAFI 2 (multicast)', (c) => mp6(c, { afi: 1, safi: 2, nh: B.ip4(c.local), nlri: B.nlri('20.200.0.0/24') })],
      ['AFI 1 SAFI 4 (labeled)', (c) => mp6(c, { afi: 1, safi: 4, nh: B.ip4(c.local), nlri: Buffer.of(48, 0, 1, 0x31, 20, 201, 0) })],
      ['AFI 1 SAFI 128 (VPN)', (c) => mp6(c, { afi: 1, safi: 128, nh: B.cat(Buffer.alloc(8), B.ip4(c.local)), nlri: Buffer.alloc(0) })],
      ['AFI 2 SAFI 2', (c) => mp6(c, { afi: 2, safi: 2, nh: B.ip6(c.local6), nlri: B.nlri(c.P6) })],
      ['AFI 25 SAFI 65 (VPLS)', (c) => mp6(c, { afi: 25, safi: 65, nh: B.ip4(c.local), nlri: Buffer.alloc(0) })],
      ['AFI 3 SAFI 1', (c) => mp6(c, { afi: 3, safi: 1, nh: B.ip4(c.local), nlri: Buffer.alloc(0) })],
      ['length 2 (too short)', (c) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64998), c.as4), B.attr(0x80, A.MP_REACH, Buffer.of(0, 2))) })],
      ['length 4 (no reserved octet)', (c) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64998), c.as4), B.attr(0x80, A.MP_REACH, Buffer.of(0, 2, 1, 0))) })],
      ['flags 0xc0 (transitive)', (c) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64998), c.as4), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) }, 0xc0)) })],
      ['twice', (c) => B.update({ attrs: B.cat(B.origin(0), B.asPath(peerSeg(c, 64998), c.as4), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) }), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) })) })],
      ['with classic NLRI and NEXT_HOP too', (c) => B.update({ attrs: B.cat(attrs(c), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) })), nlri: B.nlri(c.P) })],
      ['without ORIGIN', (c) => B.update({ attrs: B.cat(B.asPath(peerSeg(c, 64998), c.as4), B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) })) })],
      ['MP_UNREACH prefix length 129', (c) => B.update({ attrs: B.mpUnreach({ nlri: B.cat(B.nlri(c.P6), Buffer.of(129), Buffer.alloc(17)) }) })],
      ['MP_UNREACH cut short', (c) => B.update({ attrs: B.mpUnreach({ nlri: B.cat(B.nlri(c.P6), Buffer.of(64, 0xfd)) }) })],
      ['MP_UNREACH length 2', () => B.update({ attrs: B.attr(0x80, A.MP_UNREACH, Buffer.of(0, 2)) })],
      ['MP_UNREACH AFI 1 SAFI 2', (c) => B.update({ attrs: B.mpUnreach({ afi: 1, safi: 2, nlri: B.nlri(c.P) }) })],
      ['MP_UNREACH flags 0xc0', (c) => B.update({ attrs: B.mpUnreach({ nlri: B.nlri(c.P6) }, 0xc0) })],
      ['MP_UNREACH with ORIGIN', (c) => B.update({ attrs: B.cat(B.origin(0), B.mpUnreach({ nlri: B.nlri(c.P6) })) })],
      ['MP_UNREACH with a bad ORIGIN', (c) => B.update({ attrs: B.cat(B.right(A.ORIGIN, Buffer.of(7)), B.mpUnreach({ nlri: B.nlri(c.P6) })) })],
      ['MP_UNREACH twice', (c) => B.update({ attrs: B.cat(B.mpUnreach({ nlri: B.nlri(c.P6) }), B.mpUnreach({ nlri: B.nlri(c.P6) })) })],
    ];
    for (const [what, m] of mpOther) add({ ...s, kind: 'update', base: 'P6', probes: ['P6'], cls: `MP ${what} (${s.tag})`, build: (c) => [m(c)] });
  }

  // 8. OPEN (RFC 4271 §4.2, §6.2; RFC 5492; RFC 6286; RFC 6793; RFC 4760 §8).
  const opens = [
    ['version 3', { version: 3 }], ['version 5', { version: 5 }], ['wrong AS', { as: 64777 }], ['AS_TRANS without the 4-octet capability', { as: 23456, caps: (c) => [B.capMp(1, 1), B.capMp(2, 1)] }],
    ['4-octet capability disagreeing with My AS', { caps: (c) => [B.capMp(1, 1), B.capMp(2, 1), B.capAs4(64777)] }],
    ['4-octet capability 0', { caps: () => [B.capMp(1, 1), B.capMp(2, 1), B.capAs4(0)] }],
    ['hold time 0', { hold: 0 }], ['hold time 1', { hold: 1 }], ['hold time 2', { hold: 2 }], ['hold time 3', { hold: 3 }], ['hold time 65535', { hold: 65535 }],
    ['identifier 0.0.0.0', { id: () => '0.0.0.0' }], ['identifier 255.255.255.255', { id: () => '255.255.255.255' }],
    ['identifier = the daemon\'s', { id: (c) => c.dut }], ['identifier 224.0.0.1', { id: () => '224.0.0.1' }], ['identifier 127.0.0.1', { id: () => '127.0.0.1' }],
    ['no optional parameters', { params: () => Buffer.alloc(0) }],
    ['only IPv6 unicast', { caps: (c) => [B.capMp(2, 1), B.capAs4(c.peerAs)] }],
    ['only IPv4 multicast', { caps: (c) => [B.capMp(1, 2), B.capAs4(c.peerAs)] }],
    ['only AFI 1 SAFI 128', { caps: (c) => [B.capMp(1, 128), B.capAs4(c.peerAs)] }],
    ['no Multiprotocol capability', { caps: (c) => [B.cap(2), B.capAs4(c.peerAs)] }],
    ['unknown capability 99', { caps: (c) => [...B.defaultCaps(c.peerAs), B.cap(99, Buffer.of(1, 2, 3))] }],
    ['capability code 0', { caps: (c) => [...B.defaultCaps(c.peerAs), B.cap(0)] }],
    ['capability length past the parameter', { params: (c) => { const v = B.cat(...B.defaultCaps(c.peerAs), Buffer.of(1, 9, 0, 1)); return B.cat(Buffer.of(2, v.length), v); } }],
    ['optional parameter length past the message', { params: (c) => B.paramCaps(...B.defaultCaps(c.peerAs)), paramLen: (c) => B.paramCaps(...B.defaultCaps(c.peerAs)).length + 5 }],
    ['optional parameters length short', { params: (c) => B.paramCaps(...B.defaultCaps(c.peerAs)), paramLen: (c) => B.paramCaps(...B.defaultCaps(c.peerAs)).length - 1 }],
    ['optional parameter type 1 (authentication)', { params: (c) => B.cat(Buffer.of(1, 1, 0), B.paramCaps(...B.defaultCaps(c.peerAs))) }],
    ['optional parameter type 3', { params: (c) => B.cat(Buffer.of(3, 2, 0, 0), B.paramCaps(...B.defaultCaps(c.peerAs))) }],
    ['4-octet capability length 2', { caps: () => [B.capMp(1, 1), B.capMp(2, 1), B.cap(65, Buffer.of(0xfd, 0xe9))] }],
    ['Multiprotocol capability length 3', { caps: (c) => [B.cap(1, Buffer.of(0, 1, 0)), B.capAs4(c.peerAs)] }],
    ['route refresh with a value', { caps: (c) => [B.capMp(1, 1), B.capMp(2, 1), B.cap(2, Buffer.of(1)), B.capAs4(c.peerAs)] }],
    ['graceful restart length 1', { caps: (c) => [...B.defaultCaps(c.peerAs), B.cap(64, Buffer.of(0))] }],
    ['ADD-PATH mode 7', { caps: (c) => [...B.defaultCaps(c.peerAs), B.cap(69, Buffer.of(0, 1, 1, 7))] }],
    ['ADD-PATH length 3', { caps: (c) => [...B.defaultCaps(c.peerAs), B.cap(69, Buffer.of(0, 1, 1))] }],
    ['extended message capability', { caps: (c) => [...B.defaultCaps(c.peerAs), B.cap(6)] }],
    ['4-octet capability twice, disagreeing', { caps: (c) => [...B.defaultCaps(c.peerAs), B.capAs4(64777)] }],
    ['each capability in its own parameter', { params: (c) => B.cat(...B.defaultCaps(c.peerAs).map((x) => B.paramCaps(x))) }],
    // RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, a 2-octet length, then parameters with 2-octet lengths.
    ['extended optional parameters (RFC 9072)', { params: (c) => { const v = B.cat(...B.defaultCaps(c.peerAs)); return B.cat(Buffer.of(255), B.u16be(3 + v.length), Buffer.of(2), B.u16be(v.length), v); }, paramLen: () => 255 }],
    ['OPEN length 28', { raw: (c) => B.msg(B.T.OPEN, Buffer.alloc(9)) }],
    ['OPEN with 3 trailing octets', { trail: Buffer.of(1, 2, 3) }],
  ];
  for (const s of [SESSIONS[0], SESSIONS[1]]) {
    for (const [what, o] of opens) {
      add({ ...s, kind: 'open', base: null, cls: `OPEN ${what} (${s.tag})`, build: (c) => {
        if (o.raw) return [o.raw(c)];
        const caps = o.caps ? o.caps(c) : B.defaultCaps(c.peerAs);
        const params = o.params ? o.params(c) : B.paramCaps(...caps);
        const body = B.openBody({ version: o.version ?? 4, as: o.as ?? (c.peerAs > 0xffff ? 23456 : c.peerAs), hold: o.hold ?? 180, id: o.id ? o.id(c) : c.local, params, paramLen: o.paramLen ? o.paramLen(c) : undefined });
        return [B.msg(B.T.OPEN, o.trail ? B.cat(body, o.trail) : body)];
      } });
    }
  }

  // 9. Message header and KEEPALIVE (RFC 4271 §4.1, §4.4, §6.1), ROUTE-REFRESH (RFC 2918, 7313).
  const raws = [
    ['KEEPALIVE with a 1-octet body', () => B.msg(B.T.KEEPALIVE, Buffer.of(0))],
    ['KEEPALIVE with a 4-octet body', () => B.msg(B.T.KEEPALIVE, Buffer.of(1, 2, 3, 4))],
    ['KEEPALIVE with a bad marker', () => B.msg(B.T.KEEPALIVE, Buffer.alloc(0), { marker: Buffer.concat([Buffer.alloc(15, 0xff), Buffer.of(0xfe)]) })],
    ['an all-zero marker', () => B.msg(B.T.KEEPALIVE, Buffer.alloc(0), { marker: Buffer.alloc(16) })],
    ['message length 18', () => B.cat(B.MARKER, B.u16be(18), Buffer.of(4))],
    ['message length 0', () => B.cat(B.MARKER, B.u16be(0), Buffer.of(4))],
    ['message length 4097', () => B.msg(B.T.UPDATE, B.cat(B.updateBody({}), Buffer.alloc(4097 - 23)))],
    ['message type 0', () => B.msg(0)], ['message type 6', () => B.msg(6)], ['message type 255', () => B.msg(255)],
    ['UPDATE length 20', () => B.msg(B.T.UPDATE, Buffer.of(0))], ['UPDATE length 22', () => B.msg(B.T.UPDATE, Buffer.of(0, 0, 0))],
    ['OPEN while Established', (c) => B.open({ as: c.peerAs, id: c.local, params: B.paramCaps(...B.defaultCaps(c.peerAs)) })],
    ['ROUTE-REFRESH IPv4 unicast', () => B.msg(B.T.ROUTE_REFRESH, Buffer.of(0, 1, 0, 1))],
    ['ROUTE-REFRESH length 3', () => B.msg(B.T.ROUTE_REFRESH, Buffer.of(0, 1, 0))],
    ['ROUTE-REFRESH AFI 9', () => B.msg(B.T.ROUTE_REFRESH, Buffer.of(0, 9, 0, 1))],
    ['ROUTE-REFRESH subtype 1 (BoRR)', () => B.msg(B.T.ROUTE_REFRESH, Buffer.of(0, 1, 1, 1))],
    ['ROUTE-REFRESH subtype 7', () => B.msg(B.T.ROUTE_REFRESH, Buffer.of(0, 1, 7, 1))],
    ['NOTIFICATION Cease', () => B.notification(6, 2)],
    ['NOTIFICATION with code 0', () => B.notification(0, 0)],
  ];
  for (const s of SESSIONS) for (const [what, m] of raws) add({ ...s, kind: 'raw', cls: `${what} (${s.tag})`, build: (c) => [m(c)] });

  // 10. Seeded random mutations of one valid UPDATE carrying many attributes: a byte changed, a
  //     length changed, the message cut. Their class is the field the mutation hit.
  const r = rng(seed);
  const full = (c) => [
    ['ORIGIN', B.origin(0)], ['AS_PATH', B.asPath(peerSeg(c, 64998), c.as4)], ['NEXT_HOP', B.nextHop(c.local)], ['MED', B.med(5)],
    ...(c.ibgp ? [['LOCAL_PREF', B.localPref(100)], ['ORIGINATOR_ID', B.right(A.ORIGINATOR_ID, B.ip4('192.0.2.9'))], ['CLUSTER_LIST', B.right(A.CLUSTER_LIST, B.ip4('192.0.2.10'))]] : []),
    ['ATOMIC_AGGREGATE', B.right(A.ATOMIC_AGGREGATE, Buffer.alloc(0))], ['AGGREGATOR', B.right(A.AGGREGATOR, GOOD[A.AGGREGATOR](c))],
    ['COMMUNITIES', B.communities((65001 << 16) | 1, (65001 << 16) | 2)], ['EXT_COMMUNITIES', B.right(A.EXT_COMMUNITIES, Buffer.from('0002fde900000064', 'hex'))],
    ['LARGE_COMMUNITY', B.right(A.LARGE_COMMUNITY, GOOD[A.LARGE_COMMUNITY]())], ['MP_REACH_NLRI', B.mpReach({ nh: B.ip6(c.local6), nlri: B.nlri(c.P6) })],
    ['unknown 99', B.attr(0xc0, 99, Buffer.of(1, 2, 3, 4))],
  ];
  for (let i = 0; i < random; i++) {
    const s = SESSIONS[Math.floor(r() * 2)];
    const pick = r(), pos = r(), val = Math.floor(r() * 256), which = r();
    add({ ...s, kind: 'update', probes: ['P', 'P6'], base: 'P', cls: null, rand: { pick, pos, val, which }, build: (c) => {
      const parts = full(c);
      const k = Math.floor(which * parts.length);
      const [name, bytes] = parts[k];
      const b = Buffer.from(bytes);
      let field;
      if (pick < 0.25) { b[0] = val & 0xf0; field = 'flags'; }
      else if (pick < 0.5) { b[2] = (b[2] + 1 + (val % 6) - 3 + 256) & 0xff; if (b[2] === bytes[2]) b[2] ^= 1; field = 'length'; }
      else if (pick < 0.85 && b.length > 3) { const at = 3 + Math.floor(pos * (b.length - 3)); b[at] = val === b[at] ? val ^ 0x80 : val; field = 'value'; }
      else { parts.splice(k, 1); field = 'removed'; }
      if (field !== 'removed') parts[k] = [name, b];
      c.cls = `random: ${name} ${field} (${s.tag})`;
      return [B.update({ attrs: B.cat(...parts.map((p) => p[1])), nlri: B.nlri(c.P) })];
    } });
  }
  return cases;
}

/** A case's class; random cases learn theirs when built (it depends on the session's attributes). */
export function classOf(kase, ctx) {
  if (kase.cls) return kase.cls;
  const c = { ...ctx };
  kase.build(c);
  return c.cls;
}
