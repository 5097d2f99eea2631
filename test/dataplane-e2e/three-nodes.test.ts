// End-to-end test of Kite's Linux dataplane on the real kernel: three nodes in namespaces on one
// bridge (198.18.75.0/24, full mesh), pods as namespaces behind Calico-named cali* veths, each node
// running `node bin/kite run` (dataplane linux by default). Asserts the exact proto-75 routes, pod
// neighbours and sysctls, pod-to-pod ping, ownership (foreign routes survive start, resync and
// stop; Kite's own routes survive SIGTERM and are adopted unchanged on restart) and that routes a
// peer announces outside Kite's remit never reach the kernel. Needs root, netns, gobgpd, a build.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caliName } from '../../src/lab/topology.js';
import { clusterYaml } from '../helpers/cluster-config.js';
import { scrapeText } from '../helpers/scrape.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, run, sleep, waitFor, type LabNode } from '../interop/netns.js';
import { GobgpPeer, waitPeerState } from '../interop/peers.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const SUBNET = 75;
const AS = 64512;
const PEER_AS = 65099;
const POOL = '10.244.0.0/16';
const SERVICE_CIDR = '10.96.0.0/12';
/** Unused on the segment: only there so the nodes have a default route (see beforeAll). */
const GATEWAY = `198.18.${SUBNET}.254`;
const PEER_INDEX = 10;

interface PodSpec {
  name: string;
  node: string;
  ip: string;
  /** Absent: the WorkloadEndpoint has no mac, so Kite writes no neighbour entry. */
  mac?: string;
}

const NODES = [
  { name: 'node-1', index: 1, block: '10.244.1.0/26' },
  { name: 'node-2', index: 2, block: '10.244.2.0/26' },
  { name: 'node-3', index: 3, block: '10.244.3.0/26' },
] as const;

const PODS: PodSpec[] = [
  { name: 'pod-a', node: 'node-1', ip: '10.244.1.2', mac: '0a:58:0a:f4:01:02' },
  { name: 'pod-b', node: 'node-1', ip: '10.244.1.3' },
  { name: 'pod-c', node: 'node-2', ip: '10.244.2.2', mac: '0a:58:0a:f4:02:02' },
  { name: 'pod-d', node: 'node-3', ip: '10.244.3.2', mac: '0a:58:0a:f4:03:02' },
];

/** A pool route the peer announces: programmed (positive control for the refusals below). */
const PEER_POOL_ROUTE = '10.244.50.0/26';
/** What the peer announces that must never reach a kernel, with the reason Kite gives. */
const PEER_REFUSED: Array<[string, RegExp]> = [
  ['0.0.0.0/0', /^a default route is never programmed from BGP$/],
  [`198.18.${SUBNET}.0/24`, /^covers or lies inside 198\.18\.75\.\d+\/24 on eth0, a host address and connected subnet$/],
  ['203.0.113.0/24', /^outside every IPPool: only pool routes are programmed from BGP$/],
];
// The service CIDR the peer also announces is not refused by the dataplane but never reaches it:
// node-1 originates serviceClusterIPs itself, so its local path is best and the prefix is not a
// remote route at all (the fib has no entry). Asserted separately below.

/** Routes of other owners in node-2, installed before Kite first starts. */
const FOREIGN_ROUTES: string[][] = [
  ['192.0.2.0/24', 'via', GATEWAY, 'proto', 'static'],
  ['192.0.2.128/25', 'dev', 'eth0', 'proto', 'kernel', 'scope', 'link'],
  ['198.51.100.0/24', 'via', GATEWAY, 'proto', 'bird'],
  ['203.0.113.0/24', 'via', GATEWAY, 'proto', '186'],
  // Inside the pool, but not Kite's protocol and not on a cali interface: still not Kite's.
  ['10.244.200.0/24', 'via', GATEWAY, 'proto', 'static'],
];

const nodeIp = (index: number): string => `198.18.${SUBNET}.${index}`;
const calicoIf = (pod: string): string => caliName('default', pod);

