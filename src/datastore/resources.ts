// Typed model of the Calico resources Kite reads, with Calico's own field names
// (projectcalico.org/v3, api/pkg/apis/projectcalico/v3; Node from libcalico-go). Values are
// normalised while validating (AS numbers to numbers, "true"/"false" to booleans, durations to
// seconds, CIDRs to canonical text) but absent optional fields stay absent, so a consumer
// can tell "not set" from "set to the default". Defaults live in DEFAULTS and src/config.

export const API_VERSION = 'projectcalico.org/v3';
/** The CRD group Calico stores resources under with the Kubernetes datastore; same spec fields. */
export const CRD_API_VERSION = 'crd.projectcalico.org/v1';
export const API_VERSIONS: readonly string[] = [API_VERSION, CRD_API_VERSION];

import type { BGPFilterSpec } from './bgpfilter.js';

export const KINDS = [
  'BGPConfiguration', 'Node', 'BGPPeer', 'BGPFilter', 'IPPool', 'BlockAffinity', 'IPAMBlock', 'WorkloadEndpoint',
] as const;
export type Kind = (typeof KINDS)[number];

/** Calico's defaults for fields that may be left out. */
export const DEFAULTS = {
  asNumber: 64512,
  nodeToNodeMeshEnabled: true,
  listenPort: 179,
  blockSizeV4: 26,
  blockSizeV6: 122,
  /** Graceful-restart time when neither maxRestartTime nor nodeMeshMaxRestartTime is set. */
  restartTimeSeconds: 120,
} as const;

export const BindMode = { None: 'None', NodeIP: 'NodeIP' } as const;
export type BindMode = (typeof BindMode)[keyof typeof BindMode];
/**
 * BGPConfiguration programClusterRoutes (Calico 3.32+): which classes of IP pool the BGP side
 * programs the cluster routes of (routes to other nodes' blocks); Felix programs the rest, and
 * always the VXLAN pools' (confd bgp_processor.go clusterRoutePolicyFromBGPConfig).
 */
