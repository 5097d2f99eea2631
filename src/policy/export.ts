// Export policy: which routes a node sends to one BGP peer, and with which communities, AS-path
// prepends and priority. A pure function of NodeConfig + BGPFilters, compiled once per
// configuration and asked once per (route, peer). Calico's order (confd bgp_processor.go
// buildExportFilter → calico_export_to_bgp_peers in bird_ipam.cfg.template, bird_aggr.cfg.template):
//   0. the peer's BGPFilter export rules, filters in the BGPPeer's order; the first matching
//      rule decides (BIRD's accept/reject end the filter), so a filter Accept skips 1–8;
//   1. reject anything inside a pool with disableBGPExport (reject_disabled_pools);
//   2. to iBGP peers, reject routes learned on Felix's tunnel devices: ifname ~ "*.cali",
//      "*.calico", "tunl0" (rejectForFelixTunnelRoutes; every node programs those itself);
//   3. add the communities of every prefixAdvertisement whose cidr holds the route (apply_communities);
//   4. own affine blocks: `net = block` accept, `net ~ block` reject (calico_aggr), so a /32
//      inside an own block is covered by the block and not sent, unless its priority is
//      elevated (below 1024: newer confd lets such /32s escape, see bgp_processor.go);
//   5. service CIDRs (serviceClusterIPs/ExternalIPs/LoadBalancerIPs, confd's /staticroutes):
//      `net ~ cidr` accept, unless the node has the label
//      node.kubernetes.io/exclude-from-external-load-balancers=true;
//   6. a route reflector also accepts what lies in the external and LoadBalancer CIDRs
//      (confd's /allowlist), so it reflects its clients' /32 service routes;
//   7. `net ~ pool` accept for every pool without disableBGPExport (a disabled pool only stops
//      allocation), which is how a borrowed /32 outside own blocks gets out;
//   8. reject.
// Split horizon (RFC 4271 §9.2: no iBGP-learned route to an iBGP peer unless reflecting, RFC 4456)
// is the channel's job, as it is BIRD's protocol code and not its filter.
import type { NodeConfig, PeerConfig } from '../config/node-config.js';
import { ConfigError, plainProblem } from '../datastore/errors.js';
import {
  compileFilters, evaluateFilters, interfacePattern, NORMAL_ROUTE_PRIORITY, parseCommunity, type CompiledFilters,
} from './bgp-filter.js';
import { parseCidr, prefixContains, PrefixSet, type ParsedCidr } from './prefix-set.js';
import type { Accepted, BGPFilter, Decision, PeerInfo, RouteInfo } from './types.js';

export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Felix's tunnel devices (confd rejectForFelixTunnelRoutes): wireguard.cali, vxlan.calico, tunl0. */
const TUNNEL_INTERFACES = ['*.cali', '*.calico', 'tunl0'].map(interfacePattern);

export interface ExportPolicy {
  /** The decision for sending `route` to `peer`. Decisions may be shared: do not mutate them. */
  evaluate(route: RouteInfo, peer: PeerInfo): Decision;
  /** Remarks from compiling (a missing BGPFilter, a community name that never resolved). */
  readonly notes: readonly string[];
}

interface Advertisement { prefix: ParsedCidr; communities: number[]; large: [number, number, number][] }

/** A precomputed outcome per set entry, so the common path allocates nothing. */
interface Entry { decision: Decision }

const frozen = <T extends Decision>(d: T): T => Object.freeze(d);

/**
 * Compiles the export policy. Throws ConfigError listing every invalid BGPFilter rule (as
 * Calico's confd fails to render, so BIRD keeps its old configuration).
 */
