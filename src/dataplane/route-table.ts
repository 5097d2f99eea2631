// The route reconciler, in Felix's delta-tracker style: desired routes and the kernel's routes
// side by side, keyed as the kernel keys them, with a set of dirty keys. A resync replaces the
// kernel view with a full dump and dirties everything; apply walks only dirty keys and issues the
// minimal batch (add, replace, delete). Ownership is explicit (routeOwned): a route carrying
// Kite's protocol number, or any route on a workload (cali*) interface. Nothing is pruned before
// the caller says the inputs are complete (BIRD's kernel protocol: prune after the initial feed).

import { deleteSpecOf, formatRoute, routeKey, routesEqual, type RouteKey } from './route-key.js';
import type { DesiredRoute } from './desired.js';
import type { Clock, DpLog, KernelOps, KRoute, OpResult } from './types.js';

/** RTPROT_KERNEL (linux/rtnetlink.h): routes the kernel installs for interface addresses. */
const RTPROT_KERNEL = 2;
/** RTPROT_BIRD: what calico-node's BIRD tags its kernel routes with (migration adopts them). */
export const RTPROT_BIRD = 12;
/** Batches larger than this are logged as counts (by the caller), not route by route. */
const PER_ROUTE_LOG_MAX = 256;

export interface RouteTableOptions {
  ops: KernelOps;
  clock: Clock;
  log: DpLog;
  protocol: number;
  table: number;
  /** How long an owned route on a workload interface may stay undesired (the CNI plugin adds the
   *  pod route before the datastore tells us about the workload; Felix waits 10 s too). */
  workloadGraceMs: number;
  isWorkloadIndex(index: number | undefined): boolean;
  ifName(index: number): string | undefined;
  /**
   * Route protocols whose routes Kite takes over where it wants the same prefix (migration from
   * calico-node: BIRD's 12). Taken over in place (replace) when the key matches; a route at
   * another metric (BIRD's kernel metric) is deleted only after Kite's own route for the prefix is
   * in. Routes of these protocols that Kite does not want are never touched. Default [12].
   */
  adoptProtocols?: readonly number[];
  /**
   * Felix programs the workload routes (--workload-routes felix): a route on a workload interface
   * is never Kite's, whatever its protocol, so it is never replaced or deleted.
   */
  leaveWorkloadInterfaces?: boolean;
}

export const RouteState = {
  Programmed: 'programmed',
  Pending: 'pending',
  Failed: 'failed',
  Conflict: 'conflict',
  Stale: 'stale',
} as const;
export type RouteState = (typeof RouteState)[keyof typeof RouteState];

export interface RouteEntryStatus {
  key: RouteKey;
  prefix: string;
  desired?: DesiredRoute;
  kernel?: KRoute;
  state: RouteState;
  reason: string;
}

export interface ApplyResult {
  adds: number;
  replaces: number;
  deletes: number;
  failures: number;
  /** Earliest time (clock ms) at which deferred work (a grace period) falls due. */
  wakeAt?: number;
  /** A dirty key was left to an operation in flight: apply again once this one is answered. */
  again?: boolean;
}

export class RouteTable {
  private readonly desired = new Map<RouteKey, DesiredRoute>();
  /** The kernel's routes in our table, as of the last dump plus our successful operations. */
  private readonly kernel = new Map<RouteKey, KRoute>();
  private readonly dirty = new Set<RouteKey>();
  /** Keys with an operation issued and not yet answered. */
  private readonly inflight = new Set<RouteKey>();
  private readonly failures = new Map<RouteKey, string>();
  /** Workload-interface routes seen undesired, since when (clock ms). */
  private readonly undesiredSince = new Map<RouteKey, number>();
  private resyncPending = true;
  private prunable = false;
  private readonly adopt: ReadonlySet<number>;
  /** Adoptable kernel routes (BIRD's) by prefix text ("10.244.1.0/26"): empty unless migrating. */
  private readonly siblings = new Map<string, RouteKey[]>();
  /** Prefixes of those whose route from Kite is in the kernel: theirs may go now. */
  private readonly adoptReady = new Set<string>();

