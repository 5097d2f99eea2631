// Property: after any sequence of desired-state changes (remote routes, pool modes, workloads)
// interleaved with external kernel edits (our routes deleted or rewritten, foreign routes added
// and removed, CNI routes on cali* interfaces), once in sync and resynced, the kernel holds
// exactly desired ∪ foreign: every foreign route untouched, every other key as desired.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EncapMode } from '../../src/datastore/resources.js';
import { computeDesired, type LocalWorkload, type RemoteNextHop } from '../../src/dataplane/desired.js';
import { HostView } from '../../src/dataplane/host.js';
import type { KRoute } from '../../src/dataplane/types.js';
import { FakeKernel, SlowKernel } from './fakes.js';
import { config, node, pool, PROTO, rig, standardKernel } from './world.js';

const PREFIXES = ['10.244.2.0/26', '10.244.3.0/26', '10.244.4.0/26', '10.244.1.0/26', '10.244.1.9/32', '192.168.7.0/24'];
const HOPS = ['198.18.0.2', '198.18.0.3', '198.19.5.4', '198.18.0.1'];
const PODS: LocalWorkload[] = [
  { name: 'a', interfaceName: 'cali00000000000', ipNetworks: ['10.244.1.9/32'], mac: 'aa:00:00:00:00:01' },
  { name: 'b', interfaceName: 'cali11111111111', ipNetworks: ['10.244.1.10/32'], mac: 'aa:00:00:00:00:02' },
  { name: 'c', interfaceName: 'cali22222222222', ipNetworks: ['10.244.1.11/32'] },
];

type Action =
  | { t: 'remote'; prefix: number; hops: number[] }
  | { t: 'mode'; mode: EncapMode }
  | { t: 'workloads'; pods: boolean[] }
  | { t: 'deleteOurs'; pick: number }
  | { t: 'rewriteOurs'; pick: number; hop: number }
  | { t: 'addForeign'; prefix: number; protocol: number }
  | { t: 'removeForeign'; pick: number }
  | { t: 'cniRoute'; pod: number }
  | { t: 'flush' }
  | { t: 'inSync' }
  | { t: 'tick'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ t: fc.constant('remote' as const), prefix: fc.nat(PREFIXES.length - 1), hops: fc.uniqueArray(fc.nat(HOPS.length - 1), { maxLength: 3 }) }),
  fc.record({ t: fc.constant('mode' as const), mode: fc.constantFrom<EncapMode>('Always', 'CrossSubnet', 'Never') }),
  fc.record({ t: fc.constant('workloads' as const), pods: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) }),
  fc.record({ t: fc.constant('deleteOurs' as const), pick: fc.nat() }),
  fc.record({ t: fc.constant('rewriteOurs' as const), pick: fc.nat(), hop: fc.nat(HOPS.length - 1) }),
  fc.record({ t: fc.constant('addForeign' as const), prefix: fc.nat(PREFIXES.length - 1), protocol: fc.constantFrom(4, 12, 80, 186) }),
  fc.record({ t: fc.constant('removeForeign' as const), pick: fc.nat() }),
  fc.record({ t: fc.constant('cniRoute' as const), pod: fc.nat(PODS.length - 1) }),
  fc.constant({ t: 'flush' as const }),
  fc.constant({ t: 'inSync' as const }),
  fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 15_000 }) }),
);

const routeOf = (prefix: string, extra: Partial<KRoute>): KRoute => {
  const [a, l] = prefix.split('/');
  return { family: 4, dst: a!, dstLen: Number(l), table: 254, protocol: PROTO, scope: 0, type: 'unicast', ...extra };
};

