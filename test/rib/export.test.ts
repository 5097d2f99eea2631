// Export rules and update groups, observed on the wire: what each kind of peer is sent for
// local routes, iBGP- and eBGP-learned routes, with and without route reflection.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Interner } from '../../src/rib/intern.js';
import { Framer, decodeUpdate, forEachPrefix, formatPrefix, parsePrefix } from '../../src/bgp/wire/index.js';
import { IPV4_UNICAST, SegType, type CodecContext, type PathAttrs } from '../../src/bgp/wire/types.js';
import { Exporter, type ExportPeer } from '../../src/rib/export.js';
import { LOCAL_PEER, Rib } from '../../src/rib/rib.js';

const ctx = (ibgp: boolean): CodecContext => ({ fourOctetAs: true, addPathRx: new Set(), addPathTx: new Set(), extendedMessage: false, ibgp });

/** A sink that decodes what it is sent into prefix → attributes (undefined after a withdrawal). */
function sink(ibgp: boolean) {
  const table = new Map<string, PathAttrs | undefined>();
  const interner = new Interner();
  let messages = 0;
  let eor = 0;
  const framer = new Framer(4096);
  return {
    table, get messages() { return messages; }, get eor() { return eor; },
    send(buf: Buffer): boolean {
      framer.push(buf, (type, body) => {
        expect(type).toBe(2);
        messages++;
        const m = decodeUpdate(body, ctx(ibgp), interner);
        expect(m.errors).toEqual([]);
        if (m.endOfRib !== undefined) { eor++; return; }
        if (m.withdrawn) forEachPrefix(m.withdrawn, (b, l) => { table.set(formatPrefix(IPV4_UNICAST, b, l), undefined); });
        if (m.nlri) forEachPrefix(m.nlri, (b, l) => { table.set(formatPrefix(IPV4_UNICAST, b, l), m.attrs!); });
      });
      return true;
    },
  };
}

function setup(clusterId?: number) {
  const interner = new Interner();
  const rib = new Rib(interner);
  const exporter = new Exporter(rib, interner, { routerId: 0xc6120001, clusterId, log: pino({ level: 'silent' }) });
  const peer = (id: string, o: Partial<ExportPeer> & { ibgp: boolean }): ExportPeer & { sink: ReturnType<typeof sink> } => ({
    id, sink: sink(o.ibgp), rrClient: false, localAs: 64512, nextHopMode: 'Auto', nextHop4: '198.18.0.1',
    ctx: ctx(o.ibgp), families: [IPV4_UNICAST], ...o,
  } as ExportPeer & { sink: ReturnType<typeof sink> });
  const attrs = (o: Partial<PathAttrs>) => interner.internAttrs({ origin: 0, asPath: [], nextHop: '198.18.0.9', atomicAggregate: false, unknown: [], ...o });
  const announce = (from: number, prefix: string, a: PathAttrs) => {
    const p = parsePrefix(prefix);
    rib.announce(from, p.family, p.bytes, p.len, 0, a.id);
  };
  return { interner, rib, exporter, peer, attrs, announce };
}

