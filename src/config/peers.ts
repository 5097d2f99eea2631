// BGP sessions for one node, following confd (client.go updatePeersV1, bgp_processor.go): the
// node-to-node mesh, the BGPPeers that apply to the node, Calico's automatic reverse peerings,
// and de-duplication by neighbour address and port with a note for every session dropped.
import { DEFAULTS, NextHopMode, ReversePeering, SourceAddress, type BGPPeer, type BGPPeerSpec } from '../datastore/resources.js';
import { parseAddr, type Family, type IpAddr } from '../net/index.js';
import { addrOf, describeNode, nodesMatching, selector, type Ctx, type NodeInfo } from './context.js';
import { PeerKind, type PeerConfig } from './types.js';

/** Peers are ranked for de-duplication: an explicit global BGPPeer beats a node-specific one,
 * which beats an automatic reverse peering, which beats the mesh (as in confd's emit order). */
const Rank = { Global: 0, NodeSpecific: 1, Reverse: 2, Mesh: 3 } as const;
type Rank = (typeof Rank)[keyof typeof Rank];
const RANK_TEXT: Record<Rank, string> = { 0: 'global BGPPeer', 1: 'node-specific BGPPeer', 2: 'reverse peering', 3: 'node-to-node mesh' };

export interface Candidate { rank: Rank; peer: PeerConfig }

const protocolName = (prefix: string, ip: IpAddr): string => `${prefix}_${ip.toString().replace(/[.:]/g, '_')}`;

function basePeer(ctx: Ctx, f: Family, ip: IpAddr, asNumber: number, localAsNumber: number, rrOfPeer: string | undefined): PeerConfig {
  const me = ctx.me;
  const p: PeerConfig = {
    name: '', kind: PeerKind.Mesh, reverse: false, address: ip.toString(), family: f, port: DEFAULTS.listenPort,
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

export function meshPeers(ctx: Ctx): Candidate[] {
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
    let shared = false;
    for (const f of [4, 6] as const) {
      const mine = addrOf(me, f);
      const theirs = addrOf(other, f);
      if (mine === undefined || theirs === undefined) continue;
      shared = true;
      if (theirs.toString() === mine.toString()) {
        notes.push(`${describeNode(other)} has this node's own address ${mine.toString()}; no mesh session to it`);
        continue;
      }
      const p = basePeer(ctx, f, theirs, other.asNumber, me.asNumber, other.rrClusterID);
      p.name = protocolName('Mesh', theirs);
      p.peerNode = other.name;
      p.port = other.listenPort;
      // confd: "Make mesh unidirectional": the node whose address sorts lower AS A STRING dials;
      // "198.18.0.10" < "198.18.0.9", so .10 dials .9. Both sides must use the same rule.
      p.passive = theirs.toString() > mine.toString();
      p.sourceAddress = mine.toString();
      const rt = global?.spec.nodeMeshMaxRestartTime;
      if (rt !== undefined) { p.maxRestartTime = rt; p.restartTime = rt; }
      if (global?.spec.nodeMeshPassword !== undefined) p.password = global.spec.nodeMeshPassword;
      out.push({ rank: Rank.Mesh, peer: p });
    }
    if (!shared) notes.push(`${describeNode(other)} shares no address family with this node; no mesh session to it`);
  }
  return out;
}

/** Copies the session settings of a BGPPeer onto a peer. */
function applySpec(ctx: Ctx, p: PeerConfig, bp: BGPPeer): void {
  const s = bp.spec;
  p.kind = PeerKind.BGPPeer;
  p.resource = bp.metadata.name;
  p.spec = s;
  applyKiteAnnotations(ctx, p, bp);
  const mine = addrOf(ctx.me, p.family);
  if ((s.sourceAddress ?? SourceAddress.UseNodeIP) === SourceAddress.UseNodeIP && mine !== undefined) p.sourceAddress = mine.toString();
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

function nodeAtAddress(ctx: Ctx, ip: IpAddr): NodeInfo | undefined {
  return [...ctx.infos.values()].find((n) => addrOf(n, ip.family)?.toString() === ip.toString());
}

export function bgpPeerPeers(ctx: Ctx): Candidate[] {
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
          // Active on both sides: confd's nodeAsBGPPeers leaves calico_node unset for peers a
          // peerSelector picks, and bgp_processor.go buildPeerFromData makes a peer passive only
          // with calico_node (a peerIP that is a Calico node) and the higher address.
          out.push({ rank, peer: p });
        }
      }
      continue;
    }
    if ((s.localWorkloadSelector ?? '') !== '') {
      out.push(...localWorkloadPeers(ctx, bp, rank, localAs));
      continue;
    }
    if (s.peerAddress === undefined) continue;
    const ip = parseAddr(s.peerAddress);
    if (ip === null) continue;
    if (addrOf(me, ip.family)?.toString() === ip.toString()) {
      notes.push(`BGPPeer "${bp.metadata.name}": peerIP ${ip.toString()} is this node's own address; skipped`);
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
    if (global && calicoNode !== undefined) p.passive = ip.toString() > (addrOf(me, ip.family)?.toString() ?? '');
    if (addrOf(me, ip.family) === undefined) {
      notes.push(`BGPPeer "${bp.metadata.name}": this node has no IPv${ip.family} address, so the session to ${ip.toString()} has no source address`);
    }
    out.push({ rank, peer: p });
  }
  return out;
}

