// Derives what one node must do from the cluster's Calico resources: its identity, its BGP
// sessions (mesh, BGPPeers, reverse peerings), the blocks it originates and the pools it knows.
// A pure function, so the daemon can recompute it on every datastore change and diff the result.
// Peering rules follow confd (confd/pkg/backends/calico client.go updatePeersV1 and
// bgp_processor.go); each skipped or replaced item leaves a human-readable note explaining why.
import { ConfigError } from '../datastore/errors.js';
import { cidrContains, parseCIDR, parseIP, type CIDR, type Family, type IP } from '../datastore/ip.js';
import {
  DEFAULTS, EncapMode, NextHopMode, ReversePeering, SourceAddress,
  type AllowedUse, type BGPConfiguration, type BGPPeer, type BGPPeerSpec, type BindMode, type LogSeverity,
  type Node, type Resources, type SecretKeyRef,
} from '../datastore/resources.js';
import { parseSelector, type Labels, type Selector } from '../datastore/selector.js';

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
  filters: string[];
  reachableBy?: string;
  /** This node is a route reflector and the peer is one of its clients (RFC 4456). */
  routeReflectorClient: boolean;
  /** The cluster ID to send when routeReflectorClient. */
  routeReflectorClusterID?: string;
  /** The raw BGPPeer spec, for later features (absent for mesh). */
  spec?: BGPPeerSpec;
}

export interface OriginatedBlock {
  prefix: string;
  /** Name of the IPPool the block belongs to. */
  pool: string;
}

export interface PoolConfig {
  name: string;
  cidr: string;
  family: Family;
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
  nodeSelector: string;
  /** nodeSelector selects this node (IPAM may allocate here). */
  selectsThisNode: boolean;
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
  listenPort: number;
  bindMode: BindMode;
  routeReflectorClusterID?: string;
  logSeverityScreen: LogSeverity;
  nodeToNodeMeshEnabled: boolean;
  peers: PeerConfig[];
  originate: OriginatedBlock[];
  pools: PoolConfig[];
  services: {
    /** False when the node carries node.kubernetes.io/exclude-from-external-load-balancers=true. */
    advertise: boolean;
    clusterIPs: string[];
    externalIPs: string[];
    loadBalancerIPs: string[];
  };
  prefixAdvertisements: ResolvedPrefixAdvertisement[];
  ignoredInterfaces: string[];
  /** Why things were skipped, replaced or defaulted, in words. */
  notes: string[];
}

export interface DeriveOptions {
  /** Router ID override (Calico's CALICO_ROUTER_ID), needed for IPv6-only nodes. */
  routerId?: string;
}

// Calico treats anything shaped like a community value as a value, and only then as a name.
const COMMUNITY_VALUE = /^\d+:\d+(:\d+)?$/;
const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** What is known about a Calico node, with cluster defaults applied. */
interface NodeInfo {
  name: string;
  labels: Labels;
  v4?: CIDR;
  v6?: CIDR;
  asNumber: number;
  listenPort: number;
  rrClusterID?: string;
}

const addrOf = (n: NodeInfo, f: Family): IP | undefined => (f === 4 ? n.v4?.ip : n.v6?.ip);
const describeNode = (n: NodeInfo): string => `node "${n.name}"`;

/** Peers are ranked for de-duplication: an explicit global BGPPeer beats a node-specific one,
 * which beats an automatic reverse peering, which beats the mesh (as in confd's emit order). */
const Rank = { Global: 0, NodeSpecific: 1, Reverse: 2, Mesh: 3 } as const;
type Rank = (typeof Rank)[keyof typeof Rank];
const RANK_TEXT: Record<Rank, string> = { 0: 'global BGPPeer', 1: 'node-specific BGPPeer', 2: 'reverse peering', 3: 'node-to-node mesh' };

interface Candidate { rank: Rank; peer: PeerConfig }