function configYaml(): string {
  return clusterYaml({
    bgp: { asNumber: AS, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info', serviceClusterIPs: [{ cidr: SERVICE_CIDR }] },
    nodes: NODES.map((n) => ({ name: n.name, ipv4: `${nodeIp(n.index)}/24`, blocks: [n.block] })),
    pools: [{ name: 'default-ipv4-ippool', cidr: POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
    peers: [{ name: 'node-1-external', node: 'node-1', peerIP: nodeIp(PEER_INDEX), asNumber: PEER_AS }],
    workloads: PODS.map((p) => ({ node: p.node, pod: p.name, ip: p.ip, interfaceName: calicoIf(p.name), mac: p.mac })),
  });
}

interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  flags?: string[];
  table?: string;
}

/** One `ip -j route` entry as an `ip route` line, so failures read like the shell. */
function routeText(r: IpRoute): string {
  const parts = [r.type && r.type !== 'unicast' ? `${r.type} ${r.dst}` : r.dst];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.table) parts.push(`table ${r.table}`);
  if (r.protocol) parts.push(`proto ${r.protocol}`);
  if (r.scope && r.scope !== 'global') parts.push(`scope ${r.scope}`);
  for (const f of r.flags ?? []) parts.push(f);
  return parts.join(' ');
}

describe('dataplane e2e: three nodes, real kernel', () => {
  const lab = new Lab('dpe', SUBNET);
  const yaml = configYaml();
  const kites = new Map<string, Kite>();
  const nodes = new Map<string, LabNode>();
  const pods = new Map<string, LabNode>();
  let peer: GobgpPeer | undefined;

  const kite = (name: string): Kite => kites.get(name)!;
  const node = (name: string): LabNode => nodes.get(name)!;

  async function ipRoutes(n: LabNode, args: string[]): Promise<IpRoute[]> {
    return JSON.parse(await lab.mustExec(n, 'ip', ['-4', '-j', 'route', 'show', ...args])) as IpRoute[];
  }

  /** Kite's routes in a node's main table (`ip -j route show proto 75` omits the protocol itself). */
  async function kiteRoutes(n: LabNode): Promise<string[]> {
    return (await ipRoutes(n, ['proto', '75'])).map(routeText).sort();
  }

  /** Every IPv4 route in every table that is not Kite's: must never change under Kite. */
  async function foreignRoutes(n: LabNode): Promise<string[]> {
    return (await ipRoutes(n, ['table', 'all'])).filter((r) => r.protocol !== '75').map(routeText).sort();
  }

  /** The routes the spec says node `name` holds (Calico's shapes; own block blackhole). */
  function expectedRoutes(name: string, withPeerRoute: boolean): string[] {
    const me = NODES.find((n) => n.name === name)!;
    const out = [`blackhole ${me.block}`];
    for (const n of NODES) if (n !== me) out.push(`${n.block} via ${nodeIp(n.index)} dev eth0 onlink`);
    for (const p of PODS) if (p.node === name) out.push(`${p.ip} dev ${calicoIf(p.name)} scope link`);
    if (withPeerRoute) out.push(`${PEER_POOL_ROUTE} via ${nodeIp(PEER_INDEX)} dev eth0 onlink`);
    return out.sort();
  }

  async function waitRoutes(name: string, want: string[], timeoutMs = 60_000): Promise<void> {
    await waitFor(`node ${name}: Kite's kernel routes exactly as specified`, async () => {
      const got = await kiteRoutes(node(name));
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    }, {
      timeoutMs,
      intervalMs: 300,
      describe: async () => `want:\n  ${want.join('\n  ')}\ngot:\n  ${(await kiteRoutes(node(name))).join('\n  ')}\n${kite(name).log().split('\n').slice(-15).join('\n')}`,
    });
  }

  beforeAll(async () => {
    // Throws (a failure, never a skip) when root, netns or the reference daemons are missing.
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    for (const n of NODES) {
      const ln = await lab.addNode(n.name, n.index);
      nodes.set(n.name, ln);
      // A real node has a default route. It matters: the kernel answers proxy ARP for the pods'
      // gateway 169.254.1.1 only when it has a route to it through another interface.
      await must('ip', ['-n', ln.ns, 'route', 'add', 'default', 'via', GATEWAY, 'dev', 'eth0']);
      // An unrelated link to toggle later (this kernel has no dummy type: a veth pair).
      await must('ip', ['-n', ln.ns, 'link', 'add', 'tog0', 'type', 'veth', 'peer', 'name', 'tog1']);
      await must('ip', ['-n', ln.ns, 'link', 'set', 'tog1', 'up']);
    }
    // Pods exactly as Calico's CNI plugin leaves them: IP/32 on eth0, 169.254.1.1 as an onlink
    // gateway, host side cali<sha1[:11]> with MAC ee:ee:ee:ee:ee:ee, no host route (Kite's job).
    for (const p of PODS) {
      const ns = `${lab.name}-${p.name}`;
      await must('ip', ['netns', 'add', ns]);
      // Registered as a lab node so Lab.destroy (and its exit hook) removes the namespace too.
      const pn: LabNode = { name: p.name, ns, index: 0, ipv4: p.ip, ipv6: '', ifname: 'eth0' };
      lab.nodes.set(p.name, pn);
      pods.set(p.name, pn);
      const host = node(p.node).ns;
      const cali = calicoIf(p.name);
      await must('ip', ['-n', host, 'link', 'add', cali, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await must('ip', ['-n', host, 'link', 'set', cali, 'address', 'ee:ee:ee:ee:ee:ee']);
      await must('ip', ['-n', host, 'link', 'set', cali, 'up']);
      await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      if (p.mac) await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', p.mac]);
      await must('ip', ['-n', ns, 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0']);
      await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
    }
    for (const r of FOREIGN_ROUTES) await must('ip', ['-n', node('node-2').ns, 'route', 'add', ...r]);
    for (const n of NODES) {
      // Kite from test/interop/kite.ts, reading the shared three-node YAML instead of its own.
      const k = new Kite({ lab, node: node(n.name), nodeName: n.name, asNumber: AS, peers: [], blocks: [], yaml });
      kites.set(n.name, k);
    }
  }, 180_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  let foreignBefore: string[] = [];

  it('starts Kite in each node (default dataplane linux) without touching foreign routes', async () => {
    foreignBefore = await foreignRoutes(node('node-2'));
    // The routes installed above are really there with their protocols (iproute2 names 186 "bgp").
    for (const want of ['192.0.2.0/24 via 198.18.75.254 dev eth0 proto static', '192.0.2.128/25 dev eth0 proto kernel scope link',
      '198.51.100.0/24 via 198.18.75.254 dev eth0 proto bird', '203.0.113.0/24 via 198.18.75.254 dev eth0 proto bgp',
      '10.244.200.0/24 via 198.18.75.254 dev eth0 proto static']) {
      expect(foreignBefore).toContain(want);
    }
    for (const n of NODES) await kite(n.name).start();
    for (const n of NODES) {
      const f = await kite(n.name).fib();
      expect(f.enabled).toBe(true);
      expect(f.protocol).toBe(75);
    }
  }, 90_000);

  it('programs exactly the specified routes: remote blocks via the node IP onlink, own block blackhole, pods /32 on cali', async () => {
    for (const n of NODES) await waitRoutes(n.name, expectedRoutes(n.name, false));
    expect(await foreignRoutes(node('node-2'))).toEqual(foreignBefore);
    const f = await kite('node-1').fib();
    for (const want of expectedRoutes('node-1', false)) {
      const prefix = want.replace(/^blackhole /, '').split(' ')[0]!;
      const full = prefix.includes('/') ? prefix : `${prefix}/32`;
      expect(f.routes.find((r) => r.prefix === full), `fib entry for ${full}`).toMatchObject({ state: 'programmed' });
    }
  }, 90_000);

  it("/metrics counts the dataplane's routes by state as kite show fib lists them, and each apply in the histogram", async () => {
    const k = kite('node-1');
    const f = await k.fib();
    const m = await scrapeText(await k.http('/metrics'));
    for (const state of ['programmed', 'refused', 'failed', 'conflict']) {
      expect(m.value('kite_dataplane_routes', { state }), state).toBe(f.routes.filter((r) => r.state === state).length);
    }
    expect(m.value('kite_dataplane_routes', { state: 'programmed' })).toBeGreaterThan(0);
    const applies = m.family('kite_dataplane_apply_duration_seconds').metrics;
    expect(applies.some((h) => 'buckets' in h && Number(h.buckets['+Inf']) > 0)).toBe(true);
    expect(m.value('kite_netlink_errors_total')).toBe(0);
  }, 30_000);

  it('writes a permanent neighbour entry for each pod with a MAC, and none for the pod without', async () => {
    for (const p of PODS) {
      const entries = JSON.parse(await lab.mustExec(node(p.node), 'ip', ['-4', '-j', 'neigh', 'show', 'dev', calicoIf(p.name)])) as Array<{ dst: string; lladdr?: string; state?: string[] }>;
      const e = entries.find((x) => x.dst === p.ip);
      if (p.mac) {
        expect(e, `neighbour ${p.ip} on ${calicoIf(p.name)}`).toBeDefined();
        expect(e!.lladdr).toBe(p.mac);
        expect(e!.state).toEqual(['PERMANENT']);
      } else {
        expect(e?.state ?? []).not.toContain('PERMANENT');
      }
    }
  });

  it('sets proxy_arp=1, forwarding=1, route_localnet=1, neigh proxy_delay=0 on every cali veth, and ip_forward=1', async () => {
    for (const p of PODS) {
      const c = calicoIf(p.name);
      const out = await lab.mustExec(node(p.node), 'sysctl', ['-n', `net.ipv4.conf.${c}.proxy_arp`, `net.ipv4.conf.${c}.forwarding`,
        `net.ipv4.conf.${c}.route_localnet`, `net.ipv4.neigh.${c}.proxy_delay`, 'net.ipv4.ip_forward']);
      expect(out.trim().split('\n'), `${c} on ${p.node}`).toEqual(['1', '1', '1', '0', '1']);
    }
  });

  it('pods on different nodes ping each other (through 169.254.1.1 proxy ARP and the programmed routes)', async () => {
    const pairs: Array<[string, string]> = [['pod-a', 'pod-c'], ['pod-a', 'pod-d'], ['pod-c', 'pod-d'], ['pod-d', 'pod-b'], ['pod-c', 'pod-b']];
    for (const [from, to] of pairs) {
      const dst = PODS.find((p) => p.name === to)!.ip;
      await waitFor(`${from} -> ${to} (${dst}) ping`, async () => {
        const r = await lab.exec(pods.get(from)!, 'ping', ['-c', '1', '-W', '1', dst], { timeoutMs: 5000 });
        if (r.code !== 0) throw new Error(r.stdout + r.stderr);
        return true;
      }, { timeoutMs: 15_000, intervalMs: 200 });
    }
  }, 90_000);

  it('routes from a peer outside Kite\'s remit (default, host subnet, outside pools, service CIDR) change nothing in the kernel; fib: refused with reasons, the service CIDR absent', async () => {
    const n1 = node('node-1');
    const before = await foreignRoutes(n1);
    const peerNode = await lab.addNode('peer', PEER_INDEX);
    peer = new GobgpPeer({
      lab, node: peerNode, asNumber: PEER_AS,
      neighbors: [{ address: n1.ipv4, asNumber: AS }],
      announce: [...PEER_REFUSED.map(([p]) => p), SERVICE_CIDR, PEER_POOL_ROUTE],
    });
    await peer.start();
    await waitPeerState(peer, n1.ipv4);
    await kite('node-1').waitPeerState(peerNode.ipv4);
    // All five prefixes are in node-1's BGP table from the peer before anything is judged.
    for (const [p] of [...PEER_REFUSED, [SERVICE_CIDR], [PEER_POOL_ROUTE]] as Array<[string]>) {
      await kite('node-1').waitRoute(p, (r) => JSON.stringify(r).includes(peerNode.ipv4));
    }
    // The pool route is programmed (node-1 from eBGP; 2 and 3 over the mesh, next hop unchanged)...
    for (const n of NODES) await waitRoutes(n.name, expectedRoutes(n.name, true));
    // ...the other four are not: not as Kite routes (above: exact sets), not in any other way.
    expect(await foreignRoutes(n1)).toEqual(before);
    const f = await kite('node-1').fib();
    for (const [prefix, reason] of PEER_REFUSED) {
      const entries = f.routes.filter((r) => r.prefix === prefix);
      expect(entries, `fib entries for ${prefix}: ${JSON.stringify(entries)}`).toHaveLength(1);
      expect(entries[0]).toMatchObject({ source: 'remote', state: 'refused', kernel: null, desired: null });
      expect(entries[0]!.reason).toMatch(reason);
    }
    // The service CIDR: the peer's path is in the RIB, the best path is node-1's own origination,
    // and the dataplane has nothing for it (neither desired nor refused).
    const svc = await kite('node-1').waitRoute(SERVICE_CIDR);
    expect(svc.paths.find((p) => p.best), JSON.stringify(svc)).toMatchObject({ peer: null });
    expect(svc.paths.some((p) => p.peer === peerNode.ipv4 && !p.best), JSON.stringify(svc)).toBe(true);
    expect(f.routes.filter((r) => r.prefix === SERVICE_CIDR)).toEqual([]);
    const pool = f.routes.find((r) => r.prefix === PEER_POOL_ROUTE);
    expect(pool).toMatchObject({ source: 'remote', state: 'programmed' });
    expect(pool!.desired).toContain(`via ${nodeIp(PEER_INDEX)}`);
  }, 120_000);

  it('foreign routes survive a resync caused by an unrelated link event', async () => {
    const n2 = node('node-2');
    const t0 = (await kite('node-2').fib()).lastResync ?? 0;
    await sleep(20);
    await must('ip', ['-n', n2.ns, 'link', 'set', 'tog0', 'up']);
    await must('ip', ['-n', n2.ns, 'link', 'set', 'tog0', 'down']);
    await waitFor('node-2 dataplane resync after the link event', async () => (((await kite('node-2').fib()).lastResync ?? 0) > t0 ? true : undefined), { timeoutMs: 15_000, intervalMs: 200 });
    await sleep(500);
    expect(await foreignRoutes(n2)).toEqual(foreignBefore);
    expect(await kiteRoutes(n2)).toEqual(expectedRoutes('node-2', true));
  }, 60_000);

  it('SIGTERM stops Kite and leaves both foreign routes and its own routes in the kernel', async () => {
    const n2 = node('node-2');
    kite('node-2').signal('SIGTERM');
    const code = await kite('node-2').process!.wait();
    expect(code).toBe(0);
    await sleep(500);
    expect(await foreignRoutes(n2)).toEqual(foreignBefore);
    expect(await kiteRoutes(n2)).toEqual(expectedRoutes('node-2', true));
  }, 60_000);

  it('a restarted Kite adopts its routes: no proto-75 route is deleted or re-added (ip monitor route)', async () => {
    const n2 = node('node-2');
    const mon = lab.spawn(n2, 'ip', ['-ts', 'monitor', 'route'], { logName: 'ip-monitor-node-2' });
    await sleep(500); // subscribed before Kite starts
    // Control: the monitor sees route events in this namespace (else an empty log proves nothing).
    await must('ip', ['-n', n2.ns, 'route', 'add', '192.0.2.77/32', 'via', GATEWAY, 'proto', 'static']);
    await must('ip', ['-n', n2.ns, 'route', 'del', '192.0.2.77/32', 'via', GATEWAY, 'proto', 'static']);
    await waitFor('ip monitor to report the control route', async () => (mon.log().includes('Deleted 192.0.2.77') ? true : undefined), { timeoutMs: 5000, intervalMs: 100 });
    await kite('node-2').start();
    await kite('node-2').waitPeerState(nodeIp(1));
    await kite('node-2').waitPeerState(nodeIp(3));
    await waitFor('node-2 dataplane in sync (End-of-RIB from both mesh peers)', async () => ((await kite('node-2').fib()).inSync ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
    await sleep(1500); // a prune or re-add after in-sync would show up here
    await mon.stop(2000);
    const events = mon.log().split('\n').filter((l) => / proto 75\b/.test(l));
    expect(events, `route events for Kite's protocol during restart:\n${mon.log()}`).toEqual([]);
    expect(await kiteRoutes(n2)).toEqual(expectedRoutes('node-2', true));
    expect(await foreignRoutes(n2)).toEqual(foreignBefore);
    const f = await kite('node-2').fib();
    expect(f.routes.filter((r) => r.source !== 'remote' || r.state !== 'refused').every((r) => r.state === 'programmed'), JSON.stringify(f.routes, null, 1)).toBe(true);
    // Nothing was added, replaced or deleted by the new instance.
    expect(kite('node-2').log()).not.toMatch(/"msg":"dataplane routes applied"/);
  }, 90_000);

  it('pods still reach each other after the restart', async () => {
    const r = await lab.exec(pods.get('pod-a')!, 'ping', ['-c', '1', '-W', '2', '10.244.2.2'], { timeoutMs: 5000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
