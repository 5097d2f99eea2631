// Export from the Loc-RIB to peers, in update groups: peers whose export result is identical
// (same session type, reflection role, local AS, next-hop rule and encoding context) share one
// Adj-RIB-Out and one encoding, so a route reflector encodes each change once for all clients.
// Rules: RFC 4271 §9.1.3 and §5.1 (eBGP: own AS prepended, LOCAL_PREF and foreign MED
// stripped, next hop self), iBGP split horizon, RFC 4456 §8 reflection (ORIGINATOR_ID,
// CLUSTER_LIST), Calico's nextHopMode/keepOriginalNextHop. A route is never sent back to the
// peer it came from, nor evaluated for it when it is its group's only member (as BIRD's
// bgp_preexport, proto/bgp/attrs.c, rejects a route whose source is the same BGP protocol).
import type { Logger } from 'pino';
import type { PathAttrsInput } from '../bgp/wire/interning.js';
import type { Interner } from './intern.js';
import { UpdateWriter, type OutPrefix } from '../bgp/wire/update-writer.js';
import { IPV4_UNICAST, IPV6_UNICAST, Origin, SegType, type CodecContext, type FamilyKey, type PathAttrs } from '../bgp/wire/types.js';
import { growI32, growU8 } from './prefix-table.js';
import { LOCAL_PEER, type Rib } from './rib.js';
import { localPrefFor } from './priority.js';
import type { NextHopMode } from '../datastore/resources.js';

/**
 * Where a group's messages go: the session's bulk queue, and for a table transfer its producer
 * (pulled under backpressure, ahead of the queue). Without setProducer the table is sent at once.
 */
export interface ExportSink {
  /** `buf` holds `messages` whole BGP messages (default 1), to be written as they are. */
  send(buf: Buffer, messages?: number): boolean;
  setProducer?(p: { pull(): Buffer | null } | null): void;
}

/** Prefixes encoded per pull of a table transfer (a few UPDATEs of 4096 octets). */
const TABLE_BATCH = 2048;
const EMPTY = Buffer.alloc(0);
/** Largest slice of a batch handed to a session at once (its writes are 32 KiB: a KEEPALIVE waits behind little). */
const RUN_BYTES = 32 * 1024;


type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ExportPeer {
  /** Unique per peer (its address). */
  readonly id: string;
  readonly sink: ExportSink;
  readonly ibgp: boolean;
  /** We reflect to this peer as one of our route-reflector clients (RFC 4456). */
  readonly rrClient: boolean;
  /** Our AS on this session. */
  readonly localAs: number;
  readonly nextHopMode: NextHopMode;
  readonly nextHop4: string;
  readonly nextHop6?: string;
  readonly ctx: CodecContext;
  /** Families negotiated on the session. */
  readonly families: readonly FamilyKey[];
  /** BGPFilter names the peer lists (part of the group key: they change what it is sent). */
  readonly filters?: readonly string[];
  /**
   * The peer's BGP Identifier (its OPEN): routes whose ORIGINATOR_ID it is are not sent to it
   * (RFC 4456 §8: it would discard them; BIRD does not send them either). Not part of the group
   * key: the group encodes once and each member skips the messages that carry its own ID.
   */
  readonly routerId?: number;
  /**
   * The peer's index in the Loc-RIB (Rib.addPeer): the routes it sent us are not sent back to it,
   * and not even evaluated while it is its group's only member (BIRD: bgp_preexport rejects a
   * route whose source is the same protocol). Not part of the group key: the group still
   * exports them for its other members.
   */
  readonly ribPeer?: number;
}

/** What the export policy may add to a route it accepts (Calico communities, BGPFilter operations). */
export interface ExportMods {
  communities?: readonly number[];
  largeCommunities?: readonly (readonly [number, number, number])[];
  prependAs?: readonly number[];
}

/** Decides whether a best path may go to a group (Calico's export rules, src/policy). */
export type ExportCheck = (slot: number, best: number, peer: ExportPeer) => ({ accept: false; reason: string } | ({ accept: true } & ExportMods));

export interface ExporterOptions {
  /** Our BGP identifier (uint32), for ORIGINATOR_ID when reflecting. */
  routerId: number;
  /** Route-reflector cluster ID (uint32) when this node reflects; undefined: iBGP split horizon. */
  clusterId?: number;
  log: Logger;
  policy?: ExportCheck;
}

