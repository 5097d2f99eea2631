// IPv6 end to end on the real kernel (issue 15 item 2): BGP to the kernel to a ping.
//   1. A dual-stack cluster: three Kite nodes (mesh over IPv4 and over IPv6) and an FRR ToR peered
//      on both families; pods with an IPv4 /32 and an IPv6 /128 ping each other across nodes in
//      both families. Calico's shapes (../shared/CALICO.md; Felix route_table.go and
//      calc/l3_route_resolver.go; calico CNI's IPv6 gateway, the host veth's link-local
//      fe80::ecee:eeff:feee:eeee): /122 blocks with an own-block blackhole, /128 workload routes
//      on cali*, proxy_ndp=1, forwarding=1, accept_ra=0 on cali*; the ToR learns every block with
//      the node's global IPv6 address as next hop, never a link-local one alone; a pool route the
//      ToR announces is programmed via its global address, and one announced by a second ToR
//      too becomes one IPv6 multipath route (ECMP).
//   2. An IPv6-only cluster: two nodes with no IPv4 address that start with `--ip none
//      --router-id hash` (calico-node's IP=none and CALICO_ROUTER_ID=hash, confd hashToIPv4),
//      peer over IPv6 and carry IPv6 pod traffic; a pod on v6-node-2 with an address borrowed
//      from v6-node-1's block is originated as a /128 by v6-node-2 (Calico's bird_ipam.cfg exports
//      a workload /128 outside the node's own blocks), so longest match beats the /122 on
//      v6-node-1 and it is reached from there.
// Needs root, netns, FRR and a build. Every namespace is removed in afterAll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caliName } from '../../src/lab/topology.js';
import { clusterYaml } from '../helpers/cluster-config.js';
import { createLab, Kite } from '../interop/kite.js';
import { Lab, must, waitFor, type LabNode } from '../interop/netns.js';
import { addPod } from '../helpers/pods.js';
import { FrrPeer, waitPeerState } from '../interop/peers.js';

const AS = 64512;
const TOR_AS = 65000;
const V4_POOL = '10.244.0.0/16';
const V6_POOL = 'fd00:10:244::/48';
interface PodSpec { name: string; node: string; v4?: string; v6: string }

/** One Kite per node from the cluster's YAML (linux dataplane), started in order. */
async function startKites(lab: Lab, nodes: Map<string, LabNode>, yaml: string, args?: string[]): Promise<Kite[]> {
  const out: Kite[] = [];
  for (const [name, node] of nodes) {
    const k = new Kite({ lab, node, nodeName: name, asNumber: AS, peers: [], blocks: [], yaml, ...(args === undefined ? {} : { args }) });
    out.push(k);
    await k.start();
  }
  return out;
}

async function pingOk(lab: Lab, from: LabNode, to: string): Promise<void> {
  await waitFor(`ping ${from.name} → ${to}`, async () => {
    const r = await lab.exec(from, 'ping', ['-n', '-c', '1', '-W', '1', to], { timeoutMs: 5000 });
    return r.code === 0 ? true : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200 });
}

async function routes6(lab: Lab, n: LabNode): Promise<string[]> {
  return (await lab.mustExec(n, 'ip', ['-6', 'route', 'show', 'proto', '75'])).split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
}

