// VXLAN CrossSubnet on the real kernel (issue 15), as Felix's vxlan_mgr.go programs it: three
// nodes across two subnets joined by a router namespace (node-1 and node-2 on 198.18.76.0/24,
// node-3 on 198.18.77.0/24), routes learned over the BGP mesh, a pod per node and a borrowed pod
// (node-2 runs 10.244.1.50, from node-1's block). Checks vxlan.calico (VNI 4096, port 4789, MTU
// 1450, the VTEP /32, neighbour and FDB entries), the route shapes, pods pinging within and across
// subnets, that same-subnet traffic is not encapsulated and cross-subnet traffic is (vxlan.calico
// counters; UDP 4789 on the router), and the borrowed pod reached from both other nodes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caliName } from '../../src/lab/topology.js';
import { vxlanMac } from '../../src/ipam/names.js';
import { clusterYaml } from '../helpers/cluster-config.js';
import { addPod } from '../helpers/pods.js';
import { addSubnetNode, routeSubnets, txPackets as txPacketsOf } from '../helpers/routed-subnets.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, run, waitFor, type LabNode } from '../interop/netns.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const AS = 64512;
const SUB_A = 76;
const SUB_B = 77;
const NODES = [
  { name: 'node-1', ip: `198.18.${SUB_A}.1`, sub: SUB_A, block: '10.244.1.0/26', vtep: '10.244.1.0', mac: '66:00:00:00:01:01' },
  { name: 'node-2', ip: `198.18.${SUB_A}.2`, sub: SUB_A, block: '10.244.2.0/26', vtep: '10.244.2.0', mac: undefined },
  { name: 'node-3', ip: `198.18.${SUB_B}.3`, sub: SUB_B, block: '10.244.3.0/26', vtep: '10.244.3.0', mac: '66:00:00:00:03:03' },
] as const;
const PODS = [
  { name: 'pod-1', node: 'node-1', ip: '10.244.1.2' },
  { name: 'pod-2', node: 'node-2', ip: '10.244.2.2' },
  { name: 'pod-3', node: 'node-3', ip: '10.244.3.2' },
  // Borrowed: node-1's block, running on node-2.
  { name: 'pod-b', node: 'node-2', ip: '10.244.1.50' },
] as const;
const macOf = (n: (typeof NODES)[number]): string => n.mac ?? vxlanMac(n.name);