  constructor(private readonly o: RouteTableOptions) {
    this.adopt = new Set(o.adoptProtocols ?? [RTPROT_BIRD]);
  }

  /** A route another daemon (BIRD) left that Kite replaces where it wants the prefix. */
  adoptable(k: KRoute): boolean {
    return this.adopt.has(k.protocol) && k.protocol !== this.o.protocol;
  }

  /** Kite's route `r` is in the kernel: other daemons' routes for its prefix (at any metric) may go. */
  private landed(r: KRoute): boolean {
    if (this.siblings.size === 0) return false;
    const text = `${r.dst}/${r.dstLen}`;
    const sibs = this.siblings.get(text);
    if (sibs === undefined || this.adoptReady.has(text)) return false;
    this.adoptReady.add(text);
    let any = false;
    for (const key of sibs) if (this.kernel.has(key)) { this.dirty.add(key); any = true; }
    return any;
  }

  /** Set or clear one desired route; the key becomes dirty only when the route changed. */
  setDesiredRoute(key: RouteKey, d: DesiredRoute | undefined): void {
    const old = this.desired.get(key);
    if (d === undefined) {
      if (old === undefined) return;
      this.desired.delete(key);
      this.dirty.add(key);
      return;
    }
    if (old === undefined || !routesEqual(old.route, d.route)) this.dirty.add(key);
    this.desired.set(key, d);
  }

  /** Clear the desired route at `key` if it is still `d` (another source may hold the key now). */
  clearDesiredRoute(key: RouteKey, d: DesiredRoute): void {
    if (this.desired.get(key) === d) this.setDesiredRoute(key, undefined);
  }

  /** The next apply dumps the kernel first. */
  requestResync(): void {
    this.resyncPending = true;
  }

  get needsResync(): boolean {
    return this.resyncPending;
  }

  /** Allow deletes from now on (datastore and BGP in sync); revisit every kernel route. */
  allowPrune(): void {
    if (this.prunable) return;
    this.prunable = true;
    for (const k of this.kernel.keys()) this.dirty.add(k);
  }

  /** True when a kernel route may be changed or deleted by Kite. */
  owned(k: KRoute): boolean {
    if (this.o.leaveWorkloadInterfaces === true && this.onWorkloadInterface(k)) return false;
    if (k.protocol === this.o.protocol) return true;
    // Workload routes on cali* interfaces are Calico's by interface, whatever their protocol
    // (the CNI plugin installs them with proto boot) — except the kernel's own (proto kernel):
    // the fe80::/64 every IPv6 interface gets, and prefix routes of addresses on the link.
    if (k.type !== 'unicast' || k.protocol === RTPROT_KERNEL) return false;
    return this.onWorkloadInterface(k);
  }

  private onWorkloadInterface(k: KRoute): boolean {
    if (k.multipath !== undefined && k.multipath.length > 0) return k.multipath.every((n) => this.o.isWorkloadIndex(n.oif));
    return this.o.isWorkloadIndex(k.oif);
  }

  async resync(): Promise<void> {
    const dumped = await this.o.ops.dumpRoutes({ table: this.o.table });
    this.kernel.clear();
    this.siblings.clear();
    this.adoptReady.clear();
    for (const r of dumped) {
      if (r.table !== this.o.table) continue;
      const key = routeKey(r);
      this.kernel.set(key, r);
      if (!this.adoptable(r)) continue;
      const text = `${r.dst}/${r.dstLen}`;
      this.siblings.set(text, [...(this.siblings.get(text) ?? []), key]);
    }
    for (const k of this.kernel.keys()) this.dirty.add(k);
    for (const k of this.desired.keys()) this.dirty.add(k);
    this.resyncPending = false;
  }

