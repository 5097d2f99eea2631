// One peer's Adj-RIB-In, the import half of its channel (channel.ts): imports the peer's
// UPDATEs into the RIB after the loop checks every BGP speaker must make and the peer's import
// filter, keeps stale paths across a graceful restart, and counts what it received and accepted.
import type { Logger } from 'pino';
import { forEachIPv4, forEachPrefix } from '../bgp/wire/nlri.js';
import { formatPrefix } from '../bgp/wire/prefix.js';
import { ErrorAction, IPV4_UNICAST, SegType, type FamilyKey, type NlriView, type PathAttrs, type UpdateMessage } from '../bgp/wire/types.js';
import type { Rib } from './rib.js';

export interface AdjRibInOptions {
  /** Our AS numbers that mark a loop when found in a received AS_PATH (RFC 4271 §9.1.2). */
  localAs: readonly number[];
  /** How many times our AS may appear before the route is a loop (Calico numAllowedLocalASNumbers). */
  allowLocalAs: number;
  /** Our BGP identifier (uint32): a route carrying it as ORIGINATOR_ID came back (RFC 4456 §8). */
  routerId: number;
  /** Our cluster ID (uint32) when we reflect: found in CLUSTER_LIST means a reflection loop. */
  clusterId?: number;
  ibgp: boolean;
  rrClient: boolean;
  /** Most prefixes accepted from the peer (Kite extension); onLimit runs once when exceeded. */
  maxPrefixes?: number;
  onLimit?: (count: number, max: number) => void;
  /**
   * BGPFilter import rules for this peer (src/policy), when it lists any: a reason when the
   * route is rejected, null when accepted as received, or the interned attribute set to store
   * instead (a BGPFilter rule's operations). Without it every loop-free route is accepted, as Calico does.
   */
  importFilter?: ImportFilter;
  /**
   * Maps a received attribute set before the import filter, once per UPDATE (Calico's import
   * filter turning LOCAL_PREF into the route's kernel priority, priority.ts); same set: unchanged.
   */
  importAttrs?: (attrs: PathAttrs) => PathAttrs;
  log: Logger;
}

export type ImportFilter = (family: FamilyKey, bytes: Uint8Array, len: number, attrs: PathAttrs) => string | null | PathAttrs;

/** One address family's counts; received = accepted + rejected (by the loop checks or the import policy). */
export interface FamilyCounts {
  received: number;
  accepted: number;
  rejectedLoop: number;
  rejectedPolicy: number;
}

export interface ChannelStatus {
  prefixesReceived: number;
  prefixesAccepted: number;
  ipv4: FamilyCounts;
  ipv6: FamilyCounts;
  /** The peer's prefix limit (kite.dev/max-prefixes), null when it has none. */
  maxPrefixes: number | null;
}

/** Why a received prefix is not in the table. */
const Rejected = { Loop: 'loop', Policy: 'policy' } as const;
type Rejected = (typeof Rejected)[keyof typeof Rejected];

export class AdjRibIn {
  private peerIndex = -1;
  /** Prefixes received but rejected by the loop checks, keyed by text, so withdrawals keep counts right. */
  private readonly rejected = new Map<string, Rejected>();
  private readonly loopCache = new Map<number, string | null>();
  private address = '';
  private limitHit = false;

  constructor(private readonly rib: Rib, private readonly opts: AdjRibInOptions) {}

  get isUp(): boolean { return this.peerIndex >= 0; }
  /** The peer's index in the Loc-RIB (its paths' source), -1 while down. */
  get ribIndex(): number { return this.peerIndex; }

  /** The accepted paths (RIB path indexes) of this peer, for `kite show routes received`. */
  paths(): number[] { return this.peerIndex >= 0 ? this.rib.peerPaths(this.peerIndex) : []; }

  /** Paths kept stale for a restarting peer (RFC 4724). */
  staleCount(): number { return this.peerIndex >= 0 && this.isRetained ? this.rib.staleCount(this.peerIndex) : 0; }