describe('reconciler property', () => {
  it.each([
    ['one apply at a time', false],
    ['slices of one prefix, overlapping applies, a slow kernel', true],
  ])('after in-sync and a resync, kernel = desired ∪ foreign (%s)', async (_name, slow) => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), async (actions) => {
        const k = standardKernel(slow ? new SlowKernel() : new FakeKernel());
        const ifIndex = PODS.map((p) => k.addLink({ name: p.interfaceName, up: true, mtu: 1500 }).index);
        const r = rig(k, slow ? { routeSlice: 1 } : {});
        let mode: EncapMode = 'Always';
        const cfg = () => config({ pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: mode })] });
        const remote = new Map<string, RemoteNextHop[]>();
        let workloads: LocalWorkload[] = [];
        /** Foreign routes by FakeKernel key: what must survive untouched. */
        const foreign = new Map<string, KRoute>();
        r.dp.update({ config: cfg(), remote, workloads });
        const ours = () => [...k.routes.entries()].filter(([, x]) => !foreign.has(FakeKernel.key(x)));

        for (const a of actions) {
          switch (a.t) {
            case 'remote': {
              const hops = a.hops.map((h) => node(HOPS[h]!));
              r.dp.setRemoteRoute(PREFIXES[a.prefix]!, hops.length ? hops : null);
              if (hops.length) remote.set(PREFIXES[a.prefix]!, hops);
              else remote.delete(PREFIXES[a.prefix]!);
              break;
            }
            case 'mode':
              mode = a.mode;
              r.dp.update({ config: cfg() });
              break;
            case 'workloads':
              workloads = PODS.filter((_, i) => a.pods[i]);
              r.dp.update({ workloads });
              break;
            case 'deleteOurs': {
              const list = ours();
              if (list.length) k.routes.delete(list[a.pick % list.length]![0]);
              break;
            }
            case 'rewriteOurs': {
              const list = ours();
              if (list.length) {
                const [key, x] = list[a.pick % list.length]!;
                // A rewrite that kept Kite's tag (one that changes the protocol makes the route foreign).
                k.routes.set(key, { ...x, type: 'unicast', protocol: PROTO, gateway: HOPS[a.hop]!, oif: 2, onlink: true });
              }
              break;
            }
            case 'addForeign': {
              const fr = routeOf(PREFIXES[a.prefix]!, { gateway: '198.18.0.250', oif: 2, protocol: a.protocol });
              const key = FakeKernel.key(fr);
              // Another daemon cannot add over an existing route either (it would get EEXIST).
              if (!k.routes.has(key)) {
                k.put(fr);
                foreign.set(key, k.routes.get(key)!);
              }
              break;
            }
            case 'removeForeign': {
              const keys = [...foreign.keys()];
              if (keys.length) {
                const key = keys[a.pick % keys.length]!;
                foreign.delete(key);
                k.routes.delete(key);
              }
              break;
            }
            case 'cniRoute': {
              const pod = PODS[a.pod]!;
              const fr = routeOf(pod.ipNetworks[0]!, { oif: ifIndex[a.pod]!, scope: 253, protocol: 3 });
              if (!k.routes.has(FakeKernel.key(fr))) k.put(fr);
              break;
            }
            case 'flush':
              await r.dp.flush();
              break;
            case 'inSync':
              r.dp.markInSync();
              break;
            case 'tick':
              r.clock.advance(a.ms);
              await r.dp.flush();
              break;
          }
        }
        r.dp.markInSync();
        await r.dp.resync();
        r.clock.advance(10_000); // workload-interface grace period
        await r.dp.resync();

        // Foreign routes: exactly as placed.
        for (const [key, fr] of foreign) expect(k.routes.get(key)).toEqual(fr);
        // Everything else: exactly the desired routes whose key no foreign route holds.
        const host = new HostView([...k.links.values()], k.addresses, (n) => n.startsWith('cali'), 'tunl0');
        const st = computeDesired({ config: cfg(), remote, workloads }, host, { protocol: PROTO, table: 254, tunnelName: 'tunl0', tunnelMtu: 1480 });
        const want = [...st.routes.values()].map((d) => d.route).filter((x) => !foreign.has(FakeKernel.key(x))).map((x) => k.fmt(x)).sort();
        const have = ours().map(([, x]) => k.fmt(x)).sort();
        expect(have).toEqual(want);
      }),
      { numRuns: slow ? 150 : 300 },
    );
  });
});
