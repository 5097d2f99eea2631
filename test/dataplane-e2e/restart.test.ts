// Restarts that lose nothing (issue 12): node k's Kite gets SIGTERM and is started again while
// pods on three other nodes ping a pod on k at 100 per second. Each of those nodes keeps k's
// routes through graceful restart (RFC 4724 helper) with a different BGP speaker: Kite (mesh),
// BIRD configured as calico-node's confd renders it (kernel protocol, graceful restart), and FRR
// (bgpd with zebra). Kite on k keeps its kernel routes while it is away. Every lost packet
// counts: the test wants 0 of each pinger's. A decommission (SIGUSR2) afterwards withdraws at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml } from '../helpers/cluster-config.js';
import { CalicoBird } from '../helpers/calico-bird.js';
import { addPod, startPing, type Pod } from '../helpers/pods.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, sleep, waitFor, type LabNode, type NsProcess } from '../interop/netns.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const SUBNET = 76;
const AS = 64512;
const POOL = '10.244.0.0/16';
const ip = (i: number): string => `198.18.${SUBNET}.${i}`;
// k: Kite restarted; m: Kite (mesh peer); b: BIRD; f: FRR.
const N = { k: { i: 1, block: '10.244.1.0/26', pod: '10.244.1.2' }, m: { i: 2, block: '10.244.2.0/26', pod: '10.244.2.2' },
  b: { i: 3, block: '10.244.3.0/26', pod: '10.244.3.2' }, f: { i: 4, block: '10.244.4.0/26', pod: '10.244.4.2' } } as const;

/** FRR with zebra, so that what bgpd learns reaches the kernel (proto bgp), and helper-mode graceful restart (FRR's default). */
const dirs: string[] = [];
const frrDir = (): string => dirs[0] ?? '';

