// Kite next to a kept Felix (docs/migrate.md, --workload-routes felix), end to end in namespaces.
// Node k runs Kite with --workload-routes felix; its pods' host side is finished as Felix would
// (the /32 route with Felix's DeviceRouteProtocol, RTPROT_BOOT by default, proxy ARP). One of k's
// pods has a borrowed address from node m's block. Node m runs Kite in the default mode and
// programs its own pod. Pinned: k never changes the cali* routes over several resyncs (an
// `ip monitor route` sees no change of them) and writes no neighbour entry for them, while it
// still originates the borrowed /32 from the datastore and m routes it to k; pods ping both ways.
// Lab 198.18.48.0/24: k .1, m .2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml } from '../helpers/cluster-config.js';
import { addPod, startPing, type Pod } from '../helpers/pods.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, sleep, waitFor, type LabNode, type NsProcess } from '../interop/netns.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const SUBNET = 48;
const AS = 64512;
const ip = (i: number): string => `198.18.${SUBNET}.${i}`;
const K_BLOCK = '10.244.1.0/26';
const M_BLOCK = '10.244.2.0/26';
/** pod-k in k's block; pod-b on k with an address of m's block (borrowed); pod-m on m. */
const PODS = { k: '10.244.1.2', b: '10.244.2.50', m: '10.244.2.2' } as const;

interface IpRoute { dst: string; dev?: string; protocol?: string; gateway?: string }

