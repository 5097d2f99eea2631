// Kite's Linux dataplane: keeps the kernel's routes, tunl0 and workload interfaces in line with
// what Kite knows. The daemon feeds it inputs; it computes desired state, diffs it against kernel
// dumps and applies the minimal change. One apply runs at a time; bursts of updates coalesce.
//
// Composition API (the daemon wires it; see kernel.ts for the real side effects):
//   const dp = createDataplane({ ops, sysctl, clock, log, protocol?, table?, ... });
//   dp.update({ config, remote, workloads })  any subset of the inputs; schedules an apply
//   dp.setRemoteRoute(prefix, nextHops | null) one Loc-RIB prefix changed (null: withdrawn)
//   dp.markInSync()   datastore and BGP are in sync (first End-of-RIB from every peer, or the
//                     daemon's timeout): from now on, routes Kite owns but no longer wants are deleted
//   dp.linkChanged()  a link event: resync from a dump soon (also done every resyncIntervalMs)
//   await dp.resync() dump and apply now;  await dp.flush() apply pending work now
//   dp.status()       desired vs programmed routes with the reason for any difference (`kite show fib`)
//   dp.stop()         stops timers; routes stay in the kernel (a restart adopts them unchanged)
//
// Route protocol: Kite tags its routes with protocol 75 by default (configurable). It must differ
// from kernel 2, boot 3 (also the CNI plugin's pod routes), static 4, dhcp 16, zebra 11, bird 12,
// babel 42, openr 99, FRR 186-197, keepalived 18 — and from 80, which Felix's route tables use
// (RouteProtocol / the VXLAN manager): Felix may keep running next to Kite for policy, and two
// owners of one protocol number would delete each other's routes. Ownership: routes with that
// protocol, plus unicast routes on workload (cali*) interfaces; nothing else is ever changed.

import { computeLocal, conflict, ipipInUse, remoteContext, remoteRoute, type DesiredInputs, type DesiredRoute, type LocalState, type RemoteContext, type RemoteNextHop, type RemoteResult, type RouteSource, type UnprogrammedRoute } from './desired.js';
import { HostView } from './host.js';
import { formatRoute } from './route-key.js';
import { RouteTable, type ApplyResult } from './route-table.js';
import { planTunnel } from './tunnel.js';
import { hostSysctls, planWorkloads } from './workloads.js';
import { MAIN_TABLE, type Clock, type DpLog, type Family, type KernelOps, type KNeighbour, type Sysctl, type TimerHandle } from './types.js';

export const DEFAULT_ROUTE_PROTOCOL = 75;
export const DEFAULT_RESYNC_INTERVAL_MS = 90_000;
export const DEFAULT_WORKLOAD_GRACE_MS = 10_000;
/** Remote prefixes computed per slice of a large change (see applyOnce). */
export const DEFAULT_ROUTE_SLICE = 8192;

export interface DataplaneOptions {
  ops: KernelOps;
  sysctl: Sysctl;
  clock: Clock;
  log: DpLog;
  /** rtm_protocol on Kite's routes; default 75. */
  protocol?: number;
  /** Routing table; default main (254). */
  table?: number;
  resyncIntervalMs?: number;
  workloadGraceMs?: number;
  tunnelName?: string;
  /** Tunnel MTU; default the host NIC's MTU - 20 (1480 when the NIC is unknown). */
  tunnelMtu?: number;
  /** Interface name prefixes of workloads; default ["cali"]. */
  workloadInterfacePrefixes?: string[];
  /** First retry delay after a failed operation (doubles up to 30 s); default 1 s. */
  retryMs?: number;
  /** Remote prefixes computed per slice of a large change; default 8192. */
  routeSlice?: number;
}

export type FibState = 'programmed' | 'pending' | 'failed' | 'conflict' | 'stale' | 'refused' | 'waiting';

