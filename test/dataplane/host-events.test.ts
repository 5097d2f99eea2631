// Link and address events that cannot have removed a route re-read the host without dumping the
// routes (issue 16: a dump of 100,000 routes costs ~0.5 s of CPU, and bench:fib saw two such
// events during one install); events that can (a link removed, down or up, carrier lost or back,
// an address removed) still resync from a dump.
import { describe, expect, it } from 'vitest';
import { routesMayHaveGone } from '../../src/dataplane/kernel.js';
import type { Link, MonitorEvent } from '../../src/dataplane/netlink/index.js';
import { config, rig } from './world.js';

const podA = { name: 'pod-a', interfaceName: 'caliaaaaaaaaaaa', ipNetworks: ['10.244.1.5/32'], mac: 'AA:BB:CC:DD:EE:01' };
const link = { index: 2, name: 'eth0', flags: 0x11043, up: true, lowerUp: true, mtu: 1500 } as Link;
const linkEv = (action: 'new' | 'del', changes: Extract<MonitorEvent, { kind: 'link' }>['changes']): MonitorEvent => ({ kind: 'link', action, link, changes });
const addrEv = (action: 'new' | 'del'): MonitorEvent => ({ kind: 'address', action, address: { family: 6, prefixLen: 64, flags: 128, scope: 253, index: 2, address: 'fe80::1' } } as MonitorEvent);

describe('routesMayHaveGone', () => {
  it.each([
    ['a flags-only change (RUNNING set, as bench:fib saw)', linkEv('new', []), false],
    ['a link added', linkEv('new', ['added']), false],
    ['renamed', linkEv('new', ['renamed']), false],
    ['MTU changed', linkEv('new', ['mtu']), false],
    ['an address added (IPv6 link-local after DAD)', addrEv('new'), false],
    ['a link removed', linkEv('del', ['removed']), true],
    ['down', linkEv('new', ['down']), true],
    ['up again', linkEv('new', ['up']), true],
    ['carrier lost', linkEv('new', ['carrier-down']), true],
    ['carrier back', linkEv('new', ['carrier-up']), true],
    ['renamed and down', linkEv('new', ['renamed', 'down']), true],
    ['an address removed', addrEv('del'), true],
    ['events lost', { kind: 'overflow', message: 'ENOBUFS' } as MonitorEvent, true],
  ] as const)('%s → %s', (_what, ev, dump) => {
    expect(routesMayHaveGone(ev)).toBe(dump);
  });
});

describe('hostChanged: the host view without a route dump', () => {
  it('re-reads links (a new interface gets its workload route) but dumps no routes; linkChanged does', async () => {
    const r = rig();
    r.dp.update({ config: config({ blocks: [] }), workloads: [podA] });
    await r.dp.flush();
    r.k.takeOps();
    r.sys.take();
    const before = r.k.routeDumps;
    r.k.addLink({ name: 'caliaaaaaaaaaaa', up: true, mtu: 1500 });
    r.dp.hostChanged();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([
      'add 10.244.1.5/32 dev caliaaaaaaaaaaa scope link proto 75',
      'neigh replace 10.244.1.5 lladdr aa:bb:cc:dd:ee:01 dev caliaaaaaaaaaaa permanent',
    ]);
    expect(r.sys.take()).toContain('net/ipv4/conf/caliaaaaaaaaaaa/proxy_arp=1'); // the workloads manager saw it too
    expect(r.k.routeDumps).toBe(before);
    r.dp.linkChanged();
    await r.dp.flush();
    expect(r.k.routeDumps).toBe(before + 1);
    expect(r.k.takeOps()).toEqual([]);
  });
});
