// The routes manager: turns remote routes, this node's blocks and workloads into desired kernel
// routes on the shared RouteTable, incrementally — a Loc-RIB change recomputes only its prefix;
// everything is recomputed only when what all prefixes depend on changes (config, workloads,
// host links and addresses, the remote map as a whole). Large changes go in slices of
// `routeSlice` prefixes whose table applies overlap. Refusals and conflicts are kept with their
// reasons for status, and logged once per decision.

import { computeLocal, conflict, remoteContext, remoteRoute, type DesiredRoute, type LocalState, type RemoteContext, type RemoteResult, type UnprogrammedRoute } from './desired.js';
import type { HostView } from './host.js';
import type { DataplaneConfig, LocalWorkload, RemoteNextHop } from './inputs.js';
import type { DataplaneUpdate, Manager } from './manager.js';
import type { Prefix } from '../net/index.js';
import { formatRoute, keyPrefix, prefixKey, type RouteKey } from './route-key.js';
import { RouteTable, type ApplyResult } from './route-table.js';
import type { ApplyOutcome, Scheduler } from './scheduler.js';
import type { FibRouteStatus, RouteCounts } from './status.js';
import { tunnelMtu } from './tunnel.js';
import type { Clock, DpLog, KernelOps } from './types.js';

export interface RoutesManagerOptions {
  ops: KernelOps;
  clock: Clock;
  log: DpLog;
  scheduler: Scheduler;
  protocol: number;
  table: number;
  tunnelName: string;
  /** Configured tunnel MTU (else derived from the host NIC, see tunnelMtu). */
  tunnelMtu: number | undefined;
  workloadGraceMs: number;
  /** Remote prefixes computed per slice. */
  routeSlice: number;
  host: HostView;
  /** Felix programs the workload routes: none is desired here, and none on a workload interface is ours. */
  leaveWorkloads?: boolean;
}

export class RoutesManager implements Manager {
  private readonly table: RouteTable;
  private config: DataplaneConfig | undefined;
  /**
   * Loc-RIB prefixes by key (prefixKey: a number for IPv4, canonical text for IPv6) with their
   * next hops. The key says the prefix (keyPrefix), so no Prefix object is kept per route: at a
   * million routes that is ~50 MB.
   */
  private remote = new Map<RouteKey, readonly RemoteNextHop[]>();
  private workloads: readonly LocalWorkload[] = [];
  private host: HostView;
  private hostSignature = '';
  /** Everything is recomputed at the next apply. */
  private full = true;
  private readonly remoteDirty = new Set<RouteKey>();
  /** Per remote prefix key: the route key it holds in the route table, or why it has none. */
  private readonly remoteOut = new Map<RouteKey, RemoteResult>();
  /** Route key -> the remote prefix key holding it, when the two differ (a metric from setPriority). */
  private readonly keyOwner = new Map<RouteKey, RouteKey>();
  private local: LocalState = { routes: new Map(), unprogrammed: [] };
  private ctx: RemoteContext | undefined;
  /** Unprogrammed route ("remote 0.0.0.0/0") -> the decision last logged for it. */
  private readonly logged = new Map<string, string>();

  constructor(private readonly o: RoutesManagerOptions) {
    this.host = o.host;
    this.table = new RouteTable({
      ops: o.ops,
      clock: o.clock,
      log: o.log,
      protocol: o.protocol,
      table: o.table,
      workloadGraceMs: o.workloadGraceMs,
      isWorkloadIndex: (i) => this.host.isWorkloadIndex(i),
      ifName: (i) => this.host.nameOf(i),
      ...(o.leaveWorkloads === true ? { leaveWorkloadInterfaces: true } : {}),
    });
  }

  /** Decisions worth a line in status and the log (how CrossSubnet decides "same subnet"…). */
  get notes(): readonly string[] {
    return this.ctx?.notes ?? [];
  }