  status(): ChannelStatus {
    const up = this.peerIndex >= 0;
    const accepted = up ? this.rib.peerPrefixCount(this.peerIndex) : 0;
    const accepted6 = up ? this.rib.peerPrefixCount6(this.peerIndex) : 0;
    const v4: FamilyCounts = { received: 0, accepted: accepted - accepted6, rejectedLoop: 0, rejectedPolicy: 0 };
    const v6: FamilyCounts = { received: 0, accepted: accepted6, rejectedLoop: 0, rejectedPolicy: 0 };
    for (const [text, why] of this.rejected) {
      const f = text.includes(':') ? v6 : v4;
      if (why === Rejected.Loop) f.rejectedLoop++;
      else f.rejectedPolicy++;
    }
    for (const f of [v4, v6]) f.received = f.accepted + f.rejectedLoop + f.rejectedPolicy;
    return { prefixesReceived: accepted + this.rejected.size, prefixesAccepted: accepted, ipv4: v4, ipv6: v6,
      maxPrefixes: this.opts.maxPrefixes ?? null };
  }

  /**
   * The session reached Established: register the peer with the RIB. After a graceful restart
   * the peer keeps its index, and its stale paths stay until End-of-RIB or the restart timer.
   */
  up(remoteAddress: string, remoteBgpId: number, peerRestarts: boolean): void {
    this.address = remoteAddress;
    const info = { address: remoteAddress, bgpId: remoteBgpId, ibgp: this.opts.ibgp, rrClient: this.opts.rrClient };
    if (this.peerIndex >= 0 && this.retained && peerRestarts) {
      this.rib.setPeer(this.peerIndex, info);
      this.limitHit = false;
      return;
    }
    if (this.peerIndex >= 0) this.down();
    this.peerIndex = this.rib.addPeer(info);
  }

  /** True while a restarting peer's paths are kept (RFC 4724 helper mode). */
  get retained(): boolean { return this.isRetained; }
  private isRetained = false;

  /**
   * The session went down without a NOTIFICATION and the peer can restart gracefully (RFC 4724
   * §4.2): keep its routes, marked stale, instead of withdrawing them.
   */
  retain(): number {
    if (this.peerIndex < 0) return 0;
    this.isRetained = true;
    this.rejected.clear();
    return this.rib.markStale(this.peerIndex);
  }

  /** Drops what is still stale: at End-of-RIB for a family, or for all when the restart timer fires. */
  sweepStale(family?: FamilyKey): number {
    if (this.peerIndex < 0) return 0;
    const n = this.rib.sweepStale(this.peerIndex, family);
    if (family === undefined || this.rib.staleCount(this.peerIndex) === 0) this.isRetained = false;
    return n;
  }

  /** The session left Established: forget what the peer sent (RFC 4271 §8, §9). */
  down(): void {
    if (this.peerIndex < 0) return;
    this.rib.removePeer(this.peerIndex);
    this.peerIndex = -1;
    this.isRetained = false;
    this.rejected.clear();
    this.loopCache.clear();
    this.limitHit = false;
  }

