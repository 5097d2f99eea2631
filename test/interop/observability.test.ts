// Kite's metrics, peer views and peer actions against real BIRD and FRR peers in network
// namespaces (lab subnet 198.18.44.0/24). Topology on one bridge:
//   kite 198.18.44.1 AS 65000 — bird 198.18.44.2 AS 65001 (eBGP) — frr 198.18.44.3 AS 65002 (eBGP)
// /metrics (scraped inside Kite's namespace, parsed with parse-prometheus-text-format) must agree
// with `kite show` and with what each peer reports; `kite peer` acts on real sessions and the
// peers see it (BIRD's "Last error", FRR's last NOTIFICATION).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AdjRoute, PeerDetail } from '../../src/api/types.js';
import { scrapeText, type Scrape } from '../helpers/scrape.js';
import { createLab, Kite } from './kite.js';
import { Lab, sleep, waitFor } from './netns.js';
import { BirdPeer, FrrPeer, waitPeerRoute, waitPeerState } from './peers.js';
import { CEASE_RECEIVED } from './suite.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const KITE_AS = 65000, BIRD_AS = 65001, FRR_AS = 65002;
const BLOCK = '10.244.1.0/26';
const BIRD_ROUTES = ['10.1.0.0/24', '10.1.1.0/24'];
const FRR_ROUTES = ['10.2.0.0/24'];

