// The route reconciler against a recording fake kernel: exact deltas for adds, changes and
// withdrawals, resync after external edits, ownership, no pruning before in-sync, adoption
// after a restart, failures and retries, periodic and link-triggered resyncs, status reasons.

import { describe, expect, it } from 'vitest';
import type { TextRoute } from './fakes.js';
import { config, node, pfx, PROTO, remote, rig, standardKernel } from './world.js';

const v4 = (dst: string, extra: Partial<TextRoute>): TextRoute => {
  const [a, l] = dst.split('/');
  return { family: 4, dst: a!, dstLen: Number(l), table: 254, protocol: PROTO, scope: 0, type: 'unicast', ...extra };
};

describe('deltas', () => {
  it('first apply adds exactly the desired routes; a second apply does nothing', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.3.0/26': [node('198.18.0.3')] }), workloads: [] });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([
      'add blackhole 10.244.1.0/26 proto 75',
      'add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75',
      'add 10.244.3.0/26 via 198.18.0.3 dev tunl0 onlink mtu 1480 proto 75',
    ]);
    expect(r.sys.take()).toEqual(['net/ipv4/ip_forward=1', 'net/ipv6/conf/all/forwarding=1']);
    await r.dp.flush();
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.sys.take()).toEqual([]);
  });

  it('a next-hop change is one replace; a new equal-cost path turns it into one multipath replace', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    r.k.takeOps();
    r.dp.setRemoteRoute(pfx('10.244.2.0/26'), [node('198.18.0.9')]);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['replace 10.244.2.0/26 via 198.18.0.9 dev tunl0 onlink mtu 1480 proto 75']);
    r.dp.setRemoteRoute(pfx('10.244.2.0/26'), [node('198.18.0.9'), node('198.18.0.4')]);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['replace 10.244.2.0/26 nh(198.18.0.4 tunl0 onlink) nh(198.18.0.9 tunl0 onlink) mtu 1480 proto 75']);
  });

  it('withdrawals are not pruned before in-sync; after markInSync they are deleted, with the protocol', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    r.k.takeOps();
    r.dp.setRemoteRoute(pfx('10.244.2.0/26'), null);
    r.dp.update({ config: config({ blocks: [] }) });
    await r.dp.flush();
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.dp.status().routes.map((s) => `${s.prefix} ${s.state}: ${s.reason}`)).toEqual([
      '10.244.1.0/26 stale: no longer desired; not deleted before the datastore and BGP are in sync',
      '10.244.2.0/26 stale: no longer desired; not deleted before the datastore and BGP are in sync',
    ]);
    r.dp.markInSync();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['delete blackhole 10.244.1.0/26 proto 75', 'delete 10.244.2.0/26 proto 75']);
    expect(r.k.table()).toEqual([]);
  });
});

describe('resync after external edits', () => {
  it('restores a deleted route, replaces a changed one, leaves a foreign one alone', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.3.0/26': [node('198.18.0.3')] }) });
    r.dp.markInSync();
    await r.dp.flush();
    r.k.takeOps();
    // Someone deletes one of our routes, rewrites another, and a foreign route appears.
    r.k.routes.delete([...r.k.routes.keys()].find((k) => k.includes('10.244.2.0/26'))!);
    r.k.put(v4('10.244.3.0/26', { gateway: '198.18.0.77', oif: 2 }));
    r.k.put(v4('10.244.9.0/26', { gateway: '198.18.0.99', oif: 2, protocol: 4 }));
    // Without a dump the reconciler trusts its view: nothing happens.
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([]);
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([
      'add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75',
      'replace 10.244.3.0/26 via 198.18.0.3 dev tunl0 onlink mtu 1480 proto 75',
    ]);
    expect(r.k.table()).toEqual([
      '10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75',
      '10.244.3.0/26 via 198.18.0.3 dev tunl0 onlink mtu 1480 proto 75',
      '10.244.9.0/26 via 198.18.0.99 dev eth0 proto 4',
      'blackhole 10.244.1.0/26 proto 75',
    ]);
  });

  it('the periodic resync (90 s) and a link event both repair the kernel', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    r.k.takeOps();
    const key = [...r.k.routes.keys()].find((k) => k.includes('10.244.2.0/26'))!;
    r.k.routes.delete(key);
    r.clock.advance(89_999);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([]);
    r.clock.advance(1);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75']);
    r.k.routes.delete(key);
    r.dp.linkChanged();
    r.clock.advance(0);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75']);
  });
});