/**
 * BGP peering with workloads on this node (BGPPeer localWorkloadSelector, e.g. a virtual router
 * pod), as calico-node does it: Felix matches the selector against this node's workload
 * endpoints' labels and confd makes one `Local_Workload_<ip>` session per endpoint, to its first
 * IPv4 and first IPv6 address, in the BGPPeer's asNumber with localASNumber as our side, passive
 * (the workload dials its node), multihop (confd bgp_processor.go processPeersFromPath; golden
 * config confd/tests compiled_templates explicit_peering/local_bgp_peer/bird.cfg).
 */
function localWorkloadPeers(ctx: Ctx, bp: BGPPeer, rank: Rank, localAs: number): Candidate[] {
  const { me, notes } = ctx;
  const s = bp.spec;
  const sel = selector(ctx, s.localWorkloadSelector ?? '');
  const weps = ctx.rs.workloadEndpoints.filter((w) => w.spec.node === me.name && sel.matches(w.metadata.labels));
  if (weps.length === 0) notes.push(`BGPPeer "${bp.metadata.name}": localWorkloadSelector "${s.localWorkloadSelector ?? ''}" selects no workload on this node`);
  const out: Candidate[] = [];
  for (const w of weps) {
    for (const f of [4, 6] as const) {
      const first = w.spec.ipNetworks.map((n) => parseAddr(n.replace(/\/\d+$/, ''))).find((a) => a !== null && a.family === f);
      if (first === undefined || first === null) continue;
      if (addrOf(me, f) === undefined) {
        notes.push(`BGPPeer "${bp.metadata.name}": workload ${w.metadata.name} has an IPv${f} address but this node has none; no session to it`);
        continue;
      }
      const p = basePeer(ctx, f, first, s.asNumber ?? ctx.globalAS, localAs, undefined);
      p.name = `${bp.metadata.name}-${w.metadata.name}${f === 6 ? '-v6' : ''}`;
      p.port = s.peerPort ?? DEFAULTS.listenPort;
      applySpec(ctx, p, bp);
      p.passive = true; // confd: `passive on` for every Local_Workload peer
      p.localWorkload = w.metadata.name;
      out.push({ rank, peer: p });
    }
  }
  return out;
}

/**
 * Calico's automatic reverse peering: when a BGPPeer's remote side (peerSelector, or a peerIP
 * that is a Calico node with the right AS and port) is this node, this node peers back with the
 * nodes on its local side (node / nodeSelector / every node), unless reversePeering is Manual.
 */
export function reversePeers(ctx: Ctx): Candidate[] {
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
      const ip = parseAddr(s.peerAddress);
      if (ip === null || addrOf(me, ip.family)?.toString() !== ip.toString()) continue;
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

export function dedupe(candidates: Candidate[], notes: string[]): PeerConfig[] {
  const sorted = [...candidates].sort((a, b) => a.rank - b.rank
    || (a.peer.resource ?? '').localeCompare(b.peer.resource ?? '')
    || a.peer.name.localeCompare(b.peer.name));
  // confd keys peerings by (peer IP, port) (client.go updatePeersV1: GlobalBGPPeerKey{PeerIP, Port}),
  // so two BGPPeers to one address on different ports are two sessions; the same address and
  // port twice is one, the first by rank.
  const byEndpoint = new Map<string, Candidate>();
  for (const c of sorted) {
    const key = `${c.peer.address} port ${c.peer.port}`;
    const kept = byEndpoint.get(key);
    if (kept === undefined) {
      byEndpoint.set(key, c);
      continue;
    }
    const what = (x: Candidate): string => (x.peer.resource === undefined ? RANK_TEXT[x.rank] : `${RANK_TEXT[x.rank]} "${x.peer.resource}"`);
    notes.push(`${c.peer.address}: ${what(kept)} is used; the ${what(c)} session to the same address${c.peer.port === 179 ? '' : ` and port ${c.peer.port}`} is dropped`);
  }
  // confd sorts peers by name for stable output.
  return [...byEndpoint.values()].map((c) => c.peer).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Kite extensions ride on annotations, so the BGPPeer stays a valid Calico object (a CRD's
 * structural schema would silently prune an unknown spec field):
 *   kite.dev/max-prefixes: "N"            Cease/Maximum Number of Prefixes (RFC 4486 subcode 1)
 *                                         when the peer sends more than N prefixes
 *   kite.dev/max-prefixes-restart: "S"    seconds before the session is started again (default 60)
 */
export const ANNOTATION_MAX_PREFIXES = 'kite.dev/max-prefixes';
export const ANNOTATION_MAX_PREFIXES_RESTART = 'kite.dev/max-prefixes-restart';

function applyKiteAnnotations(ctx: Ctx, p: PeerConfig, bp: BGPPeer): void {
  const a = bp.metadata.annotations ?? {};
  const num = (key: string): number | undefined => {
    const v = a[key];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1) {
      ctx.notes.push(`BGPPeer "${bp.metadata.name}": annotation ${key}: "${v}" is not a positive integer; ignored`);
      return undefined;
    }
    return Number(v);
  };
  const max = num(ANNOTATION_MAX_PREFIXES);
  if (max !== undefined) p.maxPrefixes = max;
  p.maxPrefixesRestart = num(ANNOTATION_MAX_PREFIXES_RESTART) ?? 60;
}