describe('export', () => {
  // LOCAL_PREF is Calico's route priority (issue 11 item 2): confd's export filter sets
  // bgp_local_pref = 2147483647 − krt_metric, krt_metric 1024 unless set (confd/tests
  // compiled_templates bgpfilter/node_mesh/priority1/bird.cfg), so a normal route leaves with 2147482623.
  it('local routes: eBGP gets our AS prepended and next hop self; iBGP an empty path and LOCAL_PREF 2147482623', () => {
    const t = setup();
    t.announce(LOCAL_PEER, '10.244.1.0/26', t.attrs({ nextHop: '0.0.0.0' }));
    const e = t.peer('198.18.0.254', { ibgp: false });
    const i = t.peer('198.18.0.2', { ibgp: true });
    t.exporter.join(e); t.exporter.join(i);
    const ea = e.sink.table.get('10.244.1.0/26')!;
    expect(ea.asPath).toEqual([{ type: SegType.AS_SEQUENCE, asns: [64512] }]);
    expect(ea.nextHop).toBe('198.18.0.1');
    expect(ea.localPref).toBeUndefined();
    const ia = i.sink.table.get('10.244.1.0/26')!;
    expect(ia.asPath).toEqual([]);
    expect(ia.localPref).toBe(2147482623);
    expect(ia.nextHop).toBe('198.18.0.1');
    expect(e.sink.eor).toBe(1);
  });

  it('iBGP split horizon without reflection; eBGP-learned routes go to iBGP with next hop kept', async () => {
    const t = setup();
    const ibgpSrc = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true });
    const ebgpSrc = t.rib.addPeer({ address: '198.18.0.254', bgpId: 254, ibgp: false });
    const i = t.peer('198.18.0.2', { ibgp: true });
    const e = t.peer('198.18.0.253', { ibgp: false });
    t.exporter.join(i); t.exporter.join(e);
    t.announce(ibgpSrc, '10.244.3.0/26', t.attrs({ localPref: 100 }));
    t.announce(ebgpSrc, '192.0.2.0/24', t.attrs({ asPath: [{ type: SegType.AS_SEQUENCE, asns: [65000] }], med: 5, nextHop: '198.18.0.254' }));
    t.exporter.flush();
    expect(i.sink.table.has('10.244.3.0/26')).toBe(false);
    expect(i.sink.table.get('192.0.2.0/24')!.nextHop).toBe('198.18.0.254');
    // Calico's export filter: 2147483647 − krt_metric, 1024 for an eBGP-learned route (no LOCAL_PREF in).
    expect(i.sink.table.get('192.0.2.0/24')!.localPref).toBe(2147482623);
    // To eBGP: both, our AS prepended, MED and LOCAL_PREF gone, next hop self.
    const x = e.sink.table.get('192.0.2.0/24')!;
    expect(x.asPath).toEqual([{ type: SegType.AS_SEQUENCE, asns: [64512, 65000] }]);
    expect(x.med).toBeUndefined();
    expect(x.nextHop).toBe('198.18.0.1');
    expect(e.sink.table.get('10.244.3.0/26')!.localPref).toBeUndefined();
    // Withdrawal propagates.
    const p = parsePrefix('192.0.2.0/24');
    t.rib.withdraw(ebgpSrc, p.family, p.bytes, p.len, 0);
    t.exporter.flush();
    expect(i.sink.table.get('192.0.2.0/24')).toBeUndefined();
    expect(i.sink.table.has('192.0.2.0/24')).toBe(true);
  });

  // Issue 11, the differential check (npm run check:differential): Kite re-advertised routes carrying
  // NO_EXPORT, NO_ADVERTISE and NO_EXPORT_SUBCONFED to an eBGP peer; BIRD 2.0.12 and FRR 8.4.4 did not.
  // RFC 1997: NO_EXPORT is not advertised outside the AS (confederation), NO_ADVERTISE to no peer,
  // NO_EXPORT_SUBCONFED to no external peer. Communities Kite adds itself (prefixAdvertisements)
  // are not checked, as BIRD checks them before its export filter adds Calico's.
  it('RFC 1997 well-known communities of received routes: NO_ADVERTISE to nobody, NO_EXPORT and NO_EXPORT_SUBCONFED not to eBGP', () => {
    const t = setup();
    const src = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: false });
    const i = t.peer('198.18.0.2', { ibgp: true });
    const e = t.peer('198.18.0.253', { ibgp: false });
    t.exporter.join(i); t.exporter.join(e);
    const path = [{ type: SegType.AS_SEQUENCE, asns: [65000] }];
    t.announce(src, '192.0.2.0/24', t.attrs({ asPath: path, communities: [0xfde80001, 0xffffff01] }));  // NO_EXPORT
    t.announce(src, '192.0.3.0/24', t.attrs({ asPath: path, communities: [0xffffff02] }));              // NO_ADVERTISE
    t.announce(src, '192.0.4.0/24', t.attrs({ asPath: path, communities: [0xffffff03] }));              // NO_EXPORT_SUBCONFED
    t.announce(src, '192.0.5.0/24', t.attrs({ asPath: path, communities: [0xfde80001, 0xffffff04] }));  // NOPEER: no effect here
    t.exporter.flush();
    expect([...i.sink.table.keys()].sort()).toEqual(['192.0.2.0/24', '192.0.4.0/24', '192.0.5.0/24']);
    expect([...e.sink.table.keys()]).toEqual(['192.0.5.0/24']);
    // A local route with NO_EXPORT among its own communities still goes out (Calico's prefixAdvertisements).
    t.announce(LOCAL_PEER, '10.244.1.0/26', t.attrs({ nextHop: '0.0.0.0', communities: [0xffffff01] }));
    t.exporter.flush();
    expect(e.sink.table.has('10.244.1.0/26')).toBe(true);
  });

  it('route reflection: client routes to everyone, non-client routes to clients only, ORIGINATOR_ID and CLUSTER_LIST set', () => {
    const cluster = 0xf8000001;
    const t = setup(cluster);
    const client = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true, rrClient: true });
    const nonClient = t.rib.addPeer({ address: '198.18.0.4', bgpId: 4, ibgp: true, rrClient: false });
    const c2 = t.peer('198.18.0.5', { ibgp: true, rrClient: true });
    const n2 = t.peer('198.18.0.6', { ibgp: true, rrClient: false });
    t.exporter.join(c2); t.exporter.join(n2);
    t.announce(client, '10.244.3.0/26', t.attrs({ localPref: 100, nextHop: '198.18.0.3' }));
    t.announce(nonClient, '10.244.4.0/26', t.attrs({ localPref: 100, nextHop: '198.18.0.4', originatorId: 44, clusterList: [7] }));
    t.exporter.flush();
    const a = c2.sink.table.get('10.244.3.0/26')!;
    expect(a.originatorId).toBe(3);
    expect(a.clusterList).toEqual([cluster]);
    expect(a.nextHop).toBe('198.18.0.3');
    expect(n2.sink.table.get('10.244.3.0/26')!.originatorId).toBe(3);
    const b = c2.sink.table.get('10.244.4.0/26')!;
    expect(b.originatorId).toBe(44);
    expect(b.clusterList).toEqual([cluster, 7]);
    expect(n2.sink.table.has('10.244.4.0/26')).toBe(false);
  });

  it('peers with the same export result share one group and one encoding', () => {
    const t = setup(0x01010101);
    const src = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true, rrClient: true });
    const clients = Array.from({ length: 10 }, (_, k) => t.peer(`198.18.1.${k}`, { ibgp: true, rrClient: true }));
    for (const c of clients) t.exporter.join(c);
    expect(t.exporter.groupCount).toBe(1);
    const sent = new Set<Buffer>();
    for (const c of clients) { const s = c.sink.send.bind(c.sink); c.sink.send = (b) => { sent.add(b); return s(b); }; }
    for (let k = 0; k < 100; k++) t.announce(src, `10.${k}.0.0/16`, t.attrs({ localPref: 100, nextHop: '198.18.0.3' }));
    t.exporter.flush();
    expect(sent.size).toBe(1); // one UPDATE buffer, written to all ten
    for (const c of clients) expect([...c.sink.table.keys()].length).toBe(100);
    expect(t.exporter.advertised('198.18.1.0')).toBe(100);
  });

  it('ADD-PATH: a reflector sends every equal-cost path under its own path ID, and withdraws each', () => {
    const t = setup(0x01010101);
    const c1 = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true, rrClient: true });
    const c2 = t.rib.addPeer({ address: '198.18.0.4', bgpId: 4, ibgp: true, rrClient: true });
    const ap: CodecContext = { ...ctx(true), addPathTx: new Set([IPV4_UNICAST]), addPathRx: new Set([IPV4_UNICAST]) };
    const got = new Map<string, string>(); // "prefix#pathId" → next hop
    const interner = new Interner();
    const framer = new Framer(4096);
    const client: ExportPeer = { id: '198.18.0.5', ibgp: true, rrClient: true, localAs: 64512, nextHopMode: 'Auto', nextHop4: '198.18.0.1',
      ctx: ap, families: [IPV4_UNICAST], sink: { send: (b) => { framer.push(b, (_t, body) => {
        const m = decodeUpdate(body, ap, interner);
        if (m.withdrawn) forEachPrefix(m.withdrawn, (bb, l, id) => { got.delete(`${formatPrefix(IPV4_UNICAST, bb, l)}#${id}`); });
        if (m.nlri) forEachPrefix(m.nlri, (bb, l, id) => { got.set(`${formatPrefix(IPV4_UNICAST, bb, l)}#${id}`, m.attrs!.nextHop); });
      }); return true; } } };
    t.exporter.join(client);
    t.announce(c1, '203.0.113.10/32', t.attrs({ localPref: 100, nextHop: '198.18.0.3' }));
    t.announce(c2, '203.0.113.10/32', t.attrs({ localPref: 100, nextHop: '198.18.0.4' }));
    t.exporter.flush();
    expect([...got.values()].sort()).toEqual(['198.18.0.3', '198.18.0.4']);
    expect(t.exporter.advertised('198.18.0.5')).toBe(2);
    const p = parsePrefix('203.0.113.10/32');
    t.rib.withdraw(c1, p.family, p.bytes, p.len, 0);
    t.exporter.flush();
    expect([...got.values()]).toEqual(['198.18.0.4']);
    t.rib.withdraw(c2, p.family, p.bytes, p.len, 0);
    t.exporter.flush();
    expect(got.size).toBe(0);
  });

  it('ROUTE-REFRESH resends the Adj-RIB-Out and End-of-RIB to that peer only', () => {
    const t = setup();
    t.announce(LOCAL_PEER, '10.244.1.0/26', t.attrs({ nextHop: '0.0.0.0' }));
    const a = t.peer('198.18.0.2', { ibgp: true });
    const b = t.peer('198.18.0.3', { ibgp: true });
    t.exporter.join(a); t.exporter.join(b);
    const [ma, mb] = [a.sink.messages, b.sink.messages];
    t.exporter.refresh('198.18.0.2');
    expect(a.sink.messages - ma).toBe(2); // one UPDATE, one End-of-RIB
    expect(a.sink.eor).toBe(2);
    expect(b.sink.messages).toBe(mb);
  });

  it('a peer joining later gets the current table; leaving releases every attribute reference', () => {
    const t = setup();
    const src = t.rib.addPeer({ address: '198.18.0.254', bgpId: 254, ibgp: false });
    const first = t.peer('198.18.0.2', { ibgp: true });
    t.exporter.join(first);
    t.announce(src, '192.0.2.0/24', t.attrs({ asPath: [{ type: SegType.AS_SEQUENCE, asns: [65000] }] }));
    t.exporter.flush();
    const late = t.peer('198.18.0.3', { ibgp: true });
    t.exporter.join(late);
    expect(late.sink.table.get('192.0.2.0/24')!.asPath).toEqual([{ type: SegType.AS_SEQUENCE, asns: [65000] }]);
    expect(late.sink.eor).toBe(1);
    t.exporter.leave(first.id); t.exporter.leave(late.id);
    t.rib.removePeer(src);
    t.interner.sweep();
    expect(t.interner.size).toBe(0); // a leaked reference would keep an attribute set alive
    expect(t.exporter.groupCount).toBe(0);
  });
});

