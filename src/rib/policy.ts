// Calico's route policy (src/policy) adapted to the table: the export check the update groups
// ask per best path and peer (reading the RIB's slots), and each channel's import filter with
// the memo of what BGPFilter import operations made of a received attribute set.
import type { Interner } from './intern.js';
import { familyOfKey, type PathAttrs } from '../bgp/wire/types.js';
import type { NodeConfig, PeerConfig } from '../config/types.js';
import type { BGPFilter } from '../datastore/resources.js';
import {
  compileExportPolicy, compileImportPolicy, peerInfo, PeerType, RouteSource,
  type Decision, type ExportPolicy, type ImportPolicy, type RouteInfo,
} from '../policy/index.js';
import type { ImportFilter } from './adj-rib-in.js';
import { withMods, type ExportCheck } from './export.js';
import { LOCAL_PEER, type Rib } from './rib.js';
import { priorityFromLocalPref } from './priority.js';

/** Which originated prefixes are affine blocks (the rest are service CIDRs): local.ts. */
export interface BlockSet { isBlock(prefix: string): boolean }

export interface RoutePolicyOptions {
  rib: Rib;
  interner: Interner;
  local: BlockSet;
  /**
   * The host interface a next hop is reached on (net/connected.ts), for BGPFilter `interface`
   * rules on routes learned from peers: BIRD gives such a route its resolved next hop's
   * interface as `ifname`. Absent: those routes have no interface and such rules never match.
   */
  nextHopInterface?: (nextHop: string) => string | undefined;
}

export class RoutePolicy {
  private exportPolicy: ExportPolicy;
  private importPolicy: ImportPolicy;
  /** Reused prefix bytes for policy evaluation (no allocation per route on export). */
  private readonly scratch = new Uint8Array(16);
  /** Import operations' results, per decision (rules' decisions are shared objects) and received set. */
  private importMods = new WeakMap<object, Map<number, PathAttrs>>();
  /** Received set id → the same set with the kernel priority its LOCAL_PREF stands for. */
  private readonly priorityMemo = new Map<number, PathAttrs>();

  /** Throws ConfigError when a BGPFilter cannot be compiled. */
  /** Some BGPFilter rule matches on `interface`: only then is a learned route's next-hop interface looked up. */
  private usesInterface: boolean;

  constructor(private readonly o: RoutePolicyOptions, cfg: NodeConfig, filters: readonly BGPFilter[]) {
    this.exportPolicy = compileExportPolicy(cfg, filters);
    this.importPolicy = compileImportPolicy(cfg, filters);
    this.usesInterface = matchesInterface(filters);
  }

  /**
   * Calico's import filter turns a received LOCAL_PREF into the route's kernel priority
   * (krt_metric = 2147483647 − bgp_local_pref, priority.ts) before any BGPFilter rule; the set
   * with the priority is interned once per received set. Sets without LOCAL_PREF (eBGP) or with
   * the normal 2147482623 stay as they are.
   */
  readonly importAttrs = (attrs: PathAttrs): PathAttrs => {
    if (attrs.localPref === undefined || attrs.kernelPriority !== undefined) return attrs;
    const priority = priorityFromLocalPref(attrs.localPref);
    if (priority === undefined) return attrs;
    const hit = this.priorityMemo.get(attrs.id);
    if (hit !== undefined && this.o.interner.has(hit.id)) return hit;
    if (this.priorityMemo.size > 50_000) this.priorityMemo.clear();
    const built = this.o.interner.internAttrs({ ...attrs, kernelPriority: priority });
    this.priorityMemo.set(attrs.id, built);
    return built;
  };

  /**
   * A learned route's interface, as BIRD's `ifname`: the one its next hop is reached on
   * (connected subnet), looked up only when a rule matches on interfaces.
   */
  private learnedInterface(route: RouteInfo, nextHop: string): void {
    if (!this.usesInterface || this.o.nextHopInterface === undefined) return;
    const name = this.o.nextHopInterface(nextHop);
    if (name !== undefined) route.interface = name;
  }

  /** Compile remarks (a BGPFilter a peer names that does not exist, an unresolved community name). */
  get notes(): readonly string[] { return this.exportPolicy.notes; }

