// Kite as a Calico route reflector (RFC 4456) for three Kite clients, a BIRD client and an FRR
// client, configured as Calico does it: the RR node has routeReflectorClusterID and a label,
// BGPPeer {nodeSelector all(), peerSelector has(route-reflector)}, mesh off. Lab 198.18.61.0/24.
// Every client must learn every other client's block with ORIGINATOR_ID = the originator's
// router ID and CLUSTER_LIST = [cluster ID], and the next hop left at the originator (§10).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab } from '../interop/netns.js';
import { waitPeerState } from '../interop/peers.js';
import { createLab } from '../interop/kite.js';
import { CALICO_AS, ClusterKite, clusterKites, destroyLab, GrFrrPeer, RR_CLUSTER_ID, RrBirdPeer, startAll, type ClusterSpec } from './cluster.js';
import { waitFor } from '../interop/netns.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

describe('interop: Kite route reflector with Kite, BIRD and FRR clients', () => {
  const lab = new Lab('rrk', 61);
  const ip = (i: number): string => lab.v4(i);
  // Index: rr .1, k1 .2, k2 .3, k3 .4, bird .5, frr .6
  const BLOCK = { rr: '10.244.0.0/26', k1: '10.244.1.0/26', k2: '10.244.2.0/26', k3: '10.244.3.0/26' };
  const BIRD_ROUTE = '10.244.5.0/26';
  const FRR_ROUTE = '10.244.6.0/26';
  let kites: ClusterKite[] = [];
  let rr: ClusterKite;
  let bird: RrBirdPeer;
  let frr: GrFrrPeer;

  /** prefix → originator address (= router ID) for everything a client should learn by reflection. */
  const origin = new Map<string, string>();

  beforeAll(async () => {
    await createLab(lab, ['rr', 'k1', 'k2', 'k3', 'bird', 'frr']);
    const cluster: ClusterSpec = {
      asNumber: CALICO_AS,
      mesh: false,
      nodes: [
        { name: 'rr', lab: lab.node('rr'), blocks: [BLOCK.rr], labels: { 'route-reflector': 'true' }, routeReflectorClusterID: RR_CLUSTER_ID },
        { name: 'k1', lab: lab.node('k1'), blocks: [BLOCK.k1] },
        { name: 'k2', lab: lab.node('k2'), blocks: [BLOCK.k2] },
        { name: 'k3', lab: lab.node('k3'), blocks: [BLOCK.k3] },
      ],
      peers: [
        { name: 'peer-with-route-reflectors', nodeSelector: 'all()', peerSelector: 'has(route-reflector)' },
        { name: 'rr-bird', node: 'rr', peerIP: ip(5), asNumber: CALICO_AS },
        { name: 'rr-frr', node: 'rr', peerIP: ip(6), asNumber: CALICO_AS },
      ],
    };
    kites = clusterKites(lab, cluster);
    rr = kites[0]!;
    bird = new RrBirdPeer({ lab, node: lab.node('bird'), asNumber: CALICO_AS, neighbors: [{ address: ip(1), asNumber: CALICO_AS }], announce: [BIRD_ROUTE] });
    frr = new GrFrrPeer({ lab, node: lab.node('frr'), asNumber: CALICO_AS, neighbors: [{ address: ip(1), asNumber: CALICO_AS }], announce: [FRR_ROUTE] });
    origin.set(BLOCK.k1, ip(2)).set(BLOCK.k2, ip(3)).set(BLOCK.k3, ip(4)).set(BIRD_ROUTE, ip(5)).set(FRR_ROUTE, ip(6));
    await Promise.all([bird.start(), frr.start()]);
    await startAll(kites);
  }, 180_000);

  afterAll(() => destroyLab(lab, kites), 60_000);

  it('the reflector reaches Established with all five clients', async () => {
    for (let i = 2; i <= 6; i++) await rr.waitPeerState(ip(i));
    for (const k of kites.slice(1)) await k.waitPeerState(ip(1));
    await waitPeerState(bird, ip(1));
    await waitPeerState(frr, ip(1));
  });

  it('each Kite client learns every other client\'s route with ORIGINATOR_ID, CLUSTER_LIST and the originator\'s next hop', async () => {
    for (const [i, k] of kites.slice(1).entries()) {
      const self = ip(i + 2);
      for (const [prefix, orig] of origin) {
        if (orig === self) continue;
        const paths = await k.waitReceived(prefix, (p) => p.length > 0, 'reflected by rr');
        expect(paths, `${k.nodeName} ${prefix}`).toHaveLength(1);
        expect(paths[0], `${k.nodeName} ${prefix}`).toMatchObject({
          peer: ip(1), nextHop: orig, originatorId: orig, clusterList: [RR_CLUSTER_ID], asPath: [],
        });
      }
      // The reflector's own block is not reflected: no ORIGINATOR_ID, no CLUSTER_LIST (§8).
      const own = await k.waitReceived(BLOCK.rr, (p) => p.length > 0, 'from rr');
      expect(own[0]).toMatchObject({ peer: ip(1), nextHop: ip(1), originatorId: null, clusterList: [] });
      // Its own route reflected back would carry its ORIGINATOR_ID and must be dropped (§8).
      expect(await k.receivedPaths(BLOCK[k.nodeName as 'k1'])).toEqual([]);
    }
  });

  it('the BIRD client learns every Kite client\'s block and FRR\'s route with BGP.originator_id and BGP.cluster_list', async () => {
    for (const [prefix, orig] of origin) {
      if (prefix === BIRD_ROUTE) continue;
      const paths = await waitFor(`BIRD to hold ${prefix}`, async () => {
        const p = await bird.paths(prefix);
        return p.length ? p : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, describe: () => bird.birdc('show', 'route', 'all') });
      expect(paths, prefix).toHaveLength(1);
      expect(paths[0], prefix).toEqual({ from: ip(1), nextHop: orig, originatorId: orig, clusterList: [RR_CLUSTER_ID] });
    }
    const own = await bird.paths(BLOCK.rr);
    expect(own).toEqual([{ from: ip(1), nextHop: ip(1), originatorId: '', clusterList: [] }]);
  });

  it('the FRR client learns every Kite client\'s block and BIRD\'s route with originatorId and clusterList', async () => {
    for (const [prefix, orig] of origin) {
      if (prefix === FRR_ROUTE) continue;
      const paths = await waitFor(`FRR to hold ${prefix}`, async () => {
        const p = await frr.paths(prefix);
        return p.length ? p : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, describe: () => frr.vtysh('show bgp ipv4 unicast') });
      expect(paths, prefix).toHaveLength(1);
      expect(paths[0], prefix).toEqual({ from: ip(1), nextHop: orig, originatorId: orig, clusterList: [RR_CLUSTER_ID], asPath: [] });
    }
  });

  it('the reflector itself holds every client route once, unreflected (no CLUSTER_LIST of its own)', async () => {
    for (const [prefix, orig] of origin) {
      const r = await rr.waitRoute(prefix);
      const received = r.paths.filter((p) => p.peer !== null);
      expect(received, prefix).toHaveLength(1);
      expect(received[0], prefix).toMatchObject({ peer: orig, nextHop: orig, clusterList: [] });
    }
  });

  it('a withdrawal at one client is reflected to every other client', async () => {
    await bird.withdraw(BIRD_ROUTE);
    for (const k of kites.slice(1)) await k.waitReceived(BIRD_ROUTE, (p) => p.length === 0, 'withdrawn');
    await waitFor('FRR to drop the BIRD route', async () => ((await frr.paths(BIRD_ROUTE)).length === 0 ? true : undefined), { timeoutMs: 30_000 });
    await bird.announce(BIRD_ROUTE);
    await kites[1]!.waitReceived(BIRD_ROUTE, (p) => p.length === 1, 'announced again');
  });
});