describe('export: ORIGINATOR_ID and ordering under coalescing (issue 16)', () => {
  // RFC 4456 §8: "A router that recognizes the ORIGINATOR_ID attribute SHOULD ignore a route
  // received with its BGP Identifier as the ORIGINATOR_ID." A client would discard its own routes
  // reflected back, so the reflector does not send them (BIRD's bgp_export checks the same).
  it('a client is not sent the routes it originated; the others are, from one encoding', () => {
    const t = setup(0x01010101);
    const src = [3, 4].map((id) => t.rib.addPeer({ address: `198.18.0.${id}`, bgpId: id, ibgp: true, rrClient: true }));
    const c3 = t.peer('198.18.0.3', { ibgp: true, rrClient: true, routerId: 3 });
    const c4 = t.peer('198.18.0.4', { ibgp: true, rrClient: true, routerId: 4 });
    const c5 = t.peer('198.18.0.5', { ibgp: true, rrClient: true, routerId: 5 });
    t.exporter.join(c3); t.exporter.join(c4);
    expect(t.exporter.groupCount).toBe(1);
    t.announce(src[0]!, '10.244.3.0/26', t.attrs({ localPref: 100, nextHop: '198.18.0.3' }));
    t.announce(src[1]!, '10.244.4.0/26', t.attrs({ localPref: 100, nextHop: '198.18.0.4' }));
    t.exporter.flush();
    expect([...c3.sink.table.keys()]).toEqual(['10.244.4.0/26']);
    expect([...c4.sink.table.keys()]).toEqual(['10.244.3.0/26']);
    // A member joining later gets the table without its own routes either, plus End-of-RIB.
    t.exporter.join(c5);
    expect([...c5.sink.table.keys()].sort()).toEqual(['10.244.3.0/26', '10.244.4.0/26']);
    t.exporter.leave('198.18.0.3');
    t.exporter.join({ ...c3, sink: c3.sink });
    expect(c3.sink.table.get('10.244.3.0/26')).toBeUndefined();
    expect(t.exporter.advertised('198.18.0.3')).toBe(1);
    expect(t.exporter.advertised('198.18.0.5')).toBe(2);
    expect(t.exporter.advertisedByFamily('198.18.0.4')).toEqual({ ipv4: 1, ipv6: 0 });
    expect(t.exporter.adjRibOut('198.18.0.4').map((e) => e.attrs.originatorId)).toEqual([3]);
    // Client 3 withdraws its route: the others are sent the withdrawal, client 3 nothing.
    const before = c3.sink.messages;
    const p = parsePrefix('10.244.3.0/26');
    t.rib.withdraw(src[0]!, p.family, p.bytes, p.len, 0);
    t.exporter.flush();
    expect(c4.sink.table.has('10.244.3.0/26')).toBe(true);
    expect(c4.sink.table.get('10.244.3.0/26')).toBeUndefined();
    expect(c5.sink.table.get('10.244.3.0/26')).toBeUndefined();
    expect(c3.sink.messages).toBe(before);
  });

  it('a client that held another path for a prefix it now originates best is sent a withdrawal instead', () => {
    const t = setup(0x01010101);
    const s3 = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true, rrClient: true });
    const s4 = t.rib.addPeer({ address: '198.18.0.4', bgpId: 4, ibgp: true, rrClient: true });
    const c3 = t.peer('198.18.0.3', { ibgp: true, rrClient: true, routerId: 3 });
    const c5 = t.peer('198.18.0.5', { ibgp: true, rrClient: true, routerId: 5 });
    t.exporter.join(c3); t.exporter.join(c5);
    t.announce(s4, '10.244.9.0/26', t.attrs({ localPref: 100, nextHop: '198.18.0.4' }));
    t.exporter.flush();
    expect(c3.sink.table.get('10.244.9.0/26')!.originatorId).toBe(4);
    // Client 3's own path wins (higher LOCAL_PREF): client 3 must not keep client 4's path.
    t.announce(s3, '10.244.9.0/26', t.attrs({ localPref: 200, nextHop: '198.18.0.3' }));
    t.exporter.flush();
    expect(c3.sink.table.has('10.244.9.0/26')).toBe(true);
    expect(c3.sink.table.get('10.244.9.0/26')).toBeUndefined();
    expect(c5.sink.table.get('10.244.9.0/26')!.originatorId).toBe(3);
    // Back to client 4's path: client 3 gets it again.
    const p = parsePrefix('10.244.9.0/26');
    t.rib.withdraw(s3, p.family, p.bytes, p.len, 0);
    t.exporter.flush();
    expect(c3.sink.table.get('10.244.9.0/26')!.originatorId).toBe(4);
    expect(c5.sink.table.get('10.244.9.0/26')!.originatorId).toBe(4);
  });

  it('withdrawals and announcements of one prefix keep their order within a batch and across batches', () => {
    const t = setup();
    const e = t.peer('198.18.0.254', { ibgp: false });
    t.exporter.join(e);
    const p = parsePrefix('10.244.1.0/26');
    const a1 = () => t.attrs({ nextHop: '0.0.0.0', med: 1 });
    const a2 = () => t.attrs({ nextHop: '0.0.0.0', med: 2 });
    // Announced, withdrawn and announced again before one flush: the peer ends with the route.
    t.announce(LOCAL_PEER, '10.244.1.0/26', a1());
    t.rib.withdraw(LOCAL_PEER, p.family, p.bytes, p.len, 0);
    t.announce(LOCAL_PEER, '10.244.1.0/26', a2());
    t.exporter.flush();
    expect(e.sink.table.get('10.244.1.0/26')).toBeDefined();
    // Announced then withdrawn before a flush: the peer ends without it.
    t.announce(LOCAL_PEER, '10.244.2.0/26', a1());
    t.exporter.flush();
    const q = parsePrefix('10.244.2.0/26');
    t.announce(LOCAL_PEER, '10.244.2.0/26', a2());
    t.rib.withdraw(LOCAL_PEER, q.family, q.bytes, q.len, 0);
    t.exporter.flush();
    expect(e.sink.table.has('10.244.2.0/26')).toBe(true);
    expect(e.sink.table.get('10.244.2.0/26')).toBeUndefined();
    expect(e.sink.table.get('10.244.1.0/26')).toBeDefined();
  });
});