describe('observability: Kite <-> BIRD and FRR', () => {
  const lab = new Lab('obs', 44);
  const K = lab.v4(1), B = lab.v4(2), F = lab.v4(3);
  let kite: Kite;
  let bird: BirdPeer;
  let frr: FrrPeer;

  const metrics = async (): Promise<Scrape> => scrapeText(await kite.http('/metrics'));
  const labels = (peer: string, as: number): Record<string, string> => ({ peer, peer_type: 'global', peer_as: String(as) });
  const cli = async (...args: string[]): Promise<string> => {
    const r = await kite.cli(...args);
    if (r.code !== 0) throw new Error(`kite ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const adj = async (dir: 'received' | 'advertised', peer: string): Promise<AdjRoute[]> =>
    JSON.parse(await cli('show', 'routes', dir, peer, '--json')) as AdjRoute[];

  beforeAll(async () => {
    const [kn, bn, fn] = await createLab(lab, ['kite', 'bird', 'frr']);
    bird = new BirdPeer({ lab, node: bn!, asNumber: BIRD_AS, neighbors: [{ address: K, asNumber: KITE_AS }], announce: BIRD_ROUTES });
    frr = new FrrPeer({ lab, node: fn!, asNumber: FRR_AS, neighbors: [{ address: K, asNumber: KITE_AS }], announce: FRR_ROUTES });
    kite = new Kite({
      lab, node: kn!, asNumber: KITE_AS, blocks: [BLOCK],
      peers: [{ name: 'bird', address: B, asNumber: BIRD_AS }, { name: 'frr', address: F, asNumber: FRR_AS }],
    });
    await Promise.all([bird.start(), frr.start()]);
    await kite.start();
    await kite.waitPeerState(B);
    await kite.waitPeerState(F);
    for (const p of BIRD_ROUTES) await kite.waitRoute(p);
    for (const p of FRR_ROUTES) await kite.waitRoute(p);
    await waitPeerRoute(bird, BLOCK);
    await waitPeerRoute(frr, BLOCK);
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('/metrics agrees with kite show and with the peers: sessions up, prefixes per peer and family, RIB size', async () => {
    const m = await metrics();
    const peers = await kite.peers();
    for (const [addr, as, theirs] of [[B, BIRD_AS, BIRD_ROUTES], [F, FRR_AS, FRR_ROUTES]] as const) {
      const p = peers.find((x) => x.address === addr)!;
      expect(p).toMatchObject({ state: 'Established', peerType: 'global', prefixesAccepted: theirs.length, prefixesAdvertised: 1 });
      const l = labels(addr, as);
      expect(m.value('kite_bgp_session_up', l)).toBe(1);
      expect(m.value('kite_bgp_session_state', { ...l, state: 'Established' })).toBe(1);
      expect(m.value('kite_bgp_prefixes_accepted', { ...l, family: 'ipv4' })).toBe(p.prefixesAccepted);
      expect(m.value('kite_bgp_prefixes_received', { ...l, family: 'ipv4' })).toBe(p.prefixesReceived);
      expect(m.value('kite_bgp_prefixes_advertised', { ...l, family: 'ipv4' })).toBe(p.prefixesAdvertised);
      expect(m.value('kite_bgp_prefixes_rejected', { ...l, family: 'ipv4', reason: 'loop' })).toBe(p.prefixesReceived - p.prefixesAccepted);
      // One OPEN per connection: two when both sides dialled at once (a collision, RFC 4271 §6.8).
      expect(m.value('kite_bgp_messages_received_total', { ...l, type: 'open' })).toBeGreaterThanOrEqual(1);
      expect(m.value('kite_bgp_session_established_transitions_total', l)).toBe(1);
      expect(m.value('kite_bgp_messages_received_total', { ...l, type: 'update' })).toBeGreaterThanOrEqual(1);
      expect(m.value('kite_bgp_messages_received_total', { ...l, type: 'keepalive' })).toBeGreaterThanOrEqual(1);
    }
    // What the peers hold from Kite is what Kite counts as advertised.
    expect((await bird.rib('ipv4')).filter((r) => r.nextHop === K).map((r) => r.prefix)).toEqual([BLOCK]);
    expect((await frr.rib('ipv4')).filter((r) => r.nextHop === K).map((r) => r.prefix)).toEqual([BLOCK]);
    const s = await kite.summary();
    expect(m.value('kite_rib_prefixes', { family: 'ipv4' })).toBe(s.ribIPv4);
    expect(s.ribIPv4).toBe(1 + BIRD_ROUTES.length + FRR_ROUTES.length);
    expect(m.value('kite_datastore_sync_state', { state: 'in-sync' })).toBe(1);
  });

  it('kite show peers and kite show peer: the type, since and info columns; capabilities and timers', async () => {
    const table = await cli('show', 'peers');
    expect(table).toMatch(/^Peer\s+Type\s+AS\s+State\s+Since\s+Rcvd\s+Accepted\s+Adv\s+Info$/m);
    expect(table).toMatch(new RegExp(`^${B.replace(/\./g, '\\.')}\\s+global\\s+${BIRD_AS}\\s+Established\\s+\\S+\\s+2\\s+2\\s+1\\s+Established$`, 'm'));
    // FRR sends Kite's own block back (it has no sender-side loop check by default): received, rejected as a loop.
    expect(table).toMatch(new RegExp(`^${F.replace(/\./g, '\\.')}\\s+global\\s+${FRR_AS}\\s+Established\\s+\\S+\\s+2\\s+1\\s+1\\s+Established$`, 'm'));
    for (const [addr, routerId] of [[B, B], [F, F]] as const) {
      const d = JSON.parse(await cli('show', 'peer', addr, '--json')) as PeerDetail;
      expect(d.session.remoteRouterId).toBe(routerId);
      expect(d.session.capabilities).toEqual(expect.arrayContaining(['4-octet AS', 'route refresh', 'graceful restart']));
      expect(d.session.families).toContain('IPv4 unicast');
      expect(d.gracefulRestart.peerRestartTime).toBeGreaterThan(0);
      expect(d.counters.updatesReceived).toBeGreaterThanOrEqual(1);
    }
  });

  it("routes received and advertised match each peer's own view", async () => {
    expect((await adj('received', B)).map((r) => r.prefix)).toEqual(BIRD_ROUTES);
    expect((await adj('received', F)).map((r) => r.prefix)).toEqual(FRR_ROUTES);
    for (const r of await adj('received', B)) expect(r.path).toMatchObject({ nextHop: B, asPath: [BIRD_AS] });
    for (const [addr, peer] of [[B, bird], [F, frr]] as const) {
      const out = await adj('advertised', addr);
      const held = (await peer.rib('ipv4')).filter((r) => r.nextHop === K);
      expect(out.map((r) => r.prefix)).toEqual(held.map((r) => r.prefix));
      // The attributes as sent are the attributes the peer holds: next hop self, our AS prepended.
      expect(out.map((r) => ({ nextHop: r.path.nextHop, asPath: r.path.asPath }))).toEqual(held.map((r) => ({ nextHop: r.nextHop, asPath: r.asPath })));
    }
  });

  it('kite peer reset reaches FRR as Cease/Administrative Reset; FRR\'s clear bgp is counted as a NOTIFICATION received', async () => {
    const l = labels(F, FRR_AS);
    const before = await metrics();
    const stats = async (): Promise<{ notificationsRecv?: number }> => ((await frr.neighborJson(K))['messageStats'] ?? {}) as { notificationsRecv?: number };
    const recvBefore = (await stats()).notificationsRecv ?? 0;
    expect(await cli('peer', 'reset', F)).toBe(`${F} reset: Cease/Administrative Reset sent; the session starts again\n`);
    await waitFor('FRR received our Cease', async () => ((await stats()).notificationsRecv ?? 0) > recvBefore && /administrative reset/i.test((await frr.session(K)).lastError) ? true : undefined, {
      timeoutMs: 30_000, intervalMs: 500, describe: async () => JSON.stringify(await frr.neighborJson(K)),
    });
    await kite.waitPeerState(F);
    await waitPeerState(frr, K);
    expect((await metrics()).value('kite_bgp_notifications_sent_total', { ...l, code: '6', subcode: '4' })).toBe(1);
    // The other way: FRR's `clear bgp` sends Cease/Administrative Reset (6/4) and reconnects.
    await frr.vtysh(`clear bgp ${K}`);
    await waitFor('the NOTIFICATION counted', async () => ((await metrics()).value('kite_bgp_notifications_received_total', { ...l, code: '6', subcode: '4' }) >= 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    await kite.waitPeerState(F);
    await waitPeerState(frr, K);
    const m = await metrics();
    // Each reset is one flap at least (a connection collision while reconnecting may add another).
    expect(m.value('kite_bgp_session_flaps_total', l)).toBeGreaterThanOrEqual(before.value('kite_bgp_session_flaps_total', l) + 2);
    expect(m.value('kite_bgp_session_established_transitions_total', l)).toBeGreaterThanOrEqual(3);
    await kite.waitRoute(FRR_ROUTES[0]!);
  });

  it('a disabled peer stays down and BIRD sees the Cease; enable brings it back', async () => {
    const l = labels(B, BIRD_AS);
    expect(await cli('peer', 'disable', B, '--reason', 'maintenance')).toContain(`${B} disabled: Cease/Administrative Shutdown sent`);
    await waitFor('BIRD sees the Cease', async () => (CEASE_RECEIVED.test((await bird.session(K)).lastError) ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    await kite.waitPeer(B, 'disabled and down', (p) => p.disabled === true && p.state !== 'Established');
    for (const p of BIRD_ROUTES) await kite.waitNoRoute(p);
    // BIRD retries; Kite refuses it while disabled.
    await sleep(8000);
    expect((await kite.peer(B))?.state).not.toBe('Established');
    expect((await bird.session(K)).state).not.toBe('Established');
    const m = await metrics();
    expect(m.value('kite_bgp_session_disabled', l)).toBe(1);
    expect(m.value('kite_bgp_session_up', l)).toBe(0);
    expect(m.value('kite_bgp_notifications_sent_total', { ...l, code: '6', subcode: '2' })).toBe(1);
    expect(await cli('peer', 'enable', B)).toBe(`${B} enabled: the session starts again\n`);
    await kite.waitPeerState(B);
    await waitPeerState(bird, K);
    for (const p of BIRD_ROUTES) await kite.waitRoute(p);
    await waitPeerRoute(bird, BLOCK);
    expect((await metrics()).value('kite_bgp_session_disabled', l)).toBe(0);
  });

  it('kite peer refresh sends ROUTE-REFRESH to the peer, and the peer resends its routes', async () => {
    const l = labels(B, BIRD_AS);
    const before = (await metrics()).value('kite_bgp_messages_received_total', { ...l, type: 'update' });
    expect(await cli('peer', 'refresh', B)).toMatch(/ROUTE-REFRESH sent for IPv4 unicast/);
    await waitFor('BIRD resent its routes', async () => {
      const m = await metrics();
      return m.value('kite_bgp_messages_sent_total', { ...l, type: 'route-refresh' }) >= 1
        && m.value('kite_bgp_messages_received_total', { ...l, type: 'update' }) > before ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });
});
