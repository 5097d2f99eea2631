// Calico conformance (issue 11, part 1): each case runs a Calico datastore input through the real
// Kite daemon in a namespace and checks what a real BIRD peer receives, against what Calico's confd
// templates (projectcalico/calico confd/etc/calico/confd/templates, confd/pkg/backends/calico) render.
// One test per divergence found by running Calico's own confd template tests through Kite.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab, waitFor, type LabNode } from './netns.js';
import { BirdPeer, sleep, waitPeerRoute, waitPeerState } from './peers.js';
import { createLab, IPV4_POOL, IPV6_POOL, Kite } from './kite.js';
import { clusterYaml, type ClusterNodeConfig, type Named } from '../helpers/cluster-config.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const CLUSTER_AS = 64512;
const POOLS: Named[] = [
  { name: 'default-ipv4-ippool', cidr: IPV4_POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true },
  { name: 'default-ipv6-ippool', cidr: IPV6_POOL, blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never' },
];

describe('Calico conformance: what a BIRD peer receives from Kite given Calico resources', () => {
  const lab = new Lab('cal', 70);
  const nodes = new Map<string, LabNode>();
  const kites: Kite[] = [];
  const birds: BirdPeer[] = [];
  const NAMES = ['k1', 'b1', 'k2', 'b2', 'k3', 'b3', 'k4', 'b4', 'k5', 'b5', 'k6', 'b6', 'k7', 'b7', 'c7', 'k8', 'b8', 'k9', 'b9', 'k10', 'b10',
    'k11', 'b11', 'k12', 'b12', 'c12', 'd12', 'k13', 'b13', 'k14', 'b14'] as const;
  const n = (name: (typeof NAMES)[number]): LabNode => nodes.get(name)!;

  beforeAll(async () => {
    const list = await createLab(lab, NAMES);
    NAMES.forEach((name, i) => nodes.set(name, list[i]!));
  }, 120_000);

  afterAll(async () => {
    for (const k of kites) await k.stop().catch(() => undefined);
    for (const b of birds) await b.stop().catch(() => undefined);
    await lab.destroy();
  }, 60_000);

  /** The Kite node as a Calico Node: its lab addresses, with their /24 and /64. */
  const kiteNode = (node: LabNode, blocks: string[], extra: Partial<ClusterNodeConfig> = {}): ClusterNodeConfig => ({
    name: 'kite', ipv4: `${node.ipv4}/24`, ipv6: `${node.ipv6}/64`, blocks, ...extra,
  });

  async function startKite(node: LabNode, yaml: string, dataplane?: 'none'): Promise<Kite> {
    const k = new Kite({ lab, node, asNumber: CLUSTER_AS, peers: [], blocks: [], yaml, ...(dataplane !== undefined ? { dataplane } : {}) });
    kites.push(k);
    await k.start();
    return k;
  }

  async function startBird(b: BirdPeer): Promise<BirdPeer> {
    birds.push(b);
    await b.start();
    return b;
  }

  // Item 1. confd's bird_aggr.cfg emits each confirmed (or implicit) affine block as a static
  // blackhole and calico_aggr() accepts it before bird_ipam.cfg's pool checks run: a block no pool
  // holds any more (its pool deleted while addresses are in use) is still advertised.
  it('blocks outside every IPPool are advertised', async () => {
    const k = n('k1'), b = n('b1');
    await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.1.0/26', '10.250.1.0/26'])],
      pools: POOLS,
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100 }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.1.0/26')).toMatchObject({ asPath: [CLUSTER_AS] });
    expect(await waitPeerRoute(bird, '10.250.1.0/26')).toMatchObject({ nextHop: k.ipv4, asPath: [CLUSTER_AS] });
  });

  // Item 2. Calico carries route priority in LOCAL_PREF. Its export filter sets
  // bgp_local_pref = 2147483647 − krt_metric (krt_metric 1024 unless set), its import filter
  // krt_metric = 2147483647 − bgp_local_pref, and `preference = 200` when krt_metric < 1024
  // (confd/tests compiled_templates bgpfilter/peer_type/bird.cfg, node_mesh/priority1/bird.cfg).
  // Kite programs that metric into the kernel (the normal 1024 keeps the kernel's default). BIRD's
  // preference is compared before any BGP attribute; in Kite's decision process it is the step
  // 'preference' before LOCAL_PREF (src/rib/decision.ts), so an elevated route beats every normal
  // BGP path, while Kite's own originated routes still come first (as BIRD's static blackholes,
  // preference 200, hold their blocks).
  it('LOCAL_PREF as Calico encodes route priority, both ways', async () => {
    const k = n('k2'), b = n('b2');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.2.0/26'])],
      pools: POOLS,
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: CLUSTER_AS }],
    }));
    const bird = await startBird(new BirdPeer({
      lab, node: b, asNumber: CLUSTER_AS, announce: ['10.244.102.0/26', '10.244.103.0/26'],
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS,
        exportStatements: 'if net = 10.244.102.0/26 then bgp_local_pref = 2147483000; else bgp_local_pref = 2147482000;' }],
    }));
    await waitPeerState(bird, k.ipv4);
    await waitPeerRoute(bird, '10.244.2.0/26');
    const all = await bird.birdc('show', 'route', 'table', 'master4', '10.244.2.0/26', 'all');
    expect(/BGP\.local_pref:\s*(\d+)/.exec(all)?.[1], all).toBe('2147482623');
    expect((await kite.waitRoute('10.244.102.0/26')).paths[0]?.localPref).toBe(2147483000);
    // Into the kernel: metric 2147483647 − LOCAL_PREF.
    const metric = async (prefix: string): Promise<number | undefined> => waitFor(`kernel route ${prefix}`, async () => {
      const r = await lab.exec(k, 'ip', ['-j', 'route', 'show', prefix]);
      const routes = JSON.parse(r.stdout || '[]') as Array<{ metric?: number }>;
      return routes.length > 0 ? routes[0]!.metric ?? 0 : undefined;
    });
    expect(await metric('10.244.102.0/26')).toBe(647);
    expect(await metric('10.244.103.0/26')).toBe(1647);
  });

  // Item 3. confd's nodeAsBGPPeers (client.go) leaves calico_node unset for the nodes a
  // peerSelector picks, and bgp_processor.go buildPeerFromData sets `passive on` only for a
  // calico_node peer with the greater address: the mesh's rule does not apply. The BIRD here is a
  // Calico Node with the greater address, and it only listens: the session comes up only if Kite dials.
  it('a BGPPeer with peerSelector and no nodeSelector does not make Kite passive', async () => {
    const k = n('k3'), b = n('b3');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.3.0/26']), { name: 'router', ipv4: `${b.ipv4}/24`, labels: { role: 'router' } }],
      pools: POOLS,
      peers: [{ name: 'routers', peerSelector: "role == 'router'" }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: CLUSTER_AS, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS, passive: true }] }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.3.0/26')).toMatchObject({ nextHop: k.ipv4, asPath: [] });
    expect((await kite.peer(b.ipv4))?.state).toBe('Established');
  });

  // Item 4. confd keys peerings by (peer IP, port) (client.go updatePeersV1: NodeBGPPeerKey /
  // GlobalBGPPeerKey), and bird.cfg gets one protocol per key (Global_<ip>_port_<port>): two
  // BGPPeers to one address on different ports are two sessions. Here two BIRDs share a namespace,
  // one on port 179 and one on 1790, with different AS numbers; each gets Kite's routes and keeps
  // its session while the other's connections come and go.
  it('two BGPPeers to the same address on different ports are two sessions', async () => {
    const k = n('k4'), b = n('b4');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.4.0/26'])],
      pools: POOLS,
      peers: [{ name: 'bird-a', peerIP: b.ipv4, asNumber: 65100 }, { name: 'bird-b', peerIP: `${b.ipv4}:1790`, asNumber: 65101 }],
    }));
    const birdA = await startBird(new BirdPeer({ lab, node: b, instance: 'a', asNumber: 65100, announce: ['10.244.104.0/26'],
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    const birdB = await startBird(new BirdPeer({ lab, node: b, instance: 'b', listenPort: 1790, asNumber: 65101, announce: ['10.244.105.0/26'],
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(birdA, k.ipv4);
    await waitPeerState(birdB, k.ipv4);
    expect(await waitPeerRoute(birdA, '10.244.4.0/26')).toMatchObject({ asPath: [CLUSTER_AS] });
    expect(await waitPeerRoute(birdB, '10.244.4.0/26')).toMatchObject({ asPath: [CLUSTER_AS] });
    expect((await kite.waitRoute('10.244.104.0/26')).paths[0]?.asPath).toEqual([65100]);
    expect((await kite.waitRoute('10.244.105.0/26')).paths[0]?.asPath).toEqual([65101]);
    await sleep(5000); // both BIRDs keep retrying their own connections to Kite meanwhile
    expect((await birdA.session(k.ipv4)).state).toBe('Established');
    expect((await birdB.session(k.ipv4)).state).toBe('Established');
    const peers = (await kite.peers()).filter((p) => p.address === b.ipv4);
    expect(peers.map((p) => [p.name, p.asNumber, p.state]).sort()).toEqual([['bird-a', 65100, 'Established'], ['bird-b', 65101, 'Established']]);
  });

  // Item 5. Calico's API (projectcalico/api v3) has `asNumber,omitempty` on BGPPeerSpec and
  // `cidr,omitempty` on the service IP blocks: such resources are valid. confd reads a peer
  // without asNumber as one in the cluster's AS (nodesWithIPPortAndAS): an iBGP session.
  it('a peerIP without asNumber and a service entry without cidr are accepted, with warnings', async () => {
    const k = n('k5'), b = n('b5');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false, serviceClusterIPs: [{}], serviceLoadBalancerIPs: [{}, { cidr: '10.97.0.0/24' }] },
      nodes: [kiteNode(k, ['10.244.5.0/26'])],
      pools: POOLS,
      peers: [{ name: 'tor', peerIP: b.ipv4 }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: CLUSTER_AS, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.5.0/26')).toMatchObject({ asPath: [] }); // iBGP: no AS prepended
    expect(await waitPeerRoute(bird, '10.97.0.0/24')).toMatchObject({ asPath: [] });
    expect(kite.log()).toContain('spec.asNumber: not set with spec.peerIP: the cluster AS number is used');
    expect(kite.log()).toContain('spec.serviceClusterIPs[0]: has no cidr');
  });

  // Item 6. BIRD's loop check (proto/bgp/attrs.c, bgp_rx_update: as_path_contains(local_as)) looks
  // for the session's own local AS, which Calico's template sets from localASNumber (`local as`).
  // The node's AS in a route from a session presenting another AS is no loop: calico-node keeps it.
  it('the AS-path loop check on import uses only the session\'s local AS', async () => {
    const k = n('k6'), b = n('b6');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: 65000, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.6.0/26'], { asNumber: 65000 })],
      pools: POOLS,
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100, localASNumber: 65010 }],
    }));
    const bird = await startBird(new BirdPeer({
      lab, node: b, asNumber: 65100, announce: ['10.99.6.0/24'],
      neighbors: [{ address: k.ipv4, asNumber: 65010, exportStatements: 'bgp_path.prepend(65000);' }],
    }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.6.0/26')).toMatchObject({ asPath: [65010] });
    const r = await kite.waitRoute('10.99.6.0/24');
    expect(r.paths[0]?.asPath).toEqual([65100, 65000]);
  });

  // Item 7. In BIRD a BGP route's `ifname` is the interface of its resolved next hop (Calico's
  // bgp_template has `gateway recursive`), and confd renders a BGPFilter rule's interface as
  // `(defined(ifname))&&(ifname ~ "<pattern>")` (compiled_templates bgpfilter/node_mesh/priority1):
  // `interface: "*"` matches every route learned from a peer. Kite resolves the next hop's
  // interface from the host's connected subnets (net/connected.ts): here eth0.
  it('a BGPFilter rule with interface "*" matches routes learned from peers', async () => {
    const k = n('k7'), b = n('b7'), c = n('c7');
    await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.7.0/26'])],
      pools: POOLS,
      filters: [{ name: 'by-interface', importV4: [
        { action: 'Reject', interface: 'cali*', cidr: '10.244.108.0/26', matchOperator: 'Equal' },
        { action: 'Reject', interface: '*', cidr: '10.244.107.0/26', matchOperator: 'Equal' },
      ] }],
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100, filters: ['by-interface'] }, { name: 'other', peerIP: c.ipv4, asNumber: 65300 }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, announce: ['10.244.107.0/26', '10.244.108.0/26'],
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    const other = await startBird(new BirdPeer({ lab, node: c, asNumber: 65300, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(bird, k.ipv4);
    await waitPeerState(other, k.ipv4);
    // The other peer gets what Kite accepted: 108 (its interface eth0 is not cali*), not 107.
    expect(await waitPeerRoute(other, '10.244.108.0/26')).toMatchObject({ asPath: [CLUSTER_AS, 65100] });
    expect(await waitPeerRoute(other, '10.244.7.0/26')).toMatchObject({ asPath: [CLUSTER_AS] });
    expect((await other.rib('ipv4')).map((r) => r.prefix)).not.toContain('10.244.107.0/26');
  });

  // Item 8. With bindMode NodeIP, confd sets BIRD's listen address to the node's IP
  // (bgp_processor.go populateNodeConfig: ListenAddress = NodeIP / NodeIPv6 per family).
  it('bindMode NodeIP listens only on the node\'s IPv4 and IPv6 addresses', async () => {
    const k = n('k8'), b = n('b8');
    await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false, bindMode: 'NodeIP' },
      nodes: [kiteNode(k, ['10.244.8.0/26'])],
      pools: POOLS,
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100 }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.8.0/26')).toMatchObject({ asPath: [CLUSTER_AS] });
    const listeners = await waitFor('two BGP listeners', async () => {
      const r = await lab.exec(k, 'ss', ['-ltnH', 'sport', '=', ':179']);
      const local = r.stdout.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[3] ?? '').sort();
      return local.length >= 2 ? local : undefined;
    });
    expect(listeners).toEqual([`${k.ipv4}:179`, `[${k.ipv6}]:179`].sort());
  });

  // Item 9. Calico's template bgp_template has `add paths on;` and every session (mesh, global,
  // node-specific, local workload) derives from it, eBGP included: Kite offers ADD-PATH (RFC 7911)
  // send and receive on an eBGP session, and BIRD, configured the same, negotiates both directions.
  it('ADD-PATH capability on eBGP sessions too', async () => {
    const k = n('k9'), b = n('b9');
    await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.9.0/26'])],
      pools: POOLS,
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100 }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS, addPaths: true }] }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.9.0/26')).toMatchObject({ asPath: [CLUSTER_AS] });
    const out = await bird.birdc('show', 'protocols', 'all', BirdPeer.protoName(0));
    expect(/Session:\s+(.*)/.exec(out)?.[1], out).toMatch(/external/);
    // What BIRD received in Kite's OPEN: ADD-PATH receive and send, for the session's one family
    // (an IPv4 peer is in bird.cfg, which has only IPv4: see "one address family per session").
    const caps = out.split('Neighbor capabilities')[1]?.split('Session:')[0] ?? '';
    expect(caps, out).toMatch(/ADD-PATH\s+RX: ipv4\s+TX: ipv4\n/);
  });

  // Item 10. A BGPPeer with localWorkloadSelector peers with workloads on the node (a virtual
  // router pod): Felix matches the selector against the node's workload endpoints, confd makes one
  // Local_Workload_<ip> protocol per endpoint (bgp_processor.go processPeersFromPath), rendered as
  // `local as <localASNumber>; neighbor <pod IP> as <asNumber>; passive on; multihop;` (golden
  // config confd/tests compiled_templates explicit_peering/local_bgp_peer/bird.cfg). The "pod" is
  // a BIRD whose address a WorkloadEndpoint on Kite's node holds; it dials Kite, which waits.
  it('localWorkloadSelector peers: a session with each selected workload on the node', async () => {
    const k = n('k10'), b = n('b10');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.10.0/26'])],
      pools: POOLS,
      peers: [{ name: 'vrouters', localWorkloadSelector: "app == 'vrouter'", asNumber: 65200, localASNumber: 65002 }],
      workloads: [
        { node: 'kite', pod: 'vrouter-0', ip: b.ipv4, interfaceName: 'cali0000000001', labels: { app: 'vrouter' } },
        { node: 'kite', pod: 'web-0', ip: '10.244.10.9', interfaceName: 'cali0000000002', labels: { app: 'web' } },
      ],
    }), 'none');
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65200, announce: ['10.244.110.0/26'], neighbors: [{ address: k.ipv4, asNumber: 65002 }] }));
    await waitPeerState(bird, k.ipv4);
    expect(await waitPeerRoute(bird, '10.244.10.0/26')).toMatchObject({ nextHop: k.ipv4, asPath: [65002] });
    expect((await kite.waitRoute('10.244.110.0/26')).paths[0]?.asPath).toEqual([65200]);
    const peers = await kite.peers();
    expect(peers.map((p) => [p.address, p.name, p.state])).toEqual([[b.ipv4, 'vrouters-kite-k8s-vrouter--0-eth0', 'Established']]);
    const detail = await kite.peerDetail(b.ipv4);
    expect(detail.session.passive).toBe(true);
  });
  // Conformance issue 11, remaining item 5. calico-node runs two BIRDs: `bird` from bird.cfg with
  // the IPv4 peers (peer_v4, ip_addr_v4) and `bird6` from bird6.cfg with the IPv6 ones, confd
  // rendering each per IP version (bgp_processor.go GetBirdBGPConfig(ipVersion); projectcalico/bird
  // builds each for one family). So a session to an IPv4 address announces and carries IPv4
  // unicast only, one to an IPv6 address IPv6 only, and a dual-stack pair has two sessions.
  it('one address family per session: IPv4 on the IPv4 session, IPv6 on the IPv6 one', async () => {
    const k = n('k11'), b = n('b11');
    await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.11.0/26', 'fd00:10:244:11::/122'])],
      pools: POOLS,
      peers: [{ name: 'bird4', peerIP: b.ipv4, asNumber: 65100 }, { name: 'bird6', peerIP: b.ipv6, asNumber: 65100 }],
    }), 'none');
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100,
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }, { address: k.ipv6, asNumber: CLUSTER_AS }] }));
    await waitPeerState(bird, k.ipv4);
    await waitPeerState(bird, k.ipv6);
    expect(await waitPeerRoute(bird, '10.244.11.0/26')).toMatchObject({ nextHop: k.ipv4, asPath: [CLUSTER_AS] });
    expect(await waitPeerRoute(bird, 'fd00:10:244:11::/122')).toMatchObject({ nextHop: k.ipv6, asPath: [CLUSTER_AS] });
    // What Kite's OPEN announced on each session (BIRD's "Neighbor capabilities").
    const announced = async (i: number): Promise<string> => {
      const out = await bird.birdc('show', 'protocols', 'all', BirdPeer.protoName(i));
      const caps = out.split('Neighbor capabilities')[1]?.split('Session:')[0] ?? '';
      return /AF announced:\s*(.*)/.exec(caps)?.[1]?.trim() ?? out;
    };
    expect(await announced(0)).toBe('ipv4');
    expect(await announced(1)).toBe('ipv6');
  });

  // Conformance issue 11, remaining item 2. Every session in Calico's BIRD config derives from
  // bgp_template, which says `multihop;` and `gateway recursive;` (confd bird.cfg.template; the mesh
  // in bgp_processor.go too: "Mesh peers always use ttl security off with multihop"). BIRD keeps a
  // third-party next hop toward an eBGP peer only on a single-hop session whose interface the next
  // hop is on (Calico's BIRD 1.6 fork, projectcalico/bird proto/bgp/attrs.c: "eBGP multi-hop -> use
  // source_addr"; BIRD 2 attrs.c bgp_use_next_hop alike), and a multihop session has no neighbour
  // entry (bgp.c bgp_start_locked): so calico-node sends its own address to a ToR on the shared
  // subnet even for another node's block on that subnet, unless the BGPPeer says nextHopMode Keep
  // (confd: `next hop keep;`) or keepOriginalNextHop on eBGP. Here c12 is another node (iBGP, same
  // subnet) announcing its block; b12 is a ToR with the default, d12 one with nextHopMode Keep.
  it('eBGP next hop: self toward a ToR on the shared subnet, the original with nextHopMode Keep', async () => {
    const k = n('k12'), b = n('b12'), c = n('c12'), d = n('d12');
    await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.12.0/26'])],
      pools: POOLS,
      peers: [
        { name: 'node-c', peerIP: c.ipv4, asNumber: CLUSTER_AS },
        { name: 'tor', peerIP: b.ipv4, asNumber: 65100 },
        { name: 'tor-keep', peerIP: d.ipv4, asNumber: 65100, nextHopMode: 'Keep' },
      ],
    }), 'none');
    const other = await startBird(new BirdPeer({ lab, node: c, asNumber: CLUSTER_AS, announce: ['10.244.112.0/26'], neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    const tor = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    const torKeep = await startBird(new BirdPeer({ lab, node: d, asNumber: 65100, instance: 'keep', neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(other, k.ipv4);
    expect(await waitPeerRoute(tor, '10.244.112.0/26')).toMatchObject({ nextHop: k.ipv4, asPath: [CLUSTER_AS] });
    expect(await waitPeerRoute(tor, '10.244.12.0/26')).toMatchObject({ nextHop: k.ipv4 });
    expect(await waitPeerRoute(torKeep, '10.244.112.0/26')).toMatchObject({ nextHop: c.ipv4, asPath: [CLUSTER_AS] });
  });
  // Conformance issue 11, remaining items 1 and 3: a next hop behind a gateway. The BIRD peer is
  // one hop away (eBGP, shared subnet) but sets NEXT_HOP 198.19.70.5, reached through a kernel
  // route `198.19.70.0/24 via <peer>` on Kite's host.
  // 1. Calico's sessions are `multihop; gateway recursive;` (bird.cfg.template bgp_template), so
  //    BIRD does not apply its single-hop check (proto/bgp/packets.c bgp_apply_next_hop checks
  //    only in `gateway direct`): the route is accepted, its next hop resolved through the table.
  // 2. Such a route's `ifname` is the interface of the route to its next hop (BIRD's table has the
  //    kernel's routes: `protocol kernel { learn; import all; }`), here eth0, so the BGPFilter
  //    rule `interface: eth0` matches it; before, Kite gave such a route no interface.
  it('a next hop behind a gateway: accepted, and its interface is the kernel route\'s (BGPFilter interface)', async () => {
    const k = n('k13'), b = n('b13');
    await lab.mustExec(k, 'ip', ['route', 'add', '198.19.70.0/24', 'via', b.ipv4]);
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false },
      nodes: [kiteNode(k, ['10.244.13.0/26'])],
      pools: POOLS,
      filters: [{ name: 'by-interface', importV4: [{ action: 'Reject', interface: 'eth0', cidr: '10.244.113.0/26', matchOperator: 'Equal' }] }],
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100, filters: ['by-interface'] }],
    }), 'none');
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, announce: ['10.244.113.0/26', '10.244.114.0/26'],
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS, nextHopSelf: false, exportStatements: 'bgp_next_hop = 198.19.70.5;' }] }));
    await waitPeerState(bird, k.ipv4);
    expect((await kite.waitRoute('10.244.114.0/26')).paths[0]?.nextHop).toBe('198.19.70.5');
    await kite.waitPeer(b.ipv4, 'two received, one accepted', (p) => p.prefixesReceived === 2 && p.prefixesAccepted === 1);
    expect((await kite.routes()).map((r) => r.prefix)).not.toContain('10.244.113.0/26');
  });
  // Conformance issue 11, remaining item 4. BGPConfiguration programClusterRoutes (Calico 3.32+)
  // says which pools' cluster routes the BGP side programs: confd's clusterRoutePolicyFromBGPConfig
  // and processIPPool give BIRD's kernel filter `reject; # Cluster routes are handled by Felix.`
  // for the others (EnabledNoEncapOnly: IPIP pools are Felix's). The routes are still learned.
  it('programClusterRoutes EnabledNoEncapOnly: the IPIP pool\'s routes are left to Felix', async () => {
    const k = n('k14'), b = n('b14');
    const kite = await startKite(k, clusterYaml({
      bgp: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: false, programClusterRoutes: 'EnabledNoEncapOnly' },
      nodes: [kiteNode(k, ['10.244.14.0/26'], { ipv4IPIPTunnelAddr: '10.245.14.1' })],
      pools: [...POOLS, { name: 'ipip', cidr: '10.245.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never' }],
      peers: [{ name: 'bird', peerIP: b.ipv4, asNumber: 65100 }],
    }));
    const bird = await startBird(new BirdPeer({ lab, node: b, asNumber: 65100, announce: ['10.244.114.0/26', '10.245.114.0/26'],
      neighbors: [{ address: k.ipv4, asNumber: CLUSTER_AS }] }));
    await waitPeerState(bird, k.ipv4);
    await kite.waitRoute('10.245.114.0/26');
    const fib = await waitFor('both routes judged', async () => {
      const f = await kite.fib();
      const st = (p: string): string | undefined => f.routes.find((r) => r.prefix === p)?.state;
      return st('10.244.114.0/26') === 'programmed' && st('10.245.114.0/26') === 'refused' ? f : undefined;
    });
    expect(fib.routes.find((r) => r.prefix === '10.245.114.0/26')?.reason)
      .toBe('pool ipip is an IPIP pool: BGPConfiguration programClusterRoutes EnabledNoEncapOnly leaves its cluster routes to Felix');
    const kernel = await lab.mustExec(k, 'ip', ['route', 'show', 'proto', '75']);
    expect(kernel).toMatch(/^10\.244\.114\.0\/26 via /m);
    expect(kernel).not.toMatch(/10\.245\.114\.0/);
  });
});