// BIRD never exports a route to the BGP protocol it came from: bgp_preexport (proto/bgp/attrs.c,
// BIRD 2) returns -1 ("Reject our routes") when the route's source protocol is the one exporting,
// before any export filter runs; FRR agrees (bgpd/bgp_route.c subgroup_announce_check: "Do not
// send back route to sender", also with ADD-PATH). RFC 4456 §8 and RFC 7911 do not ask for it
// either (a reflector's client also drops it by its ORIGINATOR_ID). Kite: a path is not sent back to the peer that
// sent it, and while that peer is its update group's only member the path is not even put
// through the export policy; a group with other members still exports it for them.
describe('a route is not exported to the peer it came from (BIRD bgp_preexport)', () => {
  function withPolicy() {
    const interner = new Interner();
    const rib = new Rib(interner);
    const checked: string[] = [];
    const exporter = new Exporter(rib, interner, {
      routerId: 0xc6120001, log: pino({ level: 'silent' }),
      policy: (_slot, best, peer) => { checked.push(`${rib.peer(rib.pathPeer(best))!.address}->${peer.id}`); return { accept: true }; },
    });
    const ebgp = (id: string, ribPeer: number): ExportPeer & { sink: ReturnType<typeof sink> } => ({
      id, sink: sink(false), ibgp: false, rrClient: false, localAs: 64512, nextHopMode: 'Auto', nextHop4: '198.18.0.1',
      ctx: ctx(false), families: [IPV4_UNICAST], routerId: ribPeer, ribPeer,
    });
    const attrs = (asns: number[]) => interner.internAttrs({ origin: 0, asPath: [{ type: SegType.AS_SEQUENCE, asns }], nextHop: '198.18.0.9', atomicAggregate: false, unknown: [] });
    const announce = (from: number, prefix: string, a: PathAttrs) => { const p = parsePrefix(prefix); rib.announce(from, p.family, p.bytes, p.len, 0, a.id); };
    const withdraw = (from: number, prefix: string) => { const p = parsePrefix(prefix); rib.withdraw(from, p.family, p.bytes, p.len, 0); };
    return { rib, exporter, checked, ebgp, attrs, announce, withdraw };
  }

  it('its only group member: not evaluated, not sent; another peer\'s better path is, and withdrawn when it goes', () => {
    const t = withPolicy();
    const a = t.rib.addPeer({ address: 'A', bgpId: 1, ibgp: false });
    const c = t.rib.addPeer({ address: 'C', bgpId: 3, ibgp: false });
    const pa = t.ebgp('198.18.0.10', a);
    t.exporter.join(pa);
    t.announce(a, '192.0.2.0/24', t.attrs([65001, 65009]));
    t.exporter.flush();
    expect(t.checked).toEqual([]);
    expect(pa.sink.table.size).toBe(0);
    // C's shorter path wins: A is sent it (the policy is asked once, for C's path).
    t.announce(c, '192.0.2.0/24', t.attrs([65003]));
    t.exporter.flush();
    expect(t.checked).toEqual(['C->198.18.0.10']);
    expect(pa.sink.table.get('192.0.2.0/24')!.asPath).toEqual([{ type: SegType.AS_SEQUENCE, asns: [64512, 65003] }]);
    // C's path gone: A's own is best again, so A's copy of C's is withdrawn, and A's not sent.
    t.withdraw(c, '192.0.2.0/24');
    t.exporter.flush();
    expect(pa.sink.table.has('192.0.2.0/24')).toBe(true);
    expect(pa.sink.table.get('192.0.2.0/24')).toBeUndefined();
    expect(t.checked).toEqual(['C->198.18.0.10']);
  });

  it('a group with other members: they are sent it, the peer it came from is not, also after a rejoin', () => {
    const t = withPolicy();
    const a = t.rib.addPeer({ address: 'A', bgpId: 1, ibgp: false });
    const b = t.rib.addPeer({ address: 'B', bgpId: 2, ibgp: false });
    const pa = t.ebgp('198.18.0.10', a);
    t.exporter.join(pa);
    t.announce(a, '192.0.2.0/24', t.attrs([65001]));
    t.exporter.flush();
    // B joins the same update group: A's route, skipped while A was alone, is in B's table.
    const pb = t.ebgp('198.18.0.11', b);
    t.exporter.join(pb);
    expect(t.exporter.groupCount).toBe(1);
    expect(pb.sink.table.get('192.0.2.0/24')!.asPath).toEqual([{ type: SegType.AS_SEQUENCE, asns: [64512, 65001] }]);
    expect(pa.sink.table.size).toBe(0);
    // A changes its route and sends another: B gets both, A neither.
    t.announce(a, '192.0.2.0/24', t.attrs([65001, 65001]));
    t.announce(a, '198.51.100.0/24', t.attrs([65001]));
    t.exporter.flush();
    expect(pb.sink.table.get('192.0.2.0/24')!.asPath).toEqual([{ type: SegType.AS_SEQUENCE, asns: [64512, 65001, 65001] }]);
    expect(pb.sink.table.get('198.51.100.0/24')).toBeDefined();
    expect(pa.sink.table.size).toBe(0);
    // B's own route goes to A and not back to B.
    t.announce(b, '203.0.113.0/24', t.attrs([65002]));
    t.exporter.flush();
    expect(pa.sink.table.get('203.0.113.0/24')).toBeDefined();
    expect(pb.sink.table.has('203.0.113.0/24')).toBe(false);
    expect(t.exporter.adjRibOut('198.18.0.10').map((r) => r.slot)).toHaveLength(1);
    // What each is counted as advertised is what it was sent.
    expect(t.exporter.advertised('198.18.0.10')).toBe(1);
    expect(t.exporter.advertised('198.18.0.11')).toBe(2);
    expect(t.exporter.adjRibOut('198.18.0.11')).toHaveLength(2);
    // A's session comes back while its paths are kept (graceful restart): its table leaves them out.
    t.exporter.leave('198.18.0.10');
    const pa2 = t.ebgp('198.18.0.10', a);
    t.exporter.join(pa2);
    expect([...pa2.sink.table.keys()]).toEqual(['203.0.113.0/24']);
    expect(pa2.sink.eor).toBe(1);
    // A withdraws one of its routes: B is sent the withdrawal, A nothing (it never had it from us).
    const before = pa2.sink.messages;
    t.withdraw(a, '198.51.100.0/24');
    t.exporter.flush();
    expect(pb.sink.table.has('198.51.100.0/24')).toBe(true);
    expect(pb.sink.table.get('198.51.100.0/24')).toBeUndefined();
    expect(pa2.sink.messages).toBe(before);
    // B leaves: A is alone again; a change to A's route left in the group's table sends A nothing.
    t.exporter.leave('198.18.0.11');
    t.announce(a, '192.0.2.0/24', t.attrs([65001, 65001, 65001]));
    t.exporter.flush();
    expect(pa2.sink.messages).toBe(before);
    expect(pa2.sink.table.has('192.0.2.0/24')).toBe(false);
  });
});

