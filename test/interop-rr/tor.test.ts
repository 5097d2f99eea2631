// FRR as an eBGP top-of-rack router (AS 65000) for three Kite nodes (AS 64512, full mesh among
// themselves, one global BGPPeer to the ToR). Calico's export rules: the ToR learns only pool
// and service routes, each with next hop = the node it came from and AS path starting 64512.
// k1 also has an external eBGP peer (BIRD, AS 65099) announcing one route outside every pool
// (must not leave k1) and one inside the pool (may). Lab 198.18.63.0/24:
// tor .1, k1 .2, k2 .3, k3 .4, ext .5.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab, sleep, waitFor } from '../interop/netns.js';
import { BirdPeer, waitPeerState } from '../interop/peers.js';
import { createLab } from '../interop/kite.js';
import { CALICO_AS, ClusterKite, clusterKites, destroyLab, GrFrrPeer, startAll, type ClusterSpec } from './cluster.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const TOR_AS = 65000;
const EXT_AS = 65099;

describe('interop: FRR eBGP ToR with a Kite full mesh', () => {
  const lab = new Lab('tor', 63);
  const ip = (i: number): string => lab.v4(i);
  const BLOCKS = ['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26'];
  const SERVICE = '10.96.0.0/12';
  // Outside the pool AND outside the service CIDR (10.96.0.0/12 spans 10.96–10.111).
  const EXT_OUTSIDE = '192.168.99.0/24';
  const EXT_INSIDE = '10.244.200.0/24';
  const NODES = [ip(2), ip(3), ip(4)];
  let kites: ClusterKite[] = [];
  let tor: GrFrrPeer;
  let ext: BirdPeer;

  beforeAll(async () => {
    await createLab(lab, ['tor', 'k1', 'k2', 'k3', 'ext']);
    const cluster: ClusterSpec = {
      asNumber: CALICO_AS,
      mesh: true,
      nodes: [1, 2, 3].map((i) => ({ name: `k${i}`, lab: lab.node(`k${i}`), blocks: [BLOCKS[i - 1]!] })),
      peers: [
        { name: 'tor', peerIP: ip(1), asNumber: TOR_AS },
        { name: 'k1-ext', node: 'k1', peerIP: ip(5), asNumber: EXT_AS },
      ],
      serviceClusterIPs: [SERVICE],
    };
    kites = clusterKites(lab, cluster);
    tor = new GrFrrPeer({ lab, node: lab.node('tor'), asNumber: TOR_AS, neighbors: NODES.map((address) => ({ address, asNumber: CALICO_AS })) });
    ext = new BirdPeer({ lab, node: lab.node('ext'), asNumber: EXT_AS, neighbors: [{ address: ip(2), asNumber: CALICO_AS }], announce: [EXT_OUTSIDE, EXT_INSIDE] });
    await Promise.all([tor.start(), ext.start()]);
    await startAll(kites);
  }, 180_000);

  afterAll(() => destroyLab(lab, kites), 60_000);

  it('the mesh, the ToR sessions and the external session are Established', async () => {
    for (const [i, k] of kites.entries()) {
      await k.waitPeerState(ip(1));
      for (const [j, n] of NODES.entries()) if (i !== j) await k.waitPeerState(n);
    }
    await kites[0]!.waitPeerState(ip(5));
    for (const n of NODES) await waitPeerState(tor, n);
  });

  it('k1 holds both external routes (so not exporting one is a decision, not a missing route)', async () => {
    await kites[0]!.waitReceived(EXT_OUTSIDE, (p) => p.some((x) => x.peer === ip(5)), 'from ext');
    await kites[0]!.waitReceived(EXT_INSIDE, (p) => p.some((x) => x.peer === ip(5)), 'from ext');
  });

  it('the ToR learns exactly the blocks, the service CIDR and the in-pool route; next hop is always the sending node', async () => {
    const want = [...BLOCKS, SERVICE, EXT_INSIDE].sort();
    await waitFor('ToR to hold every pool and service route from every node', async () => {
      for (const p of want) if ((await tor.paths(p)).length < 3) return undefined;
      return true;
    }, { timeoutMs: 45_000, intervalMs: 500, describe: () => tor.vtysh('show bgp ipv4 unicast') });
    await sleep(2000); // anything wrongly exported would have arrived by now
    const have = [...new Set((await tor.rib('ipv4')).map((r) => r.prefix))].sort();
    expect(have).toEqual(want);
    for (const p of want) {
      const paths = await tor.paths(p);
      expect(paths.map((x) => x.from).sort(), p).toEqual(NODES);
      for (const x of paths) {
        expect(x.nextHop, `${p} from ${x.from}`).toBe(x.from); // eBGP: next hop self (RFC 4271 §5.1.3)
        expect(x.asPath[0], `${p} from ${x.from}`).toBe(CALICO_AS);
      }
    }
    // The owner's own block: AS path [64512] and next hop the owner.
    for (const [i, b] of BLOCKS.entries()) {
      const own = (await tor.paths(b)).find((x) => x.from === NODES[i]);
      expect(own, b).toMatchObject({ nextHop: NODES[i], asPath: [CALICO_AS] });
    }
    // The in-pool route learned from AS 65099 keeps that AS behind ours.
    for (const x of await tor.paths(EXT_INSIDE)) expect(x.asPath).toEqual([CALICO_AS, EXT_AS]);
  });

  it('the route outside every pool is not re-exported: not to the ToR, not to the mesh', async () => {
    expect(await tor.paths(EXT_OUTSIDE)).toEqual([]);
    expect(await kites[1]!.receivedPaths(EXT_OUTSIDE)).toEqual([]);
    expect(await kites[2]!.receivedPaths(EXT_OUTSIDE)).toEqual([]);
    // ... while the in-pool one did cross the mesh.
    expect((await kites[1]!.receivedPaths(EXT_INSIDE)).map((p) => p.peer)).toContain(ip(2));
  });

  it('a ToR route reaches every node and none of them sends it back (outside the pools; AS loop)', async () => {
    await tor.announce('192.0.2.0/24');
    for (const k of kites) await k.waitReceived('192.0.2.0/24', (p) => p.some((x) => x.peer === ip(1)), 'from the ToR');
    await sleep(1500);
    const paths = await tor.paths('192.0.2.0/24');
    expect(paths.filter((x) => NODES.includes(x.from))).toEqual([]);
  });
});