async function startFrr(lab: Lab, node: LabNode, neighbors: string[], networks: string[]): Promise<NsProcess[]> {
  // zebra drops to the frr user: its directory must be frr's (the lab's own is root-only).
  const dir = mkdtempSync(join(tmpdir(), `${lab.name}-frr-`));
  await must('chown', ['frr:frr', dir]);
  dirs.push(dir);
  const zconf = join(dir, 'zebra.conf');
  const bconf = join(dir, 'bgpd.conf');
  writeFileSync(zconf, `hostname ${node.name}\n!\n`);
  writeFileSync(bconf, [
    'frr defaults traditional', `hostname ${node.name}`, `log file ${join(dir, 'bgpd.log')} informational`, '!',
    `router bgp ${AS}`, ` bgp router-id ${node.ipv4}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check', ' bgp graceful-restart',
    ...neighbors.flatMap((n) => [` neighbor ${n} remote-as ${AS}`, ` neighbor ${n} timers connect 1`]),
    ' address-family ipv4 unicast', ...networks.map((p) => `  network ${p}`), ...neighbors.map((n) => `  neighbor ${n} next-hop-self`), ' exit-address-family',
    '!', 'line vty', '!',
  ].join('\n') + '\n');
  const zserv = join(dir, 'zserv.api');
  const zebra = lab.spawn(node, '/usr/lib/frr/zebra', ['-f', zconf, '-i', join(dir, 'zebra.pid'), '--vty_socket', dir, '-z', zserv, '-A', '127.0.0.1', '-P', '0', '-u', 'frr', '-g', 'frr'], { logName: `zebra-${node.name}` });
  await waitFor('zebra socket', async () => ((await lab.exec(node, 'test', ['-S', zserv])).code === 0 ? true : undefined), { timeoutMs: 15_000 });
  const bgpd = lab.spawn(node, '/usr/lib/frr/bgpd', ['-S', '-f', bconf, '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-z', zserv, '-A', '127.0.0.1', '-P', '0'], { logName: `bgpd-${node.name}` });
  return [zebra, bgpd];
}

async function kernelRoute(lab: Lab, node: LabNode, prefix: string): Promise<string> {
  return (await lab.mustExec(node, 'ip', ['-4', 'route', 'show', prefix])).trim();
}

describe('SIGTERM restart of Kite while pods ping across nodes: 0 lost with Kite, BIRD and FRR keeping the routes', () => {
  const lab = new Lab('rst', SUBNET);
  const nodes = new Map<string, LabNode>();
  const pods = new Map<string, Pod>();
  let k: Kite;
  let m: Kite;
  let bird: CalicoBird;
  const n = (x: string): LabNode => nodes.get(x)!;

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    for (const [name, spec] of Object.entries(N)) {
      nodes.set(name, await lab.addNode(name, spec.i));
      // A default route (to an unused gateway): the kernel answers the pods' proxy ARP for
      // 169.254.1.1 only when it has a route to it through another interface.
      await must('ip', ['-n', n(name).ns, 'route', 'add', 'default', 'via', ip(254), 'dev', 'eth0']);
    }
    for (const [name, spec] of Object.entries(N)) {
      pods.set(name, await addPod(lab, n(name), `pod-${name}`, spec.pod, { hostRoute: name === 'b' || name === 'f' }));
    }
    // The workload endpoints name the cali interface addPod made (Calico's naming).
    const file = clusterYaml({
      bgp: { asNumber: AS, nodeToNodeMeshEnabled: true },
      nodes: [{ name: 'k', ipv4: `${ip(N.k.i)}/24`, blocks: [N.k.block] }, { name: 'm', ipv4: `${ip(N.m.i)}/24`, blocks: [N.m.block] }],
      pools: [{ name: 'default-ipv4-ippool', cidr: POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
      peers: [{ name: 'bird', peerIP: ip(N.b.i), asNumber: AS }, { name: 'frr', peerIP: ip(N.f.i), asNumber: AS }],
      workloads: [{ node: 'k', pod: 'pod-k', ip: N.k.pod, interfaceName: pods.get('k')!.cali }, { node: 'm', pod: 'pod-m', ip: N.m.pod, interfaceName: pods.get('m')!.cali }],
    });
    k = new Kite({ lab, node: n('k'), nodeName: 'k', asNumber: AS, peers: [], blocks: [], onStop: 'restart', yaml: file });
    m = new Kite({ lab, node: n('m'), nodeName: 'm', asNumber: AS, peers: [], blocks: [], onStop: 'restart', yaml: file });
    bird = new CalicoBird({ lab, node: n('b'), asNumber: AS, blocks: [N.b.block], pools: [POOL], mesh: [ip(N.k.i)] });
    await bird.start();
    await startFrr(lab, n('f'), [ip(N.k.i)], [N.f.block]);
    await k.start();
    await m.start();
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  it('converges: every node routes to k\'s block, and k to theirs', async () => {
    for (const a of [ip(N.m.i), ip(N.b.i), ip(N.f.i)]) await k.waitPeerState(a, 'Established', 60_000);
    await waitFor('k\'s block in every peer\'s kernel', async () => {
      const r = await Promise.all(['m', 'b', 'f'].map((x) => kernelRoute(lab, n(x), N.k.block)));
      return r.every((x) => x.includes(`via ${ip(N.k.i)}`)) ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300, describe: async () => {
      const r = await Promise.all(['m', 'b', 'f'].map(async (x) => `${x}: ${await kernelRoute(lab, n(x), N.k.block)}`));
      const frr = await lab.exec(n('f'), 'vtysh', ['--vty_socket', frrDir(), '-c', 'show bgp ipv4 unicast', '-c', 'show ip route']);
      return `${r.join('\n')}\nFRR:\n${frr.stdout}${frr.stderr}`;
    } });
    await waitFor('the peers\' blocks in k\'s kernel', async () => {
      const r = await Promise.all([N.m.block, N.b.block, N.f.block].map((p) => kernelRoute(lab, n('k'), p)));
      return r.every((x) => x.includes('proto 75')) ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    for (const x of ['m', 'b', 'f']) {
      const p = startPing(lab, pods.get(x)!, pods.get('k')!, 20);
      expect(await p.result(), `warm-up ping from pod-${x}`).toMatchObject({ lost: 0 });
    }
  }, 120_000);

  it('SIGTERM and restart: no packet lost from any node, the peers kept k\'s routes, k kept its own', async () => {
    const pingers = ['m', 'b', 'f'].map((x) => ({ from: x, ping: startPing(lab, pods.get(x)!, pods.get('k')!, 1200) }));
    await sleep(1000);
    const t0 = Date.now();
    await k.stop(); // SIGTERM; --on-stop restart: no Cease
    const stopped = Date.now() - t0;
    expect(k.log()).toMatch(/stopping for a restart/);
    // While k is away: its routes stay everywhere (stale at the peers, in place on k).
    for (const x of ['m', 'b', 'f']) expect(await kernelRoute(lab, n(x), N.k.block), `k's block on ${x} while k is down`).toContain(`via ${ip(N.k.i)}`);
    expect(await kernelRoute(lab, n('k'), N.b.block)).toContain('proto 75');
    await sleep(1000);
    await k.start();
    for (const a of [ip(N.m.i), ip(N.b.i), ip(N.f.i)]) await k.waitPeerState(a, 'Established', 30_000);
    const results = await Promise.all(pingers.map(async (p) => ({ from: p.from, ...(await p.ping.result()) })));
    console.log(`SIGTERM restart (stop took ${stopped} ms): ${results.map((r) => `pod-${r.from}→pod-k ${r.lost}/${r.sent} lost`).join(', ')}`);
    for (const r of results) expect(r, `pings from pod-${r.from}`).toMatchObject({ sent: 1200, lost: 0 });
    // The Kite that came back announced Restart State until every peer's End-of-RIB.
    await waitFor('k\'s graceful restart complete', async () => (/graceful restart complete/.test(k.log()) ? true : undefined), { timeoutMs: 30_000 });
    expect(k.log()).toMatch(/previous run did not stop cleanly: announcing graceful restart/);
  }, 120_000);

  it('a decommission (SIGUSR2) sends Cease: the peers withdraw k\'s block at once', async () => {
    k.signal('SIGUSR2');
    await k.process!.wait();
    await waitFor('k\'s block gone from every peer', async () => {
      const r = await Promise.all(['m', 'b', 'f'].map((x) => kernelRoute(lab, n(x), N.k.block)));
      return r.every((x) => x === '') ? true : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(k.log()).toMatch(/decommissioning/);
  }, 60_000);
});
