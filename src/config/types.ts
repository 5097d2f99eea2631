// What one node's derived configuration looks like (node-config.ts derives it): identity,
// BGP sessions, originated blocks, pools, services. Types (and PeerKind) only, so the derivation's parts
// (peers.ts, blocks.ts) and its users share them without importing each other in a circle.
import type { Family } from '../net/index.js';
import type { AllowedUse, BindMode, IPPoolSpec, LogSeverity, NextHopMode, SecretKeyRef, BGPPeerSpec } from '../datastore/resources.js';
import type { Labels } from '../datastore/selector.js';

export interface AddressConfig {
  /** The node's address: "198.18.0.1". */
  address: string;
  /** Prefix length of its subnet (from "198.18.0.1/24"); defines "same subnet" for CrossSubnet. */
  prefixLength: number;
  /** The subnet: "198.18.0.0/24". */
  subnet: string;
}

export const PeerKind = { Mesh: 'mesh', BGPPeer: 'bgppeer' } as const;
export type PeerKind = (typeof PeerKind)[keyof typeof PeerKind];

export interface PeerConfig {
  /** Unique per node: "Mesh_198_18_0_2", a BGPPeer name, or "<BGPPeer>-<node>[-v6]" for selector peers. */
  name: string;
  kind: PeerKind;
  /** The BGPPeer this session comes from (absent for mesh). */
  resource?: string;
  /** True when created by Calico's automatic reverse peering (the BGPPeer selected this node as peer). */
  reverse: boolean;
  /** Name of the Calico node at the other end, when it is one. */
  peerNode?: string;
  address: string;
  family: Family;
  port: number;
  asNumber: number;
  /** The AS this node presents on the session (BGPPeer.localASNumber, else the node's AS). */
  localAsNumber: number;
  /** Wait for the other side to connect (one dialler per pair of Calico nodes). */
  passive: boolean;
  /** Local address to bind and use as next hop; absent with sourceAddress None. */
  sourceAddress?: string;
  /** Calico configures every session as multihop (BIRD `multihop`): no directly-connected check. */
  multihop: boolean;
  /** GTSM (RFC 5082): expected maximum hop count, when set. */
  ttlSecurity?: number;
  /** Seconds, when set; the hold time is 3× (BIRD) or the negotiated value. */
  keepaliveTime?: number;
  /** Graceful-restart time (RFC 4724) requested on the BGPPeer / nodeMeshMaxRestartTime, when set. */
  maxRestartTime?: number;
  /** Effective graceful-restart time: maxRestartTime, else DEFAULTS.restartTimeSeconds. */
  restartTime: number;
  password?: { secretKeyRef: SecretKeyRef };
  /** Effective mode: Self/Keep from nextHopMode, Keep for keepOriginalNextHop on eBGP, else Auto. */
  nextHopMode: NextHopMode;
  keepOriginalNextHop: boolean;
  numAllowedLocalASNumbers: number;
  /** Kite extension (annotation kite.dev/max-prefixes): most prefixes accepted from the peer. */
  maxPrefixes?: number;
  /** Seconds the session stays down after the limit was hit (kite.dev/max-prefixes-restart, default 60). */
  maxPrefixesRestart?: number;
  filters: string[];
  reachableBy?: string;
  /** This node is a route reflector and the peer is one of its clients (RFC 4456). */
  routeReflectorClient: boolean;
  /** The cluster ID to send when routeReflectorClient. */
  routeReflectorClusterID?: string;
  /** The workload endpoint at the other end of a localWorkloadSelector peering (a pod on this node). */
  localWorkload?: string;
  /** The raw BGPPeer spec, for later features (absent for mesh). */
  spec?: BGPPeerSpec;
}

export interface OriginatedBlock {
  prefix: string;
  /** Name of the IPPool the block belongs to; absent when no pool holds it (still advertised, as Calico does). */
  pool?: string;
}

/** An IPPool as this node uses it: its spec with Calico's defaults filled in, and whether it selects this node. */
export interface PoolConfig extends Omit<IPPoolSpec, 'nodeSelector' | 'allowedUses'> {
  name: string;
  family: Family;
  /** The pool's nodeSelector, "all()" when unset. */
  nodeSelector: string;
  /** nodeSelector selects this node (IPAM may allocate here). */
  selectsThisNode: boolean;
  /** The pool's allowedUses, Calico's default [Workload, Tunnel] when unset. */
  allowedUses: AllowedUse[];
}

export interface ResolvedPrefixAdvertisement {
  cidr: string;
  /** Community values ("a:b" or large "a:b:c"), names already resolved. */
  communities: string[];
}

export interface NodeConfig {
  node: string;
  labels: Labels;
  asNumber: number;
  routerId: string;
  ipv4Address?: AddressConfig;
  ipv6Address?: AddressConfig;
  ipv4IPIPTunnelAddr?: string;
  /** This node's VXLAN VTEPs as its Node has them (or IPAM just allocated). */
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  listenPort: number;
  bindMode: BindMode;
  routeReflectorClusterID?: string;
  logSeverityScreen: LogSeverity;
  nodeToNodeMeshEnabled: boolean;
  peers: PeerConfig[];
  originate: OriginatedBlock[];
  /** Local workload /32s (/128s) outside this node's blocks, inside a pool: originated one by one. */
  borrowed?: string[];
  pools: PoolConfig[];
  services: {
    /** False when the node carries node.kubernetes.io/exclude-from-external-load-balancers=true. */
    advertise: boolean;
    clusterIPs: string[];
    externalIPs: string[];
    loadBalancerIPs: string[];
    /** Per-service /32 and /128 routes this node originates (config/service-routes.ts), sorted; absent means none. */
    routes?: string[];
  };
  prefixAdvertisements: ResolvedPrefixAdvertisement[];
  ignoredInterfaces: string[];
  /**
   * BGPConfiguration programClusterRoutes as it applies: whether Kite programs the routes to other
   * nodes' blocks in IPIP pools and in unencapsulated pools (Felix does the rest). VXLAN pools stay
   * Kite's, as it replaces Felix's VXLAN manager.
   */
  clusterRoutes?: { ipip: boolean; noEncap: boolean; setting: string };
  /** Why things were skipped, replaced or defaulted, in words. */
  notes: string[];
}

/** One BGP peer as the instance runs it: its configuration and its password, resolved from its Secret. */
export interface PeerIntent {
  readonly config: PeerConfig;
  readonly password: string | undefined;
  /** Why a password the peer names could not be resolved (the session then runs without TCP MD5). */
  readonly passwordProblem?: string;
}
