// Kernel route identity and equality, written out field by field (no reflection): the key is
// what the kernel keys a route by in one table (family, destination, prefix length, metric;
// fib_table_insert / fib6_add_1), and equality compares only what Kite sets on its routes.

import { mustParsePrefix, Prefix, type IpAddr } from '../net/index.js';
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

/** The prefix a prefixKey stands for (the inverse of prefixKey). */
export function keyPrefix(k: RouteKey): Prefix {
  return typeof k === 'number' ? Prefix.v4(Math.floor(k / 64), k % 64) : mustParsePrefix(k);
}

export function routeKey(r: { family: 4 | 6; dst: IpAddr; dstLen: number; metric?: number }): RouteKey {
  const m = effectiveMetric(r);
  if (m !== (r.family === 6 ? 1024 : 0)) return `${r.dst.toString()}/${r.dstLen}|m${m}`;
  return r.dst.v6 === undefined ? r.dst.v4 * 64 + r.dstLen : `${r.dst.toString()}/${r.dstLen}`;
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

const sameAddr = (x: IpAddr | undefined, y: IpAddr | undefined): boolean => (x === undefined ? y === undefined : y !== undefined && x.equals(y));

function sameHop(a: KNexthop, b: KNexthop): boolean {
  return sameAddr(a.gateway, b.gateway) && (a.oif ?? 0) === (b.oif ?? 0) && !a.onlink === !b.onlink && (a.weight ?? 1) === (b.weight ?? 1);
}

/** True when the kernel's route `k` is what the desired route `d` asks for. */
export function routesEqual(d: KRoute, k: KRoute): boolean {
  if (d.type !== k.type || d.protocol !== k.protocol || d.scope !== k.scope) return false;
  if ((d.mtu ?? 0) !== (k.mtu ?? 0)) return false;
  const a = nexthopsOf(d);
  const b = nexthopsOf(k);
  if (a.length !== b.length) return false;
  // One next hop (nearly every route): compared field by field, no text.
  if (a.length === 1) return sameHop(a[0]!, b[0]!);
  // Multipath: the kernel may list next hops in another order.
  const ta = a.map(nexthopText).sort();
  const tb = b.map(nexthopText).sort();
  return ta.every((x, i) => x === tb[i]);
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