export interface FibRouteStatus {
  prefix: string;
  source: RouteSource | 'kernel';
  state: FibState;
  /** The route Kite wants, `ip route` style. */
  desired?: string;
  /** The route the kernel holds for the same key. */
  kernel?: string;
  reason: string;
}

export interface FibStatus {
  protocol: number;
  table: number;
  inSync: boolean;
  /** Clock time of the last full dump, or null before the first. */
  lastResync: number | null;
  routes: FibRouteStatus[];
  /** Current decisions (CrossSubnet subnet source, tunnel notes…). */
  notes: string[];
}

export interface Dataplane {
  update(inputs: Partial<DesiredInputs>): void;
  setRemoteRoute(prefix: string, nextHops: readonly RemoteNextHop[] | null): void;
  markInSync(): void;
  linkChanged(): void;
  resync(): Promise<void>;
  flush(): Promise<void>;
  status(): FibStatus;
  stop(): void;
}

export function createDataplane(opts: DataplaneOptions): Dataplane {
  return new LinuxDataplane(opts);
}

class LinuxDataplane implements Dataplane {
  private readonly protocol: number;
  private readonly table: number;
  private readonly tunnelName: string;
  private readonly prefixes: string[];
  private readonly routes: RouteTable;
  private config: DesiredInputs['config'];
  private remote = new Map<string, readonly RemoteNextHop[]>();
  private workloads: DesiredInputs['workloads'] = [];
  private host: HostView;
  private neighbours: KNeighbour[] = [];
  /** Workload interfaces whose sysctls are written: name -> ifindex. */
  private readonly configured = new Map<string, number>();
  private readonly hostSysctlsDone = new Set<string>();
  private inSync = false;
  private resyncNeeded = true;
  private lastResync: number | null = null;
  private notes: string[] = [];
  // Incremental computation: a Loc-RIB change recomputes only its prefix. Everything is
  // recomputed when what all prefixes depend on changes (config, workloads, host links and
  // addresses, the remote map as a whole); `full` says so.
  private full = true;
  private readonly remoteDirty = new Set<string>();
  /** Per remote prefix: the route key it holds in the route table, or why it has none. */
  private readonly remoteOut = new Map<string, RemoteResult>();
  /** Route key -> the remote prefix holding it, when the key is not that prefix's own text. */
  private readonly keyOwner = new Map<string, string>();
  private local: LocalState = { routes: new Map(), unprogrammed: [] };
  private ctx: RemoteContext | undefined;
  private hostSignature = '';
  private readonly logged = new Map<string, string>();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private kick: TimerHandle | undefined;
  private retry: TimerHandle | undefined;
  private wake: TimerHandle | undefined;
  private periodic: TimerHandle | undefined;
  private retryDelay: number;

  constructor(private readonly o: DataplaneOptions) {
    this.protocol = o.protocol ?? DEFAULT_ROUTE_PROTOCOL;
    this.table = o.table ?? MAIN_TABLE;
    this.tunnelName = o.tunnelName ?? 'tunl0';
    this.prefixes = o.workloadInterfacePrefixes ?? ['cali'];
    this.retryDelay = o.retryMs ?? 1000;
    this.host = this.newHost([], []);
    this.routes = new RouteTable({
      ops: o.ops,
      clock: o.clock,
      log: o.log,
      protocol: this.protocol,
      table: this.table,
      workloadGraceMs: o.workloadGraceMs ?? DEFAULT_WORKLOAD_GRACE_MS,
      isWorkloadIndex: (i) => this.host.isWorkloadIndex(i),
      ifName: (i) => this.host.nameOf(i),
    });
    this.armPeriodic();
  }

  private newHost(links: HostView['links'], addrs: HostView['addresses']): HostView {
    return new HostView(links, addrs, (n) => this.prefixes.some((p) => n.startsWith(p)), this.tunnelName);
  }

  // ---- inputs ----------------------------------------------------------------------------