export const ProgramClusterRoutes = {
  Enabled: 'Enabled', Disabled: 'Disabled', EnabledIPIPOnly: 'EnabledIPIPOnly', EnabledNoEncapOnly: 'EnabledNoEncapOnly',
} as const;
export type ProgramClusterRoutes = (typeof ProgramClusterRoutes)[keyof typeof ProgramClusterRoutes];
export const EncapMode = { Never: 'Never', Always: 'Always', CrossSubnet: 'CrossSubnet' } as const;
export type EncapMode = (typeof EncapMode)[keyof typeof EncapMode];
export const SourceAddress = { UseNodeIP: 'UseNodeIP', None: 'None' } as const;
export type SourceAddress = (typeof SourceAddress)[keyof typeof SourceAddress];
export const NextHopMode = { Auto: 'Auto', Self: 'Self', Keep: 'Keep' } as const;
export type NextHopMode = (typeof NextHopMode)[keyof typeof NextHopMode];
export const ReversePeering = { Auto: 'Auto', Manual: 'Manual' } as const;
export type ReversePeering = (typeof ReversePeering)[keyof typeof ReversePeering];
export const AffinityState = { Confirmed: 'confirmed', Pending: 'pending', PendingDeletion: 'pendingDeletion' } as const;
export type AffinityState = (typeof AffinityState)[keyof typeof AffinityState];
export const LogSeverity = ['Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;
export type LogSeverity = (typeof LogSeverity)[number];
export const AllowedUse = ['Workload', 'Tunnel', 'LoadBalancer'] as const;
export type AllowedUse = (typeof AllowedUse)[number];

/** Where an object came from, for error messages and "why" explanations. */
export interface Origin {
  file: string;
  /** 1-based document index in the file. */
  document: number;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface Base<K extends Kind, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  origin: Origin;
}

export interface SecretKeyRef { name: string; key: string }
export interface ServiceIPBlock { cidr: string }
export interface Community { name: string; value: string }
export interface PrefixAdvertisement { cidr: string; communities: string[] }

export interface BGPConfigurationSpec {
  asNumber?: number;
  nodeToNodeMeshEnabled?: boolean;
  nodeMeshPassword?: { secretKeyRef: SecretKeyRef };
  /** Seconds. */
  nodeMeshMaxRestartTime?: number;
  listenPort?: number;
  bindMode?: BindMode;
  serviceClusterIPs?: ServiceIPBlock[];
  serviceExternalIPs?: ServiceIPBlock[];
  serviceLoadBalancerIPs?: ServiceIPBlock[];
  communities?: Community[];
  prefixAdvertisements?: PrefixAdvertisement[];
  ignoredInterfaces?: string[];
  logSeverityScreen?: LogSeverity;
  programClusterRoutes?: ProgramClusterRoutes;
}
/** Name is `default` (cluster-wide) or `node.<nodeName>` (per-node overrides). */
export type BGPConfiguration = Base<'BGPConfiguration', BGPConfigurationSpec>;

export interface NodeBGPSpec {
  /** CIDR form, host part kept: "198.18.0.1/24". */
  ipv4Address?: string;
  ipv6Address?: string;
  asNumber?: number;
  ipv4IPIPTunnelAddr?: string;
  routeReflectorClusterID?: string;
}
export interface NodeSpec {
  bgp?: NodeBGPSpec;
  /** This node's VXLAN tunnel endpoints (Calico's Node spec; Felix's VXLAN manager reads them). */
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
}
export type Node = Base<'Node', NodeSpec>;

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  /** As written: "ip", "ip:port" or "[v6]:port". Parsed form in peerAddress/peerPort. */
  peerIP?: string;
  /** Canonical address part of peerIP. */
  peerAddress?: string;
  /** Port part of peerIP. */
  peerPort?: number;
  peerSelector?: string;
  asNumber?: number;
  localASNumber?: number;
  localWorkloadSelector?: string;
  password?: { secretKeyRef: SecretKeyRef };
  sourceAddress?: SourceAddress;
  /** Seconds. */
  maxRestartTime?: number;
  /** Seconds. */
  keepaliveTime?: number;
  nextHopMode?: NextHopMode;
  keepOriginalNextHop?: boolean;
  numAllowedLocalASNumbers?: number;
  /** GTSM (RFC 5082) hop count. */
  ttlSecurity?: number;
  reachableBy?: string;
  filters?: string[];
  reversePeering?: ReversePeering;
}
export type BGPPeer = Base<'BGPPeer', BGPPeerSpec>;

export interface IPPoolSpec {
  /** Canonical network CIDR. */
  cidr: string;
  /** Always set: Calico's default (26 / 122) when the file leaves it out. */
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  /** Stops allocation only: blocks in a disabled pool are still advertised. */
  disabled: boolean;
  disableBGPExport: boolean;
  nodeSelector?: string;
  allowedUses?: AllowedUse[];
}
export type IPPool = Base<'IPPool', IPPoolSpec>;

export interface BlockAffinitySpec {
  node: string;
  cidr: string;
  state?: AffinityState;
  /** Calico's CRD form stores this as the string "true"/"false"; normalised here. */
  deleted: boolean;
}
export type BlockAffinity = Base<'BlockAffinity', BlockAffinitySpec>;

export interface AllocationAttribute {
  handle_id?: string;
  secondary: Record<string, string>;
}
export interface IPAMBlockSpec {
  cidr: string;
  /** "host:<node>" when the block is affine to a node. */
  affinity?: string;
  strictAffinity: boolean;
  /** Per-address index into attributes, null when free. */
  allocations: (number | null)[];
  unallocated: number[];
  attributes: AllocationAttribute[];
  deleted: boolean;
}
export type IPAMBlock = Base<'IPAMBlock', IPAMBlockSpec>;

