// Properties of the dataplane against a full-recompute oracle (oracle.ts, independent code):
// 1. after any sequence of desired-state changes (remote routes, pool modes, workloads)
//    interleaved with external kernel edits (our routes deleted or rewritten, foreign routes added
//    and removed, CNI routes on cali* interfaces), once in sync and resynced, the kernel holds
//    exactly desired ∪ foreign: every foreign route untouched, every other key as desired;
// 2. the incremental path (one prefix per Loc-RIB change, full recomputes only when config,
//    workloads or the host change) agrees with the oracle after every step of random RIB,
//    config, workload and host changes: the same routes in the kernel, the same prefixes refused
//    or waiting.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EncapMode, LocalWorkload, RemoteNextHop } from '../../src/dataplane/inputs.js';
import type { KRoute } from '../../src/dataplane/types.js';
import { mustParseAddr } from '../../src/net/index.js';
import { FakeKernel, kroute, SlowKernel, type TextRoute } from './fakes.js';
import { oracle } from './oracle.js';
import { config, node, pfx, pool, PROTO, remote as remoteOf, rig, standardKernel } from './world.js';

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

const routeOf = (prefix: string, extra: Partial<TextRoute>): KRoute => {
  const [a, l] = prefix.split('/');
  return kroute({ family: 4, dst: a!, dstLen: Number(l), table: 254, protocol: PROTO, scope: 0, type: 'unicast', ...extra });
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
        r.dp.update({ config: cfg(), remote: remoteOf(Object.fromEntries(remote)), workloads });
        const ours = () => [...k.routes.entries()].filter(([, x]) => !foreign.has(FakeKernel.key(x)));

        for (const a of actions) {
          switch (a.t) {
            case 'remote': {
              const hops = a.hops.map((h) => node(HOPS[h]!));
              r.dp.setRemoteRoute(pfx(PREFIXES[a.prefix]!), hops.length ? hops : null);
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
                k.routes.set(key, { ...x, type: 'unicast', protocol: PROTO, gateway: mustParseAddr(HOPS[a.hop]!), oif: 2, onlink: true });
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

        const st = oracle(cfg(), remote, workloads, { links: [...k.links.values()], addresses: k.addresses });
        // BIRD's routes (protocol 12) at a key Kite wants are adopted (migration from calico-node).
        const wanted = new Set([...st.routes.values()].map((x) => FakeKernel.key(x)));
        // Once adopted a route is Kite's (it may have gone since, when no longer wanted); one left
        // as BIRD placed it must be one Kite does not want.
        const adopted = (key: string): boolean => foreign.get(key)?.protocol === 12 && JSON.stringify(k.routes.get(key)) !== JSON.stringify(foreign.get(key));
        for (const [key, fr] of foreign) if (fr.protocol === 12 && !adopted(key)) expect(wanted.has(key)).toBe(false);
        // Other foreign routes: exactly as placed.
        for (const [key, fr] of foreign) if (!adopted(key)) expect(k.routes.get(key)).toEqual(fr);
        // Everything else: exactly the desired routes whose key no (unadopted) foreign route holds.
        const want = [...st.routes.values()].filter((x) => !foreign.has(FakeKernel.key(x)) || adopted(FakeKernel.key(x))).map((x) => k.fmt(x)).sort();
        const have = [...k.routes.entries()].filter(([key]) => !foreign.has(key) || adopted(key)).map(([, x]) => k.fmt(x)).sort();
        expect(have).toEqual(want);
      }),
      { numRuns: slow ? 150 : 300 },
    );
  });
});

// ---- 2. the incremental path against the oracle, step by step -----------------------------------

const RIB_PREFIXES = [
  '10.244.2.0/26', '10.244.3.0/26', '10.244.1.0/26', '10.244.1.9/32', '10.244.1.10/32', '192.168.7.0/24',
  '10.250.1.0/26', '10.96.1.0/24', '198.18.0.128/25', '0.0.0.0/0', 'fd00:244::40/122',
];
const RIB_HOPS: RemoteNextHop[] = [
  node('198.18.0.2'), node('198.18.0.3'), node('198.19.5.4'), node('198.18.0.1'), { address: '198.18.0.254' }, node('fd00:18::2'),
];

interface Shape {
  mode: EncapMode;
  vxlan: boolean;
  block: boolean;
  services: boolean;
  slash32: boolean;
}

type Step =
  | { t: 'remote'; prefix: number; hops: number[]; priority: number | null }
  | { t: 'feed' }
  | { t: 'config'; shape: Shape }
  | { t: 'workloads'; pods: boolean[] }
  | { t: 'nicMtu'; mtu: number }
  | { t: 'nicPrefix'; len: number }
  | { t: 'tunnel'; what: 'down' | 'remove' }
  | { t: 'cali'; pod: number; what: 'up' | 'down' | 'remove' | 'add' }
  | { t: 'flush' }
  | { t: 'check' };

