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
//   vxlanMode Always      <block> via <node's VTEP> dev vxlan.calico onlink (Felix's vxlan_mgr
//                         routes; vxlan-v6.calico for IPv6): the device MTU covers the overhead
//   vxlanMode CrossSubnet same subnet: direct as above; else via the VTEP
// Equal-cost paths become one multipath route.

import { containsV4, parseAddr, parsePrefix, type IpAddr, type Prefix } from '../net/index.js';
import type { Connected, HostView } from './host.js';
import type { DataplaneConfig, LocalWorkload, PoolInput, RemoteNextHop, RemoteVtep } from './inputs.js';
import { prefixKey, routeKey, type RouteKey } from './route-key.js';
import { Scope, VXLAN_DEVICE, type Family, type KLink, type KNexthop, type KRoute } from './types.js';

export interface ComputeOptions {
  protocol: number;
  table: number;
  tunnelName: string;
  /** MTU for routes through the tunnel. */
  tunnelMtu: number;
}

/** Where a desired kernel route comes from (not policy/types.ts's RouteSource, which says where a BGP route came from). */
export const DesiredSource = { Remote: 'remote', Block: 'block', Workload: 'workload', Peer: 'peer' } as const;
export type DesiredSource = (typeof DesiredSource)[keyof typeof DesiredSource];

export interface DesiredRoute {
  route: KRoute;
  source: DesiredSource;
  /** Why this shape, in words ("block of node-2 via IPIP: pool default-ipv4 has ipipMode Always"). */
  why: string;
}

export const Unprogrammed = { Refused: 'refused', Waiting: 'waiting' } as const;
export type UnprogrammedKind = (typeof Unprogrammed)[keyof typeof Unprogrammed];

/**
 * Why a route is refused, as a small fixed set (the metrics' `reason` label; the text in
 * `reason` says the same with the details).
 */