export interface WorkloadEndpointSpec {
  node: string;
  orchestrator?: string;
  workload?: string;
  pod?: string;
  endpoint?: string;
  interfaceName?: string;
  mac?: string;
  /** CIDRs, normally /32 and /128. */
  ipNetworks: string[];
  profiles: string[];
}
export type WorkloadEndpoint = Base<'WorkloadEndpoint', WorkloadEndpointSpec>;

export type BGPFilter = Base<'BGPFilter', BGPFilterSpec>;

export type Resource = BGPConfiguration | Node | BGPPeer | BGPFilter | IPPool | BlockAffinity | IPAMBlock | WorkloadEndpoint;

/** Everything read from one datastore snapshot, by kind, in file order. */
export interface Resources {
  bgpConfigurations: BGPConfiguration[];
  nodes: Node[];
  bgpPeers: BGPPeer[];
  bgpFilters: BGPFilter[];
  ipPools: IPPool[];
  blockAffinities: BlockAffinity[];
  ipamBlocks: IPAMBlock[];
  workloadEndpoints: WorkloadEndpoint[];
  /** Non-fatal remarks from validation (ignored fields), already located. */
  warnings: string[];
  /**
   * The data of the Secrets that secretKeyRefs name (BGP passwords), by Secret name, then key,
   * decoded: read from the API (Kubernetes datastore) or from `apiVersion: v1, kind: Secret`
   * documents in the file (file datastore).
   */
  secrets?: Record<string, Record<string, string>>;
  /**
   * Kubernetes Services (v1) and EndpointSlices (discovery.k8s.io/v1), for per-service routes
   * (Calico confd's routeGenerator): watched with the Kubernetes datastore, read from documents
   * of those kinds in the file datastore. Absent when neither source has any.
   */
  services?: Service[];
  endpointSlices?: EndpointSlice[];
}

/** The part of a Kubernetes Service that decides its routes. Addresses in canonical text. */
export interface Service {
  namespace: string;
  name: string;
  /** ClusterIP, NodePort, LoadBalancer, ExternalName; Kubernetes' default ClusterIP when absent. */
  type: string;
  /** spec.clusterIPs (or spec.clusterIP), without "None". */
  clusterIPs: string[];
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip, then spec.loadBalancerIP. */
  loadBalancerIPs: string[];
  /** Cluster unless the Service says Local. */
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
}

/** One endpoint of an EndpointSlice: where it runs and whether it is ready (absent ready counts as ready, as in Kubernetes). */
export interface SliceEndpoint {
  addresses: string[];
  nodeName?: string;
  ready: boolean;
}

/** An EndpointSlice, by the Service it belongs to (its kubernetes.io/service-name label). */
export interface EndpointSlice {
  namespace: string;
  name: string;
  service: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[];
}

export function emptyResources(): Resources {
  return {
    bgpConfigurations: [], nodes: [], bgpPeers: [], bgpFilters: [], ipPools: [], blockAffinities: [], ipamBlocks: [],
    workloadEndpoints: [], warnings: [],
  };
}

/** Adds a validated resource to the right list. */
export function addResource(rs: Resources, r: Resource): void {
  switch (r.kind) {
    case 'BGPConfiguration': rs.bgpConfigurations.push(r); break;
    case 'Node': rs.nodes.push(r); break;
    case 'BGPPeer': rs.bgpPeers.push(r); break;
    case 'BGPFilter': rs.bgpFilters.push(r); break;
    case 'IPPool': rs.ipPools.push(r); break;
    case 'BlockAffinity': rs.blockAffinities.push(r); break;
    case 'IPAMBlock': rs.ipamBlocks.push(r); break;
    case 'WorkloadEndpoint': rs.workloadEndpoints.push(r); break;
  }
}

export function allResources(rs: Resources): Resource[] {
  return [
    ...rs.bgpConfigurations, ...rs.nodes, ...rs.bgpPeers, ...rs.bgpFilters, ...rs.ipPools, ...rs.blockAffinities,
    ...rs.ipamBlocks, ...rs.workloadEndpoints,
  ];
}