export function deriveNodeConfig(rs: Resources, nodeName: string, opts: DeriveOptions = {}): NodeConfig {
  const notes: string[] = [];
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
  if (routerId !== undefined && parseIP(routerId)?.family !== 4) {
    throw new ConfigError(`router ID "${routerId}" is not an IPv4 address (a BGP identifier is 4 octets, RFC 6286)`);
  }
  if (routerId === undefined) {
    if (me.v4 === undefined) {
      throw new ConfigError(`node "${nodeName}" has no spec.bgp.ipv4Address: the BGP router ID defaults to it (set one with --router-id for an IPv6-only node)`);
    }
    routerId = me.v4.ip.text;
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
    services: services(ctx),
    prefixAdvertisements: prefixAdvertisements(perNode.get(nodeName), global),
    ignoredInterfaces: global?.spec.ignoredInterfaces ?? [],
    notes,
  };
  if (me.v4 !== undefined) cfg.ipv4Address = addressConfig(me.v4);
  if (me.v6 !== undefined) cfg.ipv6Address = addressConfig(me.v6);
  const tunnel = rs.nodes.find((n) => n.metadata.name === nodeName)?.spec.bgp?.ipv4IPIPTunnelAddr;
  if (tunnel !== undefined) cfg.ipv4IPIPTunnelAddr = tunnel;
  if (me.rrClusterID !== undefined) cfg.routeReflectorClusterID = me.rrClusterID;
  return cfg;
}

interface Ctx {
  rs: Resources;
  me: NodeInfo;
  infos: Map<string, NodeInfo>;
  globalAS: number;
  notes: string[];
  global: BGPConfiguration | undefined;
  selectors: Map<string, Selector>;
}

function nodeInfo(n: Node, globalAS: number, listenPort: number): NodeInfo {
  const b = n.spec.bgp;
  const info: NodeInfo = { name: n.metadata.name, labels: n.metadata.labels, asNumber: b?.asNumber ?? globalAS, listenPort };
  const v4 = b?.ipv4Address === undefined ? null : parseCIDR(b.ipv4Address);
  const v6 = b?.ipv6Address === undefined ? null : parseCIDR(b.ipv6Address);
  if (v4 !== null) info.v4 = v4;
  if (v6 !== null) info.v6 = v6;
  if (b?.routeReflectorClusterID !== undefined) info.rrClusterID = b.routeReflectorClusterID;
  return info;
}

function addressConfig(c: CIDR): AddressConfig {
  return { address: c.ip.text, prefixLength: c.prefixLength, subnet: c.text };
}

function selector(ctx: Ctx, text: string): Selector {
  let s = ctx.selectors.get(text);
  if (s === undefined) {
    s = parseSelector(text); // validated when the file was loaded
    ctx.selectors.set(text, s);
  }
  return s;
}

/** Nodes selected by a selector, in file order. */
function nodesMatching(ctx: Ctx, text: string): NodeInfo[] {
  const s = selector(ctx, text);
  return [...ctx.infos.values()].filter((n) => s.matches(n.labels));
}

const protocolName = (prefix: string, ip: IP): string => `${prefix}_${ip.text.replace(/[.:]/g, '_')}`;

function basePeer(ctx: Ctx, f: Family, ip: IP, asNumber: number, localAsNumber: number, rrOfPeer: string | undefined): PeerConfig {
  const me = ctx.me;
  const p: PeerConfig = {
    name: '', kind: PeerKind.Mesh, reverse: false, address: ip.text, family: f, port: DEFAULTS.listenPort,
    asNumber, localAsNumber, passive: false, multihop: true, restartTime: DEFAULTS.restartTimeSeconds,
    nextHopMode: NextHopMode.Auto, keepOriginalNextHop: false, numAllowedLocalASNumbers: 0, filters: [],
    routeReflectorClient: false,
  };
  // RFC 4456: a route reflector's iBGP peers outside its own cluster are its clients.
  if (me.rrClusterID !== undefined && asNumber === localAsNumber && rrOfPeer !== me.rrClusterID) {
    p.routeReflectorClient = true;
    p.routeReflectorClusterID = me.rrClusterID;
  }
  return p;
}