describe('ownership', () => {
  it('never touches a route with another protocol: not when undesired, not when it holds a desired key', async () => {
    const r = rig();
    // (BIRD's protocol 12 was the example here; since issue 12 Kite adopts BIRD's routes, see below.)
    r.k.put(v4('10.244.2.0/26', { gateway: '198.18.0.50', oif: 2, protocol: 186 })); // FRR's BGP
    r.k.put(v4('10.244.7.0/26', { gateway: '198.18.0.51', oif: 2, protocol: 4 })); // static, in the pool
    r.k.put(v4('10.244.8.0/26', { gateway: '198.18.0.52', oif: 2, protocol: 80 })); // Felix's
    const before = r.k.table();
    r.dp.update({ config: config({ blocks: [] }), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    r.dp.markInSync();
    await r.dp.flush();
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.k.table()).toEqual(before);
    const s = r.dp.status().routes.find((x) => x.prefix === '10.244.2.0/26')!;
    expect(s.state).toBe('conflict');
    expect(s.reason).toBe("the kernel holds a route for this prefix with protocol 186, not Kite's 75; Kite never changes routes it does not own");
    expect(s.kernel).toBe('10.244.2.0/26 via 198.18.0.50 dev eth0 proto 186');
    expect(r.dp.status().routes.map((x) => x.prefix)).toEqual(['10.244.2.0/26']);
  });

  it('owns routes on cali* interfaces whatever their protocol: adopts a desired one, deletes an undesired one after the grace period', async () => {
    const r = rig();
    const a = r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    const b = r.k.addLink({ name: 'calibbbbbbbbbbb', up: true, mtu: 1500 });
    const eth = r.k.addLink({ name: 'ethx', up: true, mtu: 1500 });
    // The CNI plugin installed these with proto boot.
    r.k.put(v4('10.244.1.5/32', { oif: a.index, scope: 253, protocol: 3 }));
    r.k.put(v4('10.244.1.6/32', { oif: b.index, scope: 253, protocol: 3 }));
    r.k.put(v4('10.244.1.7/32', { oif: eth.index, scope: 253, protocol: 3 }));
    r.dp.update({ config: config(), workloads: [{ name: 'a', interfaceName: 'caliaaaaaaaaaaa', ipNetworks: ['10.244.1.5/32'] }] });
    r.dp.markInSync();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add blackhole 10.244.1.0/26 proto 75', 'replace 10.244.1.5/32 dev caliaaaaaaaaaaa scope link proto 75']);
    expect(r.dp.status().routes.find((x) => x.prefix === '10.244.1.6/32')!.reason).toBe('no longer desired; workload interface grace period, 10 s left');
    r.clock.advance(9_999);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([]);
    r.clock.advance(1);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['delete 10.244.1.6/32 proto 3']);
    expect(r.k.table()).toContain('10.244.1.7/32 dev ethx scope link proto 3');
  });
});

describe('ownership of the kernel\'s own routes', () => {
  it('never deletes proto-kernel routes on cali* interfaces (fe80::/64 on every IPv6 link)', async () => {
    const r = rig();
    const a = r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.k.put({ family: 6, dst: 'fe80::', dstLen: 64, table: 254, protocol: 2, scope: 0, type: 'unicast', oif: a.index, metric: 256 });
    r.dp.update({ config: config({ blocks: [] }) });
    r.dp.markInSync();
    await r.dp.flush();
    r.clock.advance(60_000);
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.dp.status().routes).toEqual([]);
  });
});