class Group {
  readonly members = new Set<ExportPeer>();
  readonly writer: UpdateWriter;
  /** Per prefix slot: exported attribute id + 1 (0 = not advertised). */
  adjOut: Int32Array = new Int32Array(0);
  count = 0;
  /** Paths in `multi` (ADD-PATH), and IPv6 entries of both stores: per-family counts without a scan. */
  multiCount = 0;
  count6 = 0;
  readonly withdrawals = new Map<FamilyKey, OutPrefix[]>();
  /** (source attrs id, source peer) → exported attrs, so a repeated attribute set is built once. */
  readonly cache = new Map<string, PathAttrs>();
  readonly families: Set<FamilyKey>;
  /** Families sent with ADD-PATH (RFC 7911): every equal-cost path, each under its own path ID. */
  readonly addPath: ReadonlySet<FamilyKey>;
  /** ADD-PATH Adj-RIB-Out: prefix slot → path ID → exported attributes. */
  readonly multi = new Map<number, Map<number, PathAttrs>>();
  /** Single-path Adj-RIB-Out entries by ORIGINATOR_ID: what a member with that router ID is not sent. */
  readonly byOriginator = new Map<number, number>();
  /** Router IDs of the members (with how many members have each). */
  readonly memberIds = new Map<number, number>();
  /**
   * Withdrawals only for the member whose router ID is the key: it held another path for a prefix
   * whose new path it originated, so it is not sent the announcement that would have replaced it.
   */
  readonly ownWithdrawals = new Map<number, Map<FamilyKey, OutPrefix[]>>();
  /** Withdrawals of routes the member with the key's router ID originated: every member but it. */
  readonly originWithdrawals = new Map<number, Map<FamilyKey, OutPrefix[]>>();
  /** RIB indexes of the members (with how many members have each). */
  readonly memberPeers = new Map<number, number>();
  /** The RIB index of the group's only member, else -1: the routes it sent us are not evaluated. */
  solo = -1;
  /** Routes of the only member were left out of the Adj-RIB-Out: evaluated when a second member joins. */
  soloSkipped = false;
  /** Withdrawals only for the member with the key's RIB index: it held another path for a prefix whose best path it sent us. */
  readonly srcWithdrawals = new Map<number, Map<FamilyKey, OutPrefix[]>>();
  /** Announcements of paths a member sent us, for every member but it: RIB index → attributes → prefixes. */
  readonly srcAnn = new Map<number, Map<PathAttrs, OutPrefix[]>>();
  /** Withdrawals of paths a member sent us, for every member but it (it was never sent them). */
  readonly srcGone = new Map<number, Map<FamilyKey, OutPrefix[]>>();
  /**
   * Per prefix slot: the RIB index of the member whose path the single-path Adj-RIB-Out entry
   * is (0: none). Made when the first such entry is; a group of one member never needs it.
   */
  adjSrc: Uint16Array | null = null;

  constructor(readonly key: string, readonly proto: ExportPeer) {
    this.writer = new UpdateWriter(proto.ctx);
    this.families = new Set(proto.families);
    this.addPath = proto.ctx.addPathTx;
  }
}

export class Exporter {
  private readonly groups = new Map<string, Group>();
  private readonly memberOf = new Map<string, Group>();
  /** Changed prefix slots awaiting flush: a flag per slot plus the list, so a million changes cost bytes, not Set entries. */
  private dirtyFlag: Uint8Array = new Uint8Array(1024);
  private dirtyList: number[] = [];
  private scheduled = false;

  constructor(private readonly rib: Rib, private readonly interner: Interner, private readonly opts: ExporterOptions) {
    rib.onBestChange((slot, _old, best) => this.onBestChange(slot, best));
  }

  /** The group key: everything that changes what a peer is sent. */
  private static keyOf(p: ExportPeer): string {
    const c = p.ctx;
    return [p.ibgp ? 'i' : 'e', p.rrClient ? 'c' : '-', p.localAs, p.nextHopMode, p.nextHop4, p.nextHop6 ?? '',
      c.fourOctetAs ? 4 : 2, c.extendedMessage ? 'x' : '-', [...c.addPathTx].sort().join('+'), [...p.families].sort().join('+'),
      (p.filters ?? []).join(',')].join('|');
  }

  /** A session came up: join (or found) its group and send it the group's table and End-of-RIB. */
  join(peer: ExportPeer): void {
    this.leave(peer.id);
    this.flush(); // everyone already in the group is up to date before the newcomer's snapshot
    const key = Exporter.keyOf(peer);
    let g = this.groups.get(key);
    const fresh = !g;
    if (!g) {
      g = new Group(key, peer);
      this.groups.set(key, g);
    } else if (g.soloSkipped) this.unskip(g);
    g.members.add(peer);
    if (peer.routerId !== undefined) g.memberIds.set(peer.routerId, (g.memberIds.get(peer.routerId) ?? 0) + 1);
    if (peer.ribPeer !== undefined) g.memberPeers.set(peer.ribPeer, (g.memberPeers.get(peer.ribPeer) ?? 0) + 1);
    Exporter.setSolo(g);
    if (fresh) this.fill(g);
    this.memberOf.set(peer.id, g);
    this.sendTable(g, peer);
  }

  leave(id: string): void {
    const g = this.memberOf.get(id);
    if (!g) return;
    this.memberOf.delete(id);
    for (const m of g.members) {
      if (m.id !== id) continue;
      g.members.delete(m);
      if (m.ribPeer !== undefined) {
        const k = (g.memberPeers.get(m.ribPeer) ?? 0) - 1;
        if (k > 0) g.memberPeers.set(m.ribPeer, k); else g.memberPeers.delete(m.ribPeer);
      }
      if (m.routerId === undefined) continue;
      const n = (g.memberIds.get(m.routerId) ?? 0) - 1;
      if (n > 0) g.memberIds.set(m.routerId, n); else g.memberIds.delete(m.routerId);
    }
    Exporter.setSolo(g);
    if (g.members.size === 0) {
      this.groups.delete(g.key);
      for (let s = 0; s < g.adjOut.length; s++) if (g.adjOut[s]! > 0) this.interner.unref(g.adjOut[s]! - 1);
      for (const m of g.multi.values()) for (const a of m.values()) this.interner.unref(a);
      for (const a of g.cache.values()) this.interner.unref(a);
    }
  }