function meshPeers(ctx: Ctx): Candidate[] {
  const { me, notes, global } = ctx;
  const enabled = global?.spec.nodeToNodeMeshEnabled ?? DEFAULTS.nodeToNodeMeshEnabled;
  if (!enabled) return [];
  if (me.rrClusterID !== undefined) {
    notes.push(`this node is a route reflector (cluster ID ${me.rrClusterID}), so it does not join the node-to-node mesh`);
    return [];
  }
  const out: Candidate[] = [];
  for (const other of ctx.infos.values()) {
    if (other.name === me.name) continue;
    if (other.rrClusterID !== undefined) {
      notes.push(`${describeNode(other)} is a route reflector, so it is not in the node-to-node mesh`);
      continue;
    }
    let any = false;
    for (const f of [4, 6] as const) {
      const mine = addrOf(me, f);
      const theirs = addrOf(other, f);
      if (mine === undefined || theirs === undefined) continue;
      any = true;
      if (theirs.text === mine.text) {
        notes.push(`${describeNode(other)} has this node's own address ${mine.text}; no mesh session to it`);
        continue;
      }
      const p = basePeer(ctx, f, theirs, other.asNumber, me.asNumber, other.rrClusterID);
      p.name = protocolName('Mesh', theirs);
      p.peerNode = other.name;
      p.port = other.listenPort;
      // confd: "Make mesh unidirectional": the node whose address sorts lower AS A STRING dials;
      // "198.18.0.10" < "198.18.0.9", so .10 dials .9. Both sides must use the same rule.
      p.passive = theirs.text > mine.text;
      p.sourceAddress = mine.text;
      const rt = global?.spec.nodeMeshMaxRestartTime;
      if (rt !== undefined) { p.maxRestartTime = rt; p.restartTime = rt; }
      if (global?.spec.nodeMeshPassword !== undefined) p.password = global.spec.nodeMeshPassword;
      out.push({ rank: Rank.Mesh, peer: p });
    }
    if (!any) notes.push(`${describeNode(other)} shares no address family with this node; no mesh session to it`);
  }
  return out;
}

/** Copies the session settings of a BGPPeer onto a peer. */
function applySpec(ctx: Ctx, p: PeerConfig, bp: BGPPeer): void {
  const s = bp.spec;
  p.kind = PeerKind.BGPPeer;
  p.resource = bp.metadata.name;
  p.spec = s;
  const mine = addrOf(ctx.me, p.family);
  if ((s.sourceAddress ?? SourceAddress.UseNodeIP) === SourceAddress.UseNodeIP && mine !== undefined) p.sourceAddress = mine.text;
  if (s.keepaliveTime !== undefined) p.keepaliveTime = s.keepaliveTime;
  if (s.maxRestartTime !== undefined) { p.maxRestartTime = s.maxRestartTime; p.restartTime = s.maxRestartTime; }
  if (s.password !== undefined) p.password = s.password;
  if (s.ttlSecurity !== undefined && s.ttlSecurity > 0) p.ttlSecurity = s.ttlSecurity;
  if (s.reachableBy !== undefined) p.reachableBy = s.reachableBy;
  p.keepOriginalNextHop = s.keepOriginalNextHop ?? false;
  p.numAllowedLocalASNumbers = s.numAllowedLocalASNumbers ?? 0;
  p.filters = s.filters ?? [];
  if (s.nextHopMode === NextHopMode.Self || s.nextHopMode === NextHopMode.Keep) p.nextHopMode = s.nextHopMode;
  // Legacy keepOriginalNextHop: only meaningful on eBGP, where BIRD would otherwise set itself.
  else if (p.keepOriginalNextHop && p.asNumber !== p.localAsNumber) p.nextHopMode = NextHopMode.Keep;
}

const isGlobal = (s: BGPPeerSpec): boolean => (s.node ?? '') === '' && (s.nodeSelector ?? '') === '';

function nodeAtAddress(ctx: Ctx, ip: IP): NodeInfo | undefined {
  return [...ctx.infos.values()].find((n) => addrOf(n, ip.family)?.text === ip.text);
}

