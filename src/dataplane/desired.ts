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
import type { WorkloadEndpoint } from '../datastore/resources.js';
import type { NodeConfig, PoolConfig } from '../config/node-config.js';
import type { HostView } from './host.js';
import { routeKey } from './route-key.js';
import { Scope, type Family, type KNexthop, type KRoute } from './types.js';

/** The part of NodeConfig the dataplane reads. */
export type DataplaneConfig = Pick<NodeConfig, 'node' | 'ipv4Address' | 'ipv6Address' | 'ipv4IPIPTunnelAddr' | 'pools' | 'originate'> & {
  services: Pick<NodeConfig['services'], 'clusterIPs' | 'externalIPs' | 'loadBalancerIPs'>;
};

export interface RemoteNextHop {
  /** The BGP next hop ("198.18.0.2", "fd00::2"). */
  address: string;
  /** Name of the Calico node owning that address; absent for other routers (no IPIP to them). */
  calicoNode?: string;
}

export interface LocalWorkload {
  /** WorkloadEndpoint name, for messages. */
  name: string;
  interfaceName: string;
  ipNetworks: readonly string[];
  mac?: string;
}

export interface DesiredInputs {
  config: DataplaneConfig | undefined;
  /** Loc-RIB prefixes learned from peers -> their best/equal-cost next hops. */
  remote: ReadonlyMap<string, readonly RemoteNextHop[]>;
  workloads: readonly LocalWorkload[];
}

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

export interface DesiredState {
  routes: Map<string, DesiredRoute>;
  unprogrammed: UnprogrammedRoute[];
  /** Decisions worth one log line when they change (e.g. how CrossSubnet decides "same subnet"). */
  notes: string[];
}

/** The node's workloads among WorkloadEndpoint resources (those naming an interface). */
export function localWorkloads(weps: readonly WorkloadEndpoint[], node: string): LocalWorkload[] {
  const out: LocalWorkload[] = [];
  for (const w of weps) {
    if (w.spec.node !== node || w.spec.interfaceName === undefined) continue;
    const lw: LocalWorkload = { name: w.metadata.name, interfaceName: w.spec.interfaceName, ipNetworks: w.spec.ipNetworks };
    if (w.spec.mac !== undefined) lw.mac = w.spec.mac;
    out.push(lw);
  }
  return out;
}

/** Does some pool use IPIP (so tunl0 must exist and carry the tunnel address)? */
export function ipipInUse(pools: readonly PoolConfig[]): boolean {
  return pools.some((p) => p.family === 4 && p.ipipMode !== 'Never' && p.vxlanMode === 'Never');
}

