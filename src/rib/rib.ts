// The routing table: every peer's Adj-RIB-In and the Loc-RIB, in one compact store.
// Paths live in parallel typed arrays linked per prefix (no object per route); attribute
// sets are interned ids. Best path: the RFC 4271 §9.1 decision process in decision.ts.
import { IPV4_UNICAST, type FamilyKey, type PathAttrs } from '../bgp/wire/types.js';
import { MULTIPATH_STEPS, STEPS, decide, type Candidate, type DecisionOptions } from './decision.js';
import { PrefixTable, growI32, growU16, growU32, growU8 } from './prefix-table.js';

/** Peer index 0 is the node itself: locally originated routes. */
export const LOCAL_PEER = 0;

/** Where interned attribute sets are looked up and reference-counted. */
export interface AttrTable {
  get(id: number): PathAttrs;
  ref(id: number): void;
  unref(id: number): void;
}

export interface RibPeer {
  address: string;
  /** Peer BGP identifier (uint32), the router-ID tie-break. */
  bgpId: number;
  ibgp: boolean;
  /** The peer is one of our route-reflector clients (RFC 4456). */
  rrClient?: boolean;
}

/** Told whenever a prefix's best path changes (-1 = none). */
export type BestChangeListener = (slot: number, oldBest: number, newBest: number) => void;

export class Rib {
  readonly prefixes = new PrefixTable();
  /** Per prefix slot: head of its path list, and its best path (-1 = none). */
  private head: Int32Array = new Int32Array(1024).fill(-1);
  private bestPath: Int32Array = new Int32Array(1024).fill(-1);

  // Path store, one entry per (prefix, peer, path id).
  private pPrefix: Uint32Array = new Uint32Array(1024);
  private pPeer: Uint16Array = new Uint16Array(1024);
  private pAttr: Uint32Array = new Uint32Array(1024);
  private pId: Uint32Array = new Uint32Array(1024);
  /** RFC 4724: 1 while a path is stale (kept for a restarting peer until refreshed). */
  private pStale: Uint8Array = new Uint8Array(1024);
  /** Next path of the same prefix, or next free entry while on the free list. */
  private pNext: Int32Array = new Int32Array(1024).fill(-1);
  private pathTop = 0;
  private pathFree = -1;

  private readonly peers: (RibPeer | undefined)[] = [{ address: '', bgpId: 0, ibgp: false }];
  /** Paths held per peer (its Adj-RIB-In size), and how many of them are IPv6 (for per-family counts). */
  private received: Uint32Array = new Uint32Array(64);
  private received6: Uint32Array = new Uint32Array(64);
  /** Live paths in the table, all peers (the metrics' Loc-RIB path count). */
  private livePaths = 0;
  /** Best-path changes since start (a counter for the metrics; one add per change, no listener). */
  private bestChanges = 0;
  private readonly listeners: BestChangeListener[] = [];
  private readonly decision: DecisionOptions;

  constructor(private readonly attrs: AttrTable, decision: Partial<DecisionOptions> = {}) {
    this.decision = { alwaysCompareMed: false, ...decision };
    this.prefixes.onGrow = (n) => {
      this.head = growI32(this.head, n, -1);
      this.bestPath = growI32(this.bestPath, n, -1);
    };
  }

  /** `first`: called before the listeners already registered (the kernel before re-advertisement). */
  onBestChange(l: BestChangeListener, opts: { first?: boolean } = {}): void {
    if (opts.first) this.listeners.unshift(l);
    else this.listeners.push(l);
  }

  addPeer(p: RibPeer): number {
    let i = this.peers.indexOf(undefined, 1);
    if (i < 0) i = this.peers.length;
    if (i > 0xffff) throw new Error('too many peers');
    this.peers[i] = p;
    if (i >= this.received.length) {
      this.received = growU32(this.received, this.received.length * 2);
      this.received6 = growU32(this.received6, this.received.length);
    }
    this.received[i] = 0;
    this.received6[i] = 0;
    return i;
  }

  /** Updates the identity learned from OPEN (router ID changes re-run no decision here). */
  setPeer(i: number, p: RibPeer): void { this.peers[i] = p; }

  /** Drops every path of the peer (session down) and frees its index. */
  removePeer(i: number): void {
    this.flushPeer(i);
    this.peers[i] = undefined;
  }

  /** Removes all paths learned from peer i (its Adj-RIB-In), keeping the peer. */
  flushPeer(i: number): void {
    if (this.received[i] === 0) return;
    const top = this.pathTop;
    for (let p = 0; p < top; p++) {
      if (this.pPeer[p] === i && this.isLive(p)) this.removePath(this.pPrefix[p]!, p);
    }
  }

