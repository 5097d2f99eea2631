// The daemon on the Kubernetes datastore: node-1's identity comes from its Node annotations,
// its block from a BlockAffinity CRD, peers from BGPPeer/mesh, all served by the local
// list/watch server; an edit made through the API reaches the running daemon.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Daemon } from '../src/daemon.js';
import { FakeApiServer } from './datastore/kubernetes/fake-apiserver.js';
import { baseCluster, calico, k8sNode } from './datastore/kubernetes/fixtures.js';
import { loadRbac } from './datastore/kubernetes/rbac.js';
import { eventually } from './helpers/eventually.js';
import { vxlanMac } from '../src/ipam/names.js';

const dir = mkdtempSync(join(tmpdir(), 'kite-k8s-'));
let server: FakeApiServer | undefined;
let daemon: Daemon | undefined;
let server2: FakeApiServer | undefined;
let daemon2: Daemon | undefined;
let server3: FakeApiServer | undefined;
let daemon3: Daemon | undefined;
let server4: FakeApiServer | undefined;
let daemon4: Daemon | undefined;
let server5: FakeApiServer | undefined;
let daemon5: Daemon | undefined;

const extra: { s: FakeApiServer; d: Daemon }[] = [];

/** The IPAM objects of a node's block whose first address is allocated to `handle` with calico-node's tunnel attributes (none when undefined). */
function tunnelIpam(node: string, cidr: string, handle: string | undefined, type: string | undefined): Record<string, unknown>[] {
  const n = 2 ** (32 - Number(cidr.split('/')[1]));
  const attr = handle === undefined ? {} : { handle_id: handle, secondary: { node, type } };
  const name = cidr.replace(/[./]/g, '-');
  return [
    calico('BlockAffinity', `${node}-${name}`, { state: 'confirmed', node, type: 'host', cidr, deleted: 'false' }),
    calico('IPAMBlock', name, { cidr, affinity: `host:${node}`, strictAffinity: false, allocations: [0, ...Array<null>(n - 1).fill(null)],
      unallocated: Array.from({ length: n - 1 }, (_v, i) => i + 1), attributes: [attr], sequenceNumber: 1, sequenceNumberForAllocation: { 0: 1 }, deleted: false }),
    ...(handle === undefined ? [] : [calico('IPAMHandle', handle, { handleID: handle, block: { [cidr]: 1 }, deleted: false })]),
  ];
}

