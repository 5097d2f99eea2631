// What the Linux dataplane is told, in its own small vocabulary: pools with their encapsulation
// modes, this node's addresses, blocks and tunnel address, service ranges, local workloads, and
// remote routes with their next hops. The calc layer (src/calc/dataplane-inputs.ts) builds these
// from datastore resources and node config; the dataplane imports neither.

import type { Prefix } from '../net/index.js';
import type { Family } from './types.js';

/** An IPPool's encapsulation setting, as Calico spells it. */
export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface PoolInput {
  name: string;
  /** "10.244.0.0/16". */
  cidr: string;
  family: Family;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
}

/** One of this node's BGP addresses with the subnet it was configured in. */
export interface NodeAddress {
  /** "198.18.0.1". */
  address: string;
  /** Its prefix length ("198.18.0.1/24" -> 24); defines "same subnet" for CrossSubnet. */
  prefixLength: number;
  /** "198.18.0.0/24". */
  subnet: string;
}

/** A block affine to this node: blackholed here, so traffic to unallocated addresses stops. */
export interface OwnBlock {
  prefix: string;
  /** The pool it was carved from (for messages); absent when no pool holds it any more. */
  pool?: string;
}

/** The node-wide part of the inputs (one value, replaced as a whole when anything changes). */
export interface DataplaneConfig {
  ipv4Address?: NodeAddress;
  ipv6Address?: NodeAddress;
  /** The address tunl0 carries (ipv4IPIPTunnelAddr), once allocated. */
  ipv4IPIPTunnelAddr?: string;
  /** This node's VTEPs: what vxlan.calico (IPv4) and vxlan-v6.calico (IPv6) carry, once allocated. */
  vxlan4?: LocalVtep;
  vxlan6?: LocalVtep;
  /** Other Calico nodes' VTEPs (from their Node resources): neighbour and FDB entries, VXLAN next hops. */
  vteps?: readonly RemoteVtep[];
  pools: readonly PoolInput[];
  blocks: readonly OwnBlock[];
  /** Cluster, external and load-balancer service ranges: kube-proxy's, never routed from BGP. */
  serviceRanges: readonly string[];
  /** BGPConfiguration ignoredInterfaces (globs): links the dataplane never looks at nor touches. */
  ignoredInterfaces?: readonly string[];
  /**
   * Whether remote blocks in IPIP pools / unencapsulated pools are programmed here (BGPConfiguration
   * programClusterRoutes); absent: both. `setting` names the value for the reason of a refusal.
   */
  clusterRoutes?: { ipip: boolean; noEncap: boolean; setting: string };
  /** BGPPeer reachableBy: a host route to each such peer through its gateway (confd's static route). */
  peerRoutes?: readonly { peer: string; gateway: string }[];
}

/** This node's VXLAN tunnel endpoint in one family (ipv4VXLANTunnelAddr and vxlanTunnelMACAddr). */
export interface LocalVtep {
  /** The VTEP address ("10.244.0.0"), carried as a /32 (/128) on the device. */
  address: string;
  /** The device's MAC ("66:…"). */
  mac: string;
}

/** Another node's VXLAN tunnel endpoint. */
export interface RemoteVtep {
  /** Calico node name (RemoteNextHop.calicoNode names the same node). */
  node: string;
  family: Family;
  /** Its VTEP address: the next hop of VXLAN routes to its blocks, with a permanent neighbour entry. */
  address: string;
  mac: string;
  /** Its underlay address (the Node's ipv4Address / ipv6Address): where the FDB sends its MAC. */
  nodeAddress: string;
}

export interface RemoteNextHop {
  /** The BGP next hop ("198.18.0.2", "fd00::2"). */
  address: string;
  /** Name of the Calico node owning that address; absent for other routers (no IPIP to them). */
  calicoNode?: string;
  /** Kernel metric set by a BGPFilter import rule (setPriority); the best path's wins. */
  priority?: number;
}

/** Calico node addresses (canonical text) -> node name: which next hops may be reached by IPIP. */
export type NodeAddresses = ReadonlyMap<string, string>;

export interface LocalWorkload {
  /** WorkloadEndpoint name, for messages. */
  name: string;
  interfaceName: string;
  ipNetworks: readonly string[];
  mac?: string;
}

/**
 * Loc-RIB prefixes learned from peers (networks, as the RIB holds them) with their best and
 * equal-cost next hops: any iterable of pairs, e.g. a Map<Prefix, hops>.
 */
export type RemoteRoutes = Iterable<readonly [Prefix, readonly RemoteNextHop[]]>;

/** Everything at once (`Dataplane.update` takes any subset). */
export interface DataplaneInputs {
  config: DataplaneConfig | undefined;
  remote: RemoteRoutes;
  workloads: readonly LocalWorkload[];
}

/** Does some pool use IPIP (so tunl0 must exist and carry the tunnel address)? */
export function ipipInUse(pools: readonly Pick<PoolInput, 'family' | 'ipipMode' | 'vxlanMode'>[]): boolean {
  return pools.some((p) => p.family === 4 && p.ipipMode !== 'Never' && p.vxlanMode === 'Never');
}

/** Does some pool of this family use VXLAN (so its vxlan device must exist)? */
export function vxlanInUse(pools: readonly Pick<PoolInput, 'family' | 'vxlanMode'>[], family: Family): boolean {
  return pools.some((p) => p.family === family && p.vxlanMode !== 'Never');
}