  onUpdate(u: DataplaneUpdate): void {
    switch (u.kind) {
      case 'remote': {
        const key = prefixKey(u.prefix);
        if (u.hops === null || u.hops.length === 0) this.remote.delete(key);
        else this.remote.set(key, u.hops);
        this.remoteDirty.add(key);
        return;
      }
      case 'remoteAll':
        this.remote = new Map();
        for (const [prefix, hops] of u.routes) this.remote.set(prefixKey(prefix), hops);
        this.full = true;
        return;
      case 'config':
        this.config = u.config;
        this.full = true;
        return;
      case 'workloads':
        this.workloads = u.workloads;
        this.full = true;
        return;
      case 'host':
        this.host = u.host;
        if (u.host.signature !== this.hostSignature) {
          this.hostSignature = u.host.signature;
          this.full = true;
        }
        return;
      case 'resync':
        this.table.requestResync();
        return;
      case 'inSync':
        this.table.allowPrune();
        return;
    }
  }

  async apply(): Promise<ApplyOutcome> {
    const cfg = this.config;
    if (cfg === undefined) return { ok: true };
    const applies: Promise<ApplyResult>[] = [];
    await this.o.scheduler.slices(() => {
      this.computeRoutes(cfg, this.o.routeSlice);
      applies.push(this.table.apply());
      return this.remoteDirty.size > 0;
    });
    const res: ApplyResult = { adds: 0, replaces: 0, deletes: 0, failures: 0 };
    const out: ApplyOutcome = { ok: true };
    for (const r of await Promise.all(applies)) {
      res.adds += r.adds;
      res.replaces += r.replaces;
      res.deletes += r.deletes;
      res.failures += r.failures;
      if (r.wakeAt !== undefined) out.wakeAt = out.wakeAt === undefined ? r.wakeAt : Math.min(out.wakeAt, r.wakeAt);
      if (r.again === true) out.again = true;
    }
    if (res.failures > 0) out.ok = false;
    if (res.adds + res.replaces + res.deletes > 0) {
      this.o.log.info({ added: res.adds, replaced: res.replaces, deleted: res.deletes, failed: res.failures }, 'dataplane routes applied');
    }
    if (this.table.needsResync) out.resync = true;
    return out;
  }

  /** Brings the route table's desired set up to date: everything, or only the changed remote prefixes (at most `limit`). */
  private computeRoutes(cfg: DataplaneConfig, limit: number): void {
    if (this.full || this.ctx === undefined) {
      // Everything is recomputed, but remote prefixes go through the same sliced path as single
      // changes: each keeps its current route until its own recomputation replaces it, so a
      // full recompute never withdraws a route it is about to program again.
      this.full = false;
      const opt = { protocol: this.o.protocol, table: this.o.table, tunnelName: this.o.tunnelName, tunnelMtu: tunnelMtu(this.o.tunnelMtu, this.host, cfg) };
      const oldLocal = this.local;
      this.local = computeLocal(cfg, this.o.leaveWorkloads === true ? [] : this.workloads, this.host, opt);
      this.ctx = remoteContext(cfg, this.host, opt);
      for (const [k, d] of oldLocal.routes) if (!this.local.routes.has(k)) this.table.clearDesiredRoute(k, d);
      for (const [k, d] of this.local.routes) this.table.setDesiredRoute(k, d);
      for (const prefix of this.remoteOut.keys()) this.remoteDirty.add(prefix);
      for (const prefix of this.remote.keys()) this.remoteDirty.add(prefix);
      const seen = new Set<string>();
      for (const u of this.local.unprogrammed) {
        const key = `${u.source} ${u.prefix}`;
        seen.add(key);
        this.logDecision(key, `${u.kind}: ${u.reason}`);
      }
      for (const u of oldLocal.unprogrammed) {
        const key = `${u.source} ${u.prefix}`;
        if (!seen.has(key)) this.logged.delete(key);
      }
    }
    let n = 0;
    for (const pk of this.remoteDirty) {
      if (n++ >= limit) break;
      this.remoteDirty.delete(pk);
      const before = this.remoteOut.get(pk);
      const beforeKey = before !== undefined && 'key' in before ? before.key : undefined;
      if (beforeKey !== undefined && beforeKey !== pk) this.keyOwner.delete(beforeKey);
      const hops = this.remote.get(pk);
      const r = hops !== undefined ? this.remoteResult(pk, keyPrefix(pk), hops) : undefined;
      const key = r !== undefined && 'key' in r ? r.key : undefined;
      // Only this prefix's own route is withdrawn: a local route may hold the key by now.
      if (beforeKey !== undefined && beforeKey !== key) this.table.clearDesiredRoute(beforeKey, (before as { desired: DesiredRoute }).desired);
      const logBefore = before !== undefined && 'un' in before ? `${before.un.source} ${before.un.prefix}` : undefined;
      const logNow = r !== undefined && 'un' in r ? `${r.un.source} ${r.un.prefix}` : undefined;
      if (logBefore !== undefined && logBefore !== logNow) this.logged.delete(logBefore);
      if (r === undefined) {
        this.remoteOut.delete(pk);
        continue;
      }
      this.remoteOut.set(pk, r);
      if ('key' in r) {
        if (r.key !== pk) this.keyOwner.set(r.key, pk);
        this.table.setDesiredRoute(r.key, r.desired);
      } else this.logDecision(logNow!, `${r.un.kind}: ${r.un.reason}`);
    }
  }