function bgpPeerPeers(ctx: Ctx): Candidate[] {
  const { me, notes } = ctx;
  const out: Candidate[] = [];
  for (const bp of ctx.rs.bgpPeers) {
    const s = bp.spec;
    const global = isGlobal(s);
    const applies = global
      || (s.node !== undefined && s.node === me.name)
      || ((s.nodeSelector ?? '') !== '' && selector(ctx, s.nodeSelector ?? '').matches(me.labels));
    if (!applies) continue;
    const rank = global ? Rank.Global : Rank.NodeSpecific;
    const localAs = s.localASNumber ?? me.asNumber;

    if ((s.peerSelector ?? '') !== '') {
      const selected = nodesMatching(ctx, s.peerSelector ?? '').filter((n) => n.name !== me.name);
      if (selected.length === 0) notes.push(`BGPPeer "${bp.metadata.name}": peerSelector "${s.peerSelector ?? ''}" selects no other node`);
      for (const other of selected) {
        for (const f of [4, 6] as const) {
          const theirs = addrOf(other, f);
          if (theirs === undefined || addrOf(me, f) === undefined) continue;
          const p = basePeer(ctx, f, theirs, other.asNumber, localAs, other.rrClusterID);
          p.name = `${bp.metadata.name}-${other.name}${f === 6 ? '-v6' : ''}`;
          p.peerNode = other.name;
          p.port = other.listenPort;
          applySpec(ctx, p, bp);
          // confd makes global peerings between Calico nodes one-directional like the mesh.
          if (global) p.passive = theirs.text > (addrOf(me, f)?.text ?? '');
          out.push({ rank, peer: p });
        }
      }
      continue;
    }
    if (s.peerAddress === undefined) continue; // a localWorkloadSelector peer: not supported yet
    const ip = parseIP(s.peerAddress);
    if (ip === null) continue;
    if (addrOf(me, ip.family)?.text === ip.text) {
      notes.push(`BGPPeer "${bp.metadata.name}": peerIP ${ip.text} is this node's own address; skipped`);
      continue;
    }
    const calicoNode = nodeAtAddress(ctx, ip);
    const asNumber = s.asNumber ?? ctx.globalAS;
    const p = basePeer(ctx, ip.family, ip, asNumber, localAs, calicoNode?.rrClusterID);
    p.name = bp.metadata.name;
    // confd: without an explicit port, a peer that is a Calico node with the same AS listens on
    // that node's listenPort; anyone else on 179.
    p.port = s.peerPort ?? (calicoNode !== undefined && calicoNode.asNumber === asNumber ? calicoNode.listenPort : DEFAULTS.listenPort);
    if (calicoNode !== undefined) p.peerNode = calicoNode.name;
    applySpec(ctx, p, bp);
    if (global && calicoNode !== undefined) p.passive = ip.text > (addrOf(me, ip.family)?.text ?? '');
    if (addrOf(me, ip.family) === undefined) {
      notes.push(`BGPPeer "${bp.metadata.name}": this node has no IPv${ip.family} address, so the session to ${ip.text} has no source address`);
    }
    out.push({ rank, peer: p });
  }
  return out;
}

/**
 * Calico's automatic reverse peering: when a BGPPeer's remote side (peerSelector, or a peerIP
 * that is a Calico node with the right AS and port) is this node, this node peers back with the
 * nodes on its local side (node / nodeSelector / every node), unless reversePeering is Manual.
 */
function reversePeers(ctx: Ctx): Candidate[] {
  const { me } = ctx;
  const out: Candidate[] = [];
  for (const bp of ctx.rs.bgpPeers) {
    const s = bp.spec;
    if (s.reversePeering === ReversePeering.Manual) continue;
    let families: readonly Family[];
    if ((s.peerSelector ?? '') !== '') {
      if (!selector(ctx, s.peerSelector ?? '').matches(me.labels)) continue;
      families = [4, 6];
    } else if (s.peerAddress !== undefined) {
      const ip = parseIP(s.peerAddress);
      if (ip === null || addrOf(me, ip.family)?.text !== ip.text) continue;
      if ((s.asNumber ?? ctx.globalAS) !== me.asNumber) continue;
      if (s.peerPort !== undefined && s.peerPort !== me.listenPort) continue;
      families = [ip.family];
    } else continue;

    let locals: NodeInfo[];
    if ((s.nodeSelector ?? '') !== '') locals = nodesMatching(ctx, s.nodeSelector ?? '');
    else if ((s.node ?? '') !== '') locals = [...ctx.infos.values()].filter((n) => n.name === s.node);
    else locals = [...ctx.infos.values()];
    for (const other of locals) {
      if (other.name === me.name) continue;
      for (const f of families) {
        const theirs = addrOf(other, f);
        if (theirs === undefined || addrOf(me, f) === undefined) continue;
        // The forward side presents localASNumber when it sets one.
        const p = basePeer(ctx, f, theirs, s.localASNumber ?? other.asNumber, me.asNumber, other.rrClusterID);
        p.name = `${bp.metadata.name}-${other.name}${f === 6 ? '-v6' : ''}-reverse`;
        p.peerNode = other.name;
        p.port = other.listenPort;
        p.reverse = true;
        applySpec(ctx, p, bp);
        out.push({ rank: Rank.Reverse, peer: p });
      }
    }
  }
  return out;
}