describe('dual-stack three-node cluster with an FRR ToR', () => {
  const lab = new Lab('v6ds', 77);
  const NODES = [
    { name: 'node-1', index: 1, v4block: '10.244.1.0/26', v6block: 'fd00:10:244:1::/122' },
    { name: 'node-2', index: 2, v4block: '10.244.2.0/26', v6block: 'fd00:10:244:2::/122' },
    { name: 'node-3', index: 3, v4block: '10.244.3.0/26', v6block: 'fd00:10:244:3::/122' },
  ];
  const PODS: PodSpec[] = [
    { name: 'pod-a', node: 'node-1', v4: '10.244.1.2', v6: 'fd00:10:244:1::2' },
    { name: 'pod-c', node: 'node-2', v4: '10.244.2.2', v6: 'fd00:10:244:2::2' },
    { name: 'pod-d', node: 'node-3', v4: '10.244.3.2', v6: 'fd00:10:244:3::2' },
  ];
  const nodes = new Map<string, LabNode>();
  const pods = new Map<string, LabNode>();
  const kites: Kite[] = [];
  let tor: FrrPeer;
  let tor2: FrrPeer;

  beforeAll(async () => {
    for (const ln of await createLab(lab, NODES.map((n) => n.name))) {
      nodes.set(ln.name, ln);
      // A default route in each family, as real nodes have (proxy ARP for 169.254.1.1 needs one).
      await must('ip', ['-n', ln.ns, 'route', 'add', 'default', 'via', lab.v4(254), 'dev', 'eth0']);
      await must('ip', ['-n', ln.ns, '-6', 'route', 'add', 'default', 'via', lab.v6(254), 'dev', 'eth0']);
    }
    const torNode = await lab.addNode('tor', 10);
    tor = new FrrPeer({
      lab, node: torNode, asNumber: TOR_AS,
      neighbors: NODES.flatMap((n) => [{ address: lab.v4(n.index), asNumber: AS }, { address: lab.v6(n.index), asNumber: AS }]),
    });
    await tor.start();
    // A second ToR in the same AS, for IPv6 ECMP: both announce one pool prefix.
    tor2 = new FrrPeer({
      lab, node: await lab.addNode('tor2', 11), asNumber: TOR_AS,
      neighbors: NODES.map((n) => ({ address: lab.v6(n.index), asNumber: AS })),
    });
    await tor2.start();
    for (const p of PODS) pods.set(p.name, (await addPod(lab, nodes.get(p.node)!, p.name, p.v4 ?? p.v6, { ipv6: p.v6 })).ns);
    const yaml = clusterYaml({
      bgp: { asNumber: AS, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' },
      nodes: NODES.map((n) => ({ name: n.name, ipv4: `${lab.v4(n.index)}/24`, ipv6: `${lab.v6(n.index)}/64`, blocks: [n.v4block, n.v6block] })),
      pools: [
        { name: 'default-ipv4-ippool', cidr: V4_POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
        { name: 'default-ipv6-ippool', cidr: V6_POOL, blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
      ],
      peers: [{ name: 'tor-v4', peerIP: lab.v4(10), asNumber: TOR_AS }, { name: 'tor-v6', peerIP: lab.v6(10), asNumber: TOR_AS },
        { name: 'tor2-v6', peerIP: lab.v6(11), asNumber: TOR_AS }],
      workloads: PODS.map((p) => ({ node: p.node, pod: p.name, ip: p.v4 ?? p.v6, ipv6: p.v6, interfaceName: caliName('default', p.name) })),
    });
    kites.push(...await startKites(lab, nodes, yaml));
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('the ToR has sessions to every node in both families and learns each block with the node\'s own address as next hop', async () => {
    for (const n of NODES) {
      await waitPeerState(tor, lab.v4(n.index));
      await waitPeerState(tor, lab.v6(n.index));
    }
    await waitFor('the ToR has every block', async () => {
      const rib = [...(await tor.rib('ipv4')), ...(await tor.rib('ipv6'))];
      return NODES.every((n) => rib.some((r) => r.prefix === n.v4block) && rib.some((r) => r.prefix === n.v6block)) ? rib : undefined;
    }, { timeoutMs: 30_000, describe: async () => tor.log().slice(-2000) });
    const v6 = await tor.rib('ipv6');
    const v4 = await tor.rib('ipv4');
    const nodeV6 = NODES.map((n) => lab.v6(n.index));
    const nodeV4 = NODES.map((n) => lab.v4(n.index));
    for (const n of NODES) {
      // eBGP: a node's global IPv6 address (RFC 2545 §2: the global one, a link-local only beside
      // it). The other nodes pass the block on too (Calico's export accepts `net ~ pool`), so the
      // ToR holds a path from each; the block's owner is among them.
      const hops6 = v6.filter((r) => r.prefix === n.v6block).map((r) => r.nextHop);
      expect(hops6).toContain(lab.v6(n.index));
      for (const h of hops6) expect(nodeV6).toContain(h);
      const hops4 = v4.filter((r) => r.prefix === n.v4block).map((r) => r.nextHop);
      expect(hops4).toContain(lab.v4(n.index));
      for (const h of hops4) expect(nodeV4).toContain(h);
    }
  }, 60_000);

  it('programs the IPv6 shapes: remote /122 blocks via the node\'s IPv6 address, own block blackhole, pod /128 on cali', async () => {
    for (const n of NODES) {
      const ln = nodes.get(n.name)!;
      await waitFor(`node ${n.name}: IPv6 routes`, async () => {
        const got = await routes6(lab, ln);
        const ok = got.some((l) => l.startsWith(`blackhole ${n.v6block}`))
          && NODES.filter((o) => o !== n).every((o) => got.some((l) => l.startsWith(`${o.v6block} via ${lab.v6(o.index)} dev eth0`)))
          && PODS.filter((p) => p.node === n.name).every((p) => got.some((l) => l.startsWith(`${p.v6} dev ${caliName('default', p.name)}`)));
        return ok ? true : undefined;
      }, { timeoutMs: 30_000, describe: async () => (await routes6(lab, ln)).join('\n') });
    }
    for (const p of PODS) {
      const host = nodes.get(p.node)!;
      const cali = caliName('default', p.name);
      for (const [key, want] of [['proxy_ndp', '1'], ['forwarding', '1'], ['accept_ra', '0']]) {
        expect((await lab.mustExec(host, 'sysctl', ['-n', `net.ipv6.conf.${cali}.${key}`])).trim(), `${cali} ${key}`).toBe(want);
      }
      expect((await lab.mustExec(host, 'sysctl', ['-n', 'net.ipv6.conf.all.forwarding'])).trim()).toBe('1');
    }
  }, 60_000);

  it('a pool route from the ToR (FRR on a shared link sends its global next hop with a link-local beside it, RFC 2545 §3) is programmed via the global one on eth0', async () => {
    const route = 'fd00:10:244:50::/122';
    await tor.announce(route);
    for (const n of NODES) {
      const ln = nodes.get(n.name)!;
      await waitFor(`node ${n.name}: ${route} from the ToR`, async () => {
        const line = (await routes6(lab, ln)).find((l) => l.startsWith(`${route} `));
        return line;
      }, { timeoutMs: 20_000, describe: async () => (await routes6(lab, ln)).join('\n') }).then((line) => {
        // The global next hop (BIRD's choice when both are present and the global is on-link).
        expect(line).toMatch(new RegExp(`^${route.replace(/[.:/]/g, '\\$&')} via ${lab.v6(10).replace(/:/g, '\\:')} dev eth0`));
      });
    }
    await tor.withdraw(route);
  }, 60_000);

  it('IPv6 ECMP: one pool prefix from both ToRs is one multipath kernel route via both', async () => {
    const route = 'fd00:10:244:60::/122';
    await Promise.all([tor.announce(route), tor2.announce(route)]);
    type R = { dst: string; gateway?: string; nexthops?: { gateway?: string; dev?: string }[] };
    for (const n of NODES) {
      const ln = nodes.get(n.name)!;
      const hops = async (): Promise<string[]> => {
        const rs = JSON.parse(await lab.mustExec(ln, 'ip', ['-6', '-j', 'route', 'show', 'proto', '75', route])) as R[];
        return rs.flatMap((r) => (r.nexthops ?? (r.gateway ? [{ gateway: r.gateway }] : [])).map((h) => h.gateway ?? '')).sort();
      };
      await waitFor(`node ${n.name}: ${route} via both ToRs`, async () => {
        const h = await hops();
        return h.length === 2 && h[0] === lab.v6(10) && h[1] === lab.v6(11) ? true : undefined;
      }, { timeoutMs: 20_000, describe: async () => JSON.stringify(await hops()) });
    }
    await Promise.all([tor.withdraw(route), tor2.withdraw(route)]);
  }, 60_000);

  it('pods ping each other across nodes over IPv4 and over IPv6', async () => {
    for (const from of PODS) {
      for (const to of PODS) {
        if (from === to) continue;
        await pingOk(lab, pods.get(from.name)!, to.v4!);
        await pingOk(lab, pods.get(from.name)!, to.v6);
      }
    }
  }, 90_000);
});

describe('IPv6-only cluster', () => {
  const lab = new Lab('v6only', 78);
  const NODES = [
    { name: 'v6-node-1', index: 1, block: 'fd00:10:244:11::/122' },
    { name: 'v6-node-2', index: 2, block: 'fd00:10:244:12::/122' },
  ];
  const PODS: PodSpec[] = [
    { name: 'pod-x', node: 'v6-node-1', v6: 'fd00:10:244:11::2' },
    { name: 'pod-y', node: 'v6-node-2', v6: 'fd00:10:244:12::2' },
    // Borrowed: an address from v6-node-1's block, running on v6-node-2.
    { name: 'pod-z', node: 'v6-node-2', v6: 'fd00:10:244:11::32' },
  ];
  const nodes = new Map<string, LabNode>();
  const pods = new Map<string, LabNode>();
  const kites: Kite[] = [];

  beforeAll(async () => {
    for (const ln of await createLab(lab, NODES.map((n) => n.name))) {
      // IPv6 only: the lab gives every node an IPv4 address; take it away.
      await must('ip', ['-n', ln.ns, 'addr', 'flush', 'dev', 'eth0', 'scope', 'global', 'to', `${ln.ipv4}/24`]);
      await must('ip', ['-n', ln.ns, '-6', 'route', 'add', 'default', 'via', lab.v6(254), 'dev', 'eth0']);
      nodes.set(ln.name, ln);
    }
    for (const p of PODS) pods.set(p.name, (await addPod(lab, nodes.get(p.node)!, p.name, p.v4 ?? p.v6, { ipv6: p.v6 })).ns);
    const yaml = clusterYaml({
      bgp: { asNumber: AS, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' },
      nodes: NODES.map((n) => ({ name: n.name, ipv6: `${lab.v6(n.index)}/64`, blocks: [n.block] })),
      pools: [{ name: 'default-ipv6-ippool', cidr: V6_POOL, blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
      workloads: PODS.map((p) => ({ node: p.node, pod: p.name, ip: p.v6, interfaceName: caliName('default', p.name) })),
    });
    // calico-node's IP=none and CALICO_ROUTER_ID=hash: no IPv4 address, a router ID from the node name.
    kites.push(...await startKites(lab, nodes, yaml, ['--ip', 'none', '--router-id', 'hash']));
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('starts without an IPv4 address, with a hashed router ID, and meshes over IPv6', async () => {
    for (const k of kites) {
      const s = await k.summary();
      expect(s.routerId).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      await waitFor(`${k.nodeName}: IPv6 mesh session up`, async () => {
        const peers = await k.peers();
        return peers.length === 1 && peers[0]?.state === 'Established' && peers[0].address.includes(':') ? true : undefined;
      }, { timeoutMs: 30_000, describe: async () => JSON.stringify(await k.peers()) + k.log().split('\n').slice(-20).join('\n') });
    }
    expect((await kites[0]!.summary()).routerId).not.toBe((await kites[1]!.summary()).routerId);
  }, 60_000);

  it('pods ping each other over IPv6', async () => {
    await pingOk(lab, pods.get('pod-x')!, 'fd00:10:244:12::2');
    await pingOk(lab, pods.get('pod-y')!, 'fd00:10:244:11::2');
  }, 60_000);

  it('a borrowed IPv6 address is originated as a /128 by the node running it and reached across, past the owner\'s /122', async () => {
    const [n1, n2] = [nodes.get('v6-node-1')!, nodes.get('v6-node-2')!];
    const [k1, k2] = [kites[0]!, kites[1]!];
    // v6-node-2 originates the /128 beside its own block; v6-node-1 keeps originating its /122.
    const originated = async (k: Kite): Promise<string[]> => (await k.routes()).filter((r) => r.paths.some((p) => p.peer === null)).map((r) => r.prefix);
    await waitFor('v6-node-2 originates the borrowed /128', async () => ((await originated(k2)).includes('fd00:10:244:11::32/128') ? true : undefined),
      { timeoutMs: 20_000, describe: async () => JSON.stringify(await k2.routes()) });
    expect(await originated(k1)).toContain('fd00:10:244:11::/122');
    expect(await originated(k1)).not.toContain('fd00:10:244:11::32/128');
    // The kernel of the block's owner: the /128 via v6-node-2, beside its own blackhole /122.
    await waitFor('v6-node-1: the borrowed /128 via v6-node-2', async () => {
      const got = await routes6(lab, n1);
      return got.some((l) => l.startsWith(`fd00:10:244:11::32 via ${lab.v6(2)} dev eth0`)) && got.some((l) => l.startsWith('blackhole fd00:10:244:11::/122')) ? true : undefined;
    }, { timeoutMs: 20_000, describe: async () => (await routes6(lab, n1)).join('\n') });
    expect((await routes6(lab, n2)).some((l) => l.startsWith(`fd00:10:244:11::32 dev ${caliName('default', 'pod-z')}`))).toBe(true);
    await pingOk(lab, pods.get('pod-x')!, 'fd00:10:244:11::32');
    await pingOk(lab, pods.get('pod-z')!, 'fd00:10:244:11::2');
  }, 60_000);
});