export function computeDesired(inp: DesiredInputs, host: HostView, opt: ComputeOptions): DesiredState {
  const st: DesiredState = { routes: new Map(), unprogrammed: [], notes: [] };
  const cfg = inp.config;
  if (cfg === undefined) return st;
  const base = (c: CIDR): Pick<KRoute, 'family' | 'dst' | 'dstLen' | 'table' | 'protocol'> & { metric?: number } => {
    const r: Pick<KRoute, 'family' | 'dst' | 'dstLen' | 'table' | 'protocol'> & { metric?: number } = {
      family: c.family, dst: c.text.slice(0, c.text.indexOf('/')), dstLen: c.prefixLength, table: opt.table, protocol: opt.protocol,
    };
    // State the kernel's IPv6 default explicitly so desired and dumped routes have the same key.
    if (c.family === 6) r.metric = 1024;
    return r;
  };
  // Earlier sources win a key: workloads, then own blocks, then remote routes.
  const put = (c: CIDR, d: DesiredRoute): void => {
    const key = routeKey(d.route);
    const held = st.routes.get(key);
    if (held !== undefined) {
      st.unprogrammed.push({ prefix: c.text, source: d.source, kind: 'refused', reason: `the same prefix is a local ${held.source} route (${held.why})` });
      return;
    }
    st.routes.set(key, d);
  };
  const waiting = (prefix: string, source: RouteSource, reason: string): void => {
    st.unprogrammed.push({ prefix, source, kind: 'waiting', reason });
  };
  const refused = (prefix: string, source: RouteSource, reason: string): void => {
    st.unprogrammed.push({ prefix, source, kind: 'refused', reason });
  };

  // (c) Local workloads: <ip>/32 dev cali… scope link. IPv6 routes have no scope (rt6_fill_node
  // always reports universe), so asking for "link" would never compare equal after a dump.
  for (const w of inp.workloads) {
    for (const text of w.ipNetworks) {
      const c = parseCIDR(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
      if (c === null) {
        refused(text, RouteSource.Workload, `workload ${w.name}: "${text}" is not an IP network`);
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
        route: { ...base(c), scope: c.family === 4 ? Scope.Link : Scope.Universe, type: 'unicast', oif: link.index },
        source: RouteSource.Workload,
        why: `workload ${w.name} on ${w.interfaceName}`,
      });
    }
  }

  // (b) Own affine blocks: blackhole, so traffic to unallocated addresses stops here instead of
  // following a covering route back out (and the BGP origination has a kernel route behind it).
  const ownBlocks: CIDR[] = [];
  for (const o of cfg.originate) {
    const c = parseCIDR(o.prefix);
    if (c === null) continue;
    ownBlocks.push(c);
    put(c, { route: { ...base(c), scope: Scope.Universe, type: 'blackhole' }, source: RouteSource.Block, why: `affine block of this node (pool ${o.pool})` });
  }

  // (a) Remote routes.
  const pools = cfg.pools.map((p) => ({ p, c: parseCIDR(p.cidr) })).filter((x): x is { p: PoolConfig; c: CIDR } => x.c !== null);
  const services = [...cfg.services.clusterIPs, ...cfg.services.externalIPs, ...cfg.services.loadBalancerIPs]
    .map((s) => parseCIDR(s))
    .filter((c): c is CIDR => c !== null);
  const nic4 = cfg.ipv4Address ? host.holderOf(cfg.ipv4Address.address) : undefined;
  const nic6 = cfg.ipv6Address ? host.holderOf(cfg.ipv6Address.address) : undefined;
  if (cfg.ipv4Address && nic4 === undefined) {
    st.notes.push(`no interface holds the node address ${cfg.ipv4Address.address}: direct IPv4 routes go "via <node IP>" and the kernel picks the device`);
  }
  const subnet = sameSubnet(cfg, nic4, st.notes);
  const tunnel = host.link(opt.tunnelName);
  const selfAddrs = new Set([cfg.ipv4Address?.address, cfg.ipv6Address?.address].filter((a): a is string => a !== undefined));

  for (const prefix of [...inp.remote.keys()].sort()) {
    const hops = inp.remote.get(prefix)!;
    const c = parseCIDR(prefix);
    const R = RouteSource.Remote;
    if (c === null) {
      refused(prefix, R, 'not a prefix');
      continue;
    }
    if (c.prefixLength === 0) {
      refused(c.text, R, 'a default route is never programmed from BGP');
      continue;
    }
    const svc = services.find((s) => cidrContains(s, c) || cidrContains(c, s));
    if (svc !== undefined) {
      refused(c.text, R, `overlaps the service range ${svc.text}: kube-proxy owns service addresses`);
      continue;
    }
    const own = host.overlapping(c);
    if (own !== undefined) {
      refused(c.text, R, `covers or lies inside ${own.cidr.ip.text}/${own.cidr.prefixLength} on ${own.link.name}, a host address and connected subnet`);
      continue;
    }
    const pool = pools.filter((x) => cidrContains(x.c, c)).sort((a, b) => b.c.prefixLength - a.c.prefixLength)[0];
    if (pool === undefined) {
      refused(c.text, R, 'outside every IPPool: only pool routes are programmed from BGP');
      continue;
    }
    if (pool.p.vxlanMode !== 'Never') {
      refused(c.text, R, `IPPool ${pool.p.name} uses VXLAN (vxlanMode ${pool.p.vxlanMode}), whose routes Kite does not program`);
      continue;
    }
    if (ownBlocks.some((b) => b.text === c.text)) {
      refused(c.text, R, 'this node\'s own block: the local blackhole route stands');
      continue;
    }
    const nexthops: KNexthop[] = [];
    const shapes: string[] = [];
    let viaTunnel = false;
    let wait: string | undefined;
    for (const hop of hops) {
      const ip = parseIP(hop.address);
      if (ip === null || ip.family !== c.family) continue;
      if (selfAddrs.has(ip.text)) continue;
      const who = hop.calicoNode !== undefined ? `node ${hop.calicoNode}` : `router ${ip.text}`;
      let encap: 'tunnel' | 'direct' = 'direct';
      let because: string;
      if (c.family === 6) because = 'IPv6 (IPIP carries IPv4 only)';
      else if (hop.calicoNode === undefined) because = 'next hop is not a Calico node, so no IPIP';
      else if (pool.p.ipipMode === 'Always') {
        encap = 'tunnel';
        because = `pool ${pool.p.name} has ipipMode Always`;
      } else if (pool.p.ipipMode === 'CrossSubnet') {
        const same = subnet !== undefined && cidrHas(subnet, ip);
        encap = same ? 'direct' : 'tunnel';
        because = `pool ${pool.p.name} has ipipMode CrossSubnet and ${ip.text} is ${same ? 'in' : 'outside'} ${subnet ? `this node's subnet ${subnet.text}` : 'this node\'s subnet (unknown)'}`;
      } else because = `pool ${pool.p.name} has ipipMode Never`;
      if (encap === 'tunnel') {
        if (tunnel === undefined || !tunnel.up) {
          wait = `${opt.tunnelName} is ${tunnel === undefined ? 'missing' : 'down'} (needed for ${who}: ${because})`;
          continue;
        }
        viaTunnel = true;
        nexthops.push({ gateway: ip.text, oif: tunnel.index, onlink: true });
        shapes.push(`${who} via IPIP: ${because}`);
      } else {
        nexthops.push(directHop(ip, c.family === 4 ? nic4?.link.index : nic6?.link.index, c.family));
        shapes.push(`${who} direct: ${because}`);
      }
    }
    if (nexthops.length === 0) {
      if (wait !== undefined) waiting(c.text, R, wait);
      else refused(c.text, R, hops.length === 0 ? 'no next hop' : `no usable next hop (${hops.map((h) => h.address).join(', ')}: wrong family or this node)`);
      continue;
    }
    nexthops.sort((a, b) => (a.gateway! < b.gateway! ? -1 : a.gateway! > b.gateway! ? 1 : 0));
    const route: KRoute = { ...base(c), scope: Scope.Universe, type: 'unicast' };
    if (nexthops.length === 1) Object.assign(route, nexthops[0]);
    else route.multipath = nexthops;
    if (viaTunnel) route.mtu = opt.tunnelMtu;
    put(c, { route, source: R, why: shapes.join('; ') + (nexthops.length > 1 ? ` (${nexthops.length} equal-cost paths)` : '') });
  }
  return st;
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