const shape: fc.Arbitrary<Shape> = fc.record({
  mode: fc.constantFrom<EncapMode>('Always', 'CrossSubnet', 'Never'),
  vxlan: fc.boolean(),
  block: fc.boolean(),
  services: fc.boolean(),
  slash32: fc.boolean(),
});

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('remote' as const), prefix: fc.nat(RIB_PREFIXES.length - 1), hops: fc.uniqueArray(fc.nat(RIB_HOPS.length - 1), { maxLength: 3 }), priority: fc.constantFrom(null, null, 512) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'feed' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('config' as const), shape }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('workloads' as const), pods: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('nicMtu' as const), mtu: fc.constantFrom(1500, 9000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('nicPrefix' as const), len: fc.constantFrom(24, 32) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tunnel' as const), what: fc.constantFrom<'down' | 'remove'>('down', 'remove') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cali' as const), pod: fc.nat(PODS.length - 1), what: fc.constantFrom<'up' | 'down' | 'remove' | 'add'>('up', 'down', 'remove', 'add') }) },
  { weight: 2, arbitrary: fc.constant({ t: 'flush' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'check' as const }) },
);

function configOf(s: Shape) {
  return config({
    pools: [
      pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: s.mode }),
      pool({ name: 'v6', cidr: 'fd00:244::/56' }),
      ...(s.vxlan ? [pool({ name: 'vx', cidr: '10.250.0.0/16', vxlanMode: 'Always' })] : []),
    ],
    blocks: s.block ? [{ prefix: '10.244.1.0/26', pool: 'v4' }] : [],
    serviceRanges: s.services ? ['10.96.0.0/12'] : [],
    ...(s.slash32 ? { ipv4Address: { address: '198.18.0.1', prefixLength: 32, subnet: '198.18.0.1/32' } } : {}),
  });
}

describe('incremental path against a full recompute', () => {
  it.each([
    ['one apply at a time', false],
    ['slices of one prefix, overlapping applies, a slow kernel', true],
  ])('after every step, the kernel and the refusals are what the oracle computes from scratch (%s)', async (_name, slow) => {
    await fc.assert(
      fc.asyncProperty(shape, fc.array(step, { maxLength: 30 }), async (first, steps) => {
        const k = standardKernel(slow ? new SlowKernel() : new FakeKernel());
        for (const p of PODS) k.addLink({ name: p.interfaceName, up: true, mtu: 1500 });
        const r = rig(k, slow ? { routeSlice: 1 } : {});
        let cfg = configOf(first);
        const remote = new Map<string, RemoteNextHop[]>();
        let workloads: LocalWorkload[] = [];
        r.dp.update({ config: cfg, remote: remoteOf(Object.fromEntries(remote)), workloads });
        // In sync from the start, so the kernel holds exactly the desired routes after each step.
        r.dp.markInSync();
        const link = (name: string) => [...k.links.values()].find((l) => l.name === name);

        const check = async (): Promise<void> => {
          await r.dp.flush();
          r.clock.advance(10_000); // workload-interface grace period for routes no longer wanted
          await r.dp.flush();
          const want = oracle(cfg, remote, workloads, { links: [...k.links.values()], addresses: k.addresses });
          const have = [...k.routes.values()].map((x) => `${FakeKernel.key(x)} ${k.fmt(x)}`).sort();
          expect(have).toEqual([...want.routes.values()].map((x) => `${FakeKernel.key(x)} ${k.fmt(x)}`).sort());
          const un = r.dp.status().routes.filter((s) => s.state === 'refused' || s.state === 'waiting').map((s) => `${s.source} ${s.prefix} ${s.state}`).sort();
          expect(un).toEqual(want.unprogrammed);
        };

        for (const a of steps) {
          switch (a.t) {
            case 'remote': {
              const prefix = RIB_PREFIXES[a.prefix]!;
              // A fresh object per change, as the RIB source hands one per attribute set.
              const hops = a.hops.map((h, i) => ({ ...RIB_HOPS[h]!, ...(i === 0 && a.priority !== null ? { priority: a.priority } : {}) }));
              r.dp.setRemoteRoute(pfx(prefix), hops.length ? hops : null);
              if (hops.length) remote.set(prefix, hops);
              else remote.delete(prefix);
              break;
            }
            case 'feed':
              r.dp.update({ remote: remoteOf(Object.fromEntries(remote)) });
              break;
            case 'config':
              cfg = configOf(a.shape);
              r.dp.update({ config: cfg });
              break;
            case 'workloads':
              workloads = PODS.filter((_, i) => a.pods[i]);
              r.dp.update({ workloads });
              break;
            case 'nicMtu':
              link('eth0')!.mtu = a.mtu;
              r.dp.linkChanged();
              break;
            case 'nicPrefix':
              k.addresses = k.addresses.map((x) => (x.address === '198.18.0.1' ? { ...x, prefixLen: a.len } : x));
              r.dp.linkChanged();
              break;
            case 'tunnel':
              if (a.what === 'remove') k.removeLink('tunl0');
              else if (link('tunl0')) link('tunl0')!.up = false;
              r.dp.linkChanged();
              break;
            case 'cali': {
              const name = PODS[a.pod]!.interfaceName;
              const l = link(name);
              if (a.what === 'remove') k.removeLink(name);
              else if (a.what === 'add') { if (!l) k.addLink({ name, up: true, mtu: 1500 }); }
              else if (l) l.up = a.what === 'up';
              r.dp.linkChanged();
              break;
            }
            case 'flush':
              await r.dp.flush();
              break;
            case 'check':
              await check();
              break;
          }
        }
        await check();
        r.dp.stop();
      }),
      { numRuns: slow ? 100 : 200 },
    );
  });
});