  private static setSolo(g: Group): void {
    let solo = -1;
    if (g.members.size === 1) for (const m of g.members) solo = m.ribPeer ?? -1;
    g.solo = solo;
  }

  /**
   * A second member joins a group whose only member's routes were not evaluated: evaluate them
   * now (the newcomer's table includes them; the first member is still not sent them).
   */
  private unskip(g: Group): void {
    const solo = g.solo;
    g.solo = -1;
    g.soloSkipped = false;
    this.rib.prefixes.forEach((slot) => {
      if (g.addPath.has(this.rib.prefixes.family[slot]!)) {
        const have = g.multi.get(slot) ?? new Map<number, PathAttrs>();
        this.syncMulti(g, slot, have, this.exportAll(g, slot), null);
        return;
      }
      const best = this.rib.best(slot);
      if (best < 0 || this.rib.pathPeer(best) !== solo || (g.adjOut[slot] ?? 0) > 0) return;
      const out = this.exportPath(g, slot, best);
      if (out) { this.setAdj(g, slot, out); this.setSrc(g, slot, solo); }
    });
  }

  /**
   * The member that sent us a path, when the group has other members to send it to (-1: none).
   * A route reflector's client is already skipped by its ORIGINATOR_ID (see emit), so a path
   * whose exported ORIGINATOR_ID is its source member's router ID needs nothing more.
   */
  private sourceMember(g: Group, path: number, out: PathAttrs): number {
    if (g.members.size < 2) return -1;
    const src = this.rib.pathPeer(path);
    if (!g.memberPeers.has(src)) return -1;
    const o = out.originatorId;
    if (o !== undefined && g.memberIds.has(o) && o === this.rib.peer(src)?.bgpId) return -1;
    return src;
  }

  private static srcOf(g: Group, slot: number): number { return g.adjSrc !== null && slot < g.adjSrc.length ? g.adjSrc[slot]! : 0; }

  private setSrc(g: Group, slot: number, src: number): void {
    if (g.adjSrc === null || slot >= g.adjSrc.length) {
      if (src === 0) return;
      const a = new Uint16Array(Math.max(1024, this.rib.prefixes.capacity, slot + 1));
      if (g.adjSrc) a.set(g.adjSrc);
      g.adjSrc = a;
    }
    g.adjSrc[slot] = src;
  }

  private srcAnnounce(g: Group, src: number, a: PathAttrs, p: OutPrefix): void {
    let byAttrs = g.srcAnn.get(src);
    if (!byAttrs) g.srcAnn.set(src, (byAttrs = new Map()));
    let list = byAttrs.get(a);
    if (!list) byAttrs.set(a, (list = []));
    list.push(p);
  }

  /** ROUTE-REFRESH (RFC 2918): resend the Adj-RIB-Out to one peer. */
  refresh(id: string): void {
    const g = this.memberOf.get(id);
    if (!g) return;
    this.flush();
    for (const m of g.members) if (m.id === id) this.sendTable(g, m);
  }

  /** The export policy changed: forget cached results and re-evaluate every prefix for every group. */
  reevaluate(): void {
    for (const g of this.groups.values()) {
      for (const a of g.cache.values()) this.interner.unref(a);
      g.cache.clear();
    }
    // Prefixes advertised but gone from the table were withdrawn when they left; the rest are here.
    this.rib.prefixes.forEach((slot) => this.markDirty(slot));
    this.schedule();
  }

  advertised(id: string): number {
    const a = this.advertisedByFamily(id);
    return a.ipv4 + a.ipv6;
  }

  /** advertised() split by address family: the group's entries less those the member is not sent. */
  advertisedByFamily(id: string): { ipv4: number; ipv6: number } {
    const g = this.memberOf.get(id);
    if (!g) return { ipv4: 0, ipv6: 0 };
    let own4 = 0, own6 = 0;
    const member = Exporter.memberById(g, id);
    const rid = member?.routerId;
    const rp = member?.ribPeer ?? -1;
    const bySrc = rp >= 0 && g.adjSrc !== null;
    if ((rid !== undefined && g.byOriginator.has(rid)) || bySrc) {
      for (let s = 0; s < g.adjOut.length; s++) {
        const v = g.adjOut[s]!;
        if (v <= 0) continue;
        if ((bySrc && Exporter.srcOf(g, s) === rp) || (rid !== undefined && this.interner.get(v - 1).originatorId === rid)) {
          if (this.rib.prefixes.family[s] === IPV4_UNICAST) own4++; else own6++;
        }
      }
    }
    if (rp >= 0) {
      for (const [slot, m] of g.multi) {
        for (const pid of m.keys()) {
          if (this.rib.pathPeer(pid - 1) !== rp) continue;
          if (this.rib.prefixes.family[slot] === IPV4_UNICAST) own4++; else own6++;
        }
      }
    }
    return { ipv4: g.count + g.multiCount - g.count6 - own4, ipv6: g.count6 - own6 };
  }

  private static memberById(g: Group, id: string): ExportPeer | undefined {
    for (const m of g.members) if (m.id === id) return m;
    return undefined;
  }