  /** RFC 4724 §4.2: marks every path of the peer stale; returns how many. */
  markStale(i: number): number {
    let n = 0;
    for (let p = 0; p < this.pathTop; p++) if (this.pPeer[p] === i && this.isLive(p)) { this.pStale[p] = 1; n++; }
    return n;
  }

  /** Removes the peer's paths still stale (in one family, or all); returns how many. */
  sweepStale(i: number, family?: FamilyKey): number {
    let n = 0;
    for (let p = 0; p < this.pathTop; p++) {
      if (this.pPeer[p] !== i || this.pStale[p] === 0 || !this.isLive(p)) continue;
      const slot = this.pPrefix[p]!;
      if (family !== undefined && this.prefixes.family[slot] !== family) continue;
      this.removePath(slot, p);
      n++;
    }
    return n;
  }

  staleCount(i: number): number {
    let n = 0;
    for (let p = 0; p < this.pathTop; p++) if (this.pPeer[p] === i && this.pStale[p] === 1 && this.isLive(p)) n++;
    return n;
  }

  peerPrefixCount(i: number): number { return this.received[i] ?? 0; }
  /** The peer's paths in IPv6 unicast (the rest are IPv4). */
  peerPrefixCount6(i: number): number { return this.received6[i] ?? 0; }
  /** Live paths of every peer, local ones included. */
  get pathCount(): number { return this.livePaths; }
  /** Best-path changes since start. */
  get bestChangeCount(): number { return this.bestChanges; }

  /** The live paths learned from peer i (its Adj-RIB-In as accepted), in store order. */
  peerPaths(i: number): number[] {
    const out: number[] = [];
    if (this.received[i] === 0) return out;
    for (let p = 0; p < this.pathTop; p++) if (this.pPeer[p] === i && this.isLive(p)) out.push(p);
    return out;
  }
  peer(i: number): RibPeer | undefined { return this.peers[i]; }

  // ---- updates -------------------------------------------------------------

  announce4(peer: number, addr: number, len: number, pathId: number, attrId: number): void {
    this.announceSlot(this.prefixes.get4(addr, len), peer, pathId, attrId);
  }

  withdraw4(peer: number, addr: number, len: number, pathId: number): void {
    const slot = this.prefixes.find4(addr, len);
    if (slot >= 0) this.withdrawSlot(slot, peer, pathId);
  }

  announce(peer: number, family: FamilyKey, bytes: Uint8Array, len: number, pathId: number, attrId: number): void {
    this.announceSlot(this.prefixes.get(family, bytes, len), peer, pathId, attrId);
  }

  withdraw(peer: number, family: FamilyKey, bytes: Uint8Array, len: number, pathId: number): void {
    const slot = this.prefixes.find(family, bytes, len);
    if (slot >= 0) this.withdrawSlot(slot, peer, pathId);
  }

  private announceSlot(slot: number, peer: number, pathId: number, attrId: number): void {
    // Implicit withdraw (RFC 4271 §3.1): a path from the same peer and path id is replaced.
    for (let p = this.head[slot]!; p >= 0; p = this.pNext[p]!) {
      if (this.pPeer[p] === peer && this.pId[p] === pathId) {
        this.pStale[p] = 0;
        if (this.pAttr[p] === attrId) return;
        this.attrs.ref(attrId);
        this.attrs.unref(this.pAttr[p]!);
        this.pAttr[p] = attrId;
        this.decide(slot, true);
        return;
      }
    }
    const p = this.allocPath();
    this.pPrefix[p] = slot;
    this.pPeer[p] = peer;
    this.pId[p] = pathId;
    this.pAttr[p] = attrId;
    this.pStale[p] = 0;
    this.attrs.ref(attrId);
    this.pNext[p] = this.head[slot]!;
    this.head[slot] = p;
    this.received[peer]!++;
    if (this.prefixes.family[slot] !== IPV4_UNICAST) this.received6[peer]!++;
    this.livePaths++;
    this.decide(slot, false);
  }

  private withdrawSlot(slot: number, peer: number, pathId: number): void {
    for (let p = this.head[slot]!; p >= 0; p = this.pNext[p]!) {
      if (this.pPeer[p] === peer && this.pId[p] === pathId) {
        this.removePath(slot, p);
        return;
      }
    }
  }

  private removePath(slot: number, p: number): void {
    let prev = -1;
    for (let q = this.head[slot]!; q !== p; q = this.pNext[q]!) prev = q;
    if (prev < 0) this.head[slot] = this.pNext[p]!;
    else this.pNext[prev] = this.pNext[p]!;
    this.received[this.pPeer[p]!]!--;
    if (this.prefixes.family[slot] !== IPV4_UNICAST) this.received6[this.pPeer[p]!]!--;
    this.livePaths--;
    this.attrs.unref(this.pAttr[p]!);
    this.freePath(p);
    if (this.head[slot] === -1) {
      const old = this.bestPath[slot]!;
      this.bestPath[slot] = -1;
      if (old >= 0) this.emit(slot, old, -1);
      this.prefixes.release(slot);
    } else {
      this.decide(slot, this.bestPath[slot] === p);
    }
  }

