// A full-recompute oracle for the dataplane's desired routes, written for the property tests
// independently of src/dataplane (plain loops, its own address arithmetic): from the inputs and
// the host as the fake kernel holds it, every route Kite should have in the kernel, and every
// prefix it should leave unprogrammed (refused, or waiting for the host). Only the universe the
// property tests draw from needs to be right: canonical prefixes, IPv4 and one IPv6 pool.

import type { DataplaneConfig, LocalWorkload, RemoteNextHop } from '../../src/dataplane/inputs.js';
import type { KAddress, KLink, KRoute } from '../../src/dataplane/types.js';
import { kroute, type TextRoute } from './fakes.js';

type TextNexthop = NonNullable<TextRoute['multipath']>[number];

export interface OracleHost {
  links: readonly KLink[];
  addresses: readonly KAddress[];
}

export interface OracleResult {
  /** Routes by kernel key ("10.244.2.0/26 m0"). */
  routes: Map<string, KRoute>;
  /** "remote 10.244.9.0/26 refused", "workload 10.244.1.9/32 waiting". */
  unprogrammed: string[];
}

const PROTO = 75;
const TABLE = 254;

interface Net {
  family: 4 | 6;
  /** IPv4: the 32-bit network; IPv6: the address text as given (the universe has few). */
  net: number;
  len: number;
  text: string;
}