  update(inputs: Partial<DesiredInputs>): void {
    if (inputs.config !== undefined) this.config = inputs.config;
    if (inputs.remote !== undefined) this.remote = new Map(inputs.remote);
    if (inputs.workloads !== undefined) this.workloads = inputs.workloads;
    this.full = true;
    this.schedule();
  }

  setRemoteRoute(prefix: string, nextHops: readonly RemoteNextHop[] | null): void {
    if (nextHops === null || nextHops.length === 0) this.remote.delete(prefix);
    else this.remote.set(prefix, nextHops);
    this.remoteDirty.add(prefix);
    this.schedule();
  }

  markInSync(): void {
    if (this.inSync) return;
    this.inSync = true;
    this.routes.allowPrune();
    this.o.log.info({}, 'dataplane: datastore and BGP in sync; routes Kite owns but no longer wants will now be deleted');
    this.schedule();
  }

  linkChanged(): void {
    this.resyncNeeded = true;
    this.schedule();
  }

  resync(): Promise<void> {
    this.resyncNeeded = true;
    return this.flush();
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.kick, this.retry, this.wake, this.periodic]) if (t !== undefined) this.o.clock.clearTimeout(t);
  }

  // ---- scheduling ------------------------------------------------------------------------

  private schedule(): void {
    if (this.stopped || this.kick !== undefined) return;
    this.kick = this.o.clock.setTimeout(() => {
      this.kick = undefined;
      void this.flush();
    }, 0);
  }

  private armPeriodic(): void {
    const every = this.o.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
    this.periodic = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.resyncNeeded = true;
      void this.flush();
      this.armPeriodic();
    }, every);
  }

  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        const ok = await this.applyOnce();
        if (ok) this.retryDelay = this.o.retryMs ?? 1000;
        else this.armRetry();
      } catch (e) {
        this.resyncNeeded = true;
        this.o.log.error({ err: e instanceof Error ? e.message : String(e) }, 'dataplane apply failed; resyncing from a dump');
        this.armRetry();
      }
    } while (this.again && !this.stopped);
  }

  private armRetry(): void {
    if (this.stopped || this.retry !== undefined) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(delay * 2, 30_000);
    this.retry = this.o.clock.setTimeout(() => {
      this.retry = undefined;
      void this.flush();
    }, delay);
  }

  // ---- one apply -------------------------------------------------------------------------

  private async dumpHost(): Promise<void> {
    const [links, addrs] = await Promise.all([this.o.ops.dumpLinks(), this.o.ops.dumpAddresses()]);
    this.host = this.newHost(links, addrs);
    for (const [name, index] of this.configured) if (this.host.link(name)?.index !== index) this.configured.delete(name);
    // Desired routes depend on links (index, name, up, MTU) and addresses; a periodic resync
    // that finds them unchanged does not recompute every route.
    const sig = links.map((l) => `${l.index}:${l.name}:${l.up ? 1 : 0}:${l.mtu}`).join(',') + '/' +
      addrs.map((a) => `${a.index}:${a.address}/${a.prefixLen}`).join(',');
    if (sig !== this.hostSignature) {
      this.hostSignature = sig;
      this.full = true;
    }
  }

  /** Returns false when something failed and a retry is due. */
  private async applyOnce(): Promise<boolean> {
    let ok = true;
    if (this.resyncNeeded) {
      this.resyncNeeded = false;
      await this.dumpHost();
      this.neighbours = await this.o.ops.dumpNeighbours();
      this.routes.requestResync();
      this.lastResync = this.o.clock.now();
    }
    const cfg = this.config;
    if (cfg === undefined) return true;
    const families = new Set<Family>([4]);
    if (cfg.ipv6Address !== undefined || cfg.pools.some((p) => p.family === 6)) families.add(6);
    ok = (await this.applyHostSysctls(families)) && ok;
    ok = (await this.applyTunnel()) && ok;

    // Large changes (a full table arriving) go in slices: the kernel installs one slice (on the
    // netlink thread) while the next is computed here, and BGP runs in between.
    const applies: Promise<ApplyResult>[] = [];
    for (;;) {
      this.computeRoutes(cfg, this.o.routeSlice ?? DEFAULT_ROUTE_SLICE);
      applies.push(this.routes.apply());
      if (this.remoteDirty.size === 0 || this.stopped) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    this.logNotes([...(this.ctx?.notes ?? []), ...this.tunnelNotes]);
    const res: ApplyResult = { adds: 0, replaces: 0, deletes: 0, failures: 0 };
    for (const r of await Promise.all(applies)) {
      res.adds += r.adds;
      res.replaces += r.replaces;
      res.deletes += r.deletes;
      res.failures += r.failures;
      if (r.wakeAt !== undefined) res.wakeAt = res.wakeAt === undefined ? r.wakeAt : Math.min(res.wakeAt, r.wakeAt);
      if (r.again) this.again = true;
    }
    if (res.failures > 0) ok = false;
    if (res.adds + res.replaces + res.deletes > 0) {
      this.o.log.info({ added: res.adds, replaced: res.replaces, deleted: res.deletes, failed: res.failures }, 'dataplane routes applied');
    }
    if (res.wakeAt !== undefined) this.armWake(res.wakeAt);
    if (this.routes.needsResync) this.resyncNeeded = true;

    ok = (await this.applyWorkloads()) && ok;
    return ok;
  }

  /** Brings the route table's desired set up to date: everything, or only the changed remote prefixes. */
  private computeRoutes(cfg: NonNullable<DesiredInputs['config']>, limit: number): void {
    const nic = cfg.ipv4Address ? this.host.holderOf(cfg.ipv4Address.address) : undefined;
    const tunnelMtu = this.o.tunnelMtu ?? (nic !== undefined ? nic.link.mtu - 20 : 1480);
    const opt = { protocol: this.protocol, table: this.table, tunnelName: this.tunnelName, tunnelMtu };
    if (this.full || this.ctx === undefined) {
      // Everything is recomputed, but remote prefixes go through the same sliced path as single
      // changes: each keeps its current route until its own recomputation replaces it, so a
      // full recompute never withdraws a route it is about to program again.
      this.full = false;
      const oldLocal = this.local;
      this.local = computeLocal(cfg, this.workloads, this.host, opt);
      this.ctx = remoteContext(cfg, this.host, opt);
      for (const [k, d] of oldLocal.routes) if (!this.local.routes.has(k)) this.routes.clearDesiredRoute(k, d);
      for (const [k, d] of this.local.routes) this.routes.setDesiredRoute(k, d);
      for (const prefix of this.remoteOut.keys()) this.remoteDirty.add(prefix);
      for (const prefix of this.remote.keys()) this.remoteDirty.add(prefix);
      const seen = new Set<string>();
      for (const u of this.local.unprogrammed) {
        const key = `${u.source} ${u.prefix}`;
        seen.add(key);
        this.logDecision(key, `${u.kind}: ${u.reason}`, 'route not programmed');
      }
      for (const u of oldLocal.unprogrammed) {
        const key = `${u.source} ${u.prefix}`;
        if (!seen.has(key)) this.logged.delete(key);
      }
    }
    let n = 0;
    for (const prefix of this.remoteDirty) {
      if (n++ >= limit) break;
      this.remoteDirty.delete(prefix);
      const before = this.remoteOut.get(prefix);
      const beforeKey = before !== undefined && 'key' in before ? before.key : undefined;
      if (beforeKey !== undefined && beforeKey !== prefix) this.keyOwner.delete(beforeKey);
      const hops = this.remote.get(prefix);
      const r = hops !== undefined ? this.remoteResult(prefix, hops) : undefined;
      const key = r !== undefined && 'key' in r ? r.key : undefined;
      // Only this prefix's own route is withdrawn: a local route may hold the key by now.
      if (beforeKey !== undefined && beforeKey !== key) this.routes.clearDesiredRoute(beforeKey, (before as { desired: DesiredRoute }).desired);
      const logBefore = before !== undefined && 'un' in before ? `${before.un.source} ${before.un.prefix}` : undefined;
      const logNow = r !== undefined && 'un' in r ? `${r.un.source} ${r.un.prefix}` : undefined;
      if (logBefore !== undefined && logBefore !== logNow) this.logged.delete(logBefore);
      if (r === undefined) {
        this.remoteOut.delete(prefix);
        continue;
      }
      this.remoteOut.set(prefix, r);
      if ('key' in r) {
        if (r.key !== prefix) this.keyOwner.set(r.key, prefix);
        this.routes.setDesiredRoute(r.key, r.desired);
      } else this.logDecision(logNow!, `${r.un.kind}: ${r.un.reason}`, 'route not programmed');
    }
  }

  /** One remote prefix, refused when a local route or another remote prefix holds its key. */
  private remoteResult(prefix: string, hops: readonly RemoteNextHop[]): RemoteResult {
    const r = remoteRoute(this.ctx!, prefix, hops);
    if ('un' in r) return r;
    const held = this.local.routes.get(r.key) ?? this.ownerRoute(r.key, prefix);
    return held !== undefined ? { un: conflict(r, held) } : r;
  }

  /** The route of the remote prefix (other than `self`) holding `key`, if any. */
  private ownerRoute(key: string, self: string): DesiredRoute | undefined {
    for (const p of [key, this.keyOwner.get(key)]) {
      if (p === undefined || p === self) continue;
      const r = this.remoteOut.get(p);
      if (r !== undefined && 'key' in r && r.key === key) return r.desired;
    }
    return undefined;
  }

  private unprogrammed(): FibRouteStatus[] {
    const us: UnprogrammedRoute[] = [...this.local.unprogrammed];
    for (const r of this.remoteOut.values()) if ('un' in r) us.push(r.un);
    return us.map((u) => ({ prefix: u.prefix, source: u.source, state: u.kind, reason: u.reason }));
  }

  private armWake(at: number): void {
    if (this.wake !== undefined) this.o.clock.clearTimeout(this.wake);
    this.wake = this.o.clock.setTimeout(() => {
      this.wake = undefined;
      void this.flush();
    }, Math.max(0, at - this.o.clock.now()));
  }

  private async applyHostSysctls(families: ReadonlySet<Family>): Promise<boolean> {
    let ok = true;
    for (const w of hostSysctls(families)) {
      if (this.hostSysctlsDone.has(w.path)) continue;
      try {
        await this.o.sysctl.write(w.path, w.value);
        this.hostSysctlsDone.add(w.path);
      } catch (e) {
        ok = false;
        this.o.log.error({ sysctl: w.path, err: e instanceof Error ? e.message : String(e) }, 'cannot enable forwarding');
      }
    }
    return ok;
  }

  private tunnelNotes: string[] = [];

  private async applyTunnel(): Promise<boolean> {
    const cfg = this.config!;
    const nic = cfg.ipv4Address ? this.host.holderOf(cfg.ipv4Address.address) : undefined;
    const mtu = this.o.tunnelMtu ?? (nic !== undefined ? nic.link.mtu - 20 : 1480);
    let ok = true;
    this.tunnelNotes = [];
    // Two rounds at most: a created link needs its index before it can get an address.
    for (let round = 0; round < 2; round++) {
      const link = this.host.link(this.tunnelName);
      const input = {
        name: this.tunnelName,
        needed: ipipInUse(cfg.pools),
        mtu,
        addresses: link ? this.host.addressesOn(link.index, 4) : [],
        allowRemove: this.inSync,
        ...(link !== undefined ? { link } : {}),
        ...(cfg.ipv4IPIPTunnelAddr !== undefined ? { address: cfg.ipv4IPIPTunnelAddr } : {}),
      };
      const plan = planTunnel(input);
      this.tunnelNotes.push(...plan.notes.filter((n) => !this.tunnelNotes.includes(n)));
      const results = [];
      if (plan.create) results.push(...(await this.o.ops.createLinks([plan.create])).map((r) => (r.ok || r.errno === 17 ? { ok: true as const } : r)));
      if (plan.set) results.push(...(await this.o.ops.setLinks([plan.set])));
      if (plan.deleteAddresses.length > 0) results.push(...(await this.o.ops.deleteAddresses(plan.deleteAddresses)));
      if (plan.addAddresses.length > 0) results.push(...(await this.o.ops.addAddresses(plan.addAddresses)));
      if (results.length === 0) break;
      for (const r of results) {
        if (!r.ok) {
          ok = false;
          this.o.log.error({ err: r.message }, `${this.tunnelName} change failed`);
        }
      }
      await this.dumpHost();
      if (!plan.create) break;
    }
    return ok;
  }

  private async applyWorkloads(): Promise<boolean> {
    const plan = planWorkloads(this.workloads, this.host, this.neighbours, this.configured, this.inSync);
    let ok = true;
    if (plan.setNeighbours.length > 0) {
      const rs = await this.o.ops.setNeighbours(plan.setNeighbours);
      plan.setNeighbours.forEach((n, i) => {
        const r = rs[i]!;
        if (r.ok) this.neighbours = [...this.neighbours.filter((x) => x.index !== n.index || x.address !== n.address), n];
        else {
          ok = false;
          this.o.log.warn({ err: r.message }, 'workload neighbour entry failed');
        }
      });
    }
    if (plan.deleteNeighbours.length > 0) {
      const rs = await this.o.ops.deleteNeighbours(plan.deleteNeighbours);
      plan.deleteNeighbours.forEach((n, i) => {
        const r = rs[i]!;
        if (r.ok || r.errno === 2) this.neighbours = this.neighbours.filter((x) => x !== n);
        else ok = false;
      });
    }
    const failedIfaces = new Set<string>();
    for (const w of plan.sysctls) {
      try {
        await this.o.sysctl.write(w.path, w.value);
      } catch (e) {
        ok = false;
        const name = w.path.split('/')[3] ?? '';
        failedIfaces.add(name);
        this.o.log.warn({ sysctl: w.path, err: e instanceof Error ? e.message : String(e) }, 'workload interface sysctl failed');
      }
    }
    for (const [name, index] of plan.configures) if (!failedIfaces.has(name)) this.configured.set(name, index);
    return ok;
  }

  // ---- logging and status ----------------------------------------------------------------

  /** One log line per new or changed decision, keyed (so a refused prefix is logged once, not every resync). */
  private logDecision(key: string, text: string, msg: string): void {
    if (this.logged.get(key) === text) return;
    this.logged.set(key, text);
    this.o.log.info({ route: key, why: text }, msg);
  }

  private logNotes(notes: readonly string[]): void {
    const fresh = new Set(notes);
    for (const n of notes) {
      if (!this.logged.has(`note:${n}`)) {
        this.logged.set(`note:${n}`, n);
        this.o.log.info({ note: n }, 'dataplane decision');
      }
    }
    for (const key of [...this.logged.keys()]) if (key.startsWith('note:') && !fresh.has(key.slice(5))) this.logged.delete(key);
    this.notes = [...notes];
  }

  status(): FibStatus {
    const name = (i: number): string | undefined => this.host.nameOf(i);
    const routes: FibRouteStatus[] = this.routes.status().map((e) => {
      const s: FibRouteStatus = { prefix: e.prefix, source: e.desired?.source ?? 'kernel', state: e.state, reason: e.reason };
      if (e.desired) s.desired = formatRoute(e.desired.route, name);
      if (e.kernel) s.kernel = formatRoute(e.kernel, name);
      return s;
    });
    routes.push(...this.unprogrammed());
    routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    return { protocol: this.protocol, table: this.table, inSync: this.inSync, lastResync: this.lastResync, routes, notes: this.notes };
  }
}