// Issue 16: a group's batch is one buffer, and each member is sent slices of it (the runs of
// messages it gets) instead of one queue entry per UPDATE. Each slice says how many whole UPDATEs
// it holds and stays within 32 KiB (plus one message), so a KEEPALIVE never waits behind a whole
// huge batch in the session's queue; a member that skips a message gets the runs around it.
describe('a batch is sent to each member as slices of one buffer', () => {
  it('whole messages per slice, counted; slices bounded; a skipped message splits the run', () => {
    const t = setup(0x01010101);
    const c1 = t.rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true, rrClient: true });
    const a = t.peer('198.18.1.1', { ibgp: true, rrClient: true, routerId: 3 });
    const b = t.peer('198.18.1.2', { ibgp: true, rrClient: true, routerId: 4 });
    t.exporter.join(a); t.exporter.join(b);
    const sends: { peer: string; bytes: number; messages: number; framed: number }[] = [];
    for (const p of [a, b]) {
      const s = p.sink.send.bind(p.sink);
      p.sink.send = (buf: Buffer, messages: number = 1) => {
        const before = p.sink.messages;
        const r = s(buf);
        sends.push({ peer: p.id, bytes: buf.length, messages, framed: p.sink.messages - before });
        return r;
      };
    }
    // 3,000 prefixes in 3,000 attribute sets (3,000 UPDATEs); one of them originated by a (router ID 3).
    const c2 = t.rib.addPeer({ address: '198.18.0.9', bgpId: 9, ibgp: true, rrClient: true });
    for (let k = 0; k < 3000; k++) {
      const from = k === 1500 ? c1 : c2;
      t.announce(from, `10.${k >> 8}.${k & 255}.0/24`, t.attrs({ localPref: 100, med: k, nextHop: '198.18.0.3' }));
    }
    t.exporter.flush();
    expect(b.sink.table.size).toBe(3000);
    expect(a.sink.table.size).toBe(2999);
    expect(a.sink.table.has('10.5.220.0/24')).toBe(false);
    for (const s of sends) {
      expect(s.framed).toBe(s.messages);
      expect(s.bytes).toBeLessThanOrEqual(32 * 1024 + 4096);
    }
    const count = (id: string) => sends.filter((s) => s.peer === id).reduce((n, s) => n + s.messages, 0);
    expect(count('198.18.1.2')).toBe(3000);
    expect(count('198.18.1.1')).toBe(2999);
    expect(sends.filter((s) => s.peer === '198.18.1.2').length).toBeLessThan(3000 / 50);
  });
});