  /**
   * Issue the operations the dirty keys need and resolve when the kernel has answered them.
   * Applies may overlap (the dataplane issues the next slice while the kernel works on the
   * previous one): every operation is issued before the first await, and a key with an
   * operation in flight is left to that operation.
   */
  async apply(): Promise<ApplyResult> {
    if (this.resyncPending) await this.resync();
    const now = this.o.clock.now();
    const adds: KRoute[] = [];
    const addKeys: RouteKey[] = [];
    const replaces: KRoute[] = [];
    const replaceKeys: RouteKey[] = [];
    const deletes: KRoute[] = [];
    const deleteKeys: RouteKey[] = [];
    let wakeAt: number | undefined;
    let again = false;
    for (const key of this.dirty) {
      if (this.inflight.has(key)) {
        again = true;
        continue;
      }
      const d = this.desired.get(key)?.route;
      const k = this.kernel.get(key);
      if (d !== undefined) {
        this.undesiredSince.delete(key);
        if (k === undefined) {
          adds.push(d);
          addKeys.push(key);
          this.inflight.add(key);
        } else if (routesEqual(d, k)) {
          this.settle(key);
          this.landed(d); // siblings it dirties are visited later in this same walk
        } else if (this.owned(k) || this.adoptable(k)) {
          replaces.push(d);
          replaceKeys.push(key);
          this.inflight.add(key);
        } else this.settle(key); // foreign route holds the key: never touched; status says so
        continue;
      }
      if (k !== undefined && this.adoptable(k) && this.adoptReady.has(`${k.dst}/${k.dstLen}`)) {
        // BIRD's route at another metric for a prefix Kite's own route now serves: never deleted first.
        deletes.push(k);
        deleteKeys.push(key);
        this.inflight.add(key);
        continue;
      }
      if (k === undefined || !this.owned(k)) {
        this.undesiredSince.delete(key);
        this.settle(key);
        continue;
      }
      if (!this.prunable) continue; // stays dirty until allowPrune()
      if (this.o.isWorkloadIndex(k.oif)) {
        const since = this.undesiredSince.get(key) ?? now;
        this.undesiredSince.set(key, since);
        if (now - since < this.o.workloadGraceMs) {
          const due = since + this.o.workloadGraceMs;
          wakeAt = wakeAt === undefined ? due : Math.min(wakeAt, due);
          continue;
        }
      }
      deletes.push(k);
      deleteKeys.push(key);
      this.inflight.add(key);
    }

    const res: ApplyResult = { adds: 0, replaces: 0, deletes: 0, failures: 0 };
    if (wakeAt !== undefined) res.wakeAt = wakeAt;
    if (again) res.again = true;
    // All three are queued now, in this order, on one netlink socket (which keeps order).
    const deleted = deletes.length > 0 ? this.o.ops.deleteRoutes(deletes.map(deleteSpecOf)) : undefined;
    const added = adds.length > 0 ? this.o.ops.addRoutes(adds) : undefined;
    const replaced = replaces.length > 0 ? this.o.ops.replaceRoutes(replaces) : undefined;
    if (deleted !== undefined) {
      const results = await deleted;
      deletes.forEach((k, i) => {
        const r = results[i]!;
        const key = deleteKeys[i]!;
        this.inflight.delete(key);
        // ESRCH: already gone (the interface went away and took it along), which is what we wanted.
        if (r.ok || r.errno === 3) {
          if (this.kernel.get(key) === k) this.kernel.delete(key);
          if (this.adoptable(k)) this.o.log.info({ route: formatRoute(k, this.o.ifName) }, 'route adopted: Kite\'s own route for the prefix is in, the other daemon\'s is removed');
          this.undesiredSince.delete(key);
          if (!this.desired.has(key)) this.settle(key); // wanted again meanwhile: stays dirty
          res.deletes++;
          if (deletes.length <= PER_ROUTE_LOG_MAX) this.o.log.info({ route: formatRoute(k, this.o.ifName) }, 'route deleted');
        } else this.fail(key, r, res);
      });
    }
    for (const [op, list, keys, pending] of [['add', adds, addKeys, added], ['replace', replaces, replaceKeys, replaced]] as const) {
      if (pending === undefined) continue;
      const results = await pending;
      list.forEach((d, i) => {
        const r = results[i]!;
        const key = keys[i]!;
        this.inflight.delete(key);
        if (r.ok) {
          this.kernel.set(key, d);
          // Settled only if this is still the route wanted (it may have changed meanwhile).
          if (this.desired.get(key)?.route === d) this.settle(key);
          if (op === 'add') res.adds++;
          else res.replaces++;
          // Kite's route is in: BIRD's routes for the prefix at other metrics may go now.
          if (this.landed(d)) res.again = true;
          // Per-route lines only for small batches: formatting 100k routes costs more than adding them.
          if (list.length <= PER_ROUTE_LOG_MAX) this.o.log.debug({ route: formatRoute(d, this.o.ifName) }, op === 'add' ? 'route added' : 'route replaced');
        } else {
          // EEXIST on add: someone installed a route under this key since our view was taken.
          if (op === 'add' && r.errno === 17) this.resyncPending = true;
          this.fail(key, r, res);
        }
      });
    }
    return res;
  }