describe('dataplane e2e: Kite with --workload-routes felix next to a kept Felix', () => {
  const lab = new Lab('fwl', SUBNET);
  let k: Kite;
  let m: Kite;
  let kn: LabNode;
  let mn: LabNode;
  const pods = new Map<string, Pod>();
  let macs: Record<'k' | 'b' | 'm', string>;
  let monitor: NsProcess | undefined;

  const routesOn = async (node: LabNode, dev: string): Promise<IpRoute[]> =>
    JSON.parse(await lab.mustExec(node, 'ip', ['-d', '-j', 'route', 'show', 'dev', dev])) as IpRoute[];

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    kn = await lab.addNode('k', 1);
    mn = await lab.addNode('m', 2);
    for (const n of [kn, mn]) await must('ip', ['-n', n.ns, 'route', 'add', 'default', 'via', ip(254), 'dev', 'eth0']);
    // On k the "Felix" stand-in is addPod's hostRoute: `ip route add <ip>/32 dev cali… scope link`
    // (iproute2's default protocol is boot, Felix's default), proxy_arp=1, ip_forward=1.
    pods.set('k', await addPod(lab, kn, 'pod-k', PODS.k, { hostRoute: true }));
    pods.set('b', await addPod(lab, kn, 'pod-b', PODS.b, { hostRoute: true }));
    pods.set('m', await addPod(lab, mn, 'pod-m', PODS.m));
    // The pods' MACs in their endpoints, so a Kite that programs neighbour entries has what it needs.
    const mac = async (p: Pod): Promise<string> => (JSON.parse(await lab.mustExec(p.ns, 'ip', ['-j', 'link', 'show', 'eth0'])) as Array<{ address: string }>)[0]!.address;
    macs = { k: await mac(pods.get('k')!), b: await mac(pods.get('b')!), m: await mac(pods.get('m')!) };
    const file = clusterYaml({
      bgp: { asNumber: AS, nodeToNodeMeshEnabled: true },
      nodes: [{ name: 'k', ipv4: `${ip(1)}/24`, blocks: [K_BLOCK] }, { name: 'm', ipv4: `${ip(2)}/24`, blocks: [M_BLOCK] }],
      pools: [{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
      workloads: [
        { node: 'k', pod: 'pod-k', ip: PODS.k, interfaceName: pods.get('k')!.cali, mac: macs.k },
        { node: 'k', pod: 'pod-b', ip: PODS.b, interfaceName: pods.get('b')!.cali, mac: macs.b },
        { node: 'm', pod: 'pod-m', ip: PODS.m, interfaceName: pods.get('m')!.cali, mac: macs.m },
      ],
    });
    // Every change to k's routes from here on, as the kernel reports it.
    monitor = lab.spawn(kn, 'ip', ['-d', 'monitor', 'route'], { logName: 'k-route-monitor' });
    await sleep(200);
    k = new Kite({ lab, node: kn, nodeName: 'k', asNumber: AS, peers: [], blocks: [], yaml: file, args: ['--workload-routes', 'felix'] });
    m = new Kite({ lab, node: mn, nodeName: 'm', asNumber: AS, peers: [], blocks: [], yaml: file });
    await k.start();
    await m.start();
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('k still originates the borrowed /32 from the datastore: m routes it to k, and pods ping both ways', async () => {
    await k.waitPeerState(ip(2), 'Established', 60_000);
    await waitFor('the borrowed /32 via k in m\'s kernel', async () => {
      const r = JSON.parse(await lab.mustExec(mn, 'ip', ['-j', 'route', 'show', `${PODS.b}/32`])) as IpRoute[];
      return r.some((x) => x.gateway === ip(1)) ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300, describe: async () => JSON.stringify(await m.routes()) });
    await waitFor('k\'s block via k in m\'s kernel', async () => (
      (JSON.parse(await lab.mustExec(mn, 'ip', ['-j', 'route', 'show', K_BLOCK])) as IpRoute[]).some((x) => x.gateway === ip(1)) ? true : undefined
    ), { timeoutMs: 60_000, intervalMs: 300 });
    for (const [from, to] of [['m', 'b'], ['m', 'k'], ['b', 'm']] as const) {
      expect(await startPing(lab, pods.get(from)!, pods.get(to)!, 20).result(), `pod-${from} → pod-${to}`).toMatchObject({ lost: 0 });
    }
  }, 120_000);

  it('over several resyncs k never touches Felix\'s cali* routes, writes no neighbour entry for them, and does not claim them', async () => {
    const before = await Promise.all(['k', 'b'].map((p) => routesOn(kn, pods.get(p)!.cali)));
    for (const [i, r] of before.entries()) expect(r, `pod-${['k', 'b'][i]}'s route`).toEqual([expect.objectContaining({ protocol: 'boot' })]);
    // A link going up makes Kite dump the kernel again (a resync; a link only added does not,
    // src/dataplane/kernel.ts routesMayHaveGone); lastResync says it happened.
    for (let i = 0; i < 3; i++) {
      const last = (await k.fib()).lastResync;
      await lab.mustExec(kn, 'ip', ['link', 'add', `xa${i}`, 'type', 'veth', 'peer', 'name', `xb${i}`]);
      await lab.mustExec(kn, 'ip', ['link', 'set', `xa${i}`, 'up']);
      await waitFor(`k's resync ${i + 1}`, async () => ((await k.fib()).lastResync !== last ? true : undefined), { timeoutMs: 20_000, intervalMs: 200 });
    }
    await sleep(500);
    const after = await Promise.all(['k', 'b'].map((p) => routesOn(kn, pods.get(p)!.cali)));
    expect(after).toEqual(before);
    // The kernel reported no change to either route after the stand-in wrote them.
    const changes = monitor!.log().split('\n').filter((l) => l.includes(PODS.k) || l.includes(PODS.b));
    expect(changes).toEqual([]);
    // No neighbour entry from Kite (in its default mode Kite writes a permanent one, as m did).
    for (const p of ['k', 'b']) {
      const neigh = JSON.parse(await lab.mustExec(kn, 'ip', ['-j', 'neigh', 'show', 'dev', pods.get(p)!.cali])) as Array<{ state?: string[] }>;
      expect(neigh.filter((x) => x.state?.includes('PERMANENT'))).toEqual([]);
    }
    const mNeigh = JSON.parse(await lab.mustExec(mn, 'ip', ['-j', 'neigh', 'show', 'dev', pods.get('m')!.cali])) as Array<{ dst: string; state?: string[] }>;
    expect(mNeigh).toEqual([expect.objectContaining({ dst: PODS.m, lladdr: macs.m, state: ['PERMANENT'] })]);
    const fib = await k.fib();
    expect(fib.routes.map((r) => r.prefix)).not.toContain(`${PODS.k}/32`);
    expect(fib.routes.map((r) => r.prefix)).not.toContain(`${PODS.b}/32`);
    expect(k.log()).toMatch(/left to Felix/);
  }, 120_000);
});