  /**
   * The peer's Adj-RIB-Out: every prefix slot with the path ID and the attributes it was sent
   * (after the export rules and policy: next hop, AS_PATH, communities as on the wire).
   */
  adjRibOut(id: string): { slot: number; pathId: number; attrs: PathAttrs }[] {
    const g = this.memberOf.get(id);
    if (!g) return [];
    const out: { slot: number; pathId: number; attrs: PathAttrs }[] = [];
    const member = Exporter.memberById(g, id);
    const rid = member?.routerId;
    const src = member?.ribPeer ?? -1;
    for (let s = 0; s < g.adjOut.length; s++) {
      if (g.adjOut[s]! <= 0) continue;
      const attrs = this.interner.get(g.adjOut[s]! - 1);
      if (src >= 0 && this.rib.best(s) >= 0 && this.rib.pathPeer(this.rib.best(s)) === src) continue;
      if (rid === undefined || attrs.originatorId !== rid) out.push({ slot: s, pathId: 1, attrs });
    }
    for (const [slot, m] of g.multi) {
      for (const [pathId, attrs] of m) {
        if (src >= 0 && this.rib.pathPeer(pathId - 1) === src) continue;
        if (rid === undefined || attrs.originatorId !== rid) out.push({ slot, pathId, attrs });
      }
    }
    return out;
  }

  /** Number of update groups (for status and tests). */
  get groupCount(): number { return this.groups.size; }

  private onBestChange(slot: number, best: number): void {
    if (best >= 0) {
      this.markDirty(slot);
      this.schedule();
      return;
    }
    // The prefix is gone and its slot is about to be reused: withdraw it now, while its bytes are known.
    if (slot < this.dirtyFlag.length) this.dirtyFlag[slot] = 0; // skipped at flush
    for (const g of this.groups.values()) {
      if ((g.adjOut[slot] ?? 0) > 0) this.clearAdj(g, slot, true);
      const m = g.multi.get(slot);
      if (m) this.syncMulti(g, slot, m, new Map(), null);
    }
    this.schedule();
  }

