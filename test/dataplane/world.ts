// A standard node for the dataplane tests: node-1 at 198.18.0.1/24 on eth0 (MTU 1500), tunl0
// with 10.244.1.1/32, an IPIP pool 10.244.0.0/16 and an IPv6 pool fd00:244::/56, its own block
// 10.244.1.0/26, service range 10.96.0.0/12 — and a dataplane over recording fakes.

import { createDataplane, type Dataplane, type DataplaneOptions } from '../../src/dataplane/dataplane.js';
import type { DataplaneConfig, PoolInput, RemoteNextHop } from '../../src/dataplane/inputs.js';
import { mustParsePrefix, type Prefix } from '../../src/net/index.js';
import { FakeClock, FakeKernel, FakeLog, FakeSysctl } from './fakes.js';

export const PROTO = 75;

export function pool(p: Partial<PoolInput> & { name: string; cidr: string }): PoolInput {
  return { family: p.cidr.includes(':') ? 6 : 4, ipipMode: 'Never', vxlanMode: 'Never', ...p };
}

export function config(over: Partial<DataplaneConfig> = {}): DataplaneConfig {
  return {
    ipv4Address: { address: '198.18.0.1', prefixLength: 24, subnet: '198.18.0.0/24' },
    ipv6Address: { address: 'fd00:18::1', prefixLength: 64, subnet: 'fd00:18::/64' },
    ipv4IPIPTunnelAddr: '10.244.1.1',
    pools: [pool({ name: 'v4', cidr: '10.244.0.0/16', ipipMode: 'Always' }), pool({ name: 'v6', cidr: 'fd00:244::/56' })],
    blocks: [{ prefix: '10.244.1.0/26', pool: 'v4' }],
    serviceRanges: ['10.96.0.0/12'],
    ...over,
  };
}

/** The standard host: lo 1, eth0 2, tunl0 3. */
export function standardKernel<K extends FakeKernel = FakeKernel>(k: K = new FakeKernel() as K): K {
  k.addLink({ index: 1, name: 'lo', up: true, mtu: 65536 });
  k.addLink({ index: 2, name: 'eth0', up: true, mtu: 1500 });
  k.addLink({ index: 3, name: 'tunl0', up: true, mtu: 1480, kind: 'ipip' });
  k.addresses.push(
    { family: 4, index: 1, address: '127.0.0.1', prefixLen: 8 },
    { family: 4, index: 2, address: '198.18.0.1', prefixLen: 24 },
    { family: 6, index: 2, address: 'fd00:18::1', prefixLen: 64 },
    { family: 6, index: 2, address: 'fe80::1', prefixLen: 64 },
    { family: 4, index: 3, address: '10.244.1.1', prefixLen: 32 },
  );
  return k;
}

/** A prefix as the RIB hands it to the dataplane. */
export const pfx = (text: string): Prefix => mustParsePrefix(text);

/** Remote routes from text: { "10.244.2.0/26": [hops] }. */
export const remote = (o: Record<string, RemoteNextHop[]>): Map<Prefix, RemoteNextHop[]> =>
  new Map(Object.entries(o).map(([p, hops]) => [pfx(p), hops]));

export const node = (address: string, name?: string): RemoteNextHop => ({ address, calicoNode: name ?? `node-${address.split(/[.:]/).pop()}` });

export interface Rig {
  k: FakeKernel;
  sys: FakeSysctl;
  clock: FakeClock;
  log: FakeLog;
  dp: Dataplane;
}

export function rig(k: FakeKernel = standardKernel(), opts: Partial<DataplaneOptions> = {}): Rig {
  const sys = new FakeSysctl();
  const clock = new FakeClock();
  const log = new FakeLog();
  const dp = createDataplane({ ops: k, sysctl: sys, clock, log, protocol: PROTO, ...opts });
  return { k, sys, clock, log, dp };
}
