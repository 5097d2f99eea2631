// IPv6 VXLAN CrossSubnet on the real kernel (issue 15), as Felix's vxlan_mgr.go programs it for
// IPv6 (vxlan-v6.calico: VNI 4096, UDP 4789, MTU = NIC MTU - 70, the VTEP /128, a permanent
// neighbour VTEP -> MAC and FDB entry MAC -> node IPv6 address per remote node, routes
// `via <remote VTEP> dev vxlan-v6.calico onlink` across subnets, direct within one), next to IPv4
// VXLAN CrossSubnet on the same dual-stack nodes (vxlan.calico). Three nodes across two subnets
// joined by a router namespace (node-1 and node-2 on subnet A, node-3 on subnet B), routes learned
// over the BGP mesh (IPv4 and IPv6 sessions), dual-stack pods, and a pod on node-2 whose IPv6 (and
// IPv4) address is borrowed from node-1's block. Checks the devices, the entries, the route
// shapes, pods pinging within and across subnets in both families, that same-subnet IPv6 traffic
// is not encapsulated and cross-subnet IPv6 traffic is (vxlan-v6.calico counters, UDP 4789 over
// IPv6 on the router), and the borrowed /128 reached from both other nodes.
// Needs root, netns, the vxlan module and a build. Every namespace is removed in afterAll.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caliName } from '../../src/lab/topology.js';
import { vxlanMac } from '../../src/ipam/names.js';
import { clusterYaml } from '../helpers/cluster-config.js';
import { addPod } from '../helpers/pods.js';
import { addSubnetNode, routeSubnets, subnetV4 as v4, subnetV6 as v6, txPackets as txPacketsOf } from '../helpers/routed-subnets.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, run, waitFor, type LabNode } from '../interop/netns.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const AS = 64512;
const SUB_A = 80;
const SUB_B = 81;
const NODES = [
  // The VTEPs as calico-ipam gives them: the first address of the node's block.
  { name: 'node-1', i: 1, sub: SUB_A, blocks: ['10.244.1.0/26', 'fd00:10:244:1::/122'], vtep4: '10.244.1.0', vtep6: 'fd00:10:244:1::', mac6: '66:00:00:00:06:01' },
  // node-2's IPv6 MAC left to Kite's derivation.
  { name: 'node-2', i: 2, sub: SUB_A, blocks: ['10.244.2.0/26', 'fd00:10:244:2::/122'], vtep4: '10.244.2.0', vtep6: 'fd00:10:244:2::', mac6: undefined },
  { name: 'node-3', i: 3, sub: SUB_B, blocks: ['10.244.3.0/26', 'fd00:10:244:3::/122'], vtep4: '10.244.3.0', vtep6: 'fd00:10:244:3::', mac6: '66:00:00:00:06:03' },
] as const;
const PODS = [
  { name: 'pod-1', node: 'node-1', ip: '10.244.1.2', ip6: 'fd00:10:244:1::2' },
  { name: 'pod-2', node: 'node-2', ip: '10.244.2.2', ip6: 'fd00:10:244:2::2' },
  { name: 'pod-3', node: 'node-3', ip: '10.244.3.2', ip6: 'fd00:10:244:3::2' },
  // Borrowed: node-1's block, running on node-2.
  { name: 'pod-b', node: 'node-2', ip: '10.244.1.50', ip6: 'fd00:10:244:1::32' },
] as const;
type N = (typeof NODES)[number];
const mac6Of = (n: N): string => n.mac6 ?? vxlanMac(n.name, 6);