export function compileExportPolicy(cfg: NodeConfig, filters: readonly BGPFilter[]): ExportPolicy {
  const compiled = compileFilters(filters, 'export');
  if (compiled.errors.length > 0) throw new ConfigError(compiled.errors.map(plainProblem));
  const notes = [...compiled.notes, ...missingFilters(cfg, compiled)];

  const disabled = new PrefixSet<Entry>();
  const pools = new PrefixSet<Entry>();
  for (const p of cfg.pools) {
    const c = parseCidr(p.cidr);
    if (c === null) { notes.push(`IPPool "${p.name}" has an invalid cidr "${p.cidr}"; ignored`); continue; }
    if (p.disableBGPExport) disabled.add(c, { decision: frozen({ accept: false, reason: `inside IPPool "${p.name}" (${p.cidr}), which has disableBGPExport` }) });
    else pools.add(c, { decision: frozen({ accept: true, reason: `inside IPPool "${p.name}" (${p.cidr})` }) });
  }

  const blocks = new PrefixSet<{ exact: Decision; inside: Decision }>();
  for (const b of cfg.originate) {
    const c = parseCidr(b.prefix);
    if (c === null) continue;
    blocks.add(c, {
      exact: frozen({ accept: true, reason: b.pool === undefined ? `own block ${b.prefix} (in no IPPool: Calico's calico_aggr accepts it before any pool check)` : `own block ${b.prefix} (IPPool "${b.pool}")` }),
      inside: frozen({ accept: false, reason: `inside own block ${b.prefix}, which is advertised instead` }),
    });
  }

  const services = new PrefixSet<Entry>();
  const excluded = new PrefixSet<string>();
  const rrAllow = new PrefixSet<Entry>();
  const kinds = [
    ['serviceClusterIPs', cfg.services.clusterIPs], ['serviceExternalIPs', cfg.services.externalIPs],
    ['serviceLoadBalancerIPs', cfg.services.loadBalancerIPs],
  ] as const;
  for (const [kind, cidrs] of kinds) {
    for (const text of cidrs) {
      const c = parseCidr(text);
      if (c === null) { notes.push(`${kind} has an invalid cidr "${text}"; ignored`); continue; }
      if (cfg.services.advertise) services.add(c, { decision: frozen({ accept: true, reason: `service CIDR ${text} (${kind})` }) });
      else excluded.add(c, `inside service CIDR ${text} (${kind}), but this node has the label ${EXCLUDE_LB_LABEL}=true`);
      if (cfg.routeReflectorClusterID !== undefined && kind !== 'serviceClusterIPs') {
        rrAllow.add(c, { decision: frozen({ accept: true, reason: `route reflector: inside ${kind} ${text}` }) });
      }
    }
  }

  const ads: Advertisement[] = [];
  for (const a of cfg.prefixAdvertisements) {
    const c = parseCidr(a.cidr);
    if (c === null) { notes.push(`prefixAdvertisement cidr "${a.cidr}" is invalid; ignored`); continue; }
    const ad: Advertisement = { prefix: c, communities: [], large: [] };
    for (const text of a.communities) {
      const v = parseCommunity(text);
      if (v === null) notes.push(`prefixAdvertisement ${a.cidr}: community "${text}" is neither a value nor a defined name; ignored`);
      else if (v.large) ad.large.push([...v.value]);
      else ad.communities.push(v.value);
    }
    if (ad.communities.length + ad.large.length > 0) ads.push(ad);
  }

  const notInPool = frozen({ accept: false as const, reason: 'not in any IPPool or service CIDR' });

  const withCommunities = (d: Decision, route: RouteInfo): Decision => {
    if (!d.accept || ads.length === 0) return d;
    let communities: number[] | undefined;
    let large: [number, number, number][] | undefined;
    for (const a of ads) {
      if (a.prefix.family !== route.family || !prefixContains(a.prefix, route.bytes, route.len)) continue;
      for (const v of a.communities) {
        communities ??= [];
        if (!communities.includes(v)) communities.push(v);
      }
      for (const v of a.large) {
        large ??= [];
        if (!large.some((x) => x[0] === v[0] && x[1] === v[1] && x[2] === v[2])) large.push(v);
      }
    }
    if (communities === undefined && large === undefined) return d;
    const out: { -readonly [K in keyof Accepted]: Accepted[K] } = { accept: true, reason: d.reason };
    if (communities !== undefined) out.communities = communities;
    if (large !== undefined) out.largeCommunities = large;
    return out;
  };

  const evaluate = (route: RouteInfo, peer: PeerInfo): Decision => {
    const f = evaluateFilters(compiled, route, peer);
    if (f !== null) return f;
    const { family, bytes, len } = route;
    const off = disabled.outermost(family, bytes, len);
    if (off !== undefined) return off.decision;
    if (peer.ibgp && route.interface !== undefined && TUNNEL_INTERFACES.some((re) => re.test(route.interface ?? ''))) {
      return { accept: false, reason: `learned on ${route.interface}: tunnel routes are not sent to iBGP peers (each node programs its own)` };
    }
    const block = blocks.outermost(family, bytes, len);
    if (block !== undefined) {
      if (blocks.exact(family, bytes, len) !== undefined) return withCommunities(block.exact, route);
      // Newer calico_aggr lets an elevated-priority route (krt_metric below the normal 1024, e.g.
      // a live-migrated VM's /32) out of its block, so the more specific path wins elsewhere.
      if (route.priority === undefined || route.priority >= NORMAL_ROUTE_PRIORITY) return block.inside;
    }
    const svc = services.outermost(family, bytes, len) ?? rrAllow.outermost(family, bytes, len);
    if (svc !== undefined) return withCommunities(svc.decision, route);
    const pool = pools.outermost(family, bytes, len);
    if (pool !== undefined) return withCommunities(pool.decision, route);
    const ex = excluded.outermost(family, bytes, len);
    if (ex !== undefined) return { accept: false, reason: ex };
    return notInPool;
  };

  return { evaluate, notes };
}

function missingFilters(cfg: NodeConfig, compiled: CompiledFilters): string[] {
  const out: string[] = [];
  for (const p of cfg.peers) {
    for (const name of p.filters) {
      // confd skips a filter it cannot read; say so instead of staying silent.
      if (!compiled.byName.has(name)) out.push(`peer ${p.name} lists BGPFilter "${name}", which does not exist; skipped`);
    }
  }
  return out;
}

/** The policy view of a configured peer: iBGP when both ends present the same AS (Calico's is_same_as). */
export function peerInfo(p: PeerConfig): PeerInfo {
  return { ibgp: p.asNumber === p.localAsNumber, address: p.address, filters: p.filters };
}
