// Builders for policy tests: a NodeConfig with only what policy reads, routes from CIDR text,
// peers, and BGPFilters written as Calico YAML would be (field names as in projectcalico.org/v3).
import type { NodeConfig } from '../../src/config/node-config.js';
import { SegType } from '../../src/bgp/wire/types.js';
import { parseCidr } from '../../src/policy/prefix-set.js';
import type { BGPFilterSpec } from '../../src/datastore/bgpfilter.js';
import type { BGPFilter, PeerInfo, PolicyAttrs, RouteInfo } from '../../src/policy/types.js';

export function nodeConfig(over: Partial<NodeConfig> = {}): NodeConfig {
  return {
    node: 'node-1', labels: {}, asNumber: 64512, routerId: '198.18.0.1', listenPort: 179, bindMode: 'None',
    logSeverityScreen: 'Info', nodeToNodeMeshEnabled: true, peers: [], originate: [], pools: [],
    services: { advertise: true, clusterIPs: [], externalIPs: [], loadBalancerIPs: [] },
    prefixAdvertisements: [], ignoredInterfaces: [], notes: [],
    ...over,
  };
}

export function pool(name: string, cidr: string, extra: { disabled?: boolean; disableBGPExport?: boolean } = {}): NodeConfig['pools'][number] {
  return {
    name, cidr, family: cidr.includes(':') ? 6 : 4, blockSize: cidr.includes(':') ? 122 : 26, ipipMode: 'Never',
    vxlanMode: 'Never', natOutgoing: false, disabled: extra.disabled ?? false,
    disableBGPExport: extra.disableBGPExport ?? false, nodeSelector: 'all()', selectsThisNode: true,
    allowedUses: ['Workload', 'Tunnel'],
  };
}

export interface RouteOpts {
  source?: RouteInfo['source'];
  iface?: string;
  asPath?: number[];
  communities?: number[];
  large?: [number, number, number][];
  priority?: number;
}

export function route(cidr: string, o: RouteOpts = {}): RouteInfo {
  const p = parseCidr(cidr);
  if (p === null) throw new Error(`bad test CIDR ${cidr}`);
  const attrs: { -readonly [K in keyof PolicyAttrs]: PolicyAttrs[K] } = {
    asPath: o.asPath === undefined ? [] : [{ type: SegType.AS_SEQUENCE, asns: o.asPath }],
  };
  if (o.communities !== undefined) attrs.communities = o.communities;
  if (o.large !== undefined) attrs.largeCommunities = o.large;
  const r: RouteInfo = { family: p.family, bytes: p.bytes, len: p.len, attrs, source: o.source ?? 'peer' };
  if (o.iface !== undefined) r.interface = o.iface;
  if (o.priority !== undefined) r.priority = o.priority;
  return r;
}

export const ibgp = (filters: string[] = []): PeerInfo => ({ ibgp: true, address: '198.18.0.2', filters });
export const ebgp = (filters: string[] = []): PeerInfo => ({ ibgp: false, address: '198.18.0.254', filters });

export const filter = (name: string, spec: BGPFilterSpec): BGPFilter => ({ metadata: { name }, spec });

/** RFC 1997 community value for "a:b". */
export const comm = (a: number, b: number): number => ((a << 16) | b) >>> 0;
