// Tests for deriveNodeConfig: the mesh and its string-compare passive rule, route reflectors,
// which BGPPeers apply to a node, reverse peering, ports, originated blocks and defaults.
// Resources are written as YAML (the same text a user writes) and parsed by the file loader.
import { describe, expect, it } from 'vitest';
import { deriveNodeConfig, type NodeConfig, type PeerConfig } from '../../src/config/node-config.js';
import { ConfigError } from '../../src/datastore/errors.js';
import { loadFile, parseResources } from '../../src/datastore/file.js';

const V3 = 'apiVersion: projectcalico.org/v3';
const node = (name: string, v4: string | null, extra: { labels?: string; v6?: string; as?: number; rr?: string } = {}): string => `${V3}
kind: Node
metadata:
  name: ${name}
  labels: {${extra.labels ?? ''}}
spec:
  bgp:
${v4 === null ? '' : `    ipv4Address: ${v4}\n`}${extra.v6 === undefined ? '' : `    ipv6Address: "${extra.v6}"\n`}${extra.as === undefined ? '' : `    asNumber: ${extra.as}\n`}${extra.rr === undefined ? '' : `    routeReflectorClusterID: ${extra.rr}\n`}`;
const peer = (name: string, spec: string): string => `${V3}\nkind: BGPPeer\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
const bgpConfig = (name: string, spec: string): string => `${V3}\nkind: BGPConfiguration\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
const pool = (name: string, spec: string): string => `${V3}\nkind: IPPool\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
const affinity = (name: string, spec: string): string => `${V3}\nkind: BlockAffinity\nmetadata: {name: ${name}}\nspec: ${spec}\n`;

const derive = (docs: string[], nodeName: string): NodeConfig => deriveNodeConfig(parseResources(docs.join('---\n'), 'test.yaml'), nodeName);
const byAddr = (c: NodeConfig, a: string): PeerConfig | undefined => c.peers.find((p) => p.address === a);
const summary = (c: NodeConfig): string[] => c.peers.map((p) => `${p.name} ${p.address}:${p.port} AS${p.asNumber}${p.passive ? ' passive' : ''}`);

describe('the shipped example', () => {
  it('node-1: mesh to node-2 and node-3, the ToR, its own block', async () => {
    const c = deriveNodeConfig(await loadFile('examples/kite.yaml'), 'node-1');
    expect(c).toMatchObject({
      node: 'node-1', asNumber: 64512, routerId: '198.18.0.1', listenPort: 179,
      ipv4Address: { address: '198.18.0.1', prefixLength: 24, subnet: '198.18.0.0/24' },
    });
    expect(summary(c)).toEqual([
      'Mesh_198_18_0_2 198.18.0.2:179 AS64512 passive',
      'Mesh_198_18_0_3 198.18.0.3:179 AS64512 passive',
      'rack-r1-tor 198.18.0.254:179 AS65000',
    ]);
    expect(byAddr(c, '198.18.0.254')).toMatchObject({
      kind: 'bgppeer', resource: 'rack-r1-tor', localAsNumber: 64512, sourceAddress: '198.18.0.1', keepaliveTime: 30,
      multihop: true, restartTime: 120, nextHopMode: 'Auto',
    });
    expect(byAddr(c, '198.18.0.2')).toMatchObject({ kind: 'mesh', peerNode: 'node-2', sourceAddress: '198.18.0.1' });
    expect(c.originate).toEqual([{ prefix: '10.244.1.0/26', pool: 'default-ipv4-ippool' }]);
    expect(c.services.clusterIPs).toEqual(['10.96.0.0/12']);
  });
  it('node-3 (rack r2) has no ToR session and dials both mesh peers', async () => {
    const c = deriveNodeConfig(await loadFile('examples/kite.yaml'), 'node-3');
    expect(summary(c)).toEqual(['Mesh_198_18_0_1 198.18.0.1:179 AS64512', 'Mesh_198_18_0_2 198.18.0.2:179 AS64512']);
    expect(c.originate).toEqual([{ prefix: '10.244.3.0/26', pool: 'default-ipv4-ippool' }]);
  });
  it('an unknown node names the nodes that exist', async () => {
    const rs = await loadFile('examples/kite.yaml');
    expect(() => deriveNodeConfig(rs, 'node-9')).toThrow(ConfigError);
    expect(() => deriveNodeConfig(rs, 'node-9')).toThrow('node "node-9" not found: the configuration has nodes "node-1", "node-2", "node-3"');
  });
});

describe('mesh', () => {
  const docs = [node('a', '198.18.0.9/24'), node('b', '198.18.0.10/24')];
  it('passive toward a peer whose IP is greater AS A STRING ("198.18.0.9" > "198.18.0.10")', () => {
    // Numerically .10 > .9, so a numeric rule would make .9 passive; Calico compares strings.
    expect(byAddr(derive(docs, 'a'), '198.18.0.10')?.passive).toBe(false);
    expect(byAddr(derive(docs, 'b'), '198.18.0.9')?.passive).toBe(true);
  });
  it('exactly one side dials for every pair', () => {
    const addrs = ['198.18.0.1', '198.18.0.2', '198.18.0.10', '198.18.0.100', '198.18.1.9'];
    const all = addrs.map((a, i) => node(`n${i}`, `${a}/16`));
    const cfgs = addrs.map((_, i) => derive(all, `n${i}`));
    for (let i = 0; i < addrs.length; i++) {
      for (let j = i + 1; j < addrs.length; j++) {
        const ij = byAddr(cfgs[i] as NodeConfig, addrs[j] as string)?.passive;
        const ji = byAddr(cfgs[j] as NodeConfig, addrs[i] as string)?.passive;
        expect(ij !== ji, `${addrs[i] ?? ''} <-> ${addrs[j] ?? ''}`).toBe(true);
      }
    }
  });
  it('uses each node\'s AS and listen port (node.<name> overrides default)', () => {
    const c = derive([
      bgpConfig('default', '{asNumber: 65100, listenPort: 1179}'),
      bgpConfig('node.b', '{listenPort: 2179}'),
      node('a', '198.18.0.1/24'), node('b', '198.18.0.2/24', { as: 65200 }), node('c', '198.18.0.3/24'),
    ], 'a');
    expect(c.asNumber).toBe(65100);
    expect(c.listenPort).toBe(1179);
    expect(summary(c)).toEqual(['Mesh_198_18_0_2 198.18.0.2:2179 AS65200 passive', 'Mesh_198_18_0_3 198.18.0.3:1179 AS65100 passive']);
    expect(derive([bgpConfig('node.a', '{listenPort: 2179}'), node('a', '198.18.0.1/24')], 'a').listenPort).toBe(2179);
  });
  it('IPv6 sessions only between nodes that both have an IPv6 address', () => {
    const c = derive([
      node('a', '198.18.0.1/24', { v6: 'fd00::1/64' }), node('b', '198.18.0.2/24', { v6: 'fd00::2/64' }), node('c', '198.18.0.3/24'),
    ], 'a');
    expect(summary(c)).toEqual([
      'Mesh_198_18_0_2 198.18.0.2:179 AS64512 passive',
      'Mesh_198_18_0_3 198.18.0.3:179 AS64512 passive',
      'Mesh_fd00__2 fd00::2:179 AS64512 passive',
    ]);
    expect(byAddr(c, 'fd00::2')).toMatchObject({ family: 6, sourceAddress: 'fd00::1' });
  });
  it('can be disabled, and carries nodeMeshMaxRestartTime and nodeMeshPassword', () => {
    expect(derive([bgpConfig('default', '{nodeToNodeMeshEnabled: false}'), node('a', '198.18.0.1/24'), node('b', '198.18.0.2/24')], 'a').peers).toEqual([]);
    const c = derive([
      bgpConfig('default', '{nodeMeshMaxRestartTime: 5m, nodeMeshPassword: {secretKeyRef: {name: bgp, key: mesh}}}'),
      node('a', '198.18.0.1/24'), node('b', '198.18.0.2/24'),
    ], 'a');
    expect(c.peers[0]).toMatchObject({ maxRestartTime: 300, restartTime: 300, password: { secretKeyRef: { name: 'bgp', key: 'mesh' } } });
  });
});

describe('route reflectors', () => {
  const docs = [
    node('rr', '198.18.0.100/24', { labels: 'role: rr', rr: '244.0.0.1' }),
    node('a', '198.18.0.1/24'), node('b', '198.18.0.2/24'),
    peer('to-rr', `{nodeSelector: "!has(role)", peerSelector: "role == 'rr'"}`),
  ];
  it('a route reflector skips the mesh and gets its clients by reverse peering', () => {
    const c = derive(docs, 'rr');
    expect(c.routeReflectorClusterID).toBe('244.0.0.1');
    expect(c.peers.map((p) => [p.name, p.address, p.reverse, p.routeReflectorClient, p.routeReflectorClusterID])).toEqual([
      ['to-rr-a-reverse', '198.18.0.1', true, true, '244.0.0.1'],
      ['to-rr-b-reverse', '198.18.0.2', true, true, '244.0.0.1'],
    ]);
    expect(c.notes).toContain('this node is a route reflector (cluster ID 244.0.0.1), so it does not join the node-to-node mesh');
  });
  it('clients keep the mesh among themselves but reach the RR only through the BGPPeer', () => {
    const c = derive(docs, 'a');
    expect(summary(c)).toEqual(['Mesh_198_18_0_2 198.18.0.2:179 AS64512 passive', 'to-rr-rr 198.18.0.100:179 AS64512']);
    expect(byAddr(c, '198.18.0.100')).toMatchObject({ routeReflectorClient: false, peerNode: 'rr', reverse: false });
  });
});

describe('which BGPPeers apply', () => {
  const nodes = [node('a', '198.18.0.1/24', { labels: 'rack: r1' }), node('b', '198.18.0.2/24', { labels: 'rack: r2' })];
  const mesh = bgpConfig('default', '{nodeToNodeMeshEnabled: false}');
  const names = (docs: string[], n: string): string[] => derive([mesh, ...nodes, ...docs], n).peers.map((p) => p.name);
  it('global (no node, no nodeSelector; an empty nodeSelector counts as unset)', () => {
    const docs = [peer('g', '{peerIP: 10.0.0.1, asNumber: 65000}'), peer('g2', '{peerIP: 10.0.0.2, asNumber: 65000, nodeSelector: ""}')];
    expect(names(docs, 'a')).toEqual(['g', 'g2']);
    expect(names(docs, 'b')).toEqual(['g', 'g2']);
  });
  it('node', () => {
    const docs = [peer('p', '{node: b, peerIP: 10.0.0.1, asNumber: 65000}')];
    expect(names(docs, 'a')).toEqual([]);
    expect(names(docs, 'b')).toEqual(['p']);
  });
  it('nodeSelector', () => {
    const docs = [peer('p', `{nodeSelector: "rack in {'r1'}", peerIP: 10.0.0.1, asNumber: 65000}`)];
    expect(names(docs, 'a')).toEqual(['p']);
    expect(names(docs, 'b')).toEqual([]);
  });
  it('peerSelector: one session per selected node, never to itself, with its AS and port', () => {
    const docs = [
      bgpConfig('node.b', '{listenPort: 1790}'),
      node('c', '198.18.0.3/24', { labels: 'rack: r2', as: 65003 }),
      peer('p', `{node: a, peerSelector: "has(rack)", reversePeering: Manual}`),
    ];
    const c = derive([mesh, ...nodes, ...docs], 'a');
    expect(summary(c)).toEqual(['p-b 198.18.0.2:1790 AS64512', 'p-c 198.18.0.3:179 AS65003']);
    expect(c.peers.every((p) => p.kind === 'bgppeer' && p.resource === 'p')).toBe(true);
  });
  // Issue 11 item 3: the passive rule is the mesh's. confd's nodeAsBGPPeers (client.go) leaves
  // calico_node unset for nodes a peerSelector picks, and bgp_processor.go buildPeerFromData makes a
  // global peer passive only when calico_node is set and its IP is the greater: both sides dial.
  it('global peerSelector peerings between nodes are active on both sides (the passive rule is the mesh\'s)', () => {
    const docs = [peer('all', '{peerSelector: all()}')];
    expect(derive([mesh, ...nodes, ...docs], 'a').peers.map((p) => [p.address, p.passive])).toEqual([['198.18.0.2', false]]);
    expect(derive([mesh, ...nodes, ...docs], 'b').peers.map((p) => [p.address, p.passive])).toEqual([['198.18.0.1', false]]);
  });
  // Issue 11 item 4: confd keys peerings by (peer IP, port) (client.go updatePeersV1), so two
  // BGPPeers to one address on different ports are two sessions (bird.cfg: Node_<ip>_port_<port>).
  it('two BGPPeers to one address on different ports are two sessions; the same port twice is one', () => {
    const docs = [peer('a', '{peerIP: "10.0.0.1", asNumber: 65000}'), peer('b', '{peerIP: "10.0.0.1:1790", asNumber: 65001}'),
      peer('c', '{peerIP: "10.0.0.1:179", asNumber: 65002}')];
    const c = derive([mesh, ...nodes, ...docs], 'a');
    expect(summary(c)).toEqual(['a 10.0.0.1:179 AS65000', 'b 10.0.0.1:1790 AS65001']);
    expect(c.notes.join('\n')).toContain('10.0.0.1: global BGPPeer "a" is used; the global BGPPeer "c" session to the same address is dropped');
  });
  // Issue 11 item 10: confd's Local_Workload_<ip> peers (bgp_processor.go processPeersFromPath;
  // compiled_templates explicit_peering/local_bgp_peer/bird.cfg): the BGPPeer's asNumber, its
  // localASNumber as ours, passive, one per selected workload on this node and address family.
  it('localWorkloadSelector: a passive session with each selected workload endpoint on this node', () => {
    const wep = (name: string, nodeName: string, labels: string, ips: string): string =>
      `${V3}\nkind: WorkloadEndpoint\nmetadata: {name: ${name}, namespace: default, labels: {${labels}}}\nspec: {node: ${nodeName}, ipNetworks: [${ips}], profiles: []}\n`;
    const docs = [
      peer('vr', `{localWorkloadSelector: "app == 'vrouter'", asNumber: 65200, localASNumber: 65002}`),
      wep('a-k8s-vr-eth0', 'a', 'app: vrouter', '10.244.1.5/32'),
      wep('a-k8s-web-eth0', 'a', 'app: web', '10.244.1.6/32'),
      wep('b-k8s-vr-eth0', 'b', 'app: vrouter', '10.244.2.5/32'),
    ];
    const c = derive([mesh, ...nodes, ...docs], 'a');
    expect(summary(c)).toEqual(['vr-a-k8s-vr-eth0 10.244.1.5:179 AS65200 passive']);
    expect(c.peers[0]).toMatchObject({ localAsNumber: 65002, localWorkload: 'a-k8s-vr-eth0', resource: 'vr' });
  });
  it('BGPPeer fields reach the peer', () => {
    const c = derive([mesh, ...nodes, peer('p', `{peerIP: 10.0.0.1, asNumber: 65000, localASNumber: 65010, sourceAddress: None,
      maxRestartTime: 90s, keepaliveTime: 10s, keepOriginalNextHop: true, numAllowedLocalASNumbers: 2, ttlSecurity: 1,
      filters: [f1], password: {secretKeyRef: {name: s, key: k}}}`)], 'a');
    expect(c.peers[0]).toMatchObject({
      asNumber: 65000, localAsNumber: 65010, maxRestartTime: 90, restartTime: 90, keepaliveTime: 10, nextHopMode: 'Keep',
      keepOriginalNextHop: true, numAllowedLocalASNumbers: 2, ttlSecurity: 1, filters: ['f1'],
      password: { secretKeyRef: { name: 's', key: 'k' } },
    });
    expect(c.peers[0]?.sourceAddress).toBeUndefined();
    expect(c.peers[0]?.spec?.peerIP).toBe('10.0.0.1');
  });
  it('keepOriginalNextHop is ignored on iBGP; nextHopMode Self is kept', () => {
    const c = derive([mesh, ...nodes, peer('i', '{peerIP: 10.0.0.1, asNumber: 64512, keepOriginalNextHop: true}'),
      peer('s', '{peerIP: 10.0.0.2, asNumber: 65000, nextHopMode: Self}')], 'a');
    expect(c.peers.map((p) => p.nextHopMode)).toEqual(['Auto', 'Self']);
  });
});

describe('peer ports', () => {
  const nodes = [bgpConfig('default', '{nodeToNodeMeshEnabled: false}'), node('a', '198.18.0.1/24', { v6: 'fd00::1/64' })];
  it('from peerIP: ip, ip:port, [v6]:port, bare v6', () => {
    const c = derive([...nodes,
      peer('p1', '{peerIP: 10.0.0.1, asNumber: 65000}'),
      peer('p2', '{peerIP: "10.0.0.2:1790", asNumber: 65000}'),
      peer('p3', '{peerIP: "[fd00::2]:1791", asNumber: 65000}'),
      peer('p4', '{peerIP: "fd00::3", asNumber: 65000}'),
    ], 'a');
    expect(summary(c)).toEqual([
      'p1 10.0.0.1:179 AS65000', 'p2 10.0.0.2:1790 AS65000', 'p3 fd00::2:1791 AS65000', 'p4 fd00::3:179 AS65000',
    ]);
    expect(byAddr(c, 'fd00::2')).toMatchObject({ family: 6, sourceAddress: 'fd00::1' });
  });
  it('a peerIP that is a Calico node with the same AS uses that node\'s listen port', () => {
    const c = derive([...nodes, node('b', '198.18.0.2/24'), bgpConfig('node.b', '{listenPort: 2179}'),
      peer('p', '{node: a, peerIP: 198.18.0.2, asNumber: 64512}')], 'a');
    expect(summary(c)).toEqual(['p 198.18.0.2:2179 AS64512']);
    expect(c.peers[0]?.peerNode).toBe('b');
  });
});

describe('reverse peering', () => {
  const base = [
    bgpConfig('default', '{nodeToNodeMeshEnabled: false}'),
    node('a', '198.18.0.1/24', { labels: 'edge: "true"' }),
    node('b', '198.18.0.2/24'), node('c', '198.18.0.3/24'),
  ];
  it('a peerSelector selecting this node peers back to the node/nodeSelector side', () => {
    const docs = [...base, peer('to-edge', `{nodeSelector: "!has(edge)", peerSelector: "edge == 'true'", keepaliveTime: 20s}`)];
    const a = derive(docs, 'a');
    expect(a.peers.map((p) => [p.name, p.address, p.reverse, p.keepaliveTime])).toEqual([
      ['to-edge-b-reverse', '198.18.0.2', true, 20], ['to-edge-c-reverse', '198.18.0.3', true, 20],
    ]);
    expect(derive(docs, 'b').peers.map((p) => [p.name, p.reverse])).toEqual([['to-edge-a', false]]);
  });
  it('reversePeering Manual turns it off', () => {
    const docs = [...base, peer('to-edge', `{nodeSelector: "!has(edge)", peerSelector: "edge == 'true'", reversePeering: Manual}`)];
    expect(derive(docs, 'a').peers).toEqual([]);
    expect(derive(docs, 'b').peers.map((p) => p.name)).toEqual(['to-edge-a']);
  });
  it('a node-specific peering to a Calico node\'s IP and AS is reversed too', () => {
    const docs = [...base, peer('b-to-a', '{node: b, peerIP: 198.18.0.1, asNumber: 64512}')];
    expect(derive(docs, 'a').peers.map((p) => [p.address, p.reverse])).toEqual([['198.18.0.2', true]]);
    expect(derive([...base, peer('b-to-a', '{node: b, peerIP: 198.18.0.1, asNumber: 65000}')], 'a').peers).toEqual([]);
  });
  it('an explicit peering wins over a reverse one to the same address', () => {
    const docs = [...base,
      peer('to-edge', `{node: b, peerSelector: "edge == 'true'"}`),
      peer('a-to-b', '{node: a, peerIP: 198.18.0.2, asNumber: 64512, keepaliveTime: 5s}'),
    ];
    const a = derive(docs, 'a');
    expect(a.peers.map((p) => [p.name, p.reverse, p.keepaliveTime])).toEqual([['a-to-b', false, 5]]);
    expect(a.notes).toContain('198.18.0.2: node-specific BGPPeer "a-to-b" is used; the reverse peering "to-edge" session to the same address is dropped');
  });
});

describe('de-duplication and self', () => {
  it('a BGPPeer to a mesh peer\'s address replaces the mesh session, with a note', () => {
    const c = derive([node('a', '198.18.0.1/24'), node('b', '198.18.0.2/24'),
      peer('b-direct', '{node: a, peerIP: 198.18.0.2, asNumber: 64512, reversePeering: Manual}')], 'a');
    expect(c.peers.map((p) => [p.name, p.kind])).toEqual([['b-direct', 'bgppeer']]);
    expect(c.notes).toContain('198.18.0.2: node-specific BGPPeer "b-direct" is used; the node-to-node mesh session to the same address is dropped');
  });
  it('never peers with itself', () => {
    const c = derive([node('a', '198.18.0.1/24'), peer('self', '{peerIP: 198.18.0.1, asNumber: 65000}'),
      peer('sel', '{peerSelector: all()}')], 'a');
    expect(c.peers).toEqual([]);
    expect(c.notes).toContain('BGPPeer "self": peerIP 198.18.0.1 is this node\'s own address; skipped');
  });
});

describe('originated blocks', () => {
  const docs = [
    node('a', '198.18.0.1/24'),
    pool('main', '{cidr: 10.244.0.0/16}'),
    pool('off', '{cidr: 10.245.0.0/16, disableBGPExport: true}'),
    pool('old', '{cidr: 10.246.0.0/16, disabled: true}'),
    affinity('b1', '{node: a, cidr: 10.244.1.0/26, state: confirmed}'),
    affinity('b2', '{node: a, cidr: 10.244.2.0/26}'),
    affinity('b3', '{node: a, cidr: 10.244.3.0/26, state: pending}'),
    affinity('b4', '{node: a, cidr: 10.244.4.0/26, state: confirmed, deleted: "true"}'),
    affinity('b5', '{node: a, cidr: 10.245.1.0/26, state: confirmed}'),
    affinity('b6', '{node: a, cidr: 10.246.1.0/26, state: confirmed}'),
    affinity('b7', '{node: a, cidr: 192.168.0.0/26, state: confirmed}'),
    affinity('b8', '{node: other, cidr: 10.244.8.0/26, state: confirmed}'),
    affinity('b9', '{node: a, cidr: 10.244.9.0/26, state: pendingDeletion}'),
  ];
  // A block outside every pool is advertised: Calico's bird_aggr.cfg (confd) accepts each confirmed
  // or implicit affine block in calico_aggr() before bird_ipam.cfg's pool checks run (issue 11 item 1).
  it('confirmed or unset, not deleted, not in a disableBGPExport pool (disabled pools and no pool still export)', () => {
    const c = derive(docs, 'a');
    expect(c.originate).toEqual([
      { prefix: '10.244.1.0/26', pool: 'main' },
      { prefix: '10.244.2.0/26', pool: 'main' },
      { prefix: '10.246.1.0/26', pool: 'old' },
      { prefix: '192.168.0.0/26' },
    ]);
    expect(c.notes).toEqual(expect.arrayContaining([
      'block 10.244.3.0/26 (BlockAffinity "b3") is pending, not confirmed; not advertised',
      'block 10.244.4.0/26 (BlockAffinity "b4") is marked deleted; not advertised',
      'block 10.245.1.0/26 is in IPPool "off", which has disableBGPExport; not advertised',
      'block 192.168.0.0/26 (BlockAffinity "b7") is outside every IPPool; advertised as Calico does (its affinity stands)',
      'block 10.244.9.0/26 (BlockAffinity "b9") is pendingDeletion, not confirmed; not advertised',
    ]));
  });
  it('pools are listed with defaults and whether they select this node', () => {
    const c = derive([...docs, pool('sel', `{cidr: "fd00::/48", nodeSelector: "rack == 'x'"}`)], 'a');
    expect(c.pools.map((p) => [p.name, p.family, p.blockSize, p.selectsThisNode])).toEqual([
      ['main', 4, 26, true], ['off', 4, 26, true], ['old', 4, 26, true], ['sel', 6, 122, false],
    ]);
  });
});

describe('defaults and node settings', () => {
  it('AS 64512 and port 179 without any BGPConfiguration; node AS overrides', () => {
    expect(derive([node('a', '198.18.0.1/24')], 'a')).toMatchObject({ asNumber: 64512, listenPort: 179, nodeToNodeMeshEnabled: true, bindMode: 'None', logSeverityScreen: 'Info' });
    expect(derive([bgpConfig('default', '{asNumber: 65001}'), node('a', '198.18.0.1/24', { as: 65002 })], 'a').asNumber).toBe(65002);
  });
  // confd bgp_processor.go clusterRoutePolicyFromBGPConfig: which pool classes the BGP side
  // programs. Unset is Enabled in Kite (Calico's setting before 3.33; Calico 3.33 made its own
  // default EnabledNoEncapOnly, paired with Felix's EnabledIPIPOnly).
  it('programClusterRoutes: the pool classes Kite programs, and a note for those left to Felix', () => {
    const cr = (spec: string): NodeConfig => derive([bgpConfig('default', spec), node('a', '198.18.0.1/24')], 'a');
    expect(cr('{}').clusterRoutes).toEqual({ ipip: true, noEncap: true, setting: 'Enabled' });
    expect(cr('{}').notes.join('\n')).not.toMatch(/Felix/);
    expect(cr('{programClusterRoutes: EnabledIPIPOnly}').clusterRoutes).toEqual({ ipip: true, noEncap: false, setting: 'EnabledIPIPOnly' });
    expect(cr('{programClusterRoutes: EnabledNoEncapOnly}').clusterRoutes).toEqual({ ipip: false, noEncap: true, setting: 'EnabledNoEncapOnly' });
    const off = cr('{programClusterRoutes: Disabled}');
    expect(off.clusterRoutes).toEqual({ ipip: false, noEncap: false, setting: 'Disabled' });
    expect(off.notes).toContain("BGPConfiguration programClusterRoutes Disabled: routes to other nodes' blocks in IPIP and unencapsulated pools are left to Felix (FelixConfiguration programClusterRoutes must cover them)");
  });
  it('a node without an IPv4 address needs a router ID', () => {
    const docs = [node('a', null, { v6: 'fd00::1/64' })];
    expect(() => derive(docs, 'a')).toThrow(/node "a" has no spec.bgp.ipv4Address/);
    expect(deriveNodeConfig(parseResources(docs.join(''), 't.yaml'), 'a', { routerId: '10.9.9.9' }).routerId).toBe('10.9.9.9');
  });
  it('services, the exclude label and prefixAdvertisements with community names', () => {
    const c = derive([
      bgpConfig('default', `{serviceClusterIPs: [{cidr: 10.96.0.0/12}], serviceLoadBalancerIPs: [{cidr: 203.0.113.0/24}],
        communities: [{name: lb, value: "65000:100"}], prefixAdvertisements: [{cidr: 203.0.113.0/24, communities: [lb, "1:2:3"]}]}`),
      node('a', '198.18.0.1/24', { labels: 'node.kubernetes.io/exclude-from-external-load-balancers: "true"' }),
    ], 'a');
    expect(c.services).toEqual({ advertise: false, clusterIPs: ['10.96.0.0/12'], externalIPs: [], loadBalancerIPs: ['203.0.113.0/24'] });
    expect(c.prefixAdvertisements).toEqual([{ cidr: '203.0.113.0/24', communities: ['65000:100', '1:2:3'] }]);
  });
});

describe('IPAM blocks', () => {
  it('a block affine to this node in IPAMBlock only is originated once', () => {
    const block = (name: string, cidr: string, aff: string, deleted = false): string =>
      `${V3}\nkind: IPAMBlock\nmetadata: {name: ${name}}\nspec: {cidr: ${cidr}, affinity: "${aff}", deleted: ${deleted}}\n`;
    const c = derive([
      node('a', '198.18.0.1/24'), pool('main', '{cidr: 10.244.0.0/16}'),
      affinity('b1', '{node: a, cidr: 10.244.1.0/26, state: confirmed}'),
      block('x1', '10.244.1.0/26', 'host:a'), block('x2', '10.244.2.0/26', 'host:a'),
      block('x3', '10.244.3.0/26', 'host:b'), block('x4', '10.244.4.0/26', 'host:a', true),
    ], 'a');
    expect(c.originate.map((o) => o.prefix)).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
  });
});