  /** A new configuration's policies; throws (and the previous ones stay in force) when one does not compile. */
  update(cfg: NodeConfig, filters: readonly BGPFilter[]): void {
    const exp = compileExportPolicy(cfg, filters);
    this.importPolicy = compileImportPolicy(cfg, filters);
    this.exportPolicy = exp;
    this.usesInterface = matchesInterface(filters);
  }

  /** Calico's export rules for one best path toward one peer (the update groups' hook). */
  readonly exportCheck: ExportCheck = (slot, best, peer) => {
    const rib = this.o.rib;
    const t = rib.prefixes;
    const src = rib.pathPeer(best);
    const route: RouteInfo = {
      family: t.familyOf(slot), bytes: t.bytesInto(slot, this.scratch), len: t.plen[slot]!, attrs: rib.pathAttrs(best),
      source: src !== LOCAL_PEER ? RouteSource.Peer
        : this.o.local.isBlock(t.text(slot)) ? RouteSource.LocalBlock : RouteSource.LocalStatic,
    };
    if (src !== LOCAL_PEER) {
      route.fromPeerType = rib.peer(src)?.ibgp ? PeerType.IBGP : PeerType.EBGP;
      this.learnedInterface(route, rib.pathAttrs(best).nextHop);
    }
    // Calico's export filter sees the route's krt_metric (from LOCAL_PREF or a setPriority).
    const priority = rib.pathAttrs(best).kernelPriority;
    if (priority !== undefined) route.priority = priority;
    const d = this.exportPolicy.evaluate(route, { ibgp: peer.ibgp, address: peer.id, filters: peer.filters ?? [] });
    return d.accept ? { accept: true, communities: d.communities, largeCommunities: d.largeCommunities, prependAs: d.prependAs }
      : { accept: false, reason: d.reason };
  };

  /**
   * The peer's BGPFilter import rules as its channel's filter, when it lists any (the policy in
   * force when a route arrives decides). Without rules every loop-free route is accepted, as Calico does.
   */
  importFilter(p: PeerConfig): ImportFilter | undefined {
    if (p.filters.length === 0) return undefined;
    const info = peerInfo(p);
    const fromPeerType = p.asNumber === p.localAsNumber ? PeerType.IBGP : PeerType.EBGP;
    return (family, bytes, len, attrs) => {
      const route: RouteInfo = { family: familyOfKey(family) ?? 4, bytes, len, attrs, source: RouteSource.Peer, fromPeerType };
      // Calico computes krt_metric from LOCAL_PREF before the BGPFilter function runs, so a
      // `priority` match sees it (importAttrs below has put it on the set).
      if (attrs.kernelPriority !== undefined) route.priority = attrs.kernelPriority;
      this.learnedInterface(route, attrs.nextHop);
      const d = this.importPolicy.evaluate(route, info);
      return d.accept ? this.importedAttrs(attrs, d) : d.reason;
    };
  }

  /**
   * A BGPFilter import rule's operations applied to a received set: communities and large
   * communities added, ASNs prepended (they then count in the decision process), and setPriority
   * as the kernel route's metric (kept with the set, never sent). null: stored as received.
   */
  private importedAttrs(attrs: PathAttrs, d: Extract<Decision, { accept: true }>): PathAttrs | null {
    if (!d.communities?.length && !d.largeCommunities?.length && !d.prependAs?.length && d.priority === undefined) return null;
    let byId = this.importMods.get(d);
    if (byId === undefined) this.importMods.set(d, (byId = new Map()));
    const hit = byId.get(attrs.id);
    if (hit !== undefined && this.o.interner.has(hit.id)) return hit;
    if (byId.size > 50_000) byId.clear();
    const input = withMods(attrs, d);
    const built = this.o.interner.internAttrs(d.priority !== undefined ? { ...input, kernelPriority: d.priority } : input);
    byId.set(attrs.id, built);
    return built;
  }
}

/** The BGPFilters have a rule with `interface` (either direction, either family). */
function matchesInterface(filters: readonly BGPFilter[]): boolean {
  return filters.some((f) => [f.spec.exportV4, f.spec.importV4, f.spec.exportV6, f.spec.importV6]
    .some((rules) => (rules ?? []).some((r) => r.interface !== undefined)));
}