  private settle(key: RouteKey): void {
    this.dirty.delete(key);
    this.failures.delete(key);
  }

  private fail(key: RouteKey, r: Extract<OpResult, { ok: false }>, res: ApplyResult): void {
    res.failures++;
    if (this.failures.get(key) !== r.message) this.o.log.warn({ err: r.message }, 'route operation failed; will retry');
    this.failures.set(key, r.message);
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** How many routes status() would report in each state, without building its text (the metrics read it at every scrape). */
  counts(): Map<RouteState, number> {
    const out = new Map<RouteState, number>();
    for (const key of this.statusKeys()) {
      const st = this.stateOf(key, this.desired.get(key), this.kernel.get(key));
      out.set(st, (out.get(st) ?? 0) + 1);
    }
    return out;
  }

  /** The keys status() reports: every desired route and every owned kernel route. */
  private *statusKeys(): Iterable<RouteKey> {
    yield* this.desired.keys();
    for (const [k, r] of this.kernel) if (this.owned(r) && !this.desired.has(k)) yield k;
  }

  private stateOf(key: RouteKey, d: DesiredRoute | undefined, k: KRoute | undefined): RouteState {
    const failed = this.failures.has(key);
    if (d === undefined) return failed ? RouteState.Failed : RouteState.Stale;
    if (k !== undefined && routesEqual(d.route, k)) return RouteState.Programmed;
    if (failed) return RouteState.Failed;
    if (k !== undefined && !this.owned(k) && !this.adoptable(k)) return RouteState.Conflict;
    return RouteState.Pending;
  }

  private reasonOf(state: RouteState, key: RouteKey, d: DesiredRoute | undefined, k: KRoute | undefined, now: number): string {
    switch (state) {
      case RouteState.Programmed: return d?.why ?? '';
      case RouteState.Failed: return this.failures.get(key) ?? '';
      case RouteState.Conflict:
        return `the kernel holds a route for this prefix with protocol ${k?.protocol}, not Kite's ${this.o.protocol}; Kite never changes routes it does not own`;
      case RouteState.Pending: return k === undefined ? 'not in the kernel yet' : 'the kernel route differs; replace pending';
      case RouteState.Stale: {
        const since = this.undesiredSince.get(key);
        return !this.prunable
          ? 'no longer desired; not deleted before the datastore and BGP are in sync'
          : since !== undefined
            ? `no longer desired; workload interface grace period, ${Math.max(0, Math.ceil((since + this.o.workloadGraceMs - now) / 1000))} s left`
            : 'no longer desired; delete pending';
      }
    }
  }

  /** Every desired route and every owned kernel route, with its state and the reason for any difference. */
  status(): RouteEntryStatus[] {
    const now = this.o.clock.now();
    const out: RouteEntryStatus[] = [];
    for (const key of this.statusKeys()) {
      const d = this.desired.get(key);
      const k = this.kernel.get(key);
      const r = (d?.route ?? k)!;
      const state = this.stateOf(key, d, k);
      const e: RouteEntryStatus = { key, prefix: `${r.dst}/${r.dstLen}`, state, reason: this.reasonOf(state, key, d, k, now) };
      if (d !== undefined) e.desired = d;
      if (k !== undefined) e.kernel = k;
      out.push(e);
    }
    // In key text order ("10.244.2.0/26" before "10.244.2.0/26|m512"); a numeric key's text is its prefix.
    const text = (e: RouteEntryStatus): string => (typeof e.key === 'number' ? e.prefix : e.key);
    return out.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
  }
}