function dedupe(candidates: Candidate[], notes: string[]): PeerConfig[] {
  const sorted = [...candidates].sort((a, b) => a.rank - b.rank
    || (a.peer.resource ?? '').localeCompare(b.peer.resource ?? '')
    || a.peer.name.localeCompare(b.peer.name));
  const byAddress = new Map<string, Candidate>();
  for (const c of sorted) {
    const kept = byAddress.get(c.peer.address);
    if (kept === undefined) {
      byAddress.set(c.peer.address, c);
      continue;
    }
    const what = (x: Candidate): string => (x.peer.resource === undefined ? RANK_TEXT[x.rank] : `${RANK_TEXT[x.rank]} "${x.peer.resource}"`);
    notes.push(`${c.peer.address}: ${what(kept)} is used; the ${what(c)} session to the same address is dropped`);
  }
  // confd sorts peers by name for stable output.
  return [...byAddress.values()].map((c) => c.peer).sort((a, b) => a.name.localeCompare(b.name));
}

function originate(ctx: Ctx): OriginatedBlock[] {
  const { me, notes, rs } = ctx;
  const poolCidrs = rs.ipPools.map((p) => ({ pool: p, cidr: parseCIDR(p.spec.cidr) }));
  const out: OriginatedBlock[] = [];
  const seen = new Set<string>();
  const consider = (prefix: string, from: string): void => {
    if (seen.has(prefix)) return;
    seen.add(prefix);
    const c = parseCIDR(prefix);
    if (c === null) return;
    // The most specific pool wins when pools nest.
    const pool = poolCidrs
      .filter((p) => p.cidr !== null && cidrContains(p.cidr, c))
      .sort((a, b) => (b.cidr?.prefixLength ?? 0) - (a.cidr?.prefixLength ?? 0))[0]?.pool;
    if (pool === undefined) {
      notes.push(`block ${prefix} (${from}) is outside every IPPool; not advertised`);
      return;
    }
    if (pool.spec.disableBGPExport) {
      notes.push(`block ${prefix} is in IPPool "${pool.metadata.name}", which has disableBGPExport; not advertised`);
      return;
    }
    // A disabled pool only stops new allocations: its existing blocks are still advertised.
    out.push({ prefix: c.text, pool: pool.metadata.name });
  };
  for (const ba of rs.blockAffinities) {
    if (ba.spec.node !== me.name) continue;
    const name = `BlockAffinity "${ba.metadata.name}"`;
    if (ba.spec.deleted) { notes.push(`block ${ba.spec.cidr} (${name}) is marked deleted; not advertised`); continue; }
    if (ba.spec.state !== undefined && ba.spec.state !== 'confirmed') {
      notes.push(`block ${ba.spec.cidr} (${name}) is ${ba.spec.state}, not confirmed; not advertised`);
      continue;
    }
    consider(ba.spec.cidr, name);
  }
  // IPAM blocks carry the same affinity ("host:<node>"); include any without a BlockAffinity.
  for (const b of rs.ipamBlocks) {
    if (b.spec.affinity !== `host:${me.name}` || b.spec.deleted) continue;
    consider(b.spec.cidr, `IPAMBlock "${b.metadata.name}"`);
  }
  return out;
}

function pools(ctx: Ctx): PoolConfig[] {
  return ctx.rs.ipPools.map((p) => {
    const s = p.spec;
    const sel = s.nodeSelector ?? 'all()';
    return {
      name: p.metadata.name,
      cidr: s.cidr,
      family: s.cidr.includes(':') ? 6 : 4,
      blockSize: s.blockSize,
      ipipMode: s.ipipMode,
      vxlanMode: s.vxlanMode,
      natOutgoing: s.natOutgoing,
      disabled: s.disabled,
      disableBGPExport: s.disableBGPExport,
      nodeSelector: sel,
      selectsThisNode: selector(ctx, sel).matches(ctx.me.labels),
      allowedUses: s.allowedUses ?? ['Workload', 'Tunnel'],
    };
  });
}

function services(ctx: Ctx): NodeConfig['services'] {
  const g = ctx.global?.spec;
  const advertise = ctx.me.labels[EXCLUDE_LB_LABEL] !== 'true';
  const out = {
    advertise,
    clusterIPs: (g?.serviceClusterIPs ?? []).map((b) => b.cidr),
    externalIPs: (g?.serviceExternalIPs ?? []).map((b) => b.cidr),
    loadBalancerIPs: (g?.serviceLoadBalancerIPs ?? []).map((b) => b.cidr),
  };
  const any = out.clusterIPs.length + out.externalIPs.length + out.loadBalancerIPs.length > 0;
  if (!advertise && any) ctx.notes.push(`this node has the label ${EXCLUDE_LB_LABEL}=true, so it does not advertise service addresses`);
  return out;
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