  /** Imports one UPDATE (not an End-of-RIB: the channel handles those) into the peer's Adj-RIB-In, honouring the RFC 7606 action. */
  update(msg: UpdateMessage): void {
    const peer = this.peerIndex;
    if (peer < 0) return;
    const rib = this.rib;
    if (msg.withdrawn) this.withdrawView(msg.withdrawn);
    if (msg.mpUnreach) this.withdrawView(msg.mpUnreach);
    if (msg.action >= ErrorAction.TreatAsWithdraw) {
      // RFC 7606 §2: the NLRI of a malformed UPDATE are handled as withdrawn.
      if (msg.nlri) this.withdrawView(msg.nlri);
      if (msg.mpReach) this.withdrawView(msg.mpReach);
      this.opts.log.warn({ peer: this.address, errors: msg.errors.map((e) => e.message) },
        'malformed UPDATE treated as withdraw (RFC 7606)');
      return;
    }
    const received = msg.attrs;
    if (!received) return;
    const loop = this.loop(received);
    if (loop !== null) {
      // Rejected: remember the prefixes (for counts) and drop any earlier path of theirs.
      const reject = (fam: FamilyKey) => (b: Uint8Array, l: number, id: number) => {
        this.rejected.set(formatPrefix(fam, b, l), Rejected.Loop);
        rib.withdraw(peer, fam, b, l, id);
      };
      if (msg.nlri) forEachPrefix(msg.nlri, reject(IPV4_UNICAST));
      if (msg.mpReach) forEachPrefix(msg.mpReach, reject(msg.mpReach.family));
      this.opts.log.debug({ peer: this.address, reason: loop }, 'routes rejected');
      return;
    }
    const attrs = this.opts.importAttrs?.(received) ?? received;
    const id = attrs.id;
    const filter = this.opts.importFilter;
    if (filter) {
      const each = (fam: FamilyKey) => (b: Uint8Array, l: number, p: number) => {
        const why = filter(fam, b, l, attrs);
        if (typeof why !== 'string') {
          // Accepted, as received (null) or changed by the rule's operations (an interned set).
          this.rejected.delete(formatPrefix(fam, b, l));
          rib.announce(peer, fam, b, l, p, why === null ? id : why.id);
          return;
        }
        this.rejected.set(formatPrefix(fam, b, l), Rejected.Policy);
        rib.withdraw(peer, fam, b, l, p);
      };
      if (msg.nlri) forEachPrefix(msg.nlri, each(IPV4_UNICAST));
      if (msg.mpReach) forEachPrefix(msg.mpReach, each(msg.mpReach.family));
      this.checkLimit(peer);
      return;
    }
    if (msg.nlri) forEachIPv4(msg.nlri, (a, l, p) => rib.announce4(peer, a, l, p, id));
    if (msg.mpReach) {
      const fam = msg.mpReach.family;
      forEachPrefix(msg.mpReach, (b, l, p) => rib.announce(peer, fam, b, l, p, id));
    }
    this.checkLimit(peer);
    if (this.rejected.size) {
      // An accepted re-announcement of a previously rejected prefix.
      const un = (fam: FamilyKey) => (b: Uint8Array, l: number) => { this.rejected.delete(formatPrefix(fam, b, l)); };
      if (msg.nlri) forEachPrefix(msg.nlri, un(IPV4_UNICAST));
      if (msg.mpReach) forEachPrefix(msg.mpReach, un(msg.mpReach.family));
    }
  }

  private checkLimit(peer: number): void {
    const max = this.opts.maxPrefixes;
    if (max !== undefined && !this.limitHit && this.rib.peerPrefixCount(peer) > max) {
      this.limitHit = true;
      this.opts.onLimit?.(this.rib.peerPrefixCount(peer), max);
    }
  }

  /** Why a path must not be used (a loop), or null. Cached per interned attribute set. */
  private loop(a: PathAttrs): string | null {
    const hit = this.loopCache.get(a.id);
    if (hit !== undefined) return hit;
    let why: string | null = null;
    let own = 0;
    for (const seg of a.asPath) {
      if (seg.type === SegType.AS_CONFED_SEQUENCE || seg.type === SegType.AS_CONFED_SET) continue;
      for (const asn of seg.asns) if (this.opts.localAs.includes(asn)) own++;
    }
    if (own > this.opts.allowLocalAs) why = `AS_PATH contains our AS ${own} time(s) (RFC 4271 §9.1.2; allowed: ${this.opts.allowLocalAs})`;
    else if (this.opts.ibgp && a.originatorId === this.opts.routerId) why = 'ORIGINATOR_ID is our router ID (RFC 4456 §8)';
    else if (this.opts.ibgp && this.opts.clusterId !== undefined && a.clusterList?.includes(this.opts.clusterId)) why = 'CLUSTER_LIST contains our cluster ID (RFC 4456 §8)';
    if (this.loopCache.size > 10_000) this.loopCache.clear();
    this.loopCache.set(a.id, why);
    return why;
  }

  private withdrawView(v: NlriView): void {
    const peer = this.peerIndex;
    if (this.rejected.size) forEachPrefix(v, (b, l) => { this.rejected.delete(formatPrefix(v.family, b, l)); });
    if (v.family === IPV4_UNICAST) forEachIPv4(v, (a, l, id) => this.rib.withdraw4(peer, a, l, id));
    else forEachPrefix(v, (b, l, id) => this.rib.withdraw(peer, v.family, b, l, id));
  }
}
