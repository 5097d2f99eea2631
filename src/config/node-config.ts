// Derives what one node must do from the cluster's Calico resources: its identity, its BGP
// sessions (mesh, BGPPeers, reverse peerings), the blocks it originates and the pools it knows.
// A pure function, so the daemon can recompute it on every datastore change and diff the result.
// Peering rules follow confd (confd/pkg/backends/calico client.go updatePeersV1 and
// bgp_processor.go); each skipped or replaced item leaves a human-readable note explaining why.
import { ConfigError } from '../datastore/errors.js';
import { parseAddr, type Prefix } from '../net/index.js';
import { DEFAULTS, ProgramClusterRoutes, type BGPConfiguration, type Resources } from '../datastore/resources.js';
import { borrowed, originate, pools } from './blocks.js';
import { serviceRoutes } from './service-routes.js';
import { nodeInfo, type Ctx, type NodeInfo } from './context.js';
import { bgpPeerPeers, dedupe, meshPeers, reversePeers, type Candidate } from './peers.js';
import type { AddressConfig, NodeConfig, ResolvedPrefixAdvertisement } from './types.js';

// The configuration's types live in types.ts (so peers.ts and blocks.ts need not import this
// file, which imports them); re-exported here for the callers that know this file.
export * from './types.js';

export interface DeriveOptions {
  /** Router ID override (Calico's CALICO_ROUTER_ID), needed for IPv6-only nodes. */
  routerId?: string;
}

// Calico treats anything shaped like a community value as a value, and only then as a name.
const COMMUNITY_VALUE = /^\d+:\d+(:\d+)?$/;
const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export function deriveNodeConfig(rs: Resources, nodeName: string, opts: DeriveOptions = {}): NodeConfig {
  // Validation's warnings (fields accepted as Calico accepts them but without effect, unknown
  // fields) lead the notes, so they are logged with the configuration instead of lost.
  const notes: string[] = [...rs.warnings];
  const global = rs.bgpConfigurations.find((c) => c.metadata.name === 'default');
  const perNode = new Map<string, BGPConfiguration>();
  for (const c of rs.bgpConfigurations) {
    if (c.metadata.name.startsWith('node.')) perNode.set(c.metadata.name.slice(5), c);
  }
  const globalAS = global?.spec.asNumber ?? DEFAULTS.asNumber;
  const globalPort = global?.spec.listenPort ?? DEFAULTS.listenPort;

  const infos = new Map<string, NodeInfo>();
  for (const n of rs.nodes) infos.set(n.metadata.name, nodeInfo(n, globalAS, perNode.get(n.metadata.name)?.spec.listenPort ?? globalPort));
  const me = infos.get(nodeName);
  if (me === undefined) {
    const names = [...infos.keys()];
    throw new ConfigError(names.length === 0
      ? `node "${nodeName}" not found: the configuration has no Node objects`
      : `node "${nodeName}" not found: the configuration has nodes ${names.map((n) => `"${n}"`).join(', ')}`);
  }
  for (const name of perNode.keys()) {
    if (!infos.has(name)) notes.push(`BGPConfiguration "node.${name}" names a node that does not exist; ignored`);
  }

  let routerId = opts.routerId;
  if (routerId !== undefined && parseAddr(routerId)?.family !== 4) {
    throw new ConfigError(`router ID "${routerId}" is not an IPv4 address (a BGP identifier is 4 octets, RFC 6286)`);
  }
  if (routerId === undefined) {
    if (me.v4 === undefined) {
      throw new ConfigError(`node "${nodeName}" has no spec.bgp.ipv4Address: the BGP router ID defaults to it (an IPv6-only node needs an explicit router ID, like Calico's CALICO_ROUTER_ID)`);
    }
    routerId = me.v4.addr.toString();
  }

  const ctx: Ctx = { rs, me, infos, globalAS, notes, global, selectors: new Map() };
  const candidates: Candidate[] = [...meshPeers(ctx), ...bgpPeerPeers(ctx), ...reversePeers(ctx)];
  const peers = dedupe(candidates, notes);

  const cfg: NodeConfig = {
    node: nodeName,
    labels: me.labels,
    asNumber: me.asNumber,
    routerId,
    listenPort: me.listenPort,
    bindMode: global?.spec.bindMode ?? 'None',
    logSeverityScreen: perNode.get(nodeName)?.spec.logSeverityScreen ?? global?.spec.logSeverityScreen ?? 'Info',
    nodeToNodeMeshEnabled: global?.spec.nodeToNodeMeshEnabled ?? DEFAULTS.nodeToNodeMeshEnabled,
    peers,
    originate: originate(ctx),
    pools: pools(ctx),
    services: services(ctx, nodeName),
    prefixAdvertisements: prefixAdvertisements(perNode.get(nodeName), global),
    ignoredInterfaces: global?.spec.ignoredInterfaces ?? [],
    clusterRoutes: clusterRoutes(global?.spec.programClusterRoutes, notes),
    notes,
  };
  if (me.v4 !== undefined) cfg.ipv4Address = addressConfig(me.v4);
  if (me.v6 !== undefined) cfg.ipv6Address = addressConfig(me.v6);
  const mine = rs.nodes.find((n) => n.metadata.name === nodeName)?.spec;
  const tunnel = mine?.bgp?.ipv4IPIPTunnelAddr;
  if (tunnel !== undefined) cfg.ipv4IPIPTunnelAddr = tunnel;
  const lent = borrowed(ctx);
  if (lent.length > 0) cfg.borrowed = lent;
  for (const f of ['ipv4VXLANTunnelAddr', 'vxlanTunnelMACAddr', 'ipv6VXLANTunnelAddr', 'vxlanTunnelMACAddrV6'] as const) {
    const v = mine?.[f];
    if (v !== undefined) cfg[f] = v;
  }
  if (me.rrClusterID !== undefined) cfg.routeReflectorClusterID = me.rrClusterID;
  return cfg;
}

