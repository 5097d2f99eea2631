// Desired kernel routes from what Kite knows: the best (and equal-cost) BGP paths to other nodes'
// blocks, this node's affine blocks (blackholes) and its local workloads (/32 and /128 device
// routes). A pure function of its inputs and the host view: everything it refuses to program,
// or cannot program yet, comes back with the reason in words.
//
// Route shapes follow calico-node (confd's bird_ipam.cfg.template kernel filter; felix routetable):
//   ipipMode Always       <block> via <node IP> dev tunl0 onlink mtu <tunnel MTU>
//   ipipMode CrossSubnet  same subnet: <block> via <node IP> dev <host NIC> onlink; else via tunl0
//   ipipMode Never        <block> via <node IP> dev <host NIC> onlink
//   IPv6 (IPIP is IPv4 only)  <block> via <node IP> dev <host NIC>
// Equal-cost paths become one multipath route.

import { cidrContains, cidrHas, parseCIDR, parseIP, type CIDR, type IP } from '../datastore/ip.js';
import type { Connected, HostView } from './host.js';
import type { DataplaneConfig, LocalWorkload, PoolInput, RemoteNextHop } from './inputs.js';
import { routeKey } from './route-key.js';
import { Scope, type Family, type KLink, type KNexthop, type KRoute } from './types.js';

export interface ComputeOptions {
  protocol: number;
  table: number;
  tunnelName: string;
  /** MTU for routes through the tunnel. */
  tunnelMtu: number;
}

export const RouteSource = { Remote: 'remote', Block: 'block', Workload: 'workload' } as const;
export type RouteSource = (typeof RouteSource)[keyof typeof RouteSource];

export interface DesiredRoute {
  route: KRoute;
  source: RouteSource;
  /** Why this shape, in words ("block of node-2 via IPIP: pool default-ipv4 has ipipMode Always"). */
  why: string;
}

export const Unprogrammed = { Refused: 'refused', Waiting: 'waiting' } as const;
export type UnprogrammedKind = (typeof Unprogrammed)[keyof typeof Unprogrammed];

export interface UnprogrammedRoute {
  prefix: string;
  source: RouteSource;
  /** refused: never programmed while inputs stay so; waiting: needs something on the host first. */
  kind: UnprogrammedKind;
  reason: string;
}

/** Why a route cannot have a key that `held` already has. */
const heldBy = (held: DesiredRoute): string => `the same prefix is a local ${held.source} route (${held.why})`;

/** A remote route whose key a local route (or another spelling of the prefix) already holds. */
export function conflict(r: { desired: DesiredRoute }, held: DesiredRoute): UnprogrammedRoute {
  const d = r.desired.route;
  return { prefix: `${d.dst}/${d.dstLen}`, source: r.desired.source, kind: 'refused', reason: heldBy(held) };
}

type RouteBase = Pick<KRoute, 'family' | 'dst' | 'dstLen' | 'table' | 'protocol'> & { metric?: number };

function baseOf(c: CIDR, opt: ComputeOptions): RouteBase {
  const r: RouteBase = { family: c.family, dst: c.text.slice(0, c.text.indexOf('/')), dstLen: c.prefixLength, table: opt.table, protocol: opt.protocol };
  // State the kernel's IPv6 default explicitly so desired and dumped routes have the same key.
  if (c.family === 6) r.metric = 1024;
  return r;
}

export interface LocalState {
  /** Workload and own-block routes by route key. Earlier sources win a key: workloads, then blocks. */
  routes: Map<string, DesiredRoute>;
  unprogrammed: UnprogrammedRoute[];
}

