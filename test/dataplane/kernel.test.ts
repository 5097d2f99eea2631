// The dataplane against a real kernel in a network namespace (through the netlink binding):
// routes land as desired, a second instance (a restart) finds them equal and issues zero
// operations, external edits are repaired on resync, foreign routes are untouched, withdrawals
// are deleted once in sync. This is where "desired equals dumped" is proven for real dumps
// (IPv6 metrics and scopes, onlink flags, multipath weights, blackholes on lo).
// Skips without root/netns/the addon, except on CI where that is a failure.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataplane, type Dataplane } from '../../src/dataplane/dataplane.js';
import { netlinkOps, systemClock } from '../../src/dataplane/kernel.js';
import { Netlink } from '../../src/dataplane/netlink/index.js';
import { FakeLog, FakeSysctl, recordMutations } from './fakes.js';
import { createNodeLab, ipJson, isCI, missingPrerequisite, removeLab, sh } from './netlink/lab.js';
import { config, node, pfx, pool, remote as remoteOf } from './world.js';

const missing = missingPrerequisite();
if (missing) console.warn(`dataplane kernel tests skipped: ${missing}`);

describe('dataplane kernel prerequisites', () => {
  it.runIf(isCI)('are present on CI', () => {
    expect(missing).toBeUndefined();
  });
});

const NS = `kdp${process.pid}`;
const POD_IF = 'caliaaaaaaaaaaa';

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string | number;
  flags?: string[];
  nexthops?: { gateway: string; dev: string }[];
}

const routes = (): string[] =>
  ipJson<IpRoute[]>(NS, ['route', 'show', 'proto', '75'])
    .concat(ipJson<IpRoute[]>(NS, ['-6', 'route', 'show', 'proto', '75']))
    .map((r) => {
      if (r.nexthops) return `${r.dst} ${r.nexthops.map((n) => `${n.gateway}@${n.dev}`).join(',')}`;
      if (r.type === 'blackhole') return `blackhole ${r.dst}`;
      return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.flags?.includes('onlink') ? ' onlink' : ''}`;
    })
    .sort();

describe.skipIf(missing !== undefined)(`dataplane in namespace ${NS}`, () => {
  const opened: Netlink[] = [];
  const dps: Dataplane[] = [];
  const remote = remoteOf({
    '10.244.2.0/26': [node('198.18.0.2')],
    '10.244.9.0/26': [node('198.18.0.3'), node('198.18.0.7')],
    'fd00:244::40/122': [node('fd00:18::2')],
  });
  const cfg = config({
    pools: [pool({ name: 'v4', cidr: '10.244.0.0/16' }), pool({ name: 'v6', cidr: 'fd00:244::/56' })],
    blocks: [{ prefix: '10.244.1.0/26', pool: 'v4' }, { prefix: 'fd00:244::/122', pool: 'v6' }],
  });
  const workloads = [{ name: 'pod-a', interfaceName: POD_IF, ipNetworks: ['10.244.1.5/32'], mac: 'aa:bb:cc:dd:ee:01' }];

  function start(): { dp: Dataplane; mutations: string[]; log: FakeLog } {
    const nl = Netlink.open({ netns: NS });
    opened.push(nl);
    const c = recordMutations(netlinkOps(nl), [
      'addRoutes', 'replaceRoutes', 'deleteRoutes', 'createLinks', 'setLinks', 'addAddresses', 'deleteAddresses', 'setNeighbours', 'deleteNeighbours',
    ]);
    const log = new FakeLog();
    const dp = createDataplane({ ops: c.ops, sysctl: new FakeSysctl(), clock: systemClock(), log, protocol: 75 });
    dps.push(dp);
    return { dp, mutations: c.mutations, log };
  }

  beforeAll(() => {
    createNodeLab(NS, POD_IF, { ipv6: true });
  });

  afterAll(() => {
    for (const dp of dps) dp.stop();
    for (const nl of opened) nl.close();
    removeLab(NS);
  });

  it('programs blocks (Never pool: direct onlink), ECMP, IPv6, blackholes and a workload route', async () => {
    const { dp, log } = start();
    dp.update({ config: cfg, remote, workloads });
    await dp.flush();
    const st = dp.status();
    expect(st.routes.filter((r) => r.state !== 'programmed'), JSON.stringify(log.text())).toEqual([]);
    expect(routes()).toEqual([
      '10.244.1.5 dev caliaaaaaaaaaaa',
      '10.244.2.0/26 via 198.18.0.2 dev eth0 onlink',
      '10.244.9.0/26 198.18.0.3@eth0,198.18.0.7@eth0',
      'blackhole 10.244.1.0/26',
      'blackhole fd00:244::/122',
      'fd00:244::40/122 via fd00:18::2 dev eth0',
    ]);
    const neigh = ipJson<{ dst: string; lladdr: string; state: string[] }[]>(NS, ['neigh', 'show', 'dev', POD_IF]);
    expect(neigh).toEqual([expect.objectContaining({ dst: '10.244.1.5', lladdr: 'aa:bb:cc:dd:ee:01', state: ['PERMANENT'] })]);
  });

  it('a restarted instance adopts everything: zero kernel operations, before and after in-sync', async () => {
    const { dp, mutations } = start();
    dp.update({ config: cfg, remote, workloads });
    await dp.flush();
    dp.markInSync();
    await dp.flush();
    await dp.resync();
    expect(mutations).toEqual([]);
  });

  it('repairs external edits on resync, leaves foreign routes alone, deletes withdrawals once in sync', async () => {
    const { dp, mutations } = start();
    dp.update({ config: cfg, remote, workloads });
    dp.markInSync();
    await dp.flush();
    sh(['ip', '-n', NS, 'route', 'del', '10.244.2.0/26']);
    sh(['ip', '-n', NS, 'route', 'add', '10.244.50.0/26', 'via', '198.18.0.9', 'proto', 'static']);
    await dp.resync();
    expect(mutations).toEqual([expect.stringMatching(/^addRoutes .*"dst":"10\.244\.2\.0"/)]);
    dp.setRemoteRoute(pfx('10.244.9.0/26'), null);
    await dp.flush();
    expect(routes()).not.toContain('10.244.9.0/26 198.18.0.3@eth0,198.18.0.7@eth0');
    expect(routes()).toContain('10.244.2.0/26 via 198.18.0.2 dev eth0 onlink');
    expect(ipJson<IpRoute[]>(NS, ['route', 'show', '10.244.50.0/26'])).toEqual([expect.objectContaining({ gateway: '198.18.0.9', protocol: 'static' })]);
  });
});