  /** Re-runs the decision for a prefix; `force` reports a change even if the same entry wins. */
  private decide(slot: number, force: boolean): void {
    let best = this.head[slot]!;
    for (let p = this.pNext[best]!; p >= 0; p = this.pNext[p]!) if (this.better(p, best)) best = p;
    const old = this.bestPath[slot]!;
    // Listeners hear about every change of the prefix's paths, not only of its best path:
    // ADD-PATH export sends the whole equal-cost set. `force` is kept for callers' intent.
    void force;
    this.bestPath[slot] = best;
    this.emit(slot, old === best ? -1 : old, best);
  }

  private candidate(p: number): Candidate {
    const peer = this.pPeer[p]!;
    const info = this.peers[peer]!;
    return { attrs: this.attrs.get(this.pAttr[p]!), local: peer === LOCAL_PEER, ibgp: info.ibgp,
      peerBgpId: info.bgpId, peerAddress: info.address };
  }

  /** True when path a is preferred over path b. */
  private better(a: number, b: number): boolean {
    return decide(this.candidate(a), this.candidate(b), this.decision)[0] < 0;
  }

  /**
   * Why the best path won: the decision step that separated it from the runner-up
   * ("only-path" when there is no other path).
   */
  bestReason(slot: number): { step: string; rule: string } {
    const best = this.bestPath[slot]!;
    let runnerUp = -1;
    for (let p = this.head[slot]!; p >= 0; p = this.pNext[p]!) {
      if (p !== best && (runnerUp < 0 || this.better(p, runnerUp))) runnerUp = p;
    }
    if (best < 0 || runnerUp < 0) return { step: 'only-path', rule: 'the only path to this prefix' };
    const [, i] = decide(this.candidate(best), this.candidate(runnerUp), this.decision);
    const step = STEPS[i];
    return step ? { step: step.name, rule: step.rule } : { step: 'equal', rule: 'paths are identical; the first received stays best' };
  }

  /** The best path and every path equal to it up to (not including) the router-ID step: the ECMP set. */
  equalCost(slot: number): number[] {
    const best = this.bestPath[slot]!;
    if (best < 0) return [];
    const b = this.candidate(best);
    const out = [best];
    for (let p = this.head[slot]!; p >= 0; p = this.pNext[p]!) {
      if (p === best) continue;
      const [c, i] = decide(b, this.candidate(p), this.decision);
      if (c === 0 || i >= MULTIPATH_STEPS) out.push(p);
    }
    return out;
  }

  private emit(slot: number, oldBest: number, newBest: number): void {
    this.bestChanges++;
    for (const l of this.listeners) l(slot, oldBest, newBest);
  }

  private allocPath(): number {
    if (this.pathFree >= 0) {
      const p = this.pathFree;
      this.pathFree = this.pNext[p]!;
      return p;
    }
    const p = this.pathTop++;
    if (p >= this.pNext.length) {
      const n = this.pNext.length * 2;
      this.pPrefix = growU32(this.pPrefix, n);
      this.pPeer = growU16(this.pPeer, n);
      this.pAttr = growU32(this.pAttr, n);
      this.pId = growU32(this.pId, n);
      this.pStale = growU8(this.pStale, n);
      this.pNext = growI32(this.pNext, n, -1);
    }
    return p;
  }

  private freePath(p: number): void {
    this.pPeer[p] = 0xffff; // marks the entry dead for flushPeer's scan
    this.pNext[p] = this.pathFree;
    this.pathFree = p;
  }

  private isLive(p: number): boolean { return this.pPeer[p] !== 0xffff; }

  // ---- queries ---------------------------------------------------------------

  get countIPv4(): number { return this.prefixes.count4; }
  get countIPv6(): number { return this.prefixes.count6; }

  best(slot: number): number { return this.bestPath[slot]!; }
  pathsOf(slot: number): number[] {
    const out: number[] = [];
    for (let p = this.head[slot]!; p >= 0; p = this.pNext[p]!) out.push(p);
    return out;
  }
  pathPeer(p: number): number { return this.pPeer[p]!; }
  pathAttrs(p: number): PathAttrs { return this.attrs.get(this.pAttr[p]!); }
  pathAttrId(p: number): number { return this.pAttr[p]!; }
  pathId(p: number): number { return this.pId[p]!; }
  pathPrefix(p: number): number { return this.pPrefix[p]!; }

  isIPv4(slot: number): boolean { return this.prefixes.family[slot] === IPV4_UNICAST; }
}