/** Routes from this node's own state: workloads (/32, /128 on cali*) and affine blocks (blackholes). */
export function computeLocal(cfg: DataplaneConfig, workloads: readonly LocalWorkload[], host: HostView, opt: ComputeOptions): LocalState {
  const st: LocalState = { routes: new Map(), unprogrammed: [] };
  const put = (c: CIDR, d: DesiredRoute): void => {
    const key = routeKey(d.route);
    const held = st.routes.get(key);
    if (held !== undefined) {
      st.unprogrammed.push({ prefix: c.text, source: d.source, kind: 'refused', reason: heldBy(held) });
      return;
    }
    st.routes.set(key, d);
  };
  const waiting = (prefix: string, source: RouteSource, reason: string): void => {
    st.unprogrammed.push({ prefix, source, kind: 'waiting', reason });
  };

  // (c) Local workloads: <ip>/32 dev cali… scope link. IPv6 routes have no scope (rt6_fill_node
  // always reports universe), so asking for "link" would never compare equal after a dump.
  for (const w of workloads) {
    for (const text of w.ipNetworks) {
      const c = parseCIDR(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
      if (c === null) {
        st.unprogrammed.push({ prefix: text, source: RouteSource.Workload, kind: 'refused', reason: `workload ${w.name}: "${text}" is not an IP network` });
        continue;
      }
      const link = host.link(w.interfaceName);
      if (link === undefined) {
        waiting(c.text, RouteSource.Workload, `workload ${w.name}: interface ${w.interfaceName} is not present yet`);
        continue;
      }
      if (!link.up) {
        // fib_check_nh refuses a device that is down (ENETDOWN "Nexthop device is not up").
        waiting(c.text, RouteSource.Workload, `workload ${w.name}: interface ${w.interfaceName} is down`);
        continue;
      }
      put(c, {
        route: { ...baseOf(c, opt), scope: c.family === 4 ? Scope.Link : Scope.Universe, type: 'unicast', oif: link.index },
        source: RouteSource.Workload,
        why: `workload ${w.name} on ${w.interfaceName}`,
      });
    }
  }

  // (b) Own affine blocks: blackhole, so traffic to unallocated addresses stops here instead of
  // following a covering route back out (and the BGP origination has a kernel route behind it).
  for (const o of cfg.blocks) {
    const c = parseCIDR(o.prefix);
    if (c === null) continue;
    put(c, { route: { ...baseOf(c, opt), scope: Scope.Universe, type: 'blackhole' }, source: RouteSource.Block, why: `affine block of this node (pool ${o.pool})` });
  }
  return st;
}

// ---- remote routes ----------------------------------------------------------------------------
// The per-prefix work runs for every Loc-RIB change (100k prefixes on a full table), so what does
// not depend on the prefix is prepared once per (config, host) in a RemoteContext, IPv4 prefixes
// are compared as 32-bit numbers, and next-hop shapes are cached per (pool, next hop).

/** An IPv4 network as numbers: `net` has no host bits. */
interface V4 {
  net: number;
  len: number;
}

const maskV4 = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const v4Contains = (outer: V4, inner: V4): boolean => inner.len >= outer.len && ((inner.net & maskV4(outer.len)) >>> 0) === outer.net;
const v4Overlaps = (a: V4, b: V4): boolean => v4Contains(a, b) || v4Contains(b, a);
const toV4 = (c: CIDR): V4 | undefined => (c.family === 4 ? { net: Number(c.network), len: c.prefixLength } : undefined);

/**
 * "a.b.c.d/len" written canonically (decimal octets without leading zeros, host bits clear), as
 * the RIB prints prefixes, parsed without allocating. Anything else (IPv6, other spellings)
 * returns -1 and takes the general parser.
 */
function fastV4(s: string): number {
  let net = 0;
  let i = 0;
  const n = s.length;
  for (let octet = 0; octet < 4; octet++) {
    const start = i;
    let v = 0;
    while (i < n) {
      const ch = s.charCodeAt(i);
      if (ch < 48 || ch > 57) break;
      v = v * 10 + (ch - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && s.charCodeAt(start) === 48)) return -1;
    net = net * 256 + v;
    if (octet < 3) {
      if (s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  if (s.charCodeAt(i) !== 47) return -1;
  i++;
  const lenStart = i;
  let len = 0;
  while (i < n) {
    const ch = s.charCodeAt(i);
    if (ch < 48 || ch > 57) return -1;
    len = len * 10 + (ch - 48);
    i++;
  }
  const lenDigits = i - lenStart;
  if (lenDigits === 0 || lenDigits > 2 || len > 32 || (lenDigits > 1 && s.charCodeAt(lenStart) === 48)) return -1;
  if (((net & ~maskV4(len)) >>> 0) !== 0) return -1;
  FAST.net = net;
  FAST.len = len;
  return lenStart - 1;
}
/** fastV4's result (one shared slot: no object per call). */
const FAST: V4 = { net: 0, len: 0 };

interface HopShape {
  /** Usable next hop (shared, never mutated), or undefined when skipped or waiting. */
  nexthop?: KNexthop;
  tunnel: boolean;
  /** "node node-2 via IPIP: pool p has ipipMode Always". */
  shape?: string;
  /** Why it cannot be used yet (tunnel missing or down). */
  wait?: string;
}

interface PoolRef {
  /** Position in RemoteContext.pools (indexes the next-hop shape cache). */
  i: number;
  p: PoolInput;
  c: CIDR;
  v4: V4 | undefined;
}

/** What remote-route computation needs that does not depend on the prefix. */
export interface RemoteContext {
  readonly opt: ComputeOptions;
  readonly notes: string[];
  /** Most specific first, so the first containing pool is the longest match. */
  readonly pools: PoolRef[];
  readonly services: { c: CIDR; v4: V4 | undefined }[];
  readonly connected: { conn: Connected; v4: V4 | undefined }[];
  readonly ownBlocks: Set<string>;
  readonly nic4: Connected | undefined;
  readonly nic6: Connected | undefined;
  readonly subnet: CIDR | undefined;
  readonly tunnel: KLink | undefined;
  readonly selfAddrs: Set<string>;
  /** Per next-hop object (the RIB source shares one per attribute set), per pool. */
  readonly shapes: WeakMap<RemoteNextHop, (HopShape | undefined)[]>;
}

export function remoteContext(cfg: DataplaneConfig, host: HostView, opt: ComputeOptions): RemoteContext {
  const notes: string[] = [];
  const pools = cfg.pools
    .map((p) => ({ p, c: parseCIDR(p.cidr) }))
    .filter((x): x is { p: PoolInput; c: CIDR } => x.c !== null)
    .sort((a, b) => b.c.prefixLength - a.c.prefixLength)
    .map((x, i) => ({ ...x, i, v4: toV4(x.c) }));
  const services = cfg.serviceRanges
    .map((s) => parseCIDR(s))
    .filter((c): c is CIDR => c !== null)
    .map((c) => ({ c, v4: toV4(c) }));
  const ownBlocks = new Set<string>();
  for (const o of cfg.blocks) {
    const c = parseCIDR(o.prefix);
    if (c !== null) ownBlocks.add(c.text);
  }
  const nic4 = cfg.ipv4Address ? host.holderOf(cfg.ipv4Address.address) : undefined;
  const nic6 = cfg.ipv6Address ? host.holderOf(cfg.ipv6Address.address) : undefined;
  if (cfg.ipv4Address && nic4 === undefined) {
    notes.push(`no interface holds the node address ${cfg.ipv4Address.address}: direct IPv4 routes go "via <node IP>" and the kernel picks the device`);
  }
  const subnet = sameSubnet(cfg, nic4, notes);
  return {
    opt, notes, pools, services, ownBlocks, nic4, nic6, subnet,
    connected: host.connected.map((conn) => ({ conn, v4: conn.cidr.family === 4 ? { net: Number(conn.cidr.network), len: conn.cidr.prefixLength } : undefined })),
    tunnel: host.link(opt.tunnelName),
    selfAddrs: new Set([cfg.ipv4Address?.address, cfg.ipv6Address?.address].filter((a): a is string => a !== undefined)),
    shapes: new WeakMap(),
  };
}

export type RemoteResult = { key: string; desired: DesiredRoute } | { un: UnprogrammedRoute };

/** The kernel route for one remote prefix, or why there is none. Pure; no conflict check against local routes. */
export function remoteRoute(ctx: RemoteContext, prefix: string, hops: readonly RemoteNextHop[]): RemoteResult {
  const R = RouteSource.Remote;
  const refused = (p: string, reason: string): RemoteResult => ({ un: { prefix: p, source: R, kind: 'refused', reason } });
  let c: CIDR | undefined;
  let v4: V4 | undefined;
  let family: Family;
  let dst: string;
  let dstLen: number;
  let text: string;
  const slash = fastV4(prefix);
  if (slash >= 0) {
    family = 4;
    v4 = { net: FAST.net, len: FAST.len };
    dst = prefix.slice(0, slash);
    dstLen = v4.len;
    text = prefix;
  } else {
    const parsed = parseCIDR(prefix);
    if (parsed === null) return refused(prefix, 'not a prefix');
    c = parsed;
    family = c.family;
    v4 = toV4(c);
    dst = c.text.slice(0, c.text.indexOf('/'));
    dstLen = c.prefixLength;
    text = c.text;
  }
  const cidr = (): CIDR => (c ??= parseCIDR(text)!);
  const overlaps = (x: { v4: V4 | undefined; c: CIDR }): boolean =>
    v4 !== undefined ? x.v4 !== undefined && v4Overlaps(x.v4, v4) : cidrContains(x.c, cidr()) || cidrContains(cidr(), x.c);

  if (dstLen === 0) return refused(text, 'a default route is never programmed from BGP');
  for (const s of ctx.services) {
    if (overlaps(s)) return refused(text, `overlaps the service range ${s.c.text}: kube-proxy owns service addresses`);
  }
  for (const h of ctx.connected) {
    if (overlaps({ v4: h.v4, c: h.conn.cidr })) {
      const own = h.conn;
      return refused(text, `covers or lies inside ${own.cidr.ip.text}/${own.cidr.prefixLength} on ${own.link.name}, a host address and connected subnet`);
    }
  }
  let pool: PoolRef | undefined;
  for (const x of ctx.pools) {
    if (v4 !== undefined ? x.v4 !== undefined && v4Contains(x.v4, v4) : cidrContains(x.c, cidr())) {
      pool = x;
      break;
    }
  }
  if (pool === undefined) return refused(text, 'outside every IPPool: only pool routes are programmed from BGP');
  if (pool.p.vxlanMode !== 'Never') {
    return refused(text, `IPPool ${pool.p.name} uses VXLAN (vxlanMode ${pool.p.vxlanMode}), whose routes Kite does not program`);
  }
  if (ctx.ownBlocks.has(text)) return refused(text, 'this node\'s own block: the local blackhole route stands');

  let first: HopShape | undefined;
  let multipath: KNexthop[] | undefined;
  let whys: string[] | undefined;
  let viaTunnel = false;
  let wait: string | undefined;
  for (const hop of hops) {
    const shape = hopShape(ctx, pool, family, hop);
    if (shape.nexthop === undefined) {
      if (shape.wait !== undefined) wait = shape.wait;
      continue;
    }
    if (shape.tunnel) viaTunnel = true;
    if (first === undefined) first = shape;
    else {
      multipath ??= [first.nexthop!];
      whys ??= [first.shape!];
      if (!multipath.some((n) => n.gateway === shape.nexthop!.gateway)) {
        multipath.push(shape.nexthop);
        whys.push(shape.shape!);
      }
    }
  }
  if (first === undefined) {
    if (wait !== undefined) return { un: { prefix: text, source: R, kind: 'waiting', reason: wait } };
    return refused(text, hops.length === 0 ? 'no next hop' : `no usable next hop (${hops.map((h) => h.address).join(', ')}: wrong family or this node)`);
  }
  const route: KRoute = { family, dst, dstLen, table: ctx.opt.table, protocol: ctx.opt.protocol, scope: Scope.Universe, type: 'unicast' };
  const priority = hops[0]?.priority;
  if (priority !== undefined) route.metric = priority;
  else if (family === 6) route.metric = 1024;
  let why: string;
  if (multipath === undefined || multipath.length === 1) {
    Object.assign(route, first.nexthop);
    why = first.shape!;
  } else {
    const order = multipath.map((n, i) => i).sort((a, b) => (multipath![a]!.gateway! < multipath![b]!.gateway! ? -1 : multipath![a]!.gateway! > multipath![b]!.gateway! ? 1 : 0));
    route.multipath = order.map((i) => multipath![i]!);
    why = `${whys!.join('; ')} (${multipath.length} equal-cost paths)`;
  }
  if (viaTunnel) route.mtu = ctx.opt.tunnelMtu;
  // The canonical prefix text is the route key of a default-metric route (routeKey).
  if (priority !== undefined) why += ` (metric ${priority}: BGPFilter setPriority on import)`;
  return { key: c === undefined && priority === undefined ? text : routeKey(route), desired: { route, source: R, why } };
}

/** How one next hop is reached for prefixes of one pool (cached: it depends on neither the prefix nor the other hops). */
function hopShape(ctx: RemoteContext, pool: PoolRef, family: Family, hop: RemoteNextHop): HopShape {
  // A pool's prefixes all have the pool's family, so (hop, pool) determines the shape.
  let byPool = ctx.shapes.get(hop);
  if (byPool === undefined) ctx.shapes.set(hop, (byPool = []));
  return (byPool[pool.i] ??= computeHopShape(ctx, pool, family, hop));
}

function computeHopShape(ctx: RemoteContext, pool: PoolRef, family: Family, hop: RemoteNextHop): HopShape {
  const ip = parseIP(hop.address);
  if (ip === null || ip.family !== family || ctx.selfAddrs.has(ip.text)) return { tunnel: false };
  const who = hop.calicoNode !== undefined ? `node ${hop.calicoNode}` : `router ${ip.text}`;
  let encap: 'tunnel' | 'direct' = 'direct';
  let because: string;
  if (family === 6) because = 'IPv6 (IPIP carries IPv4 only)';
  else if (hop.calicoNode === undefined) because = 'next hop is not a Calico node, so no IPIP';
  else if (pool.p.ipipMode === 'Always') {
    encap = 'tunnel';
    because = `pool ${pool.p.name} has ipipMode Always`;
  } else if (pool.p.ipipMode === 'CrossSubnet') {
    const subnet = ctx.subnet;
    const same = subnet !== undefined && cidrHas(subnet, ip);
    encap = same ? 'direct' : 'tunnel';
    because = `pool ${pool.p.name} has ipipMode CrossSubnet and ${ip.text} is ${same ? 'in' : 'outside'} ${subnet ? `this node's subnet ${subnet.text}` : 'this node\'s subnet (unknown)'}`;
  } else because = `pool ${pool.p.name} has ipipMode Never`;
  if (encap === 'tunnel') {
    const t = ctx.tunnel;
    if (t === undefined || !t.up) {
      return { tunnel: true, wait: `${ctx.opt.tunnelName} is ${t === undefined ? 'missing' : 'down'} (needed for ${who}: ${because})` };
    }
    return { tunnel: true, nexthop: { gateway: ip.text, oif: t.index, onlink: true }, shape: `${who} via IPIP: ${because}` };
  }
  return { tunnel: false, nexthop: directHop(ip, family === 4 ? ctx.nic4?.link.index : ctx.nic6?.link.index, family), shape: `${who} direct: ${because}` };
}

/** A next hop on the host NIC. IPv4 uses onlink as calico-node does: the node IP is on the link even when the configured prefix says otherwise. */
function directHop(ip: IP, nic: number | undefined, family: Family): KNexthop {
  const nh: KNexthop = { gateway: ip.text };
  if (nic !== undefined) {
    nh.oif = nic;
    if (family === 4) nh.onlink = true;
  }
  return nh;
}

/**
 * "This node's subnet" for CrossSubnet: the prefix of its ipv4Address. A /32 ipv4Address carries
 * no subnet (a calico-node complaint: every peer then looks remote, or worse, local). Kite then
 * uses the prefix the kernel has on the interface holding that address; when that is /32 too
 * (cloud hosts with /32 addresses), no node counts as same-subnet, so CrossSubnet routes use IPIP,
 * which works across any underlay, rather than a direct route that may not be on-link.
 */
function sameSubnet(cfg: DataplaneConfig, nic: { cidr: CIDR; link: { name: string } } | undefined, notes: string[]): CIDR | undefined {
  const a = cfg.ipv4Address;
  if (a === undefined) return undefined;
  if (a.prefixLength < 32) return parseCIDR(a.subnet) ?? undefined;
  if (nic !== undefined && nic.cidr.prefixLength < 32) {
    const kernel = parseCIDR(`${nic.cidr.ip.text}/${nic.cidr.prefixLength}`)!;
    notes.push(`ipv4Address ${a.address}/32 has no subnet: CrossSubnet uses ${kernel.text}, the prefix on ${nic.link.name} in the kernel`);
    return kernel;
  }
  notes.push(`ipv4Address ${a.address}/32 has no subnet and the kernel shows none either: CrossSubnet treats every node as in another subnet and routes via IPIP`);
  return undefined;
}
