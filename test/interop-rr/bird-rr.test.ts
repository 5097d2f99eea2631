// BIRD 2 as the route reflector (rr client, rr cluster id 244.0.0.1) for three Kite nodes with
// the node-to-node mesh off and one global BGPPeer to BIRD: each Kite must learn the other
// Kites' blocks through BIRD with RFC 4456 attributes and the originator's next hop.
// Lab 198.18.62.0/24: bird .1, k1 .2, k2 .3, k3 .4.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab } from '../interop/netns.js';
import { waitPeerState } from '../interop/peers.js';
import { createLab } from '../interop/kite.js';
import { CALICO_AS, ClusterKite, clusterKites, destroyLab, RR_CLUSTER_ID, RrBirdPeer, startAll, type ClusterSpec } from './cluster.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

describe('interop: BIRD route reflector with Kite clients', () => {
  const lab = new Lab('rrb', 62);
  const ip = (i: number): string => lab.v4(i);
  const BLOCKS = ['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26'];
  let kites: ClusterKite[] = [];
  let bird: RrBirdPeer;

  beforeAll(async () => {
    await createLab(lab, ['bird', 'k1', 'k2', 'k3']);
    const cluster: ClusterSpec = {
      asNumber: CALICO_AS,
      mesh: false,
      nodes: [1, 2, 3].map((i) => ({ name: `k${i}`, lab: lab.node(`k${i}`), blocks: [BLOCKS[i - 1]!] })),
      peers: [{ name: 'bird-rr', peerIP: ip(1), asNumber: CALICO_AS }],
    };
    kites = clusterKites(lab, cluster);
    const clients = [ip(2), ip(3), ip(4)];
    bird = new RrBirdPeer(
      { lab, node: lab.node('bird'), asNumber: CALICO_AS, neighbors: clients.map((address) => ({ address, asNumber: CALICO_AS })) },
      { rrClients: clients, rrClusterId: RR_CLUSTER_ID, exportAll: true },
    );
    await bird.start();
    await startAll(kites);
  }, 180_000);

  afterAll(() => destroyLab(lab, kites), 60_000);

  it('every Kite reaches Established with BIRD', async () => {
    for (const k of kites) await k.waitPeerState(ip(1));
    for (let i = 2; i <= 4; i++) await waitPeerState(bird, ip(i));
  });

  it("each Kite learns the other Kites' blocks via BIRD, with ORIGINATOR_ID, CLUSTER_LIST and the originator's next hop", async () => {
    for (const [i, k] of kites.entries()) {
      for (const [j, block] of BLOCKS.entries()) {
        if (i === j) continue;
        const orig = ip(j + 2);
        const paths = await k.waitReceived(block, (p) => p.length > 0, 'reflected by BIRD');
        expect(paths, `${k.nodeName} ${block}`).toHaveLength(1);
        expect(paths[0], `${k.nodeName} ${block}`).toMatchObject({
          peer: ip(1), nextHop: orig, originatorId: orig, clusterList: [RR_CLUSTER_ID], asPath: [], origin: 'igp', best: true,
        });
      }
      // BIRD does not reflect a route back to its originator.
      expect(await k.receivedPaths(BLOCKS[i]!)).toEqual([]);
    }
  });

  it('a block removed from one Kite node is withdrawn from the others through BIRD', async () => {
    // Kite withdraws on a live config edit; the other nodes must lose it via the reflector.
    const k1 = kites[0]!;
    k1.cnode.blocks = []; // the cluster object is shared: every node's YAML changes
    k1.rewriteConfigLive();
    await kites[1]!.waitReceived(BLOCKS[0]!, (p) => p.length === 0, 'withdrawn');
    await kites[2]!.waitReceived(BLOCKS[0]!, (p) => p.length === 0, 'withdrawn');
    // The other blocks are still there, sessions untouched.
    expect((await kites[1]!.receivedPaths(BLOCKS[2]!)).length).toBe(1);
    expect((await kites[0]!.peer(ip(1)))?.state).toBe('Established');
  });
});
