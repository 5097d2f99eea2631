// Desired routes, through the production path (a dataplane over the fake kernel; the routes it
// asks the kernel to add are what it wants): route shapes per IPIP mode (Always, CrossSubnet incl.
// a /32 ipv4Address, Never), multipath, IPv6, workloads, and every refusal with its reason.

import { describe, expect, it } from 'vitest';
import type { LocalWorkload, RemoteNextHop } from '../../src/dataplane/inputs.js';
import type { KRoute, OpResult } from '../../src/dataplane/types.js';
import { textRoute, type FakeKernel, type TextRoute } from './fakes.js';
import { config, node, pool, remote as remoteOf, rig, standardKernel } from './world.js';

async function run(
  remote: Record<string, RemoteNextHop[]>,
  over: { cfg?: Parameters<typeof config>[0]; k?: FakeKernel; workloads?: LocalWorkload[] } = {},
) {
  const k = over.k ?? standardKernel();
  const requested: KRoute[] = [];
  const add = k.addRoutes.bind(k);
  k.addRoutes = (rs: readonly KRoute[]): Promise<OpResult[]> => {
    requested.push(...rs);
    return add(rs);
  };
  const r = rig(k);
  r.dp.update({ config: config(over.cfg), remote: remoteOf(remote), workloads: over.workloads ?? [] });
  await r.dp.flush();
  const st = r.dp.status();
  // Compared with routes written in the tests, addresses as text.
  const byPrefix = new Map<string, TextRoute>();
  for (const d of requested) byPrefix.set(`${d.dst.toString()}/${d.dstLen}`, textRoute(d));
  const why = (p: string) => st.routes.filter((u) => u.prefix === p && (u.state === 'refused' || u.state === 'waiting')).map((u) => `${u.state}: ${u.reason}`);
  /** Why each programmed route has its shape. */
  const reasons = st.routes.filter((u) => u.state === 'programmed').map((u) => u.reason);
  return { st, requested, route: (p: string) => byPrefix.get(p), why, reasons };
}

