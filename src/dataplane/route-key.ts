// Kernel route identity and equality, written out field by field (no reflection): the key is
// what the kernel keys a route by in one table (family, destination, prefix length, metric;
// fib_table_insert / fib6_add_1), and equality compares only what Kite sets on its routes.

import { parseIpv4, type Prefix } from '../net/index.js';
import type { KNexthop, KRoute, RouteDelete } from './types.js';

/**
 * The kernel's default metric: IPv4 routes without RTA_PRIORITY have 0 (and it is not dumped);
 * IPv6 routes get IP6_RT_PRIO_USER = 1024 (net/ipv6/route.c), which is always dumped.
 */
export function effectiveMetric(r: { family: 4 | 6; metric?: number }): number {
  return r.metric ?? (r.family === 6 ? 1024 : 0);
}

/**
 * One kernel route per key in one table (a RouteTable holds one table). IPv4 routes with the
 * default metric, nearly all of them, are keyed by a number: address * 64 + length (below 2^38,
 * an exact integer), so a Loc-RIB prefix's key is arithmetic on the RIB's 32-bit address. Other
 * routes are keyed by text: "fd00:244::/122", and a metric other than the family's default is
 * appended ("10.244.2.0/26|m512").
 */
export type RouteKey = number | string;

/** The key of the default-metric route for prefix p (also the routes manager's key for p). */
export function prefixKey(p: Prefix): RouteKey {
  return p.family === 4 ? p.v4 * 64 + p.len : p.toString();
}

export function routeKey(r: { family: 4 | 6; dst: string; dstLen: number; metric?: number }): RouteKey {
  const m = effectiveMetric(r);
  if (m !== (r.family === 6 ? 1024 : 0)) return `${r.dst}/${r.dstLen}|m${m}`;
  if (r.family === 4) {
    const a = parseIpv4(r.dst);
    if (a >= 0) return a * 64 + r.dstLen;
  }
  return `${r.dst}/${r.dstLen}`;
}

/** Route types that carry no next hop: the kernel reports IPv6 ones on lo, which is not a difference. */
const NO_NEXTHOP = new Set(['blackhole', 'unreachable', 'prohibit', 'throw']);

function nexthopsOf(r: KRoute): KNexthop[] {
  if (r.multipath !== undefined && r.multipath.length > 0) return r.multipath;
  if (NO_NEXTHOP.has(r.type)) return [];
  const nh: KNexthop = {};
  if (r.gateway !== undefined) nh.gateway = r.gateway;
  if (r.oif !== undefined) nh.oif = r.oif;
  if (r.onlink) nh.onlink = true;
  return [nh];
}

function nexthopText(n: KNexthop): string {
  return `${n.gateway ?? '-'}@${n.oif ?? 0}${n.onlink ? '!' : ''}*${n.weight ?? 1}`;
}

/** True when the kernel's route `k` is what the desired route `d` asks for. */
export function routesEqual(d: KRoute, k: KRoute): boolean {
  if (d.type !== k.type || d.protocol !== k.protocol || d.scope !== k.scope) return false;
  if ((d.mtu ?? 0) !== (k.mtu ?? 0)) return false;
  const a = nexthopsOf(d).map(nexthopText).sort();
  const b = nexthopsOf(k).map(nexthopText).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function deleteSpecOf(k: KRoute): RouteDelete {
  const d: RouteDelete = { family: k.family, dst: k.dst, dstLen: k.dstLen, table: k.table, protocol: k.protocol, type: k.type };
  if (k.metric !== undefined) d.metric = k.metric;
  return d;
}

/** `ip route`-like text: "10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75". */
export function formatRoute(r: KRoute, ifName: (index: number) => string | undefined): string {
  const dev = (i: number | undefined): string => (i === undefined ? '' : ` dev ${ifName(i) ?? `if${i}`}`);
  let s = r.type === 'unicast' ? '' : `${r.type} `;
  s += `${r.dst}/${r.dstLen}`;
  if (r.multipath !== undefined && r.multipath.length > 0) {
    for (const nh of r.multipath) s += ` nexthop${nh.gateway ? ` via ${nh.gateway}` : ''}${dev(nh.oif)}${nh.onlink ? ' onlink' : ''}`;
  } else if (!NO_NEXTHOP.has(r.type)) {
    if (r.gateway !== undefined) s += ` via ${r.gateway}`;
    s += dev(r.oif);
    if (r.onlink) s += ' onlink';
  }
  if (r.scope === 253) s += ' scope link';
  if (r.mtu) s += ` mtu ${r.mtu}`;
  s += ` proto ${r.protocol}`;
  if (r.metric) s += ` metric ${r.metric}`;
  return s;
}