export const Refusal = {
  Duplicate: 'duplicate', Invalid: 'invalid', DefaultRoute: 'default-route', ServiceRange: 'service-range',
  HostSubnet: 'host-subnet', OutsidePool: 'outside-pool', OwnBlock: 'own-block', NoNextHop: 'no-next-hop',
  IgnoredInterface: 'ignored-interface', Felix: 'felix',
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

export interface UnprogrammedRoute {
  prefix: string;
  source: DesiredSource;
  /** refused: never programmed while inputs stay so; waiting: needs something on the host first. */
  kind: UnprogrammedKind;
  reason: string;
  /** Set for refused routes. */
  code?: Refusal;
}

/** Why a route cannot have a key that `held` already has. */
const heldBy = (held: DesiredRoute): string => `the same prefix is a local ${held.source} route (${held.why})`;

/** A remote route whose key a local route (or another spelling of the prefix) already holds. */
export function conflict(r: { desired: DesiredRoute }, held: DesiredRoute): UnprogrammedRoute {
  const d = r.desired.route;
  return { prefix: `${d.dst}/${d.dstLen}`, source: r.desired.source, kind: 'refused', reason: heldBy(held), code: Refusal.Duplicate };
}

type RouteBase = Pick<KRoute, 'family' | 'dst' | 'dstLen' | 'table' | 'protocol'> & { metric?: number };

/** The kernel route's destination fields for a network prefix (host bits clear). */
function baseOf(net: Prefix, opt: ComputeOptions): RouteBase {
  const r: RouteBase = { family: net.family, dst: net.addr, dstLen: net.len, table: opt.table, protocol: opt.protocol };
  // State the kernel's IPv6 default explicitly so desired and dumped routes have the same key.
  if (net.family === 6) r.metric = 1024;
  return r;
}

export interface LocalState {
  /** Workload and own-block routes by route key. Earlier sources win a key: workloads, then blocks. */
  routes: Map<RouteKey, DesiredRoute>;
  unprogrammed: UnprogrammedRoute[];
}

/** Routes from this node's own state: workloads (/32, /128 on cali*) and affine blocks (blackholes). */
export function computeLocal(cfg: DataplaneConfig, workloads: readonly LocalWorkload[], host: HostView, opt: ComputeOptions): LocalState {
  const st: LocalState = { routes: new Map(), unprogrammed: [] };
  const put = (net: Prefix, d: DesiredRoute): void => {
    const key = routeKey(d.route);
    const held = st.routes.get(key);
    if (held !== undefined) {
      st.unprogrammed.push({ prefix: net.toString(), source: d.source, kind: 'refused', reason: heldBy(held), code: Refusal.Duplicate });
      return;
    }
    st.routes.set(key, d);
  };
  const waiting = (prefix: string, source: DesiredSource, reason: string): void => {
    st.unprogrammed.push({ prefix, source, kind: 'waiting', reason });
  };

  // (c) Local workloads: <ip>/32 dev cali… scope link. IPv6 routes have no scope (rt6_fill_node
  // always reports universe), so asking for "link" would never compare equal after a dump.
  for (const w of workloads) {
    for (const text of w.ipNetworks) {
      const net = parsePrefix(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`)?.network();
      if (net === undefined) {
        st.unprogrammed.push({ prefix: text, source: DesiredSource.Workload, kind: 'refused', reason: `workload ${w.name}: "${text}" is not an IP network`, code: Refusal.Invalid });
        continue;
      }
      const link = host.link(w.interfaceName);
      if (host.isIgnored(w.interfaceName)) {
        st.unprogrammed.push({ prefix: net.toString(), source: DesiredSource.Workload, kind: 'refused', reason: `workload ${w.name}: interface ${w.interfaceName} is in BGPConfiguration ignoredInterfaces`, code: Refusal.IgnoredInterface });
        continue;
      }
      if (link === undefined) {
        waiting(net.toString(), DesiredSource.Workload, `workload ${w.name}: interface ${w.interfaceName} is not present yet`);
        continue;
      }
      if (!link.up) {
        // fib_check_nh refuses a device that is down (ENETDOWN "Nexthop device is not up").
        waiting(net.toString(), DesiredSource.Workload, `workload ${w.name}: interface ${w.interfaceName} is down`);
        continue;
      }
      put(net, {
        route: { ...baseOf(net, opt), scope: net.family === 4 ? Scope.Link : Scope.Universe, type: 'unicast', oif: link.index },
        source: DesiredSource.Workload,
        why: `workload ${w.name} on ${w.interfaceName}`,
      });
    }
  }

  // (b) Own affine blocks: blackhole, so traffic to unallocated addresses stops here instead of
  // following a covering route back out (and the BGP origination has a kernel route behind it).
  for (const o of cfg.blocks) {
    const net = parsePrefix(o.prefix)?.network();
    if (net === undefined) continue;
    put(net, { route: { ...baseOf(net, opt), scope: Scope.Universe, type: 'blackhole' }, source: DesiredSource.Block, why: `affine block of this node (${o.pool === undefined ? 'in no pool' : `pool ${o.pool}`})` });
  }

  // (d) BGPPeer reachableBy: <peer>/32 via <gateway>, as confd renders a static route for it, so
  // the session's path does not depend on routes learned over that session.
  for (const { peer, gateway } of cfg.peerRoutes ?? []) {
    const net = parsePrefix(peer.includes(':') ? `${peer}/128` : `${peer}/32`);
    const gw = parseAddr(gateway);
    if (net === null || gw === null || gw.family !== net.family) {
      st.unprogrammed.push({ prefix: peer, source: DesiredSource.Peer, kind: 'refused', reason: `BGPPeer ${peer}: reachableBy "${gateway}" is not an address of the peer's family`, code: Refusal.Invalid });
      continue;
    }
    const via = host.connected.find((c) => c.prefix.network().has(gw));
    if (via === undefined) {
      waiting(net.toString(), DesiredSource.Peer, `BGPPeer ${peer}: reachableBy gateway ${gateway} is on no connected subnet`);
      continue;
    }
    put(net, {
      route: { ...baseOf(net, opt), scope: Scope.Universe, type: 'unicast', gateway: gw, oif: via.link.index },
      source: DesiredSource.Peer,
      why: `BGPPeer ${peer} reachableBy ${gateway} (via ${via.link.name})`,
    });
  }
  return st;
}

// ---- remote routes ----------------------------------------------------------------------------
// The per-prefix work runs for every Loc-RIB change (100k prefixes on a full table), so what does
// not depend on the prefix is prepared once per (config, host) in a RemoteContext, IPv4 prefixes
// are compared as the RIB's 32-bit numbers (no text on the way), and next-hop shapes are cached
// per (pool, next hop).

/** A network prefix with its IPv4 number and length at hand (v4 is 0 for IPv6). */
interface Net {
  net: Prefix;
  v4: number;
  len: number;
}

const netOf = (p: Prefix): Net => {
  const net = p.network();
  return { net, v4: net.v4, len: net.len };
};

/** outer contains inner, both networks; IPv4 on numbers. */
function contains(outer: Net, inner: Prefix): boolean {
  if (outer.net.family !== inner.family) return false;
  return inner.family === 4 ? containsV4(outer.v4, outer.len, inner.v4, inner.len) : outer.net.contains(inner);
}

function overlaps(x: Net, p: Prefix): boolean {
  if (x.net.family !== p.family) return false;
  if (p.family === 4) return containsV4(x.v4, x.len, p.v4, p.len) || containsV4(p.v4, p.len, x.v4, x.len);
  return x.net.contains(p) || p.contains(x.net);
}

interface HopShape {
  /** Usable next hop (shared, never mutated), or undefined when skipped or waiting. */
  nexthop?: KNexthop;
  tunnel: boolean;
  /** "node node-2 via IPIP: pool p has ipipMode Always". */
  shape?: string;
  /** Why it cannot be used yet (tunnel missing or down). */
  wait?: string;
}

interface PoolRef extends Net {
  /** Position in RemoteContext.pools (indexes the next-hop shape cache). */
  i: number;
  p: PoolInput;
}

/** What remote-route computation needs that does not depend on the prefix. */
export interface RemoteContext {
  readonly opt: ComputeOptions;
  readonly notes: string[];
  /** Most specific first, so the first containing pool is the longest match. */
  readonly pools: PoolRef[];
  readonly services: Net[];
  readonly connected: { conn: Connected; net: Net }[];
  /** Route keys of this node's own blocks. */
  readonly ownBlocks: Set<RouteKey>;
  /** BGPConfiguration programClusterRoutes: which pool classes' remote blocks Kite programs. */
  readonly clusterRoutes: { ipip: boolean; noEncap: boolean; setting: string } | undefined;
  readonly nic4: Connected | undefined;
  readonly nic6: Connected | undefined;
  readonly subnet: Prefix | undefined;
  readonly subnet6: Prefix | undefined;
  readonly tunnel: KLink | undefined;
  /** vxlan.calico, vxlan-v6.calico as the host shows them. */
  readonly vxlan: Record<Family, KLink | undefined>;
  /** Remote VTEPs by family, then node name. */
  readonly vteps: Record<Family, Map<string, RemoteVtep>>;
  readonly selfAddrs: Set<string>;
  /** Per next-hop object (the RIB source shares one per attribute set), per pool. */
  readonly shapes: WeakMap<RemoteNextHop, (HopShape | undefined)[]>;
}

export function remoteContext(cfg: DataplaneConfig, host: HostView, opt: ComputeOptions): RemoteContext {
  const notes: string[] = [];
  const pools = cfg.pools
    .map((p) => ({ p, prefix: parsePrefix(p.cidr) }))
    .filter((x): x is { p: PoolInput; prefix: Prefix } => x.prefix !== null)
    .sort((a, b) => b.prefix.len - a.prefix.len)
    .map((x, i): PoolRef => ({ ...netOf(x.prefix), i, p: x.p }));
  const services = cfg.serviceRanges
    .map((s) => parsePrefix(s))
    .filter((p): p is Prefix => p !== null)
    .map(netOf);
  const ownBlocks = new Set<RouteKey>();
  for (const o of cfg.blocks) {
    const p = parsePrefix(o.prefix);
    if (p !== null) ownBlocks.add(prefixKey(p.network()));
  }
  const nic4 = cfg.ipv4Address ? host.holderOf(cfg.ipv4Address.address) : undefined;
  const nic6 = cfg.ipv6Address ? host.holderOf(cfg.ipv6Address.address) : undefined;
  if (cfg.ipv4Address && nic4 === undefined) {
    notes.push(`no interface holds the node address ${cfg.ipv4Address.address}: direct IPv4 routes go "via <node IP>" and the kernel picks the device`);
  }
  const subnet = sameSubnet(cfg, nic4, notes);
  const subnet6 = cfg.ipv6Address !== undefined && cfg.ipv6Address.prefixLength < 128 ? parsePrefix(cfg.ipv6Address.subnet)?.network() ?? undefined : undefined;
  const vteps: Record<Family, Map<string, RemoteVtep>> = { 4: new Map(), 6: new Map() };
  for (const v of cfg.vteps ?? []) vteps[v.family].set(v.node, v);
  return {
    opt, notes, pools, services, ownBlocks, clusterRoutes: cfg.clusterRoutes, nic4, nic6, subnet, subnet6, vteps,
    vxlan: { 4: host.link(VXLAN_DEVICE[4]), 6: host.link(VXLAN_DEVICE[6]) },
    connected: host.connected.map((conn) => ({ conn, net: netOf(conn.prefix) })),
    tunnel: host.link(opt.tunnelName),
    selfAddrs: new Set([cfg.ipv4Address?.address, cfg.ipv6Address?.address].filter((a): a is string => a !== undefined)),
    shapes: new WeakMap(),
  };
}

export type RemoteResult = { key: RouteKey; desired: DesiredRoute } | { un: UnprogrammedRoute };

/**
 * The kernel route for one remote prefix (a network, as the RIB holds it), or why there is none.
 * Pure; no conflict check against local routes. Text is made only for the kernel route's
 * destination and for refusals.
 */
export function remoteRoute(ctx: RemoteContext, prefix: Prefix, hops: readonly RemoteNextHop[]): RemoteResult {
  const R = DesiredSource.Remote;
  const refused = (code: Refusal, reason: string): RemoteResult => ({ un: { prefix: prefix.toString(), source: R, kind: 'refused', reason, code } });
  const family = prefix.family;

  if (prefix.len === 0) return refused(Refusal.DefaultRoute, 'a default route is never programmed from BGP');
  for (const s of ctx.services) {
    if (overlaps(s, prefix)) return refused(Refusal.ServiceRange, `overlaps the service range ${s.net.toString()}: kube-proxy owns service addresses`);
  }
  for (const h of ctx.connected) {
    if (overlaps(h.net, prefix)) {
      return refused(Refusal.HostSubnet, `covers or lies inside ${h.conn.prefix.toString()} on ${h.conn.link.name}, a host address and connected subnet`);
    }
  }
  let pool: PoolRef | undefined;
  for (const x of ctx.pools) {
    if (contains(x, prefix)) {
      pool = x;
      break;
    }
  }
  if (pool === undefined) return refused(Refusal.OutsidePool, 'outside every IPPool: only pool routes are programmed from BGP');
  const key = prefixKey(prefix);
  if (ctx.ownBlocks.has(key)) return refused(Refusal.OwnBlock, 'this node\'s own block: the local blackhole route stands');
  const cr = ctx.clusterRoutes;
  if (cr !== undefined && pool.p.vxlanMode === 'Never') {
    // confd bgp_processor.go processIPPool: a pool whose class BIRD does not program gets
    // `reject; # Cluster routes are handled by Felix.` in BIRD's kernel filter.
    const ipip = pool.p.ipipMode !== 'Never';
    if (ipip ? !cr.ipip : !cr.noEncap) {
      return refused(Refusal.Felix, `pool ${pool.p.name} is ${ipip ? 'an IPIP pool' : 'unencapsulated'}: BGPConfiguration programClusterRoutes ${cr.setting} leaves its cluster routes to Felix`);
    }
  }

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
      if (!multipath.some((n) => n.gateway!.equals(shape.nexthop!.gateway!))) {
        multipath.push(shape.nexthop);
        whys.push(shape.shape!);
      }
    }
  }
  if (first === undefined) {
    if (wait !== undefined) return { un: { prefix: prefix.toString(), source: R, kind: 'waiting', reason: wait } };
    return refused(Refusal.NoNextHop, hops.length === 0 ? 'no next hop' : `no usable next hop (${hops.map((h) => h.address).join(', ')}: wrong family or this node)`);
  }
  // The destination is the RIB's address value: the netlink codec writes its bytes, no text.
  const route: KRoute = { family, dst: prefix.addr, dstLen: prefix.len, table: ctx.opt.table, protocol: ctx.opt.protocol, scope: Scope.Universe, type: 'unicast' };
  const priority = hops[0]?.priority;
  if (priority !== undefined) route.metric = priority;
  else if (family === 6) route.metric = 1024;
  let why: string;
  if (multipath === undefined || multipath.length === 1) {
    Object.assign(route, first.nexthop);
    why = first.shape!;
  } else {
    const order = multipath.map((n, i) => i).sort((a, b) => (gwText(multipath![a]!) < gwText(multipath![b]!) ? -1 : gwText(multipath![a]!) > gwText(multipath![b]!) ? 1 : 0));
    route.multipath = order.map((i) => multipath![i]!);
    why = `${whys!.join('; ')} (${multipath.length} equal-cost paths)`;
  }
  if (viaTunnel) route.mtu = ctx.opt.tunnelMtu;
  // A default-metric route's key is the prefix's own key (prefixKey); a metric makes another.
  if (priority !== undefined) why += ` (metric ${priority}: BGPFilter setPriority on import)`;
  return { key: priority === undefined ? key : routeKey(route), desired: { route, source: R, why } };
}