afterAll(async () => {
  for (const { s, d } of extra) { await d.stop('test over').catch(() => {}); await s.close(); }
  await daemon?.stop('test over').catch(() => {});
  await daemon2?.stop('test over').catch(() => {});
  await daemon3?.stop('test over').catch(() => {});
  await daemon4?.stop('test over').catch(() => {});
  await daemon5?.stop('test over').catch(() => {});
  await server5?.close();
  await server4?.close();
  await server?.close();
  await server2?.close();
  await server3?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('daemon with --datastore kubernetes', () => {
  it('derives node-1 from the cluster and follows changes made through the API', async () => {
    server = await FakeApiServer.start();
    for (const o of baseCluster()) server.put(o as Record<string, unknown>);
    daemon = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server.kubeconfig(), node: 'node-1',
      socket: join(dir, 'k.sock'), dataplane: 'none', listenAddress: '127.0.0.61', listenPort: 0 }, pino({ level: 'silent' }));
    await daemon.start();
    expect(daemon.syncStatus).toBe('in-sync');
    const s = daemon.summary();
    expect(s).toMatchObject({ node: 'node-1', routerId: '10.0.0.5', asNumber: 64512 });
    // node-1 is in rack a, so the ToR BGPPeer applies; node-2 is a route reflector, so no mesh session to it.
    expect(s.peers.map((p) => p.address)).toContain('10.0.0.1');
    const prefixes = () => daemon!.routes({}).map((r) => r.prefix).sort().join(' ');
    expect(prefixes()).toBe('10.244.1.0/26 10.96.0.0/12');
    // A second block claimed through the API is originated live.
    server.put(calico('BlockAffinity', 'node-1-10-244-1-64-26', { node: 'node-1', cidr: '10.244.1.64/26', state: 'confirmed', deleted: 'false' }));
    await eventually('the new block', () => prefixes() === '10.244.1.0/26 10.244.1.64/26 10.96.0.0/12');
  });

  it('allocates the IPIP tunnel address in Calico\'s IPAM objects and writes the Node annotation, as calico-node does', async () => {
    server2 = await FakeApiServer.start({ writable: true });
    for (const o of [
      calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
      calico('IPPool', 'ipip-pool', { cidr: '10.245.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }),
      // node-3 has an address but no tunnel address and no block yet.
      k8sNode('node-3', { 'projectcalico.org/IPv4Address': '10.0.0.9/24' }),
    ]) server2.put(o as Record<string, unknown>);
    daemon2 = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server2.kubeconfig(), node: 'node-3',
      socket: join(dir, 'k2.sock'), dataplane: 'none', listenAddress: '127.0.0.62', listenPort: 0 }, pino({ level: 'silent' }));
    await daemon2.start();
    const annotation = () => (server2!.get('v1', 'Node', 'node-3')?.['metadata'] as { annotations?: Record<string, string> }).annotations?.['projectcalico.org/IPv4IPIPTunnelAddr'];
    await eventually('the tunnel address annotation', () => annotation() !== undefined);
    const addr = annotation()!;
    expect(addr).toMatch(/^10\.245\.\d+\.\d+$/);
    // Calico's objects: an affinity for node-3, the block holding the address, the handle.
    const writes = server2.writes.map((w) => `${w.method} ${w.path}`);
    expect(writes).toContain('POST /apis/crd.projectcalico.org/v1/blockaffinities');
    expect(writes).toContain('POST /apis/crd.projectcalico.org/v1/ipamblocks');
    expect(writes.some((w) => w.startsWith('POST /apis/crd.projectcalico.org/v1/ipamhandles'))).toBe(true);
    expect(writes).toContain('PATCH /api/v1/nodes/node-3');
    const patch = server2.writes.find((w) => w.method === 'PATCH')!;
    expect(JSON.parse(patch.body)).toEqual({ metadata: { annotations: { 'projectcalico.org/IPv4IPIPTunnelAddr': addr } } });
    // The block is node-3's (confirmed), contains the address, and node-3 originates it.
    const block = `${addr.split('.').slice(0, 3).join('.')}.${Number(addr.split('.')[3]) & 0xc0}/26`;
    await eventually('the claimed block originated', () => daemon2!.routes({}).some((r) => r.prefix === block));
    expect(daemon2.summary().node).toBe('node-3');
    // Every request Kite made is granted by containers/clusterrole.yaml (the verbs IPAM added too).
    const allowed = loadRbac();
    const verbOf: Record<string, string> = { POST: 'create', PUT: 'update', DELETE: 'delete', PATCH: 'patch' };
    const asked = [
      ...server2.writes.map((w) => [w.path, verbOf[w.method]!] as const),
      ...server2.requests.filter((q) => /\/ipam|\/blockaffinities/.test(q.path)).map((q) => [q.path, q.watch ? 'watch' : /\/(ipamhandles|ipamblocks|blockaffinities)\/[^/]+$/.test(q.path) ? 'get' : 'list'] as const),
    ];
    for (const [path, verb] of asked) {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/([^/]+)(?:\/[^/]+)?$/.exec(path)!;
      const [group, resource] = [m[1] ?? '', m[2]!];
      expect(allowed(group, resource, verb), `${verb} ${group}/${resource}`).toBe(true);
    }
    // The Node's other annotations are untouched by the merge patch.
    expect((server2.get('v1', 'Node', 'node-3')?.['metadata'] as { annotations: Record<string, string> }).annotations['projectcalico.org/IPv4Address']).toBe('10.0.0.9/24');
  });

  it('allocates the VXLAN VTEP from the VXLAN pool and writes it with the MAC, as calico-node does (issue 15)', async () => {
    server3 = await FakeApiServer.start({ writable: true });
    for (const o of [
      calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
      calico('IPPool', 'vxlan-pool', { cidr: '10.246.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: true, nodeSelector: 'all()' }),
      k8sNode('node-4', { 'projectcalico.org/IPv4Address': '10.0.0.10/24' }),
    ]) server3.put(o as Record<string, unknown>);
    daemon3 = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server3.kubeconfig(), node: 'node-4',
      socket: join(dir, 'k3.sock'), dataplane: 'none', listenAddress: '127.0.0.63', listenPort: 0 }, pino({ level: 'silent' }));
    await daemon3.start();
    const annotations = () => (server3!.get('v1', 'Node', 'node-4')?.['metadata'] as { annotations?: Record<string, string> }).annotations ?? {};
    await eventually('the VTEP annotation', () => annotations()['projectcalico.org/IPv4VXLANTunnelAddr'] !== undefined);
    const addr = annotations()['projectcalico.org/IPv4VXLANTunnelAddr']!;
    expect(addr).toMatch(/^10\.246\.\d+\.\d+$/);
    expect(annotations()['projectcalico.org/VXLANTunnelMACAddr']).toBe(vxlanMac('node-4'));
    expect(annotations()['projectcalico.org/IPv4IPIPTunnelAddr']).toBeUndefined();
    // calico-node's handle for it.
    expect(server3.writes.some((w) => w.method === 'POST' && w.path.startsWith('/apis/crd.projectcalico.org/v1/ipamhandles') && w.body.includes('vxlan-tunnel-addr-node-4'))).toBe(true);
    const block = `${addr.split('.').slice(0, 3).join('.')}.${Number(addr.split('.')[3]) & 0xc0}/26`;
    await eventually('the claimed block originated', () => daemon3!.routes({}).some((r) => r.prefix === block));
  });

  it('writes the VXLAN MAC to a Node that has a VTEP address but no MAC (calico-node\'s allocateip writes only the address)', async () => {
    server4 = await FakeApiServer.start({ writable: true });
    for (const o of [
      calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
      calico('IPPool', 'vxlan-pool', { cidr: '10.247.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: true, nodeSelector: 'all()' }),
      k8sNode('node-5', { 'projectcalico.org/IPv4Address': '10.0.0.11/24', 'projectcalico.org/IPv4VXLANTunnelAddr': '10.247.0.0' }),
      // calico-node's allocateip left the VTEP allocated in IPAM under its handle and attributes.
      ...tunnelIpam('node-5', '10.247.0.0/26', 'vxlan-tunnel-addr-node-5', 'vxlanTunnelAddress'),
    ]) server4.put(o as Record<string, unknown>);
    daemon4 = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server4.kubeconfig(), node: 'node-5',
      socket: join(dir, 'k4.sock'), dataplane: 'none', listenAddress: '127.0.0.64', listenPort: 0 }, pino({ level: 'silent' }));
    await daemon4.start();
    const annotations = () => (server4!.get('v1', 'Node', 'node-5')?.['metadata'] as { annotations?: Record<string, string> }).annotations ?? {};
    await eventually('the MAC annotation', () => annotations()['projectcalico.org/VXLANTunnelMACAddr'] === vxlanMac('node-5'));
    // Once the Node carries the MAC, its VTEP is checked in IPAM (listing the blocks): the
    // allocation is this node's VTEP's, so it is kept; nothing is created or replaced.
    await eventually('the VTEP checked in IPAM', () => server4!.requests.some((q) => !q.watch && q.path === '/apis/crd.projectcalico.org/v1/ipamblocks'));
    await new Promise((r) => setTimeout(r, 100));
    expect(annotations()['projectcalico.org/IPv4VXLANTunnelAddr']).toBe('10.247.0.0');
    expect(server4.writes.filter((w) => w.method === 'POST')).toEqual([]);
    expect(server4.writes.filter((w) => w.method === 'PATCH')).toHaveLength(1);
  });

  it('re-registers a Node\'s IPIP address allocated without handle, and replaces one IPAM does not hold (calico-node allocateip)', async () => {
    // node/pkg/allocateip ensureHostTunnelAddress: an allocation without handle and attributes is
    // released and assigned again exactly under "ipip-tunnel-addr-<node>" (the Node unchanged);
    // an address not allocated at all is replaced by a new one, written to the Node.
    const legacy = tunnelIpam('node-7', '10.249.0.0/26', undefined, undefined);
    const start = async (node: string, addr: string, objs: Record<string, unknown>[], host: string): Promise<{ s: FakeApiServer; d: Daemon }> => {
      const s = await FakeApiServer.start({ writable: true });
      for (const o of [
        calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
        calico('IPPool', 'ipip-pool', { cidr: '10.249.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }),
        k8sNode(node, { 'projectcalico.org/IPv4Address': '10.0.0.13/24', 'projectcalico.org/IPv4IPIPTunnelAddr': addr }),
        ...objs,
      ]) s.put(o);
      const d = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: s.kubeconfig(), node,
        socket: join(dir, `${node}.sock`), dataplane: 'none', listenAddress: host, listenPort: 0 }, pino({ level: 'silent' }));
      extra.push({ s, d });
      await d.start();
      return { s, d };
    };
    const a = await start('node-7', '10.249.0.0', legacy, '127.0.0.66');
    await eventually('the address re-registered under the handle', () => a.s.writes.some((w) => w.method === 'PUT' && w.path.endsWith('/ipamblocks/10-249-0-0-26')
      && w.body.includes('"attributes":[{"handle_id":"ipip-tunnel-addr-node-7","secondary":{"node":"node-7","type":"ipipTunnelAddress"}}]')));
    expect(a.s.writes.some((w) => w.method === 'POST' && w.path.endsWith('/ipamhandles') && w.body.includes('"ipip-tunnel-addr-node-7"'))).toBe(true);
    expect(a.s.writes.filter((w) => w.method === 'PATCH')).toEqual([]);

    const b = await start('node-8', '10.249.9.9', [], '127.0.0.67');
    const annotation = () => (b.s.get('v1', 'Node', 'node-8')?.['metadata'] as { annotations?: Record<string, string> }).annotations?.['projectcalico.org/IPv4IPIPTunnelAddr'];
    await eventually('a new IPIP address written to the Node', () => annotation() !== '10.249.9.9');
    expect(annotation()).toMatch(/^10\.249\./);
    expect(b.s.writes.some((w) => w.method === 'POST' && w.path.endsWith('/ipamhandles') && w.body.includes('"ipip-tunnel-addr-node-8"'))).toBe(true);
  });

  it('allocates the IPv6 VTEP from the IPv6 VXLAN pool with calico-node\'s handle and attributes, and writes it with the v6 MAC', async () => {
    // calico-node's allocateip (node/pkg/allocateip): handle "vxlan-v6-tunnel-addr-<node>",
    // attributes {node, type: vxlanV6TunnelAddress}; the Node's IPv6VXLANTunnelAddr and
    // VXLANTunnelMACAddrV6 annotations (libcalico-go's kdd node conversion).
    server5 = await FakeApiServer.start({ writable: true });
    for (const o of [
      calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
      calico('IPPool', 'vxlan-pool', { cidr: '10.248.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Always', natOutgoing: true, nodeSelector: 'all()' }),
      calico('IPPool', 'vxlan-pool-v6', { cidr: 'fd00:248::/48', blockSize: 122, ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: false, nodeSelector: 'all()' }),
      k8sNode('node-6', { 'projectcalico.org/IPv4Address': '10.0.0.12/24', 'projectcalico.org/IPv6Address': 'fd00:0:12::6/64' }),
    ]) server5.put(o as Record<string, unknown>);
    daemon5 = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server5.kubeconfig(), node: 'node-6',
      socket: join(dir, 'k5.sock'), dataplane: 'none', listenAddress: '127.0.0.65', listenPort: 0 }, pino({ level: 'silent' }));
    await daemon5.start();
    const annotations = () => (server5!.get('v1', 'Node', 'node-6')?.['metadata'] as { annotations?: Record<string, string> }).annotations ?? {};
    await eventually('both VTEP annotations', () => annotations()['projectcalico.org/IPv6VXLANTunnelAddr'] !== undefined
      && annotations()['projectcalico.org/IPv4VXLANTunnelAddr'] !== undefined);
    const addr6 = annotations()['projectcalico.org/IPv6VXLANTunnelAddr']!;
    expect(addr6).toMatch(/^fd00:248:/);
    expect(annotations()['projectcalico.org/VXLANTunnelMACAddrV6']).toBe(vxlanMac('node-6', 6));
    expect(annotations()['projectcalico.org/VXLANTunnelMACAddr']).toBe(vxlanMac('node-6', 4));
    expect(vxlanMac('node-6', 6)).not.toBe(vxlanMac('node-6', 4));
    const handles = server5.writes.filter((w) => w.method === 'POST' && w.path.startsWith('/apis/crd.projectcalico.org/v1/ipamhandles'));
    expect(handles.some((w) => w.body.includes('"vxlan-v6-tunnel-addr-node-6"'))).toBe(true);
    expect(handles.some((w) => w.body.includes('"vxlan-tunnel-addr-node-6"'))).toBe(true);
    // The IPv6 block that holds it: its attribute says what the address is for.
    const blocks = server5.writes.filter((w) => w.path.startsWith('/apis/crd.projectcalico.org/v1/ipamblocks') && w.body.includes('fd00:248:'));
    expect(blocks.length).toBeGreaterThan(0);
    const spec = (JSON.parse(blocks.at(-1)!.body) as { spec: { cidr: string; attributes: Array<{ handle_id: string; secondary: Record<string, string> }> } }).spec;
    expect(spec.attributes).toContainEqual({ handle_id: 'vxlan-v6-tunnel-addr-node-6', secondary: { node: 'node-6', type: 'vxlanV6TunnelAddress' } });
    await eventually('the claimed IPv6 block originated', () => daemon5!.routes({}).some((r) => r.prefix === spec.cidr));
  });
});