/**
 * Which pools' cluster routes Kite programs, as confd's clusterRoutePolicyFromBGPConfig decides
 * BIRD's kernel filter (bgp_processor.go processIPPool: a pool BIRD does not program gets
 * `reject; # Cluster routes are handled by Felix.`). Unset means Enabled, Calico's setting before
 * 3.33 and the one a node needs when Kite replaces Felix's route programming; Calico 3.33 changed
 * its own default to EnabledNoEncapOnly, to go with Felix's EnabledIPIPOnly.
 */
function clusterRoutes(v: ProgramClusterRoutes | undefined, notes: string[]): NodeConfig['clusterRoutes'] {
  const setting = v ?? ProgramClusterRoutes.Enabled;
  const ipip = setting === ProgramClusterRoutes.Enabled || setting === ProgramClusterRoutes.EnabledIPIPOnly;
  const noEncap = setting === ProgramClusterRoutes.Enabled || setting === ProgramClusterRoutes.EnabledNoEncapOnly;
  if (!ipip || !noEncap) {
    const left = [!ipip ? 'IPIP' : '', !noEncap ? 'unencapsulated' : ''].filter((x) => x !== '').join(' and ');
    notes.push(`BGPConfiguration programClusterRoutes ${setting}: routes to other nodes' blocks in ${left} pools are left to Felix (FelixConfiguration programClusterRoutes must cover them)`);
  }
  return { ipip, noEncap, setting };
}

function addressConfig(c: Prefix): AddressConfig {
  return { address: c.addr.toString(), prefixLength: c.len, subnet: c.network().toString() };
}

function services(ctx: Ctx, nodeName: string): NodeConfig['services'] {
  const g = ctx.global?.spec;
  const advertise = ctx.me.labels[EXCLUDE_LB_LABEL] !== 'true';
  const out = {
    advertise,
    clusterIPs: (g?.serviceClusterIPs ?? []).map((b) => b.cidr),
    externalIPs: (g?.serviceExternalIPs ?? []).map((b) => b.cidr),
    loadBalancerIPs: (g?.serviceLoadBalancerIPs ?? []).map((b) => b.cidr),
  };
  const routes = serviceRoutes(ctx.rs, nodeName, out);
  const anyService = out.clusterIPs.length + out.externalIPs.length + out.loadBalancerIPs.length > 0;
  if (!advertise && anyService) ctx.notes.push(`this node has the label ${EXCLUDE_LB_LABEL}=true, so it does not advertise service addresses`);
  return routes.length > 0 ? { ...out, routes } : out;
}

function prefixAdvertisements(node: BGPConfiguration | undefined, global: BGPConfiguration | undefined): ResolvedPrefixAdvertisement[] {
  // A per-node list replaces the global one; names resolve against the same resource's communities.
  const src = node?.spec.prefixAdvertisements !== undefined ? node : global;
  const defined = new Map((src?.spec.communities ?? []).map((c) => [c.name, c.value]));
  return (src?.spec.prefixAdvertisements ?? []).map((a) => ({
    cidr: a.cidr,
    communities: [...new Set(a.communities.map((c) => (COMMUNITY_VALUE.test(c) ? c : defined.get(c) ?? c)))],
  }));
}
