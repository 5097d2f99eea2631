// Migration from calico-node (issue 12, docs/migrate.md): three nodes run BIRD configured as
// calico-node's confd renders it (node-to-node mesh, kernel protocol exporting the blocks, static
// blackholes for each node's own block) with pods whose routes Felix would have made. Node b is
// switched from BIRD to Kite while pods ping across nodes at 100 per second: BIRD on b is killed
// (so its peers treat it as a graceful restart, and its routes stay in b's kernel) and Kite starts
// on b. The BIRD nodes accept Kite as their mesh peer; Kite finds BIRD's routes in the kernel,
// restarts gracefully, adopts them (replacing each with its own, never deleting first). Every
// lost packet counts, and no route of protocol bird, conflict or duplicate is left on b.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml } from '../helpers/cluster-config.js';
import { CalicoBird } from '../helpers/calico-bird.js';
import { addPod, startPing, type Pod } from '../helpers/pods.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, run, sleep, waitFor, type LabNode } from '../interop/netns.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const SUBNET = 77;
const AS = 64512;
const POOL = '10.244.0.0/16';
const ip = (i: number): string => `198.18.${SUBNET}.${i}`;
const N = { a: { i: 1, block: '10.244.1.0/26', pod: '10.244.1.2' }, b: { i: 2, block: '10.244.2.0/26', pod: '10.244.2.2' },
  c: { i: 3, block: '10.244.3.0/26', pod: '10.244.3.2' } } as const;
type Name = keyof typeof N;
const NAMES: Name[] = ['a', 'b', 'c'];

describe('migrating node b from calico-node\'s BIRD to Kite while pods ping: 0 lost, no route left behind', () => {
  const lab = new Lab('mig', SUBNET);
  const nodes = new Map<Name, LabNode>();
  const pods = new Map<Name, Pod>();
  const birds = new Map<Name, CalicoBird>();
  let kite: Kite;
  const n = (x: Name): LabNode => nodes.get(x)!;
  const routes = async (x: Name, ...args: string[]): Promise<string[]> =>
    (await lab.mustExec(n(x), 'ip', ['-4', 'route', 'show', ...args])).split('\n').map((l) => l.trim()).filter((l) => l !== '');

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    for (const x of NAMES) {
      nodes.set(x, await lab.addNode(x, N[x].i));
      await must('ip', ['-n', n(x).ns, 'route', 'add', 'default', 'via', ip(254), 'dev', 'eth0']); // proxy ARP needs one
    }
    for (const x of NAMES) pods.set(x, await addPod(lab, n(x), `pod-${x}`, N[x].pod, { hostRoute: true }));
    for (const x of NAMES) {
      birds.set(x, new CalicoBird({ lab, node: n(x), asNumber: AS, blocks: [N[x].block], pools: [POOL], mesh: NAMES.map((y) => ip(N[y].i)) }));
      await birds.get(x)!.start();
    }
    kite = new Kite({ lab, node: n('b'), nodeName: 'b', asNumber: AS, peers: [], blocks: [], onStop: 'restart', yaml: clusterYaml({
      bgp: { asNumber: AS, nodeToNodeMeshEnabled: true },
      nodes: NAMES.map((x) => ({ name: x, ipv4: `${ip(N[x].i)}/24`, blocks: [N[x].block] })),
      pools: [{ name: 'default-ipv4-ippool', cidr: POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
      workloads: [{ node: 'b', pod: 'pod-b', ip: N.b.pod, interfaceName: pods.get('b')!.cali }],
    }) });
  }, 120_000);

  afterAll(async () => { await lab.destroy(); }, 60_000);

  it('runs as a Calico cluster on BIRD first: a full mesh, blocks in every kernel with protocol bird', async () => {
    await waitFor('BIRD mesh routes in every kernel', async () => {
      for (const x of NAMES) for (const y of NAMES) {
        if (x === y) continue;
        const r = await routes(x, N[y].block);
        if (!r.some((l) => l.includes(`via ${ip(N[y].i)}`) && l.includes('proto bird'))) return undefined;
      }
      return true;
    }, { timeoutMs: 60_000, intervalMs: 500, describe: async () => (await Promise.all(NAMES.map(async (x) => `${x}:\n${(await routes(x)).join('\n')}`))).join('\n') });
    for (const [from, to] of [['a', 'b'], ['c', 'b'], ['b', 'a']] as const) {
      expect(await startPing(lab, pods.get(from)!, pods.get(to)!, 20).result(), `warm-up pod-${from}→pod-${to}`).toMatchObject({ lost: 0 });
    }
  }, 90_000);

  it('switches b to Kite with pings running: 0 lost, the BIRD nodes accept Kite as their mesh peer', async () => {
    const pingers = ([['a', 'b'], ['c', 'b'], ['b', 'a'], ['b', 'c']] as const).map(([from, to]) => ({ from, to, ping: startPing(lab, pods.get(from)!, pods.get(to)!, 1000) }));
    await sleep(1000);
    // calico-node stops BIRD without a word (docs/migrate.md: SIGKILL), so its peers keep b's routes.
    birds.get('b')!.proc!.signal('SIGKILL');
    await birds.get('b')!.proc!.wait();
    await kite.start();
    for (const y of ['a', 'c'] as const) await kite.waitPeerState(ip(N[y].i), 'Established', 30_000);
    for (const y of ['a', 'c'] as const) expect(await birds.get(y)!.state(ip(N.b.i))).toBe('Established');
    const results = await Promise.all(pingers.map(async (p) => ({ from: p.from, to: p.to, ...(await p.ping.result()) })));
    console.log(`migration of b: ${results.map((r) => `pod-${r.from}→pod-${r.to} ${r.lost}/${r.sent} lost`).join(', ')}`);
    for (const r of results) expect(r, `pings pod-${r.from}→pod-${r.to}`).toMatchObject({ sent: 1000, lost: 0 });
    expect(kite.log()).toMatch(/routes of calico-node's BIRD \(protocol 12\) in the kernel/);
  }, 120_000);

  it('leaves no BIRD route, conflict or duplicate on b, and one route per block on the BIRD nodes', async () => {
    await waitFor('BIRD\'s routes on b adopted', async () => ((await routes('b', 'proto', 'bird')).length === 0 ? true : undefined), {
      timeoutMs: 30_000, intervalMs: 300, describe: async () => (await routes('b')).join('\n'),
    });
    const mine = await routes('b', 'proto', '75');
    // The metric is Calico's priority from LOCAL_PREF (2147483647 − 100; issue 11).
    expect(mine.sort()).toEqual([
      `${N.a.block} via ${ip(N.a.i)} dev eth0 metric 2147483547 onlink`,
      `${N.b.pod} dev ${pods.get('b')!.cali} scope link`,
      `${N.c.block} via ${ip(N.c.i)} dev eth0 metric 2147483547 onlink`,
      `blackhole ${N.b.block}`,
    ].sort());
    for (const block of [N.a.block, N.b.block, N.c.block]) expect(await routes('b', block), `routes for ${block} on b`).toHaveLength(1);
    const fib = await kite.fib();
    expect(fib.routes.filter((r) => r.state !== 'programmed').map((r) => `${r.prefix} ${r.state}: ${r.reason}`)).toEqual([]);
    for (const x of ['a', 'c'] as const) {
      const r = await routes(x, N.b.block);
      expect(r, `b's block on ${x}`).toEqual([`${N.b.block} via ${ip(N.b.i)} dev eth0 proto bird metric 32`]);
    }
  }, 60_000);
});
