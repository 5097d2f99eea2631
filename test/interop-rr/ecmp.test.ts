// ECMP through a Kite route reflector: two Kite nodes originate the same LoadBalancer service
// /32 (BGPConfiguration serviceLoadBalancerIPs); the reflector must pass BOTH paths to its
// clients (ADD-PATH, RFC 7911 — Calico's BIRD does the same so ECMP survives reflection), or
// a client can only ever send the service's traffic to one node. The reflector and the clients
// carry node.kubernetes.io/exclude-from-external-load-balancers=true so only the two
// advertisers originate it. Lab 198.18.65.0/24: rr .1, a1 .2, a2 .3, c (Kite) .4, bird .5.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab, waitFor } from '../interop/netns.js';
import { waitPeerState } from '../interop/peers.js';
import { createLab } from '../interop/kite.js';
import { CALICO_AS, ClusterKite, clusterKites, destroyLab, RR_CLUSTER_ID, RrBirdPeer, startAll, type ClusterSpec } from './cluster.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const EXCLUDE_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';

describe('interop: ECMP service /32 through a Kite route reflector', () => {
  const lab = new Lab('ecmp', 65);
  const ip = (i: number): string => lab.v4(i);
  const LB = '203.0.113.10/32';
  let kites: ClusterKite[] = [];
  let rr: ClusterKite;
  let client: ClusterKite;
  let bird: RrBirdPeer;

  beforeAll(async () => {
    await createLab(lab, ['rr', 'a1', 'a2', 'c', 'bird']);
    const cluster: ClusterSpec = {
      asNumber: CALICO_AS,
      mesh: false,
      nodes: [
        { name: 'rr', lab: lab.node('rr'), blocks: [], labels: { 'route-reflector': 'true', [EXCLUDE_LB]: 'true' }, routeReflectorClusterID: RR_CLUSTER_ID },
        { name: 'a1', lab: lab.node('a1'), blocks: ['10.244.1.0/26'] },
        { name: 'a2', lab: lab.node('a2'), blocks: ['10.244.2.0/26'] },
        { name: 'c', lab: lab.node('c'), blocks: ['10.244.4.0/26'], labels: { [EXCLUDE_LB]: 'true' } },
      ],
      peers: [
        { name: 'peer-with-route-reflectors', nodeSelector: 'all()', peerSelector: 'has(route-reflector)' },
        { name: 'rr-bird', node: 'rr', peerIP: ip(5), asNumber: CALICO_AS },
      ],
      serviceLoadBalancerIPs: [LB],
    };
    kites = clusterKites(lab, cluster);
    [rr, , , client] = kites as [ClusterKite, ClusterKite, ClusterKite, ClusterKite];
    bird = new RrBirdPeer({ lab, node: lab.node('bird'), asNumber: CALICO_AS, neighbors: [{ address: ip(1), asNumber: CALICO_AS }] }, { addPathsRx: true });
    await bird.start();
    await startAll(kites);
  }, 180_000);

  afterAll(() => destroyLab(lab, kites), 60_000);

  it('sessions are up and the reflector holds both advertisers\' paths', async () => {
    for (let i = 2; i <= 5; i++) await rr.waitPeerState(ip(i));
    await waitPeerState(bird, ip(1));
    const r = await rr.waitReceived(LB, (p) => p.length === 2, 'from a1 and a2');
    expect(r.map((p) => p.peer).sort()).toEqual([ip(2), ip(3)]);
  });

  it('the Kite client receives the service /32 as two paths, one per advertiser', async () => {
    const paths = await client.waitReceived(LB, (p) => p.length >= 2, 'two paths via rr', 30_000);
    expect(paths).toHaveLength(2);
    expect(paths.map((p) => p.nextHop).sort()).toEqual([ip(2), ip(3)]);
    for (const p of paths) {
      expect(p).toMatchObject({ peer: ip(1), originatorId: p.nextHop, clusterList: [RR_CLUSTER_ID], asPath: [] });
    }
  });

  it('the BIRD client (add paths rx) receives the service /32 as two paths', async () => {
    const paths = await waitFor('BIRD to hold two paths', async () => {
      const p = await bird.paths(LB);
      return p.length >= 2 ? p : undefined;
    }, { timeoutMs: 30_000, intervalMs: 300, describe: () => bird.birdc('show', 'route', 'all') });
    expect(paths.map((p) => p.nextHop).sort()).toEqual([ip(2), ip(3)]);
    for (const p of paths) expect(p.originatorId).toBe(p.nextHop);
  });

  it('when one advertiser stops, the client keeps exactly the other path', async () => {
    await kites[1]!.stop();
    const paths = await client.waitReceived(LB, (p) => p.length === 1, 'one path left');
    expect(paths[0]).toMatchObject({ nextHop: ip(3), originatorId: ip(3) });
  });
});