function yaml(): string {
  return clusterYaml({
    bgp: { asNumber: AS, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' },
    // The VTEP fields calico-node writes to each Node (node-2's MAC left to Kite's derivation).
    nodes: NODES.map((n) => ({ name: n.name, ipv4: `${n.ip}/24`, blocks: [n.block], spec: { ipv4VXLANTunnelAddr: n.vtep, vxlanTunnelMACAddr: n.mac } })),
    pools: [{ name: 'vxlan-pool', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: false }],
    workloads: PODS.map((p) => ({ node: p.node, pod: p.name, ip: p.ip, interfaceName: caliName('default', p.name) })),
  });
}

describe('dataplane e2e: VXLAN CrossSubnet across two subnets and a router', () => {
  const lab = new Lab('vxl', SUB_A);
  const nodes = new Map<string, LabNode>();
  const pods = new Map<string, LabNode>();
  const kites: Kite[] = [];
  let router = '';

  const node = (name: string): LabNode => nodes.get(name)!;
  const ns = (name: string): string => (nodes.get(name) ?? pods.get(name))!.ns;

  const txPackets = (name: string): Promise<number> => txPacketsOf(ns(name), 'vxlan.calico');

  async function ping(from: string, to: string, count = 3): Promise<void> {
    const r = await run('ip', ['netns', 'exec', ns(from), 'ping', '-c', String(count), '-i', '0.2', '-W', '2', to], { timeoutMs: 15_000 });
    expect(r.code, `${from} -> ${to}:\n${r.stdout}${r.stderr}`).toBe(0);
  }

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    // The lab's bridge namespace is the router: br0 (198.18.76.254/24) and br1 (198.18.77.254/24).
    const net = await routeSubnets(lab, SUB_A, SUB_B);
    router = net.router;
    for (const [i, n] of NODES.entries()) nodes.set(n.name, await addSubnetNode(lab, net, n.name, i + 1, n.sub));
    // Pods as Calico's CNI leaves them (see three-nodes.test.ts).
    for (const p of PODS) pods.set(p.name, (await addPod(lab, node(p.node), p.name, p.ip)).ns);
    const y = yaml();
    for (const n of NODES) {
      const k = new Kite({ lab, node: node(n.name), nodeName: n.name, asNumber: AS, peers: [], blocks: [], yaml: y });
      kites.push(k);
    }
    await Promise.all(kites.map((k) => k.start()));
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('creates vxlan.calico as Felix does: VNI 4096, port 4789, learning off, MTU 1450, the VTEP MAC and /32', async () => {
    for (const n of NODES) {
      await waitFor(`${n.name}: vxlan.calico with its VTEP`, async () => {
        const r = await run('ip', ['-n', ns(n.name), '-4', '-d', '-j', 'addr', 'show', 'vxlan.calico']);
        if (r.code !== 0) return undefined;
        const [l] = JSON.parse(r.stdout) as Array<{ mtu: number; address: string; operstate: string; flags: string[];
          linkinfo: { info_kind: string; info_data: { id: number; port: number; local: string; learning: boolean } };
          addr_info: Array<{ local: string; prefixlen: number }> }>;
        return l!.addr_info.length > 0 ? l : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300 }).then((l) => {
        expect(l.linkinfo.info_kind).toBe('vxlan');
        expect(l.linkinfo.info_data).toMatchObject({ id: 4096, port: 4789, local: n.ip, learning: false });
        expect(l.mtu).toBe(1450);
        expect(l.address).toBe(macOf(n));
        expect(l.flags).toContain('UP');
        expect(l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${n.vtep}/32`]);
      });
    }
  }, 60_000);

  it('writes a permanent neighbour (VTEP -> MAC) and FDB entry (MAC -> node address) per remote node', async () => {
    for (const n of NODES) {
      const neigh = JSON.parse(await must('ip', ['-n', ns(n.name), '-4', '-j', 'neigh', 'show', 'dev', 'vxlan.calico'])) as Array<{ dst: string; lladdr: string; state: string[] }>;
      const fdb = JSON.parse(await must('ip', ['netns', 'exec', ns(n.name), 'bridge', '-j', 'fdb', 'show', 'dev', 'vxlan.calico'])) as Array<{ mac: string; dst?: string; state?: string }>;
      const others = NODES.filter((o) => o !== n);
      expect(neigh.map((e) => `${e.dst} ${e.lladdr} ${e.state.join(',')}`).sort()).toEqual(others.map((o) => `${o.vtep} ${macOf(o)} PERMANENT`).sort());
      expect(fdb.filter((e) => e.dst !== undefined).map((e) => `${e.mac} ${e.dst} ${e.state ?? ''}`).sort()).toEqual(others.map((o) => `${macOf(o)} ${o.ip} permanent`).sort());
    }
  });

  it('routes remote blocks via the VTEP on vxlan.calico across subnets, direct within the subnet; the borrowed /32 follows its pod', async () => {
    const want: Record<string, string[]> = {
      'node-1': ['10.244.1.50 via 198.18.76.2 dev eth0 onlink', '10.244.2.0/26 via 198.18.76.2 dev eth0 onlink', '10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink'],
      'node-2': ['10.244.1.0/26 via 198.18.76.1 dev eth0 onlink', '10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink'],
      'node-3': ['10.244.1.0/26 via 10.244.1.0 dev vxlan.calico onlink', '10.244.1.50 via 10.244.2.0 dev vxlan.calico onlink', '10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink'],
    };
    for (const n of NODES) {
      await waitFor(`${n.name}: Kite's remote routes`, async () => {
        const rs = JSON.parse(await must('ip', ['-n', ns(n.name), '-4', '-j', 'route', 'show', 'proto', '75'])) as Array<{ dst: string; gateway?: string; dev: string; flags: string[]; type?: string }>;
        const got = rs.filter((r) => r.gateway !== undefined).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}${r.flags.includes('onlink') ? ' onlink' : ''}`).sort();
        return JSON.stringify(got) === JSON.stringify(want[n.name]) ? true : undefined;
      }, { timeoutMs: 45_000, intervalMs: 300, describe: async () => await must('ip', ['-n', ns(n.name), 'route', 'show', 'proto', '75']) });
    }
  }, 150_000);

  it('pods ping within a subnet unencapsulated and across subnets through VXLAN (counters and UDP 4789 on the router)', async () => {
    const before = await txPackets('node-1');
    await ping('pod-1', '10.244.2.2');
    expect(await txPackets('node-1')).toBe(before);
    const dump = run('ip', ['netns', 'exec', router, 'timeout', '6', 'tcpdump', '-n', '-i', 'br1', '-c', '4', 'udp', 'port', '4789'], { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await ping('pod-1', '10.244.3.2');
    expect(await txPackets('node-1')).toBeGreaterThanOrEqual(before + 3);
    const d = await dump;
    expect(d.stdout.split('\n').filter((l) => l.includes('.4789')).length, d.stdout + d.stderr).toBeGreaterThanOrEqual(2);
    await ping('pod-3', '10.244.2.2');
  }, 60_000);

  it('the borrowed pod is reached from the block owner (same subnet) and from across the router', async () => {
    await ping('pod-1', '10.244.1.50');
    await ping('pod-3', '10.244.1.50');
  }, 30_000);
});