describe('remote block shapes', () => {
  it('ipipMode Always: via the node IP on tunl0, onlink, tunnel MTU', async () => {
    const { route } = await run({ '10.244.2.0/26': [node('198.18.0.2')] });
    expect(route('10.244.2.0/26')).toEqual({
      family: 4, dst: '10.244.2.0', dstLen: 26, table: 254, protocol: 75, scope: 0, type: 'unicast',
      gateway: '198.18.0.2', oif: 3, onlink: true, mtu: 1480,
    });
  });

  it('ipipMode CrossSubnet: direct on eth0 inside the node subnet, tunl0 outside it', async () => {
    const cfg = { pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' })] };
    const { route, reasons } = await run({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.3.0/26': [node('198.19.5.3')] }, { cfg });
    expect(route('10.244.2.0/26')).toMatchObject({ gateway: '198.18.0.2', oif: 2, onlink: true });
    expect(route('10.244.2.0/26')!.mtu).toBeUndefined();
    expect(route('10.244.3.0/26')).toMatchObject({ gateway: '198.19.5.3', oif: 3, onlink: true, mtu: 1480 });
    const why = reasons;
    expect(why).toContain('node node-2 direct: pool v4 has ipipMode CrossSubnet and 198.18.0.2 is in this node\'s subnet 198.18.0.0/24');
    expect(why).toContain('node node-3 via IPIP: pool v4 has ipipMode CrossSubnet and 198.19.5.3 is outside this node\'s subnet 198.18.0.0/24');
  });

  it('CrossSubnet with a /32 ipv4Address uses the prefix the kernel has on the NIC, and says so', async () => {
    const cfg = {
      pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' })],
      ipv4Address: { address: '198.18.0.1', prefixLength: 32, subnet: '198.18.0.1/32' },
    };
    const { route, st } = await run({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.3.0/26': [node('198.19.5.3')] }, { cfg });
    expect(route('10.244.2.0/26')).toMatchObject({ oif: 2 });
    expect(route('10.244.3.0/26')).toMatchObject({ oif: 3 });
    expect(st.notes).toEqual(['ipv4Address 198.18.0.1/32 has no subnet: CrossSubnet uses 198.18.0.0/24, the prefix on eth0 in the kernel']);
  });

  it('CrossSubnet with /32 everywhere (cloud host) treats every node as remote: IPIP, and says so', async () => {
    const k = standardKernel();
    k.addresses = k.addresses.map((a) => (a.address === '198.18.0.1' ? { ...a, prefixLen: 32 } : a));
    const cfg = {
      pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' })],
      ipv4Address: { address: '198.18.0.1', prefixLength: 32, subnet: '198.18.0.1/32' },
    };
    const { route, st } = await run({ '10.244.2.0/26': [node('198.18.0.2')] }, { cfg, k });
    expect(route('10.244.2.0/26')).toMatchObject({ gateway: '198.18.0.2', oif: 3, onlink: true, mtu: 1480 });
    expect(st.notes[0]).toMatch(/has no subnet and the kernel shows none either: CrossSubnet treats every node as in another subnet and routes via IPIP/);
  });

  it('ipipMode Never: direct via the host NIC, onlink, no MTU', async () => {
    const cfg = { pools: [pool({ name: 'v4', cidr: '10.244.0.0/16' })] };
    const { route } = await run({ '10.244.2.0/26': [node('198.19.5.3')] }, { cfg });
    expect(route('10.244.2.0/26')).toEqual({
      family: 4, dst: '10.244.2.0', dstLen: 26, table: 254, protocol: 75, scope: 0, type: 'unicast',
      gateway: '198.19.5.3', oif: 2, onlink: true,
    });
  });

  it('a next hop that is not a Calico node never gets IPIP, even in an Always pool', async () => {
    const { route } = await run({ '10.244.2.0/26': [{ address: '198.18.0.254' }] });
    expect(route('10.244.2.0/26')).toMatchObject({ gateway: '198.18.0.254', oif: 2, onlink: true });
    expect(route('10.244.2.0/26')!.mtu).toBeUndefined();
  });

  it('equal-cost paths become one multipath route, next hops sorted', async () => {
    const { route } = await run({ '10.244.9.0/26': [node('198.18.0.7'), node('198.18.0.3')] });
    expect(route('10.244.9.0/26')).toEqual({
      family: 4, dst: '10.244.9.0', dstLen: 26, table: 254, protocol: 75, scope: 0, type: 'unicast', mtu: 1480,
      multipath: [
        { gateway: '198.18.0.3', oif: 3, onlink: true },
        { gateway: '198.18.0.7', oif: 3, onlink: true },
      ],
    });
  });

  it('drops next hops of the wrong family or of this node; none left is a refusal', async () => {
    const { route, why } = await run({ '10.244.9.0/26': [node('198.18.0.1'), node('fd00:18::2'), node('198.18.0.5')], '10.244.8.0/26': [node('198.18.0.1')] });
    expect(route('10.244.9.0/26')).toMatchObject({ gateway: '198.18.0.5' });
    expect(why('10.244.8.0/26')).toEqual(['refused: no usable next hop (198.18.0.1: wrong family or this node)']);
  });

  it('tunl0 missing: IPIP routes wait for it (with the reason), direct ones do not', async () => {
    const k = standardKernel();
    k.removeLink('tunl0');
    // And it cannot be created (no ipip module), so it stays missing.
    k.createLinks = async (ls) => ls.map((): OpResult => ({ ok: false, errno: 95, code: 'EOPNOTSUPP', message: 'tunl0: EOPNOTSUPP' }));
    const cfg = { pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' })] };
    const { route, why } = await run({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.3.0/26': [node('198.19.5.3', 'node-3')] }, { cfg, k });
    expect(route('10.244.2.0/26')).toBeDefined();
    expect(route('10.244.3.0/26')).toBeUndefined();
    expect(why('10.244.3.0/26')).toEqual([
      'waiting: tunl0 is missing (needed for node node-3: pool v4 has ipipMode CrossSubnet and 198.19.5.3 is outside this node\'s subnet 198.18.0.0/24)',
    ]);
  });
});

describe('IPv6', () => {
  it('/122 blocks via the node IPv6 address on the NIC, blackholes and /128 workloads, all metric 1024', async () => {
    const k = standardKernel();
    k.addLink({ index: 10, name: 'cali0123456789a', up: true, mtu: 1500 });
    const { route } = await run(
      { 'fd00:244::40/122': [node('fd00:18::2')] },
      {
        k,
        cfg: { blocks: [{ prefix: 'fd00:244::/122', pool: 'v6' }] },
        workloads: [{ name: 'pod-a', interfaceName: 'cali0123456789a', ipNetworks: ['fd00:244::5/128'] }],
      },
    );
    expect(route('fd00:244::40/122')).toEqual({
      family: 6, dst: 'fd00:244::40', dstLen: 122, table: 254, protocol: 75, scope: 0, type: 'unicast', metric: 1024,
      gateway: 'fd00:18::2', oif: 2,
    });
    expect(route('fd00:244::/122')).toEqual({ family: 6, dst: 'fd00:244::', dstLen: 122, table: 254, protocol: 75, scope: 0, type: 'blackhole', metric: 1024 });
    expect(route('fd00:244::5/128')).toEqual({ family: 6, dst: 'fd00:244::5', dstLen: 128, table: 254, protocol: 75, scope: 0, type: 'unicast', metric: 1024, oif: 10 });
  });
});

describe('refusals, each with its reason', () => {
  it('default route, service range, outside pools, host subnet (both directions), VXLAN pool, own block', async () => {
    const cfg = {
      pools: [
        pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'Always' }),
        pool({ name: 'wide', cidr: '198.0.0.0/8' }),
        pool({ name: 'vx', cidr: '10.250.0.0/16', vxlanMode: 'Always' }),
      ],
    };
    const { requested, why } = await run(
      {
        '0.0.0.0/0': [node('198.18.0.2')],
        '10.96.0.0/12': [node('198.18.0.2')],
        '10.100.0.0/24': [node('198.18.0.2')],
        '192.168.0.0/24': [node('198.18.0.2')],
        '198.18.0.0/16': [node('198.18.0.2')],
        '198.18.0.128/25': [node('198.18.0.2')],
        '10.250.1.0/26': [node('198.18.0.2')],
        '10.244.1.0/26': [node('198.18.0.2')],
      },
      { cfg },
    );
    expect(why('0.0.0.0/0')).toEqual(['refused: a default route is never programmed from BGP']);
    expect(why('10.96.0.0/12')).toEqual(['refused: overlaps the service range 10.96.0.0/12: kube-proxy owns service addresses']);
    expect(why('10.100.0.0/24')).toEqual(['refused: overlaps the service range 10.96.0.0/12: kube-proxy owns service addresses']);
    expect(why('192.168.0.0/24')).toEqual(['refused: outside every IPPool: only pool routes are programmed from BGP']);
    expect(why('198.18.0.0/16')).toEqual(['refused: covers or lies inside 198.18.0.1/24 on eth0, a host address and connected subnet']);
    expect(why('198.18.0.128/25')).toEqual(['refused: covers or lies inside 198.18.0.1/24 on eth0, a host address and connected subnet']);
    // Issue 15: VXLAN pools are routed now; a node whose Node has no VTEP yet waits for one.
    expect(why('10.250.1.0/26')).toEqual(['waiting: node node-2 has no IPv4 VXLAN tunnel address and MAC in its Node yet (needed: pool vx has vxlanMode Always)']);
    expect(why('10.244.1.0/26')).toEqual(['refused: this node\'s own block: the local blackhole route stands']);
    // Only the blackhole for the own block is desired.
    expect(requested.map((d) => `${d.type} ${d.dst}/${d.dstLen}`)).toEqual(['blackhole 10.244.1.0/26']);
  });

  it('each refusal carries its code (the metrics\' reason label) and is logged once, not on every resync', async () => {
    const cfg = { pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'Always' }), pool({ name: 'vx', cidr: '10.250.0.0/16', vxlanMode: 'Always' })] };
    const k = standardKernel();
    const r = rig(k);
    r.dp.update({ config: config(cfg), workloads: [], remote: remoteOf({
      '0.0.0.0/0': [node('198.18.0.2')], '10.96.0.0/12': [node('198.18.0.2')], '192.168.0.0/24': [node('198.18.0.2')],
      '198.18.0.0/16': [node('198.18.0.2')], '10.250.1.0/26': [node('198.18.0.2')], '10.244.1.0/26': [node('198.18.0.2')],
    }) });
    await r.dp.flush();
    for (let i = 0; i < 3; i++) await r.dp.resync();
    const codes = Object.fromEntries(r.dp.status().routes.filter((u) => u.state === 'refused').map((u) => [u.prefix, u.code]));
    expect(codes).toEqual({
      '0.0.0.0/0': 'default-route', '10.96.0.0/12': 'service-range', '192.168.0.0/24': 'outside-pool',
      '198.18.0.0/16': 'host-subnet', '10.244.1.0/26': 'own-block',
    });
    // counts() (what the metrics read) tallies exactly what status() lists.
    const tally = (xs: readonly (string | undefined)[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const x of xs) m.set(x ?? 'other', (m.get(x ?? 'other') ?? 0) + 1);
      return m;
    };
    const routes = r.dp.status().routes;
    expect(r.dp.counts()).toEqual({ byState: tally(routes.map((u) => u.state)), refused: tally(routes.filter((u) => u.state === 'refused').map((u) => u.code)) });
    expect(r.dp.counts().byState.get('programmed')).toBe(1);
    const logged = r.log.lines.filter((l) => l.msg === 'route not programmed').map((l) => (l.obj as { route: string }).route);
    expect(logged.filter((x) => x === 'remote 0.0.0.0/0')).toHaveLength(1);
    expect(new Set(logged).size).toBe(logged.length);
  });

  it('the tunnel address does not make the pool "a host subnet"', async () => {
    const { route } = await run({ '10.244.0.0/16': [{ address: '198.18.0.254' }] });
    expect(route('10.244.0.0/16')).toMatchObject({ gateway: '198.18.0.254' });
  });
});

// Calico 3.32+ splits cluster routes between the BGP side and Felix: confd bgp_processor.go
// clusterRoutePolicyFromBGPConfig maps BGPConfiguration programClusterRoutes to the pool classes
// BIRD programs (Enabled: IPIP and unencapsulated, EnabledIPIPOnly, EnabledNoEncapOnly, Disabled:
// none), and processIPPool puts `reject; # Cluster routes are handled by Felix.` in BIRD's kernel
// filter for the rest. VXLAN pools are outside the setting (Felix's in Calico; Kite does VXLAN).
describe('BGPConfiguration programClusterRoutes: routes left to Felix', () => {
  const pools = [
    pool({ name: 'ipip', cidr: '10.244.0.0/16', ipipMode: 'Always' }),
    pool({ name: 'cross', cidr: '10.245.0.0/16', ipipMode: 'CrossSubnet' }),
    pool({ name: 'plain', cidr: '10.246.0.0/16' }),
    pool({ name: 'v6', cidr: 'fd00:244::/56' }),
  ];
  const remote = {
    '10.244.2.0/26': [node('198.18.0.2')], '10.245.2.0/26': [node('198.18.0.2')],
    '10.246.2.0/26': [node('198.18.0.2')], 'fd00:244::40/122': [node('fd00:18::2')],
  };
  const programmed = async (setting: string | undefined): Promise<string[]> => {
    const clusterRoutes = setting === undefined ? {} : {
      clusterRoutes: {
        ipip: setting === 'Enabled' || setting === 'EnabledIPIPOnly', noEncap: setting === 'Enabled' || setting === 'EnabledNoEncapOnly', setting,
      },
    };
    const { requested } = await run(remote, { cfg: { pools, ...clusterRoutes } });
    return requested.filter((d) => d.type === 'unicast').map((d) => `${d.dst.toString()}/${d.dstLen}`).sort();
  };

  it('each value programs its classes of pool and no other', async () => {
    const all = ['10.244.2.0/26', '10.245.2.0/26', '10.246.2.0/26', 'fd00:244::40/122'];
    expect(await programmed(undefined)).toEqual(all);
    expect(await programmed('Enabled')).toEqual(all);
    expect(await programmed('EnabledIPIPOnly')).toEqual(['10.244.2.0/26', '10.245.2.0/26']);
    expect(await programmed('EnabledNoEncapOnly')).toEqual(['10.246.2.0/26', 'fd00:244::40/122']);
    expect(await programmed('Disabled')).toEqual([]);
  });

  it('a route left to Felix is refused with the reason, and VXLAN pools are not affected', async () => {
    const cfg = {
      pools: [...pools, pool({ name: 'vx', cidr: '10.250.0.0/16', vxlanMode: 'Always' })],
      clusterRoutes: { ipip: false, noEncap: false, setting: 'Disabled' },
      vteps: [{ node: 'node-2', family: 4 as const, address: '10.250.2.0', mac: '66:00:00:00:00:02', nodeAddress: '198.18.0.2' }],
    };
    const { why, st } = await run({ ...remote, '10.250.2.0/26': [node('198.18.0.2')] }, { cfg });
    expect(why('10.244.2.0/26')).toEqual(['refused: pool ipip is an IPIP pool: BGPConfiguration programClusterRoutes Disabled leaves its cluster routes to Felix']);
    expect(why('10.246.2.0/26')).toEqual(['refused: pool plain is unencapsulated: BGPConfiguration programClusterRoutes Disabled leaves its cluster routes to Felix']);
    expect(st.routes.find((u) => u.prefix === '10.244.2.0/26')?.code).toBe('felix');
    // Still Kite's: it waits for vxlan.calico like any VXLAN route, it is not left to Felix.
    expect(why('10.250.2.0/26')).toEqual(['waiting: vxlan.calico is missing (needed for node node-2: pool vx has vxlanMode Always)']);
  });
});

describe('workloads', () => {
  it('/32 dev cali… scope link; missing or down interfaces wait; a local /32 beats a remote one', async () => {
    const k = standardKernel();
    k.addLink({ index: 10, name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    k.addLink({ index: 11, name: 'calibbbbbbbbbbb', up: false, mtu: 1500 });
    const { route, why } = await run(
      { '10.244.1.5/32': [node('198.18.0.2')] },
      {
        k,
        workloads: [
          { name: 'a', interfaceName: 'caliaaaaaaaaaaa', ipNetworks: ['10.244.1.5/32'], mac: 'aa:bb:cc:dd:ee:01' },
          { name: 'b', interfaceName: 'calibbbbbbbbbbb', ipNetworks: ['10.244.1.6/32'] },
          { name: 'c', interfaceName: 'caliccccccccccc', ipNetworks: ['10.244.1.7'] },
        ],
      },
    );
    expect(route('10.244.1.5/32')).toEqual({ family: 4, dst: '10.244.1.5', dstLen: 32, table: 254, protocol: 75, scope: 253, type: 'unicast', oif: 10 });
    expect(why('10.244.1.5/32')).toEqual(['refused: the same prefix is a local workload route (workload a on caliaaaaaaaaaaa)']);
    expect(why('10.244.1.6/32')).toEqual(['waiting: workload b: interface calibbbbbbbbbbb is down']);
    expect(why('10.244.1.7/32')).toEqual(['waiting: workload c: interface caliccccccccccc is not present yet']);
  });
});

describe('kernel metric from a BGPFilter import rule (setPriority)', () => {
  it('becomes the route metric and part of its key; the reason says so', async () => {
    const { requested, route, st } = await run({ '10.244.2.0/26': [{ ...node('198.18.0.2'), priority: 512 }], '10.244.3.0/26': [node('198.18.0.3')] });
    expect(route('10.244.2.0/26')).toMatchObject({ metric: 512, gateway: '198.18.0.2' });
    expect(route('10.244.3.0/26')!.metric).toBeUndefined();
    expect(requested.map((d) => `${d.dst}/${d.dstLen}${d.metric !== undefined ? `|m${d.metric}` : ''}`).sort()).toEqual(['10.244.1.0/26', '10.244.2.0/26|m512', '10.244.3.0/26']);
    expect(st.routes.find((u) => u.prefix === '10.244.2.0/26')!.reason).toMatch(/metric 512: BGPFilter setPriority on import/);
  });
});
