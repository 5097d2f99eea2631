// The reconciler while the kernel is still working: Loc-RIB changes arriving during an apply,
// large changes in slices whose applies overlap (as with netlink on its own thread). Each case
// checks the kernel right after the flush, with no resync to hide a lost or doubled operation.

import { describe, expect, it } from 'vitest';
import { SlowKernel } from './fakes.js';
import { config, node, pfx, rig, standardKernel } from './world.js';

const P = (i: number): string => `10.244.${i}.0/26`;

describe('overlapping applies', () => {
  it('a route that changes while its add is in flight ends as the new route', async () => {
    const k = standardKernel(new SlowKernel());
    const r = rig(k);
    r.dp.update({ config: config(), remote: new Map(), workloads: [] });
    await r.dp.flush();
    r.dp.setRemoteRoute(pfx(P(2)), [node('198.18.0.2')]);
    const first = r.dp.flush();
    // Let the apply issue its add, then change the route before the kernel has answered.
    while (!k.ops.some((o) => o.startsWith('add 10.244.2.0/26'))) await new Promise((res) => setImmediate(res));
    r.dp.setRemoteRoute(pfx(P(2)), [node('198.18.0.3')]);
    await first;
    await r.dp.flush();
    expect([...k.routes.values()].filter((x) => String(x.dst) === '10.244.2.0').map((x) => String(x.gateway))).toEqual(['198.18.0.3']);
    expect(k.ops.filter((o) => o.includes('10.244.2.0/26'))).toEqual([
      'add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75',
      'replace 10.244.2.0/26 via 198.18.0.3 dev tunl0 onlink mtu 1480 proto 75',
    ]);
  });

  it('a route withdrawn while its add is in flight is deleted once in sync', async () => {
    const k = standardKernel(new SlowKernel());
    const r = rig(k);
    r.dp.update({ config: config(), remote: new Map(), workloads: [] });
    r.dp.markInSync();
    await r.dp.flush();
    r.dp.setRemoteRoute(pfx(P(2)), [node('198.18.0.2')]);
    const first = r.dp.flush();
    while (!k.ops.some((o) => o.startsWith('add 10.244.2.0/26'))) await new Promise((res) => setImmediate(res));
    r.dp.setRemoteRoute(pfx(P(2)), null);
    await first;
    await r.dp.flush();
    expect([...k.routes.values()].filter((x) => String(x.dst) === '10.244.2.0')).toEqual([]);
  });

  it('a large change goes in slices: every route added exactly once, none failed', async () => {
    const k = standardKernel(new SlowKernel());
    const r = rig(k, { routeSlice: 3 });
    r.dp.update({ config: config(), remote: new Map(), workloads: [] });
    await r.dp.flush();
    for (let i = 2; i < 30; i++) r.dp.setRemoteRoute(pfx(P(i)), [node('198.18.0.2')]);
    const done = r.dp.flush();
    // More changes arrive between slices (BGP runs while the kernel works).
    await new Promise((res) => setImmediate(res));
    for (let i = 30; i < 40; i++) r.dp.setRemoteRoute(pfx(P(i)), [node('198.18.0.3')]);
    await done;
    await r.dp.flush();
    const adds = k.ops.filter((o) => o.startsWith('add 10.244.'));
    expect(adds).toHaveLength(38);
    expect(new Set(adds).size).toBe(38);
    expect(k.ops.filter((o) => !o.startsWith('add 10.244.'))).toEqual(['add blackhole 10.244.1.0/26 proto 75']);
    expect(r.log.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect([...k.routes.values()].filter((x) => x.protocol === 75 && x.type === 'unicast')).toHaveLength(38);
  });
});

describe('overlapping applies: a prefix recomputed while its own operation is in flight', () => {
  it('the later route wins (its key is not settled by the earlier answer)', async () => {
    const k = standardKernel(new SlowKernel());
    const r = rig(k, { routeSlice: 2 });
    r.dp.update({ config: config(), remote: new Map(), workloads: [] });
    await r.dp.flush();
    for (let i = 2; i < 12; i++) r.dp.setRemoteRoute(pfx(P(i)), [node('198.18.0.2')]);
    k.hold();
    const done = r.dp.flush();
    // With the kernel holding every answer, move prefix 2 to another node after its slice was
    // issued: a later slice recomputes it while its add is in flight.
    await new Promise((res) => setImmediate(res));
    r.dp.setRemoteRoute(pfx(P(2)), [node('198.18.0.3')]);
    for (let i = 0; i < 10; i++) await new Promise((res) => setImmediate(res));
    k.release();
    await done;
    expect([...k.routes.values()].find((x) => String(x.dst) === '10.244.2.0')?.gateway?.toString()).toBe('198.18.0.3');
    expect(r.log.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });
});
