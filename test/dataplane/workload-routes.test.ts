// Workload routes left to Felix (--workload-routes felix), against a real kernel in a network
// namespace. A node that keeps Felix (docs/migrate.md) has Felix program each pod's
// `<ip>/32 dev cali… scope link` with its DeviceRouteProtocol (RTPROT_BOOT, 3, by default: Felix's
// routetable and FelixConfiguration.deviceRouteProtocol), the pod's permanent neighbour entry and
// the cali* sysctls (CALICO.md). Here a stand-in for Felix writes them; over several Kite resyncs,
// and after the workload leaves Kite's inputs, Kite never changes them. In Kite's default mode
// the same route is Kite's (it owns routes on cali* whatever their protocol): it replaces Felix's
// with its own protocol at every resync, which is the ping-pong a kept Felix would see; pinned too.
// Skips without root/netns/the addon, except on CI where that is a failure.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataplane, type Dataplane, type WorkloadRoutes } from '../../src/dataplane/dataplane.js';
import { netlinkOps, systemClock } from '../../src/dataplane/kernel.js';
import { Netlink } from '../../src/dataplane/netlink/index.js';
import { FakeLog, FakeSysctl, recordMutations } from './fakes.js';
import { createNodeLab, ipJson, isCI, missingPrerequisite, removeLab, sh } from './netlink/lab.js';
import { config, pool } from './world.js';

const missing = missingPrerequisite();
if (missing) console.warn(`workload-routes kernel tests skipped: ${missing}`);

describe('workload-routes kernel prerequisites', () => {
  it.runIf(isCI)('are present on CI', () => {
    expect(missing).toBeUndefined();
  });
});

const NS = `ktgr-wl${process.pid}`;
const POD_IF = 'calibbbbbbbbbbb';
const POD_IP = '10.244.1.5';
const POD_MAC = 'aa:bb:cc:dd:ee:01';
/** RTPROT_BOOT: Felix's default DeviceRouteProtocol for workload routes. */
const FELIX_PROTO = 'boot';

interface IpRoute { dst: string; dev?: string; protocol?: string; scope?: string }

/** The pod's route as the kernel has it (-d: iproute2 names protocol boot only in detail). */
const podRoute = (): IpRoute[] => ipJson<IpRoute[]>(NS, ['-d', 'route', 'show', `${POD_IP}/32`]);
/** What Felix does at each of its resyncs: its route and neighbour entry, written again. */
function felixWrites(): void {
  sh(['ip', '-n', NS, 'route', 'replace', `${POD_IP}/32`, 'dev', POD_IF, 'proto', FELIX_PROTO, 'scope', 'link']);
  sh(['ip', '-n', NS, 'neigh', 'replace', POD_IP, 'lladdr', POD_MAC, 'dev', POD_IF, 'nud', 'permanent']);
}

describe.skipIf(missing !== undefined)(`workload routes and Felix, in namespace ${NS}`, () => {
  const opened: Netlink[] = [];
  const dps: Dataplane[] = [];
  const cfg = config({ pools: [pool({ name: 'v4', cidr: '10.244.0.0/16' })], blocks: [{ prefix: '10.244.1.0/26', pool: 'v4' }] });
  const workloads = [{ name: 'pod-a', interfaceName: POD_IF, ipNetworks: [`${POD_IP}/32`], mac: POD_MAC }];

  function start(mode: WorkloadRoutes): { dp: Dataplane; mutations: string[]; sysctl: FakeSysctl } {
    const nl = Netlink.open({ netns: NS });
    opened.push(nl);
    const r = recordMutations(netlinkOps(nl), ['addRoutes', 'replaceRoutes', 'deleteRoutes', 'setNeighbours', 'deleteNeighbours']);
    const sysctl = new FakeSysctl();
    // No grace period: a route Kite owned and no longer wanted would go at the first apply.
    const dp = createDataplane({ ops: r.ops, sysctl, clock: systemClock(), log: new FakeLog(), protocol: 75, workloadGraceMs: 0, workloadRoutes: mode });
    dps.push(dp);
    return { dp, mutations: r.mutations, sysctl };
  }

  beforeAll(() => {
    createNodeLab(NS, POD_IF);
  });

  afterAll(() => {
    for (const dp of dps) dp.stop();
    for (const nl of opened) nl.close();
    removeLab(NS);
  });

  it('felix: over several resyncs, and after the workload leaves Kite\'s inputs, Felix\'s route, neighbour entry and sysctls are never touched', async () => {
    felixWrites();
    const before = podRoute();
    expect(before).toEqual([expect.objectContaining({ dst: POD_IP, dev: POD_IF, protocol: FELIX_PROTO, scope: 'link' })]);
    const { dp, mutations, sysctl } = start('felix');
    dp.update({ config: cfg, remote: new Map(), workloads });
    await dp.flush();
    dp.markInSync(); // pruning allowed: an owned, undesired route would go now
    await dp.flush();
    for (let i = 0; i < 3; i++) {
      await dp.resync();
      expect(podRoute()).toEqual(before);
    }
    // The datastore no longer lists the pod (Felix's own grace period is Felix's business).
    dp.update({ workloads: [] });
    await dp.flush();
    await dp.resync();
    expect(podRoute()).toEqual(before);
    expect(mutations.filter((m) => m.includes(POD_IP) || m.includes(POD_IF))).toEqual([]);
    expect(mutations.filter((m) => m.includes('Neighbours'))).toEqual([]);
    expect(ipJson<{ dst: string; lladdr: string }[]>(NS, ['neigh', 'show', 'dev', POD_IF])).toEqual([expect.objectContaining({ dst: POD_IP, lladdr: POD_MAC })]);
    expect(sysctl.writes.filter((w) => w.includes(POD_IF))).toEqual([]);
    // Kite's own routes still go in (the block's blackhole), and status does not claim the pod route.
    expect(ipJson<IpRoute[]>(NS, ['route', 'show', 'proto', '75'])).toEqual([expect.objectContaining({ dst: '10.244.1.0/26' })]);
    expect(dp.status().routes.map((r) => r.prefix)).not.toContain(`${POD_IP}/32`);
    sh(['ip', '-n', NS, 'route', 'del', '10.244.1.0/26']); // the next case starts clean
  });

  it('kite (the default): the same route is replaced with Kite\'s protocol at every resync after Felix rewrites it: the ping-pong a kept Felix sees', async () => {
    felixWrites();
    const { dp, mutations, sysctl } = start('kite');
    dp.update({ config: cfg, remote: new Map(), workloads });
    await dp.flush();
    dp.markInSync();
    await dp.flush();
    const protocols: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      protocols.push(podRoute()[0]?.protocol);
      felixWrites(); // Felix's resync puts its own back
      protocols.push(podRoute()[0]?.protocol);
      await dp.resync();
    }
    protocols.push(podRoute()[0]?.protocol);
    // 75 is Kite's (iproute2 has no name for it); boot is Felix's.
    expect(protocols).toEqual(['75', FELIX_PROTO, '75', FELIX_PROTO, '75', FELIX_PROTO, '75']);
    expect(mutations.filter((m) => m.startsWith('replaceRoutes') && m.includes(POD_IP))).toHaveLength(4);
    expect(sysctl.writes).toContain(`net/ipv4/conf/${POD_IF}/proxy_arp=1`);
  });
});