describe('restart', () => {
  it('adopts its own routes left in the kernel: zero operations, even after in-sync', async () => {
    const r = rig();
    r.k.put({ family: 4, dst: '10.244.1.0', dstLen: 26, table: 254, protocol: PROTO, scope: 0, type: 'blackhole' });
    r.k.put(v4('10.244.2.0/26', { gateway: '198.18.0.2', oif: 3, onlink: true, mtu: 1480 }));
    r.k.put(v4('10.244.9.0/26', { mtu: 1480, multipath: [{ gateway: '198.18.0.7', oif: 3, onlink: true }, { gateway: '198.18.0.3', oif: 3, onlink: true }] }));
    r.k.put({ family: 6, dst: 'fd00:244::40', dstLen: 122, table: 254, protocol: PROTO, scope: 0, type: 'unicast', gateway: 'fd00:18::2', oif: 2 });
    // A blackhole as the kernel dumps it for IPv6: on lo.
    r.k.put({ family: 6, dst: 'fd00:244::', dstLen: 122, table: 254, protocol: PROTO, scope: 0, type: 'blackhole', oif: 1 });
    r.dp.update({
      config: config({ blocks: [{ prefix: '10.244.1.0/26', pool: 'v4' }, { prefix: 'fd00:244::/122', pool: 'v6' }] }),
      remote: remote({
        '10.244.2.0/26': [node('198.18.0.2')],
        '10.244.9.0/26': [node('198.18.0.3'), node('198.18.0.7')],
        'fd00:244::40/122': [node('fd00:18::2')],
      }),
    });
    await r.dp.flush();
    r.dp.markInSync();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.dp.status().routes.every((s) => s.state === 'programmed')).toBe(true);
  });
});

describe('failures', () => {
  it('a failed add is reported with the kernel error and retried with backoff', async () => {
    const r = rig();
    r.k.failNext.set('10.244.2.0/26', [101, 'ENETUNREACH']);
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    r.k.takeOps();
    const s = r.dp.status().routes.find((x) => x.prefix === '10.244.2.0/26')!;
    expect(s).toMatchObject({ state: 'failed', reason: '10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75: ENETUNREACH' });
    expect(r.log.text().some((l) => l.startsWith('warn route operation failed; will retry'))).toBe(true);
    r.clock.advance(1_000);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75']);
    expect(r.dp.status().routes.find((x) => x.prefix === '10.244.2.0/26')!.state).toBe('programmed');
  });

  it('EEXIST on add (a route appeared under us) triggers a dump, then the ownership rules decide', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    r.k.takeOps();
    r.dp.update({ remote: remote({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.4.0/26': [node('198.18.0.4')] }) });
    r.k.put(v4('10.244.4.0/26', { gateway: '198.18.0.40', oif: 2, protocol: 4 }));
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add 10.244.4.0/26 via 198.18.0.4 dev tunl0 onlink mtu 1480 proto 75']);
    const dumps = r.k.dumps;
    r.clock.advance(1_000);
    await r.dp.flush();
    expect(r.k.dumps).toBeGreaterThan(dumps);
    expect(r.k.takeOps()).toEqual([]);
    expect(r.dp.status().routes.find((x) => x.prefix === '10.244.4.0/26')!.state).toBe('conflict');
  });
});

describe('status and logs', () => {
  it('lists refused routes with reasons, and logs each refusal once', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '0.0.0.0/0': [node('198.18.0.2')], '10.96.0.0/12': [node('198.18.0.2')] }) });
    await r.dp.flush();
    await r.dp.resync();
    const st = r.dp.status();
    expect(st.protocol).toBe(75);
    expect(st.inSync).toBe(false);
    expect(st.routes.map((s) => [s.prefix, s.source, s.state, s.reason])).toEqual([
      ['0.0.0.0/0', 'remote', 'refused', 'a default route is never programmed from BGP'],
      ['10.244.1.0/26', 'block', 'programmed', 'affine block of this node (pool v4)'],
      ['10.96.0.0/12', 'remote', 'refused', 'overlaps the service range 10.96.0.0/12: kube-proxy owns service addresses'],
    ]);
    const lines = r.log.text().filter((l) => l.includes('route not programmed'));
    expect(lines).toEqual([
      'info route not programmed {"route":"remote 0.0.0.0/0","why":"refused: a default route is never programmed from BGP"}',
      'info route not programmed {"route":"remote 10.96.0.0/12","why":"refused: overlaps the service range 10.96.0.0/12: kube-proxy owns service addresses"}',
    ]);
  });

  it('stop() leaves routes in place and cancels timers', async () => {
    const r = rig();
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    r.dp.stop();
    expect(r.clock.pending()).toBe(0);
    expect(r.k.table()).toHaveLength(2);
  });
});