  private markDirty(slot: number): void {
    if (slot >= this.dirtyFlag.length) this.dirtyFlag = growU8(this.dirtyFlag, Math.max(slot + 1, this.rib.prefixes.capacity));
    if (this.dirtyFlag[slot] === 1) return;
    this.dirtyFlag[slot] = 1;
    this.dirtyList.push(slot);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends every pending change to every group: one encoding per group, shared by its members. */
  flush(): void {
    this.scheduled = false;
    const dirty: number[] = [];
    for (const slot of this.dirtyList) {
      if (this.dirtyFlag[slot] === 0) continue;
      this.dirtyFlag[slot] = 0;
      dirty.push(slot);
    }
    this.dirtyList = [];
    for (const g of this.groups.values()) {
      const ann = new Map<PathAttrs, OutPrefix[]>();
      for (const slot of dirty) {
        if (g.addPath.has(this.rib.prefixes.family[slot]!)) {
          this.syncMulti(g, slot, g.multi.get(slot) ?? new Map(), this.exportAll(g, slot), ann);
          continue;
        }
        const out = this.exportOf(g, slot);
        const cur = (g.adjOut[slot] ?? 0) - 1;
        if (out === null) {
          // The only member's own path, left from when the group had others: it was never sent it.
          if (cur >= 0) this.clearAdj(g, slot, g.solo < 0 || Exporter.srcOf(g, slot) !== g.solo);
          continue;
        }
        if (cur === out.id) continue;
        if (out.originatorId !== undefined && g.memberIds.has(out.originatorId)
          && cur >= 0 && this.interner.get(cur).originatorId !== out.originatorId) this.ownWithdraw(g, out.originatorId, slot, 1);
        const from = this.sourceMember(g, this.rib.best(slot), out);
        if (from >= 0) {
          // Not sent back to the member it came from; what that member held from us is withdrawn.
          if (cur >= 0 && Exporter.srcOf(g, slot) !== from) this.srcWithdraw(g, from, slot, 1);
          this.setAdj(g, slot, out);
          this.setSrc(g, slot, from);
          this.srcAnnounce(g, from, out, this.outPrefix(g, slot));
          continue;
        }
        this.setAdj(g, slot, out);
        let list = ann.get(out);
        if (!list) ann.set(out, (list = []));
        list.push(this.outPrefix(g, slot));
      }
      this.emit(g, ann);
    }
  }

  /**
   * Encodes a group's pending changes once and hands them to every member, in per-prefix order:
   * withdrawals, then a member's own-origin withdrawals, then announcements. A member is not sent
   * the announcements that carry its own router ID as ORIGINATOR_ID.
   */
  private emit(g: Group, ann: Map<PathAttrs, OutPrefix[]>): void {
    const msgs: Buffer[] = [];
    /** Parallel to msgs: the ORIGINATOR_ID whose member skips it, or the only member it is for. */
    const skip: (number | undefined)[] = [];
    const only: (number | undefined)[] = [];
    /** Parallel to msgs: the RIB index of the member that sent us the paths (skips it), or of the only member it is for; -1 none. */
    const skipPeer: number[] = [];
    const onlyPeer: number[] = [];
    const push = (m: Buffer, sk: number | undefined, on: number | undefined, skp: number, onp: number): void => {
      msgs.push(m); skip.push(sk); only.push(on); skipPeer.push(skp); onlyPeer.push(onp);
    };
    for (const [family, list] of g.withdrawals) if (list.length) g.writer.withdraw(family, list, (m) => push(m, undefined, undefined, -1, -1));
    g.withdrawals.clear();
    for (const [rid, byFam] of g.originWithdrawals) {
      for (const [family, list] of byFam) g.writer.withdraw(family, list, (m) => push(m, rid, undefined, -1, -1));
    }
    g.originWithdrawals.clear();
    for (const [src, byFam] of g.srcGone) {
      for (const [family, list] of byFam) g.writer.withdraw(family, list, (m) => push(m, undefined, undefined, src, -1));
    }
    g.srcGone.clear();
    for (const [rid, byFam] of g.ownWithdrawals) {
      for (const [family, list] of byFam) g.writer.withdraw(family, list, (m) => push(m, undefined, rid, -1, -1));
    }
    g.ownWithdrawals.clear();
    for (const [src, byFam] of g.srcWithdrawals) {
      for (const [family, list] of byFam) g.writer.withdraw(family, list, (m) => push(m, undefined, undefined, -1, src));
    }
    g.srcWithdrawals.clear();
    for (const [attrs, list] of ann) {
      const o = attrs.originatorId !== undefined && g.memberIds.has(attrs.originatorId) ? attrs.originatorId : undefined;
      g.writer.announce(this.rib.prefixes.family[this.slotOf(list)]!, attrs, list, (m) => push(m, o, undefined, -1, -1));
    }
    for (const [src, byAttrs] of g.srcAnn) {
      for (const [attrs, list] of byAttrs) {
        const o = attrs.originatorId !== undefined && g.memberIds.has(attrs.originatorId) ? attrs.originatorId : undefined;
        g.writer.announce(this.rib.prefixes.family[this.slotOf(list)]!, attrs, list, (m) => push(m, o, undefined, src, -1));
      }
    }
    g.srcAnn.clear();
    if (msgs.length === 0) return;
    // The batch in one buffer; each member is sent slices of it (the runs of messages it gets,
    // each at most RUN_BYTES), so a member costs a few queue entries and iovecs, not one per UPDATE.
    const all = msgs.length === 1 ? msgs[0]! : Buffer.concat(msgs);
    const ends: number[] = [];
    let at = 0;
    for (const b of msgs) ends.push((at += b.length));
    for (const m of g.members) {
      const rid = m.routerId;
      const rp = m.ribPeer ?? -1;
      let start = 0, n = 0;
      for (let k = 0; k < msgs.length; k++) {
        const from = k === 0 ? 0 : ends[k - 1]!;
        let gets = true;
        if (rid !== undefined && skip[k] === rid) gets = false;
        const to = only[k];
        if (to !== undefined && to !== rid) gets = false;
        if (skipPeer[k] !== -1 && skipPeer[k] === rp) gets = false;
        if (onlyPeer[k] !== -1 && onlyPeer[k] !== rp) gets = false;
        if (n > 0 && (!gets || ends[k]! - start > RUN_BYTES)) { m.sink.send(slice(all, start, from), n); n = 0; }
        if (!gets) continue;
        if (n === 0) start = from;
        n++;
      }
      if (n > 0) m.sink.send(slice(all, start, at), n);
    }
  }

  /** The member with RIB index `src` loses its copy of a prefix whose new path it sent us. */
  private srcWithdraw(g: Group, src: number, slot: number, pathId: number): void {
    queueKeyed(g.srcWithdrawals, src, this.rib.prefixes.family[slot]!, this.withdrawn(slot, pathId));
  }

  /** The member with router ID `rid` loses its copy of a prefix (see Group.ownWithdrawals). */
  private ownWithdraw(g: Group, rid: number, slot: number, pathId: number): void {
    queueKeyed(g.ownWithdrawals, rid, this.rib.prefixes.family[slot]!, this.withdrawn(slot, pathId));
  }

  /** A withdrawal of the prefix in `slot`, its bytes copied: the slot may be freed before the flush. */
  private withdrawn(slot: number, pathId: number): OutPrefix {
    return { bytes: Uint8Array.from(this.rib.prefixes.bytes(slot)), len: this.rib.prefixes.plen[slot]!, pathId };
  }

  // Remembers each OutPrefix's slot for family lookup without an extra field on the wire type.
  private readonly slotByPrefix = new WeakMap<OutPrefix, number>();
  private slotOf(list: OutPrefix[]): number { return this.slotByPrefix.get(list[0]!)!; }

  private outPrefix(g: Group, slot: number, pathId = 1): OutPrefix {
    const p: OutPrefix = { bytes: this.rib.prefixes.bytes(slot), len: this.rib.prefixes.plen[slot]!, pathId };
    this.slotByPrefix.set(p, slot);
    void g;
    return p;
  }

  /**
   * ADD-PATH: every path of the ECMP set that the group may receive, keyed by path ID (the RIB
   * path entry + 1, stable while the path lives).
   */
  private exportAll(g: Group, slot: number): Map<number, PathAttrs> {
    const out = new Map<number, PathAttrs>();
    for (const p of this.rib.equalCost(slot)) {
      const a = this.exportPath(g, slot, p);
      if (a) out.set(p + 1, a);
    }
    return out;
  }

  /** Moves a prefix's ADD-PATH Adj-RIB-Out from `have` to `want`: withdraw gone IDs, announce new or changed ones. */
  private syncMulti(g: Group, slot: number, have: Map<number, PathAttrs>, want: Map<number, PathAttrs>, ann: Map<PathAttrs, OutPrefix[]> | null): void {
    const fam = this.rib.prefixes.family[slot]!;
    for (const [id, a] of have) {
      if (want.has(id)) continue;
      this.interner.unref(a);
      let list = g.withdrawals.get(fam);
      if (!list) g.withdrawals.set(fam, (list = []));
      list.push(this.withdrawn(slot, id));
    }
    for (const [id, a] of want) {
      const old = have.get(id);
      this.interner.ref(a);
      if (old) this.interner.unref(old);
      if (old === a || !ann) continue;
      if (old && a.originatorId !== undefined && old.originatorId !== a.originatorId && g.memberIds.has(a.originatorId)) this.ownWithdraw(g, a.originatorId, slot, id);
      const from = this.sourceMember(g, id - 1, a);
      if (from >= 0) { this.srcAnnounce(g, from, a, this.outPrefix(g, slot, id)); continue; }
      let list = ann.get(a);
      if (!list) ann.set(a, (list = []));
      list.push(this.outPrefix(g, slot, id));
    }
    const delta = want.size - have.size;
    g.multiCount += delta;
    if (fam !== IPV4_UNICAST) g.count6 += delta;
    if (want.size) g.multi.set(slot, want); else g.multi.delete(slot);
  }

  private setAdj(g: Group, slot: number, a: PathAttrs): void {
    if (slot >= g.adjOut.length) g.adjOut = growI32(g.adjOut, Math.max(1024, this.rib.prefixes.capacity));
    const cur = g.adjOut[slot]!;
    if (cur > 0) {
      this.uncountOriginator(g, cur - 1);
      this.interner.unref(cur - 1);
    } else {
      g.count++;
      if (this.rib.prefixes.family[slot] !== IPV4_UNICAST) g.count6++;
    }
    if (g.adjSrc !== null && slot < g.adjSrc.length) g.adjSrc[slot] = 0;
    this.interner.ref(a.id);
    if (a.originatorId !== undefined) g.byOriginator.set(a.originatorId, (g.byOriginator.get(a.originatorId) ?? 0) + 1);
    g.adjOut[slot] = a.id + 1;
  }

  private uncountOriginator(g: Group, attrId: number): void {
    const o = this.interner.get(attrId).originatorId;
    if (o === undefined) return;
    const n = (g.byOriginator.get(o) ?? 0) - 1;
    if (n > 0) g.byOriginator.set(o, n); else g.byOriginator.delete(o);
  }

  private clearAdj(g: Group, slot: number, withdraw: boolean): void {
    const was = this.interner.get(g.adjOut[slot]! - 1).originatorId;
    const src = Exporter.srcOf(g, slot);
    if (src !== 0) g.adjSrc![slot] = 0;
    this.uncountOriginator(g, g.adjOut[slot]! - 1);
    this.interner.unref(g.adjOut[slot]! - 1);
    g.adjOut[slot] = 0;
    g.count--;
    const fam = this.rib.prefixes.family[slot]!;
    if (fam !== IPV4_UNICAST) g.count6--;
    if (!withdraw) return;
    const p = this.withdrawn(slot, 1);
    if (src !== 0 && g.memberPeers.has(src)) {
      // A member's own path: that member was never sent it, so neither is its withdrawal.
      queueKeyed(g.srcGone, src, fam, p);
      return;
    }
    if (was !== undefined && g.memberIds.has(was)) {
      // The member that originated it was never sent it: its withdrawal skips that member too.
      queueKeyed(g.originWithdrawals, was, fam, p);
      return;
    }
    let list = g.withdrawals.get(fam);
    if (!list) g.withdrawals.set(fam, (list = []));
    list.push(p);
  }

  /** A new group starts from the whole Loc-RIB. */
  private fill(g: Group): void {
    this.rib.prefixes.forEach((slot) => {
      if (g.addPath.has(this.rib.prefixes.family[slot]!)) {
        this.syncMulti(g, slot, new Map(), this.exportAll(g, slot), null);
        return;
      }
      const out = this.exportOf(g, slot);
      if (out) this.setAdj(g, slot, out);
    });
  }

  /**
   * Sends a group's whole Adj-RIB-Out to one member, then End-of-RIB per family (RFC 4724 §2).
   * To a session the table goes as a producer, encoded as the socket takes it: a million routes
   * are never queued at once, and timers (KEEPALIVE, hold) keep running between pulls. The slots
   * are listed now, grouped by attribute set (one encoding per set, as many NLRI per UPDATE as
   * fit); a slot whose entry changed before it is pulled is skipped, since the change itself
   * follows the transfer on the session's queue. A member is not sent its own routes (RFC 4456 §8).
   */
  private sendTable(g: Group, peer: ExportPeer): void {
    const own = peer.routerId;
    // The routes the newcomer itself sent us (a session that came back while its paths were kept).
    const src = peer.ribPeer !== undefined && this.rib.peerPrefixCount(peer.ribPeer) > 0 ? peer.ribPeer : -1;
    const mine = (s: number): boolean => {
      if (src < 0) return false;
      const b = this.rib.best(s);
      return b >= 0 && this.rib.pathPeer(b) === src;
    };
    const queue: Buffer[] = [];
    const multi = new Map<PathAttrs, OutPrefix[]>();
    for (const [slot, m] of g.multi) {
      for (const [pid, a] of m) {
        if (own !== undefined && a.originatorId === own) continue;
        if (src >= 0 && this.rib.pathPeer(pid - 1) === src) continue;
        let list = multi.get(a);
        if (!list) multi.set(a, (list = []));
        list.push(this.outPrefix(g, slot, pid));
      }
    }
    for (const [a, list] of multi) g.writer.announce(this.rib.prefixes.family[this.slotOf(list)]!, a, list, (m) => queue.push(m));
    // Counting sort of the slots by attribute set: one Int32Array, no object per prefix.
    const counts = new Map<number, number>();
    const skipped = new Set<number>();
    const adj = g.adjOut;
    for (let s = 0; s < adj.length; s++) {
      const v = adj[s]!;
      if (v === 0 || mine(s)) continue;
      const c = counts.get(v - 1);
      if (c !== undefined) { counts.set(v - 1, c + 1); continue; }
      if (skipped.has(v - 1)) continue;
      if (own !== undefined && this.interner.get(v - 1).originatorId === own) { skipped.add(v - 1); continue; }
      counts.set(v - 1, 1);
    }
    const ids = [...counts.keys()];
    const ends: number[] = [];
    const next: number[] = [];
    let total = 0;
    for (const id of ids) { next.push(total); total += counts.get(id)!; ends.push(total); }
    const at = new Map<number, number>(ids.map((id, k) => [id, k]));
    const slots = new Int32Array(total);
    for (let s = 0; s < adj.length; s++) {
      const v = adj[s]!;
      if (v === 0 || mine(s)) continue;
      const k = at.get(v - 1);
      if (k !== undefined) slots[next[k]!++] = s;
    }
    let k = 0, pos = 0, eor = false;
    const fam = this.rib.prefixes.family;
    const refill = (): boolean => {
      for (; k < ids.length; k++) {
        const id = ids[k]!, end = ends[k]!;
        const list: OutPrefix[] = [];
        let family = -1;
        while (pos < end && list.length < TABLE_BATCH) {
          const s = slots[pos]!;
          if (g.adjOut[s] !== id + 1) { pos++; continue; } // changed since: the change follows
          if (family === -1) family = fam[s]!;
          else if (fam[s] !== family) break;
          list.push({ bytes: this.rib.prefixes.bytes(s), len: this.rib.prefixes.plen[s]!, pathId: 1 });
          pos++;
        }
        if (list.length) {
          g.writer.announce(family as FamilyKey, this.interner.get(id), list, (m) => queue.push(m));
          return true;
        }
      }
      if (eor) return false;
      eor = true;
      for (const f of g.families) queue.push(g.writer.endOfRib(f));
      return true;
    };
    let head = 0;
    const producer = {
      pull: (): Buffer | null => {
        while (head >= queue.length) {
          queue.length = 0;
          head = 0;
          if (!refill()) return null;
        }
        const b = queue[head]!;
        queue[head++] = EMPTY;
        return b;
      },
    };
    if (peer.sink.setProducer) { peer.sink.setProducer(producer); return; }
    for (let b = producer.pull(); b !== null; b = producer.pull()) peer.sink.send(b);
  }

  /** What the group is sent for a prefix (its interned attributes), or null for nothing. */
  private exportOf(g: Group, slot: number): PathAttrs | null {
    const best = this.rib.best(slot);
    if (best < 0) return null;
    return this.exportPath(g, slot, best);
  }

  /** What the group is sent for one path of a prefix, or null. */
  private exportPath(g: Group, slot: number, best: number): PathAttrs | null {
    const fam = this.rib.prefixes.family[slot]!;
    if (!g.families.has(fam)) return null;
    const peer = g.proto;
    const srcIdx = this.rib.pathPeer(best);
    // Its only member sent us this path: nothing to evaluate (BIRD's bgp_preexport: "src == p").
    if (srcIdx === g.solo) { g.soloSkipped = true; return null; }
    const src = this.rib.peer(srcIdx);
    if (!src) return null;
    const local = srcIdx === LOCAL_PEER;
    if (!local && src.ibgp && peer.ibgp) {
      // iBGP split horizon (RFC 4271 §9.2), relaxed only by route reflection (RFC 4456 §8).
      if (this.opts.clusterId === undefined) return null;
      if (!src.rrClient && !peer.rrClient) return null;
    }
    // RFC 1997 well-known communities on a received route (BIRD checks them before its export
    // filter, so Calico's own prefixAdvertisement communities do not count): NO_ADVERTISE goes to
    // no peer; NO_EXPORT and NO_EXPORT_SUBCONFED to no eBGP peer (Kite is in no confederation).
    if (!local && !wellKnownAllows(this.rib.pathAttrs(best).communities, peer.ibgp)) return null;
    let mods: ExportMods | null = null;
    if (this.opts.policy) {
      const verdict = this.opts.policy(slot, best, peer);
      if (!verdict.accept) return null;
      if (verdict.communities?.length || verdict.largeCommunities?.length || verdict.prependAs?.length) mods = verdict;
    }
    const key = mods === null ? `${this.rib.pathAttrId(best)}:${srcIdx}`
      : `${this.rib.pathAttrId(best)}:${srcIdx}:${JSON.stringify([mods.communities, mods.largeCommunities, mods.prependAs])}`;
    const hit = g.cache.get(key);
    if (hit) return hit;
    const input = this.build(peer, fam, this.rib.pathAttrs(best), local, src.ibgp, src.bgpId);
    const built = this.interner.internAttrs(mods === null ? input : withMods(input, mods));
    if (g.cache.size > 50_000) { for (const a of g.cache.values()) this.interner.unref(a); g.cache.clear(); }
    this.interner.ref(built);
    g.cache.set(key, built);
    return built;
  }

  private build(peer: ExportPeer, fam: FamilyKey, a: PathAttrs, local: boolean, srcIbgp: boolean, srcBgpId: number): PathAttrsInput {
    const self = fam === IPV4_UNICAST ? peer.nextHop4 : fam === IPV6_UNICAST ? peer.nextHop6 ?? '' : '';
    if (local) {
      return {
        origin: Origin.IGP, asPath: peer.ibgp ? [] : [{ type: SegType.AS_SEQUENCE, asns: [peer.localAs] }],
        // Calico sends its route priority as LOCAL_PREF (2147483647 − krt_metric; 2147482623 normally).
        nextHop: self, localPref: peer.ibgp ? localPrefFor(a.kernelPriority) : undefined, atomicAggregate: false, unknown: [],
      };
    }
    const { id: _id, ...rest } = a;
    const out: Mutable<PathAttrsInput> = { ...rest };
    if (peer.ibgp) {
      // Calico's export filter: bgp_local_pref = 2147483647 − krt_metric, where krt_metric came
      // from the received LOCAL_PREF (priority.ts) or is the normal 1024 (an eBGP-learned route).
      out.localPref = localPrefFor(a.kernelPriority);
      if (srcIbgp) {
        // Reflection (RFC 4456 §8): keep the originator, prepend our cluster ID.
        out.originatorId = a.originatorId ?? srcBgpId;
        out.clusterList = [this.opts.clusterId!, ...(a.clusterList ?? [])];
      }
      out.nextHop = peer.nextHopMode === 'Self' ? self : a.nextHop;
      if (peer.nextHopMode === 'Self') delete out.nextHopLinkLocal;
    } else {
      // To eBGP (RFC 4271 §5.1.2, §5.1.4, §5.1.5): prepend our AS, drop iBGP-only attributes
      // and a MED learned from another AS.
      const first = a.asPath[0];
      out.asPath = first && first.type === SegType.AS_SEQUENCE && first.asns.length < 255
        ? [{ type: SegType.AS_SEQUENCE, asns: [peer.localAs, ...first.asns] }, ...a.asPath.slice(1)]
        : [{ type: SegType.AS_SEQUENCE, asns: [peer.localAs] }, ...a.asPath];
      delete out.localPref;
      delete out.originatorId;
      delete out.clusterList;
      delete out.med;
      out.nextHop = peer.nextHopMode === 'Keep' ? a.nextHop : self;
      if (peer.nextHopMode !== 'Keep') delete out.nextHopLinkLocal;
    }
    if (!out.nextHop) return { ...out, nextHop: self };
    return out;
  }
}

const NO_EXPORT = 0xffffff01, NO_ADVERTISE = 0xffffff02, NO_EXPORT_SUBCONFED = 0xffffff03;

/** Queues `p` under `key` and its family (the member-keyed withdrawal queues of a Group). */
function queueKeyed(queues: Map<number, Map<FamilyKey, OutPrefix[]>>, key: number, fam: FamilyKey, p: OutPrefix): void {
  let byFam = queues.get(key);
  if (!byFam) queues.set(key, (byFam = new Map()));
  let list = byFam.get(fam);
  if (!list) byFam.set(fam, (list = []));
  list.push(p);
}

/** The bytes [start, end) of a batch: the batch itself when whole (members share the one buffer). */
function slice(all: Buffer, start: number, end: number): Buffer {
  return start === 0 && end === all.length ? all : all.subarray(start, end);
}

/** False when a route's RFC 1997 well-known communities forbid sending it to this kind of peer. */
export function wellKnownAllows(communities: readonly number[] | undefined, ibgp: boolean): boolean {
  if (!communities) return true;
  for (const c of communities) {
    if (c === NO_ADVERTISE) return false;
    if (!ibgp && (c === NO_EXPORT || c === NO_EXPORT_SUBCONFED)) return false;
  }
  return true;
}

/** Adds policy communities (no duplicates) and AS-path prepends (leftmost first) to exported attributes. */
/** The set with a policy's additions: communities, large communities, AS-path prepends. */
export function withMods(a: PathAttrsInput, m: ExportMods): PathAttrsInput {
  const out: Mutable<PathAttrsInput> = { ...a };
  if (m.communities?.length) out.communities = [...new Set([...(a.communities ?? []), ...m.communities])];
  if (m.largeCommunities?.length) {
    const have = [...(a.largeCommunities ?? [])];
    for (const l of m.largeCommunities) if (!have.some((h) => h[0] === l[0] && h[1] === l[1] && h[2] === l[2])) have.push(l);
    out.largeCommunities = have;
  }
  if (m.prependAs?.length) out.asPath = [{ type: SegType.AS_SEQUENCE, asns: [...m.prependAs] }, ...a.asPath];
  return out;
}
