// Workload manager: routes, permanent neighbour entries and per-interface sysctls once the
// interface is up (again for a recreated interface), and the 10 s grace period for routes on
// workload interfaces no workload claims (CNI-before-datastore, deleted pods).

import { describe, expect, it } from 'vitest';
import { hostSysctls, interfaceSysctls } from '../../src/dataplane/workloads.js';
import { config, PROTO, rig } from './world.js';

const podA = { name: 'pod-a', interfaceName: 'caliaaaaaaaaaaa', ipNetworks: ['10.244.1.5/32'], mac: 'AA:BB:CC:DD:EE:01' };

describe('sysctl lists', () => {
  it('are the ones calico-node sets', () => {
    expect(interfaceSysctls('cali1', new Set([4, 6]))).toEqual([
      { path: 'net/ipv4/conf/cali1/proxy_arp', value: '1' },
      { path: 'net/ipv4/neigh/cali1/proxy_delay', value: '0' },
      { path: 'net/ipv4/conf/cali1/forwarding', value: '1' },
      { path: 'net/ipv4/conf/cali1/route_localnet', value: '1' },
      { path: 'net/ipv6/conf/cali1/proxy_ndp', value: '1' },
      { path: 'net/ipv6/conf/cali1/forwarding', value: '1' },
      { path: 'net/ipv6/conf/cali1/accept_ra', value: '0' },
    ]);
    expect(hostSysctls(new Set([4]))).toEqual([{ path: 'net/ipv4/ip_forward', value: '1' }]);
  });
});

describe('workload interfaces', () => {
  it('route, permanent neighbour and sysctls once the interface is up; nothing again on the next apply', async () => {
    const r = rig();
    r.dp.update({ config: config({ blocks: [] }), workloads: [podA] });
    await r.dp.flush();
    // Interface not there yet: nothing but host forwarding.
    expect(r.k.takeOps()).toEqual([]);
    expect(r.sys.take()).toEqual(['net/ipv4/ip_forward=1', 'net/ipv6/conf/all/forwarding=1']);
    expect(r.dp.status().routes).toEqual([
      { prefix: '10.244.1.5/32', source: 'workload', state: 'waiting', reason: 'workload pod-a: interface caliaaaaaaaaaaa is not present yet' },
    ]);
    const link = r.k.addLink({ name: 'caliaaaaaaaaaaa', up: false, mtu: 1500 });
    r.dp.linkChanged();
    await r.dp.flush();
    // Down: neighbour entry yes, route and sysctls not yet.
    expect(r.k.takeOps()).toEqual(['neigh replace 10.244.1.5 lladdr aa:bb:cc:dd:ee:01 dev caliaaaaaaaaaaa permanent']);
    expect(r.sys.take()).toEqual([]);
    link.up = true;
    r.dp.linkChanged();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add 10.244.1.5/32 dev caliaaaaaaaaaaa scope link proto 75']);
    expect(r.sys.take()).toEqual([
      'net/ipv4/conf/caliaaaaaaaaaaa/proxy_arp=1',
      'net/ipv4/neigh/caliaaaaaaaaaaa/proxy_delay=0',
      'net/ipv4/conf/caliaaaaaaaaaaa/forwarding=1',
      'net/ipv4/conf/caliaaaaaaaaaaa/route_localnet=1',
    ]);
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.sys.take()).toEqual([]);
  });

  it('a recreated interface (new ifindex) is configured again', async () => {
    const r = rig();
    r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.dp.update({ config: config({ blocks: [] }), workloads: [podA] });
    await r.dp.flush();
    r.k.takeOps();
    r.sys.take();
    r.k.removeLink('caliaaaaaaaaaaa');
    r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.dp.linkChanged();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([
      'add 10.244.1.5/32 dev caliaaaaaaaaaaa scope link proto 75',
      'neigh replace 10.244.1.5 lladdr aa:bb:cc:dd:ee:01 dev caliaaaaaaaaaaa permanent',
    ]);
    expect(r.sys.take()).toHaveLength(4);
  });

  it('IPv6 workloads get the IPv6 sysctls and a /128 route', async () => {
    const r = rig();
    r.k.addLink({ name: 'cali666666666666', up: true, mtu: 1500 });
    r.dp.update({ config: config({ blocks: [] }), workloads: [{ name: 'v6', interfaceName: 'cali666666666666', ipNetworks: ['fd00:244::5/128'], mac: 'aa:bb:cc:dd:ee:06' }] });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([
      'add fd00:244::5/128 dev cali666666666666 proto 75',
      'neigh replace fd00:244::5 lladdr aa:bb:cc:dd:ee:06 dev cali666666666666 permanent',
    ]);
    expect(r.sys.take().slice(2)).toEqual([
      'net/ipv6/conf/cali666666666666/proxy_ndp=1',
      'net/ipv6/conf/cali666666666666/forwarding=1',
      'net/ipv6/conf/cali666666666666/accept_ra=0',
    ]);
  });

  it('a failed sysctl write is retried on the next apply', async () => {
    const r = rig();
    r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.sys.failing.add('net/ipv4/conf/caliaaaaaaaaaaa/route_localnet');
    r.dp.update({ config: config({ blocks: [] }), workloads: [podA] });
    await r.dp.flush();
    expect(r.sys.take()).toHaveLength(5);
    r.sys.failing.clear();
    r.clock.advance(1000);
    await r.dp.flush();
    expect(r.sys.take()).toHaveLength(4);
  });
});

describe('grace period for workload interface routes', () => {
  it('a CNI route seen before its workload is kept when the workload arrives within 10 s (adopted, not deleted)', async () => {
    const r = rig();
    const l = r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.k.put({ family: 4, dst: '10.244.1.5', dstLen: 32, table: 254, protocol: 3, scope: 253, type: 'unicast', oif: l.index });
    r.dp.update({ config: config({ blocks: [] }), workloads: [] });
    r.dp.markInSync();
    await r.dp.flush();
    r.clock.advance(9_000);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([]);
    r.dp.update({ workloads: [podA] });
    await r.dp.flush();
    r.clock.advance(5_000);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([
      `replace 10.244.1.5/32 dev caliaaaaaaaaaaa scope link proto ${PROTO}`,
      'neigh replace 10.244.1.5 lladdr aa:bb:cc:dd:ee:01 dev caliaaaaaaaaaaa permanent',
    ]);
  });

  it('a deleted pod: its route goes 10 s later, its neighbour entry once in sync', async () => {
    const r = rig();
    r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.dp.update({ config: config({ blocks: [] }), workloads: [podA] });
    r.dp.markInSync();
    await r.dp.flush();
    r.k.takeOps();
    r.dp.update({ workloads: [] });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['neigh delete 10.244.1.5 dev caliaaaaaaaaaaa']);
    r.clock.advance(10_000);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['delete 10.244.1.5/32 proto 75']);
  });
});