/** Multipath next hops are ordered by their text, as before they were values ("198.18.0.10" < "198.18.0.9"). */
const gwText = (n: KNexthop): string => n.gateway!.toString();

/** How one next hop is reached for prefixes of one pool (cached: it depends on neither the prefix nor the other hops). */
function hopShape(ctx: RemoteContext, pool: PoolRef, family: Family, hop: RemoteNextHop): HopShape {
  // A pool's prefixes all have the pool's family, so (hop, pool) determines the shape.
  let byPool = ctx.shapes.get(hop);
  if (byPool === undefined) ctx.shapes.set(hop, (byPool = []));
  return (byPool[pool.i] ??= computeHopShape(ctx, pool, family, hop));
}

function computeHopShape(ctx: RemoteContext, pool: PoolRef, family: Family, hop: RemoteNextHop): HopShape {
  const ip = parseAddr(hop.address);
  const text = ip?.toString();
  if (ip === null || text === undefined || ip.family !== family || ctx.selfAddrs.has(text)) return { tunnel: false };
  const who = hop.calicoNode !== undefined ? `node ${hop.calicoNode}` : `router ${text}`;
  if (pool.p.vxlanMode !== 'Never') return vxlanHopShape(ctx, pool, family, hop, ip, who);
  let encap: 'tunnel' | 'direct' = 'direct';
  let because: string;
  if (family === 6) because = 'IPv6 (IPIP carries IPv4 only)';
  else if (hop.calicoNode === undefined) because = 'next hop is not a Calico node, so no IPIP';
  else if (pool.p.ipipMode === 'Always') {
    encap = 'tunnel';
    because = `pool ${pool.p.name} has ipipMode Always`;
  } else if (pool.p.ipipMode === 'CrossSubnet') {
    const subnet = ctx.subnet;
    const same = subnet !== undefined && subnet.has(ip);
    encap = same ? 'direct' : 'tunnel';
    because = `pool ${pool.p.name} has ipipMode CrossSubnet and ${text} is ${same ? 'in' : 'outside'} ${subnet ? `this node's subnet ${subnet.toString()}` : 'this node\'s subnet (unknown)'}`;
  } else because = `pool ${pool.p.name} has ipipMode Never`;
  if (encap === 'tunnel') {
    const t = ctx.tunnel;
    if (t === undefined || !t.up) {
      return { tunnel: true, wait: `${ctx.opt.tunnelName} is ${t === undefined ? 'missing' : 'down'} (needed for ${who}: ${because})` };
    }
    return { tunnel: true, nexthop: { gateway: ip, oif: t.index, onlink: true }, shape: `${who} via IPIP: ${because}` };
  }
  return { tunnel: false, nexthop: directHop(ip, family === 4 ? ctx.nic4?.link.index : ctx.nic6?.link.index, family), shape: `${who} direct: ${because}` };
}

/** A hop to a block of a VXLAN pool: via the node's VTEP on the vxlan device, or direct (CrossSubnet, same subnet; not a Calico node). */
function vxlanHopShape(ctx: RemoteContext, pool: PoolRef, family: Family, hop: RemoteNextHop, ip: IpAddr, who: string): HopShape {
  const text = ip.toString();
  const mode = pool.p.vxlanMode;
  let because: string;
  let encap = true;
  if (hop.calicoNode === undefined) {
    encap = false;
    because = 'next hop is not a Calico node, so no VXLAN';
  } else if (mode === 'Always') because = `pool ${pool.p.name} has vxlanMode Always`;
  else {
    const subnet = family === 4 ? ctx.subnet : ctx.subnet6;
    const same = subnet !== undefined && subnet.has(ip);
    encap = !same;
    because = `pool ${pool.p.name} has vxlanMode CrossSubnet and ${text} is ${same ? 'in' : 'outside'} ${subnet ? `this node's subnet ${subnet.toString()}` : 'this node\'s subnet (unknown)'}`;
  }
  if (!encap) return { tunnel: false, nexthop: directHop(ip, family === 4 ? ctx.nic4?.link.index : ctx.nic6?.link.index, family), shape: `${who} direct: ${because}` };
  const dev = VXLAN_DEVICE[family];
  const vtep = ctx.vteps[family].get(hop.calicoNode!);
  if (vtep === undefined) return { tunnel: false, wait: `${who} has no IPv${family} VXLAN tunnel address and MAC in its Node yet (needed: ${because})` };
  const link = ctx.vxlan[family];
  if (link === undefined || !link.up) return { tunnel: false, wait: `${dev} is ${link === undefined ? 'missing' : 'down'} (needed for ${who}: ${because})` };
  const gw = parseAddr(vtep.address);
  if (gw === null) return { tunnel: false, wait: `${who}'s VTEP address "${vtep.address}" is not an address` };
  return { tunnel: false, nexthop: { gateway: gw, oif: link.index, onlink: true }, shape: `${who} via VXLAN (VTEP ${vtep.address}): ${because}` };
}

/** A next hop on the host NIC. IPv4 uses onlink as calico-node does: the node IP is on the link even when the configured prefix says otherwise. */
function directHop(gateway: IpAddr, nic: number | undefined, family: Family): KNexthop {
  const nh: KNexthop = { gateway };
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
function sameSubnet(cfg: DataplaneConfig, nic: Connected | undefined, notes: string[]): Prefix | undefined {
  const a = cfg.ipv4Address;
  if (a === undefined) return undefined;
  if (a.prefixLength < 32) return parsePrefix(a.subnet)?.network() ?? undefined;
  if (nic !== undefined && nic.prefix.len < 32) {
    const kernel = nic.prefix.network();
    notes.push(`ipv4Address ${a.address}/32 has no subnet: CrossSubnet uses ${kernel.toString()}, the prefix on ${nic.link.name} in the kernel`);
    return kernel;
  }
  notes.push(`ipv4Address ${a.address}/32 has no subnet and the kernel shows none either: CrossSubnet treats every node as in another subnet and routes via IPIP`);
  return undefined;
}