describe('migration from calico-node: BIRD\'s routes (protocol 12) adopted', () => {
  it('replaces a BIRD route in place, adds before deleting one at another metric, leaves unwanted ones alone', async () => {
    const k = standardKernel();
    k.put(v4('10.244.2.0/26', { gateway: '198.18.0.2', oif: 3, onlink: true, protocol: 12 }));
    k.put(v4('10.244.3.0/26', { gateway: '198.18.0.3', oif: 3, onlink: true, protocol: 12, metric: 32 }));
    k.put(v4('10.244.9.0/26', { gateway: '198.18.0.9', oif: 3, onlink: true, protocol: 12 }));
    k.put(v4('10.244.1.0/26', { type: 'blackhole', protocol: 12 }));
    const r = rig(k);
    r.dp.update({ config: config(), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')], '10.244.3.0/26': [node('198.18.0.3')] }), workloads: [] });
    await r.dp.flush();
    // Never a moment without a route: in place, or Kite's first and BIRD's after.
    expect(r.k.takeOps()).toEqual([
      'add 10.244.3.0/26 via 198.18.0.3 dev tunl0 onlink mtu 1480 proto 75',
      'replace blackhole 10.244.1.0/26 proto 75',
      'replace 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75',
      'delete 10.244.3.0/26 proto 12', // BIRD's, at metric 32
    ]);
    expect(r.k.table().filter((t) => t.includes('10.244.3.0/26'))).toEqual(['10.244.3.0/26 via 198.18.0.3 dev tunl0 onlink mtu 1480 proto 75']);
    expect(r.k.table().filter((t) => t.includes('proto 12'))).toEqual(['10.244.9.0/26 via 198.18.0.9 dev tunl0 onlink proto 12']);
    expect(r.dp.status().routes.filter((s) => s.state !== 'programmed')).toEqual([]);
  });
});

describe('BGPConfiguration ignoredInterfaces (Calico globs)', () => {
  it('leaves ignored interfaces alone: their routes are not Kite\'s, their workloads get nothing written', async () => {
    const r = rig();
    const kept = r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    const ign = r.k.addLink({ name: 'calibbbbbbbbbbb', up: true, mtu: 1500 });
    r.k.put(v4('10.244.1.5/32', { oif: kept.index, scope: 253, protocol: 3 }));
    r.k.put(v4('10.244.1.6/32', { oif: ign.index, scope: 253, protocol: 3 }));
    r.dp.update({ config: config({ ignoredInterfaces: ['calib*'] }), workloads: [
      { name: 'a', interfaceName: 'caliaaaaaaaaaaa', ipNetworks: ['10.244.1.5/32'] },
      { name: 'b', interfaceName: 'calibbbbbbbbbbb', ipNetworks: ['10.244.1.6/32'] },
    ] });
    r.dp.markInSync();
    await r.dp.flush();
    r.clock.advance(60_000);
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add blackhole 10.244.1.0/26 proto 75', 'replace 10.244.1.5/32 dev caliaaaaaaaaaaa scope link proto 75']);
    expect(r.k.table()).toContain('10.244.1.6/32 dev calibbbbbbbbbbb scope link proto 3');
    expect(r.sys.take().filter((s) => s.includes('calibbbbbbbbbbb'))).toEqual([]);
    // Un-ignored, it is a workload interface like any other.
    r.dp.update({ config: config() });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['replace 10.244.1.6/32 dev calibbbbbbbbbbb scope link proto 75']);
  });
});

describe('BGPPeer reachableBy', () => {
  it('programs <peer>/32 via the gateway, as confd\'s static route for it; waits for a gateway on no connected subnet', async () => {
    const r = rig();
    r.dp.update({ config: config({ blocks: [], peerRoutes: [{ peer: '203.0.113.5', gateway: '198.18.0.254' }, { peer: '203.0.113.6', gateway: '192.0.2.1' }] }) });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['add 203.0.113.5/32 via 198.18.0.254 dev eth0 proto 75']);
    const s = r.dp.status().routes.map((x) => `${x.prefix} ${x.state}: ${x.reason}`);
    expect(s).toContain('203.0.113.5/32 programmed: BGPPeer 203.0.113.5 reachableBy 198.18.0.254 (via eth0)');
    expect(s).toContain('203.0.113.6/32 waiting: BGPPeer 203.0.113.6: reachableBy gateway 192.0.2.1 is on no connected subnet');
  });
});