function v4(addr: string): number {
  return addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function netOf(prefix: string): Net {
  const [a, l] = prefix.split('/');
  const len = Number(l);
  if (a!.includes(':')) return { family: 6, net: 0, len, text: prefix };
  const n = v4(a!);
  return { family: 4, net: n - (n % 2 ** (32 - len)), len, text: prefix };
}

/** IPv6 containment by text for the universe's prefixes: fd00:244::/56 holds every fd00:244:: prefix. */
function contains(outer: Net, inner: Net): boolean {
  if (outer.family !== inner.family || inner.len < outer.len) return false;
  if (outer.family === 6) return inner.text.startsWith(outer.text.slice(0, outer.text.indexOf('::')) + '::') || outer.text === inner.text;
  const size = 2 ** (32 - outer.len);
  return inner.net - (inner.net % size) === outer.net;
}

const overlaps = (a: Net, b: Net): boolean => contains(a, b) || contains(b, a);

export function oracle(cfg: DataplaneConfig, remote: ReadonlyMap<string, readonly RemoteNextHop[]>, workloads: readonly LocalWorkload[], host: OracleHost, configuredMtu?: number): OracleResult {
  const routes = new Map<string, TextRoute>();
  const unprogrammed: string[] = [];
  const keyOf = (r: { dst: string; dstLen: number; metric?: number; family: 4 | 6 }): string => `${r.dst}/${r.dstLen} m${r.metric ?? (r.family === 6 ? 1024 : 0)}`;
  const link = (name: string): KLink | undefined => host.links.find((l) => l.name === name);
  const linkAt = (i: number): KLink | undefined => host.links.find((l) => l.index === i);

  // Host addresses that make a prefix "connected": not on tunl0 or a workload, not link-local.
  const connected = host.addresses
    .filter((a) => { const l = linkAt(a.index); return l !== undefined && l.name !== 'tunl0' && !l.name.startsWith('cali') && !a.address.startsWith('fe80:'); })
    .map((a) => ({ a, net: netOf(`${a.address}/${a.prefixLen}`), link: linkAt(a.index)! }));
  const holder = (address: string | undefined) => connected.find((c) => c.a.address === address);
  const nic4 = holder(cfg.ipv4Address?.address);
  const nic6 = holder(cfg.ipv6Address?.address);
  const tunnelMtu = configuredMtu ?? (nic4 !== undefined ? nic4.link.mtu - 20 : 1480);
  const tunl0 = link('tunl0');

  // Local routes first: workloads, then own blocks; the first to take a key keeps it.
  for (const w of workloads) {
    for (const text of w.ipNetworks) {
      const n = netOf(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
      const l = link(w.interfaceName);
      if (l === undefined || !l.up) {
        unprogrammed.push(`workload ${n.text} waiting`);
        continue;
      }
      const r: TextRoute = { family: n.family, dst: n.text.split('/')[0]!, dstLen: n.len, table: TABLE, protocol: PROTO, scope: n.family === 4 ? 253 : 0, type: 'unicast', oif: l.index };
      if (n.family === 6) r.metric = 1024;
      if (routes.has(keyOf(r))) unprogrammed.push(`workload ${n.text} refused`);
      else routes.set(keyOf(r), r);
    }
  }
  for (const b of cfg.blocks) {
    const n = netOf(b.prefix);
    const r: TextRoute = { family: n.family, dst: n.text.split('/')[0]!, dstLen: n.len, table: TABLE, protocol: PROTO, scope: 0, type: 'blackhole' };
    if (n.family === 6) r.metric = 1024;
    if (routes.has(keyOf(r))) unprogrammed.push(`block ${n.text} refused`);
    else routes.set(keyOf(r), r);
  }
  const local = new Set(routes.keys());

  // CrossSubnet's "this node's subnet": the configured one, else the kernel's prefix on the NIC.
  let subnet: Net | undefined;
  if (cfg.ipv4Address !== undefined) {
    if (cfg.ipv4Address.prefixLength < 32) subnet = netOf(cfg.ipv4Address.subnet);
    else if (nic4 !== undefined && nic4.a.prefixLen < 32) subnet = nic4.net;
  }
  const self = new Set([cfg.ipv4Address?.address, cfg.ipv6Address?.address]);

  for (const [prefix, hops] of remote) {
    const n = netOf(prefix);
    const refuse = (): void => void unprogrammed.push(`remote ${prefix} refused`);
    if (n.len === 0) { refuse(); continue; }
    if (cfg.serviceRanges.some((s) => overlaps(netOf(s), n))) { refuse(); continue; }
    if (connected.some((c) => overlaps(c.net, n))) { refuse(); continue; }
    let pool: DataplaneConfig['pools'][number] | undefined;
    for (const p of cfg.pools) {
      if (contains(netOf(p.cidr), n) && (pool === undefined || netOf(p.cidr).len > netOf(pool.cidr).len)) pool = p;
    }
    if (pool === undefined) { refuse(); continue; }
    if (cfg.blocks.some((b) => b.prefix === prefix)) { refuse(); continue; }

    const nexthops: TextNexthop[] = [];
    let viaTunnel = false;
    let waiting = false;
    for (const h of hops) {
      const family = h.address.includes(':') ? 6 : 4;
      if (family !== n.family || self.has(h.address)) continue;
      let tunnel = false;
      if (pool.vxlanMode !== 'Never' && h.calicoNode !== undefined) {
        // VXLAN to a Calico node needs its VTEP; these worlds give no node one, so it waits
        // (CrossSubnet within the subnet goes direct, below).
        const v6subnet = cfg.ipv6Address !== undefined && cfg.ipv6Address.prefixLength < 128 ? netOf(cfg.ipv6Address.subnet) : undefined;
        const sn = family === 4 ? subnet : v6subnet;
        const same = sn !== undefined && contains(sn, netOf(`${h.address}/${family === 4 ? 32 : 128}`));
        if (pool.vxlanMode === 'Always' || !same) { waiting = true; continue; }
      } else if (pool.vxlanMode === 'Never' && family === 4 && h.calicoNode !== undefined) {
        if (pool.ipipMode === 'Always') tunnel = true;
        else if (pool.ipipMode === 'CrossSubnet') tunnel = subnet === undefined || !contains(subnet, netOf(`${h.address}/32`));
      }
      if (tunnel) {
        if (tunl0 === undefined || !tunl0.up) { waiting = true; continue; }
        viaTunnel = true;
        if (!nexthops.some((x) => x.gateway === h.address)) nexthops.push({ gateway: h.address, oif: tunl0.index, onlink: true });
        continue;
      }
      const nic = family === 4 ? nic4 : nic6;
      const nh: TextNexthop = { gateway: h.address };
      if (nic !== undefined) {
        nh.oif = nic.link.index;
        if (family === 4) nh.onlink = true;
      }
      if (!nexthops.some((x) => x.gateway === h.address)) nexthops.push(nh);
    }
    if (nexthops.length === 0) {
      unprogrammed.push(`remote ${prefix} ${waiting ? 'waiting' : 'refused'}`);
      continue;
    }
    const r: TextRoute = { family: n.family, dst: prefix.split('/')[0]!, dstLen: n.len, table: TABLE, protocol: PROTO, scope: 0, type: 'unicast' };
    if (hops[0]?.priority !== undefined) r.metric = hops[0].priority;
    else if (n.family === 6) r.metric = 1024;
    if (nexthops.length === 1) Object.assign(r, nexthops[0]);
    else r.multipath = [...nexthops].sort((a, b) => (a.gateway! < b.gateway! ? -1 : 1));
    if (viaTunnel) r.mtu = tunnelMtu;
    if (local.has(keyOf(r))) unprogrammed.push(`remote ${prefix} refused`);
    else routes.set(keyOf(r), r);
  }
  return { routes: new Map([...routes].map(([k, r]) => [k, kroute(r)])), unprogrammed: unprogrammed.sort() };
}