  /** One remote prefix, refused when a local route or another remote prefix holds its key. */
  private remoteResult(pk: RouteKey, prefix: Prefix, hops: readonly RemoteNextHop[]): RemoteResult {
    const r = remoteRoute(this.ctx!, prefix, hops);
    if ('un' in r) return r;
    const held = this.local.routes.get(r.key) ?? this.ownerRoute(r.key, pk);
    return held !== undefined ? { un: conflict(r, held) } : r;
  }

  /** The route of the remote prefix (other than `self`) holding `key`, if any. */
  private ownerRoute(key: RouteKey, self: RouteKey): DesiredRoute | undefined {
    for (const p of [key, this.keyOwner.get(key)]) {
      if (p === undefined || p === self) continue;
      const r = this.remoteOut.get(p);
      if (r !== undefined && 'key' in r && r.key === key) return r.desired;
    }
    return undefined;
  }

  /** One log line per new or changed decision (a refused prefix is logged once, not every resync). */
  private logDecision(key: string, text: string): void {
    if (this.logged.get(key) === text) return;
    this.logged.set(key, text);
    this.o.log.info({ route: key, why: text }, 'route not programmed');
  }

  /** status()'s states and refusal codes, counted without its text (the metrics, at every scrape). */
  counts(): RouteCounts {
    const byState = new Map<string, number>(this.table.counts());
    const refused = new Map<string, number>();
    const count = (u: UnprogrammedRoute): void => {
      byState.set(u.kind, (byState.get(u.kind) ?? 0) + 1);
      if (u.kind === 'refused') refused.set(u.code ?? 'other', (refused.get(u.code ?? 'other') ?? 0) + 1);
    };
    for (const u of this.local.unprogrammed) count(u);
    for (const r of this.remoteOut.values()) if ('un' in r) count(r.un);
    return { byState, refused };
  }

  /** Every desired and owned kernel route with its state, then every route not programmed and why. */
  status(): FibRouteStatus[] {
    const name = (i: number): string | undefined => this.host.nameOf(i);
    const out: FibRouteStatus[] = this.table.status().map((e) => {
      const s: FibRouteStatus = { prefix: e.prefix, source: e.desired?.source ?? 'kernel', state: e.state, reason: e.reason };
      if (e.desired) s.desired = formatRoute(e.desired.route, name);
      if (e.kernel) s.kernel = formatRoute(e.kernel, name);
      return s;
    });
    const us: UnprogrammedRoute[] = [...this.local.unprogrammed];
    for (const r of this.remoteOut.values()) if ('un' in r) us.push(r.un);
    for (const u of us) out.push({ prefix: u.prefix, source: u.source, state: u.kind, reason: u.reason, ...(u.code ? { code: u.code } : {}) });
    return out;
  }
}