function yaml(): string {
  return clusterYaml({
    bgp: { asNumber: AS, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' },
    // The VTEP fields calico-node writes to each Node (the IPv4 MACs all derived by Kite).
    nodes: NODES.map((n) => ({
      name: n.name, ipv4: `${v4(n.sub, n.i)}/24`, ipv6: `${v6(n.sub, n.i)}/64`, blocks: [...n.blocks],
      spec: { ipv4VXLANTunnelAddr: n.vtep4, ipv6VXLANTunnelAddr: n.vtep6, vxlanTunnelMACAddrV6: n.mac6 },
    })),
    pools: [
      { name: 'vxlan-v4', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: false },
      { name: 'vxlan-v6', cidr: 'fd00:10:244::/48', blockSize: 122, ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: false },
    ],
    workloads: PODS.map((p) => ({ node: p.node, pod: p.name, ip: p.ip, ipv6: p.ip6, interfaceName: caliName('default', p.name) })),
  });
}

describe('dataplane e2e: IPv6 (and IPv4) VXLAN CrossSubnet across two subnets and a router', () => {
  const lab = new Lab('vx6', SUB_A);
  const nodes = new Map<string, LabNode>();
  const pods = new Map<string, LabNode>();
  const kites: Kite[] = [];
  let router = '';

  const ns = (name: string): string => (nodes.get(name) ?? pods.get(name))!.ns;

  const txPackets = (name: string, dev: string): Promise<number> => txPacketsOf(ns(name), dev);

  async function ping(from: string, to: string, count = 3): Promise<void> {
    // The first packets may wait for neighbour discovery on a fresh path: retry once.
    let r = await run('ip', ['netns', 'exec', ns(from), 'ping', '-n', '-c', String(count), '-i', '0.2', '-W', '2', to], { timeoutMs: 15_000 });
    if (r.code !== 0) r = await run('ip', ['netns', 'exec', ns(from), 'ping', '-n', '-c', String(count), '-i', '0.2', '-W', '2', to], { timeoutMs: 15_000 });
    expect(r.code, `${from} -> ${to}:\n${r.stdout}${r.stderr}`).toBe(0);
  }

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    // The lab's bridge namespace is the router between br0 (subnet A) and br1 (subnet B), both families.
    const net = await routeSubnets(lab, SUB_A, SUB_B, { ipv6: true });
    router = net.router;
    for (const n of NODES) nodes.set(n.name, await addSubnetNode(lab, net, n.name, n.i, n.sub));
    for (const p of PODS) pods.set(p.name, (await addPod(lab, nodes.get(p.node)!, p.name, p.ip, { ipv6: p.ip6 })).ns);
    const y = yaml();
    for (const n of NODES) kites.push(new Kite({ lab, node: nodes.get(n.name)!, nodeName: n.name, asNumber: AS, peers: [], blocks: [], yaml: y }));
    await Promise.all(kites.map((k) => k.start()));
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('creates vxlan-v6.calico as Felix does: VNI 4096, port 4789, learning off, the node\'s IPv6 source, MTU 1430, the v6 MAC and /128; vxlan.calico beside it', async () => {
    for (const n of NODES) {
      await waitFor(`${n.name}: vxlan-v6.calico with its VTEP`, async () => {
        const r = await run('ip', ['-n', ns(n.name), '-6', '-d', '-j', 'addr', 'show', 'dev', 'vxlan-v6.calico', 'scope', 'global']);
        if (r.code !== 0) return undefined;
        const [l] = JSON.parse(r.stdout) as Array<{ mtu: number; address: string; flags: string[];
          linkinfo: { info_kind: string; info_data: { id: number; port: number; local6?: string; local?: string; learning: boolean } };
          addr_info: Array<{ local: string; prefixlen: number }> }>;
        // iproute2 leaves an empty entry for each address the scope filter hides (the kernel's fe80:: one).
        if (l !== undefined) l.addr_info = l.addr_info.filter((a) => a.local !== undefined);
        return l !== undefined && l.addr_info.length > 0 ? l : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, describe: async () => (await run('ip', ['-n', ns(n.name), '-d', 'addr', 'show'])).stdout }).then((l) => {
        expect(l.linkinfo.info_kind).toBe('vxlan');
        expect(l.linkinfo.info_data).toMatchObject({ id: 4096, port: 4789, learning: false });
        // iproute2 names the IPv6 source "local6" in JSON (older ones "local").
        expect(l.linkinfo.info_data.local6 ?? l.linkinfo.info_data.local).toBe(v6(n.sub, n.i));
        // 1500 - 70: outer IPv6 (40) + UDP (8) + VXLAN (8) + inner Ethernet (14), Felix's VXLANMTUV6.
        expect(l.mtu).toBe(1430);
        expect(l.address).toBe(mac6Of(n));
        expect(l.flags).toContain('UP');
        expect(l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${n.vtep6}/128`]);
      });
      const [l4] = JSON.parse(await must('ip', ['-n', ns(n.name), '-4', '-d', '-j', 'addr', 'show', 'dev', 'vxlan.calico'])) as Array<{ mtu: number; address: string; addr_info: Array<{ local: string }> }>;
      expect(l4!.mtu).toBe(1450);
      expect(l4!.address).toBe(vxlanMac(n.name, 4));
      expect(l4!.addr_info.map((a) => a.local)).toEqual([n.vtep4]);
    }
  }, 60_000);

  it('writes a permanent IPv6 neighbour (VTEP -> MAC) and FDB entry (MAC -> node IPv6 address) per remote node', async () => {
    for (const n of NODES) {
      const others = NODES.filter((o) => o !== n);
      await waitFor(`${n.name}: vxlan-v6.calico entries`, async () => {
        const neigh = JSON.parse(await must('ip', ['-n', ns(n.name), '-6', '-j', 'neigh', 'show', 'dev', 'vxlan-v6.calico'])) as Array<{ dst: string; lladdr: string; state: string[] }>;
        const fdb = JSON.parse(await must('ip', ['netns', 'exec', ns(n.name), 'bridge', '-j', 'fdb', 'show', 'dev', 'vxlan-v6.calico'])) as Array<{ mac: string; dst?: string; state?: string }>;
        const gotN = neigh.filter((e) => !e.dst.startsWith('fe80:')).map((e) => `${e.dst} ${e.lladdr} ${e.state.join(',')}`).sort();
        const gotF = fdb.filter((e) => e.dst !== undefined).map((e) => `${e.mac} ${e.dst} ${e.state ?? ''}`).sort();
        const wantN = others.map((o) => `${o.vtep6} ${mac6Of(o)} PERMANENT`).sort();
        const wantF = others.map((o) => `${mac6Of(o)} ${v6(o.sub, o.i)} permanent`).sort();
        return JSON.stringify(gotN) === JSON.stringify(wantN) && JSON.stringify(gotF) === JSON.stringify(wantF) ? true : undefined;
      }, { timeoutMs: 20_000, intervalMs: 300, describe: async () => (await run('ip', ['-n', ns(n.name), '-6', 'neigh', 'show', 'dev', 'vxlan-v6.calico'])).stdout
        + (await run('ip', ['netns', 'exec', ns(n.name), 'bridge', 'fdb', 'show', 'dev', 'vxlan-v6.calico'])).stdout });
    }
  }, 60_000);

  it('routes remote IPv6 blocks via the VTEP on vxlan-v6.calico across subnets, direct within the subnet; the borrowed /128 follows its pod', async () => {
    // Direct IPv6 routes carry no onlink (src/dataplane/desired.ts directHop: the node's /64 is on
    // the link); VXLAN ones do, as Felix's vxlan_mgr.go writes them.
    const a = (i: number): string => v6(SUB_A, i);
    const want: Record<string, string[]> = {
      'node-1': [`fd00:10:244:1::32 via ${a(2)} dev eth0`, `fd00:10:244:2::/122 via ${a(2)} dev eth0`, 'fd00:10:244:3::/122 via fd00:10:244:3:: dev vxlan-v6.calico onlink'],
      'node-2': [`fd00:10:244:1::/122 via ${a(1)} dev eth0`, 'fd00:10:244:3::/122 via fd00:10:244:3:: dev vxlan-v6.calico onlink'],
      'node-3': ['fd00:10:244:1::/122 via fd00:10:244:1:: dev vxlan-v6.calico onlink', 'fd00:10:244:1::32 via fd00:10:244:2:: dev vxlan-v6.calico onlink', 'fd00:10:244:2::/122 via fd00:10:244:2:: dev vxlan-v6.calico onlink'],
    };
    for (const n of NODES) {
      const shapes = async (): Promise<string[]> => {
        const rs = JSON.parse(await must('ip', ['-n', ns(n.name), '-6', '-j', 'route', 'show', 'proto', '75'])) as Array<{ dst: string; gateway?: string; dev: string; flags: string[] }>;
        return rs.filter((r) => r.gateway !== undefined).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}${r.flags.includes('onlink') ? ' onlink' : ''}`).sort();
      };
      await waitFor(`${n.name}: Kite's remote IPv6 routes`, async () => (JSON.stringify(await shapes()) === JSON.stringify(want[n.name]) ? true : undefined),
        { timeoutMs: 45_000, intervalMs: 300, describe: async () => (await shapes()).join('\n') });
    }
  }, 150_000);

  it('IPv6 pods ping within a subnet unencapsulated and across subnets through vxlan-v6.calico (counters and UDP 4789 over IPv6 on the router)', async () => {
    const before = await txPackets('node-1', 'vxlan-v6.calico');
    await ping('pod-1', 'fd00:10:244:2::2');
    expect(await txPackets('node-1', 'vxlan-v6.calico')).toBe(before);
    const dump = run('ip', ['netns', 'exec', router, 'timeout', '6', 'tcpdump', '-n', '-i', 'br1', '-c', '4', 'ip6 and udp port 4789'], { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await ping('pod-1', 'fd00:10:244:3::2');
    expect(await txPackets('node-1', 'vxlan-v6.calico')).toBeGreaterThanOrEqual(before + 3);
    const d = await dump;
    // The outer header: node-1's IPv6 address to node-3's, UDP 4789.
    expect(d.stdout.split('\n').filter((l) => l.includes(`${v6(SUB_A, 1)}.`) && l.includes(`${v6(SUB_B, 3)}.4789`)).length, d.stdout + d.stderr).toBeGreaterThanOrEqual(1);
    await ping('pod-3', 'fd00:10:244:2::2');
  }, 60_000);

  it('the borrowed IPv6 pod is reached from the block owner (same subnet) and from across the router', async () => {
    await ping('pod-1', 'fd00:10:244:1::32');
    await ping('pod-3', 'fd00:10:244:1::32');
  }, 30_000);

  it('IPv4 VXLAN CrossSubnet works beside it on the same nodes', async () => {
    for (const n of NODES) {
      await waitFor(`${n.name}: IPv4 VXLAN route across subnets`, async () => {
        const r = await must('ip', ['-n', ns(n.name), '-4', 'route', 'show', 'proto', '75']);
        return (n.sub === SUB_A ? r.includes('10.244.3.0/26 via 10.244.3.0 dev vxlan.calico') : r.includes('10.244.1.0/26 via 10.244.1.0 dev vxlan.calico')) ? true : undefined;
      }, { timeoutMs: 30_000, describe: async () => must('ip', ['-n', ns(n.name), '-4', 'route', 'show', 'proto', '75']) });
    }
    const before4 = await txPackets('node-1', 'vxlan.calico');
    const before6 = await txPackets('node-1', 'vxlan-v6.calico');
    await ping('pod-1', '10.244.3.2');
    expect(await txPackets('node-1', 'vxlan.calico')).toBeGreaterThanOrEqual(before4 + 3);
    // IPv4 pod traffic does not go through the IPv6 device.
    expect(await txPackets('node-1', 'vxlan-v6.calico')).toBe(before6);
    await ping('pod-1', '10.244.2.2');
    await ping('pod-3', '10.244.1.50');
  }, 60_000);
});
