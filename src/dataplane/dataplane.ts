// Kite's Linux dataplane: keeps the kernel's routes, tunl0 and workload interfaces in line with
// what Kite knows. A thin composition, as in Felix: four managers (routes, tunnel, VXLAN, workloads)
// buffer typed updates and apply them; one scheduler drives them (one apply at a time, bursts
// coalesced, retries, slices); this file owns the host view they share, and status.
//
// Composition API (the daemon wires it; see kernel.ts for the real side effects):
//   const dp = createDataplane({ ops, sysctl, clock, log, protocol?, table?, ... });
//   dp.update({ config, remote, workloads })  any subset of the inputs; schedules an apply
//   dp.setRemoteRoute(prefix, nextHops | null) one Loc-RIB prefix (a net Prefix) changed (null: withdrawn)
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
//
// Workload routes: with `workloadRoutes: 'felix'` (a node that keeps Felix, docs/migrate.md) Kite
// leaves the workload interfaces to Felix altogether: no /32 or /128 route on them, no neighbour
// entry, no per-interface sysctl, and no route on them is ever Kite's, whatever its protocol
// (Felix writes them with its DeviceRouteProtocol, RTPROT_BOOT by default). Two owners of one
// route would replace each other's at every resync.

import type { Prefix } from '../net/index.js';
import { HostView } from './host.js';
import { ignoredInterfaces } from './ignored.js';
import type { DataplaneInputs, RemoteNextHop } from './inputs.js';
import type { DataplaneUpdate, Manager } from './manager.js';
import { RoutesManager } from './routes-manager.js';
import { Scheduler, type ApplyOutcome } from './scheduler.js';
import type { FibRouteStatus, FibStatus, RouteCounts } from './status.js';
import { TunnelManager } from './tunnel-manager.js';
import { VxlanManager } from './vxlan-manager.js';
import { MAIN_TABLE, type Clock, type DpLog, type KernelOps, type Sysctl } from './types.js';
import { WorkloadsManager } from './workloads-manager.js';

export type { FibRouteStatus, FibState, FibStatus, RouteCounts } from './status.js';

export const DEFAULT_ROUTE_PROTOCOL = 75;

/** Who programs the workload interfaces' routes, neighbour entries and sysctls. */
export const WorkloadRoutes = { Kite: 'kite', Felix: 'felix' } as const;
export type WorkloadRoutes = (typeof WorkloadRoutes)[keyof typeof WorkloadRoutes];
export const DEFAULT_RESYNC_INTERVAL_MS = 90_000;
export const DEFAULT_WORKLOAD_GRACE_MS = 10_000;
/** Remote prefixes computed per slice of a large change (see RoutesManager.apply). */
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
  /** VXLAN device MTU per family; default the host NIC's MTU - 50 (IPv4), - 70 (IPv6). */
  vxlanMtu?: Partial<Record<4 | 6, number>>;
  /** Interface name prefixes of workloads; default ["cali"]. */
  workloadInterfacePrefixes?: string[];
  /** Who programs workload routes, neighbours and interface sysctls: Kite (default) or Felix. */
  workloadRoutes?: WorkloadRoutes;
  /** First retry delay after a failed operation (doubles up to 30 s); default 1 s. */
  retryMs?: number;
  /** Remote prefixes computed per slice of a large change; default 8192. */
  routeSlice?: number;
  /** Told how long each apply took (seconds) and whether it succeeded (the metrics' histogram). */
  onApplied?(seconds: number, ok: boolean): void;
}

export interface Dataplane {
  update(inputs: Partial<DataplaneInputs>): void;
  setRemoteRoute(prefix: Prefix, nextHops: readonly RemoteNextHop[] | null): void;
  markInSync(): void;
  /** A link or address event that may have taken kernel routes along: resync from a dump soon. */
  linkChanged(): void;
  /**
   * A link or address event that cannot have removed a route (a link added, renamed, its MTU or
   * flags changed; an address added): re-read links and addresses, without dumping the routes
   * (issue 16: a dump of 100,000 routes costs ~0.5 s of CPU, and pods' interfaces come and go).
   */
  hostChanged(): void;
  resync(): Promise<void>;
  flush(): Promise<void>;
  status(): FibStatus;
  /** status()'s route states and refusal codes, counted (cheap enough for every metrics scrape). */
  counts(): RouteCounts;
  /** Clock time the apply in flight started, null when idle (health: a hung apply is not live). */
  busySince(): number | null;
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
  private readonly scheduler: Scheduler;
  private readonly routes: RoutesManager;
  private readonly tunnel: TunnelManager;
  private readonly vxlan: VxlanManager;
  private readonly workloads: WorkloadsManager;
  private readonly managers: readonly Manager[];
  private hasConfig = false;
  private inSync = false;
  private resyncNeeded = true;
  /** Links and addresses to re-read before the next apply (no route dump). */
  private hostRefreshNeeded = false;
  private lastResync: number | null = null;
  private notes: string[] = [];
  private ignored: (name: string) => boolean = () => false;
  private ignoredGlobs = '';
  private readonly loggedNotes = new Set<string>();

  constructor(private readonly o: DataplaneOptions) {
    this.protocol = o.protocol ?? DEFAULT_ROUTE_PROTOCOL;
    this.table = o.table ?? MAIN_TABLE;
    this.tunnelName = o.tunnelName ?? 'tunl0';
    this.prefixes = o.workloadInterfacePrefixes ?? ['cali'];
    const host = this.newHost([], []);
    this.scheduler = new Scheduler({
      clock: o.clock,
      log: o.log,
      retryMs: o.retryMs ?? 1000,
      resyncIntervalMs: o.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS,
      apply: () => this.applyOnce(),
      ...(o.onApplied ? { onApplied: o.onApplied } : {}),
      resyncDue: () => {
        this.resyncNeeded = true;
      },
    });
    this.routes = new RoutesManager({
      ops: o.ops, clock: o.clock, log: o.log, scheduler: this.scheduler, host,
      protocol: this.protocol, table: this.table, tunnelName: this.tunnelName, tunnelMtu: o.tunnelMtu,
      workloadGraceMs: o.workloadGraceMs ?? DEFAULT_WORKLOAD_GRACE_MS,
      routeSlice: o.routeSlice ?? DEFAULT_ROUTE_SLICE,
      leaveWorkloads: o.workloadRoutes === WorkloadRoutes.Felix,
    });
    this.tunnel = new TunnelManager({ ops: o.ops, log: o.log, name: this.tunnelName, mtu: o.tunnelMtu, host, refreshHost: () => this.refreshHost() });
    this.vxlan = new VxlanManager({ ops: o.ops, log: o.log, host, refreshHost: () => this.refreshHost(), ...(o.vxlanMtu ? { mtu: o.vxlanMtu } : {}) });
    this.workloads = new WorkloadsManager({ ops: o.ops, sysctl: o.sysctl, log: o.log, host, leaveWorkloads: o.workloadRoutes === WorkloadRoutes.Felix });
    // Apply order: tunl0 and the VXLAN devices before the routes through them; workload
    // neighbours after their routes.
    this.managers = [this.tunnel, this.vxlan, this.routes, this.workloads];
  }

  private newHost(links: HostView['links'], addrs: HostView['addresses']): HostView {
    // Ignored interfaces (BGPConfiguration ignoredInterfaces) are not in the host view at all:
    // no route on them is Kite's, no workload sysctl is written, no address counts as the host's.
    const ignored = this.ignored;
    const kept = links.filter((l) => !ignored(l.name));
    const keptIndex = new Set(kept.map((l) => l.index));
    return new HostView(kept, addrs.filter((a) => keptIndex.has(a.index)), (n) => this.prefixes.some((p) => n.startsWith(p)), this.tunnelName, ignored);
  }

  private send(u: DataplaneUpdate): void {
    for (const m of this.managers) m.onUpdate(u);
  }

  // ---- inputs ----------------------------------------------------------------------------

  update(inputs: Partial<DataplaneInputs>): void {
    if (inputs.config !== undefined) {
      const globs = (inputs.config.ignoredInterfaces ?? []).join('\0');
      if (globs !== this.ignoredGlobs) {
        this.ignoredGlobs = globs;
        this.ignored = ignoredInterfaces(inputs.config.ignoredInterfaces);
        this.resyncNeeded = true; // the host view is rebuilt without (or with) them
      }
      this.hasConfig = true;
      this.send({ kind: 'config', config: inputs.config });
    }
    if (inputs.remote !== undefined) this.routes.onUpdate({ kind: 'remoteAll', routes: inputs.remote });
    if (inputs.workloads !== undefined) this.send({ kind: 'workloads', workloads: inputs.workloads });
    this.scheduler.schedule();
  }

  setRemoteRoute(prefix: Prefix, nextHops: readonly RemoteNextHop[] | null): void {
    // Only the routes manager uses remote routes (the hot path: one call per Loc-RIB change).
    this.routes.onUpdate({ kind: 'remote', prefix, hops: nextHops });
    this.scheduler.schedule();
  }

  markInSync(): void {
    if (this.inSync) return;
    this.inSync = true;
    this.send({ kind: 'inSync' });
    this.o.log.info({}, 'dataplane: datastore and BGP in sync; routes Kite owns but no longer wants will now be deleted');
    this.scheduler.schedule();
  }

  linkChanged(): void {
    this.resyncNeeded = true;
    this.scheduler.schedule();
  }

  hostChanged(): void {
    this.hostRefreshNeeded = true;
    this.scheduler.schedule();
  }

  resync(): Promise<void> {
    this.resyncNeeded = true;
    return this.scheduler.flush();
  }

  flush(): Promise<void> {
    return this.scheduler.flush();
  }

  busySince(): number | null {
    return this.scheduler.busySince;
  }

  /** Timers stop; routes stay in the kernel (a restart adopts them unchanged). */
  stop(): void {
    this.scheduler.stop();
  }

  // ---- one apply -------------------------------------------------------------------------

  private async refreshHost(): Promise<void> {
    const [links, addrs] = await Promise.all([this.o.ops.dumpLinks(), this.o.ops.dumpAddresses()]);
    this.send({ kind: 'host', host: this.newHost(links, addrs) });
  }

  private async applyOnce(): Promise<ApplyOutcome> {
    if (this.resyncNeeded) {
      this.resyncNeeded = false;
      this.hostRefreshNeeded = false;
      await this.refreshHost();
      this.send({ kind: 'resync' });
      this.lastResync = this.o.clock.now();
    } else if (this.hostRefreshNeeded) {
      this.hostRefreshNeeded = false;
      await this.refreshHost();
    }
    if (!this.hasConfig) return { ok: true };
    const out: ApplyOutcome = { ok: (await this.workloads.applyForwarding()).ok };
    for (const m of this.managers) {
      const r = await m.apply();
      if (!r.ok) out.ok = false;
      if (r.wakeAt !== undefined) out.wakeAt = out.wakeAt === undefined ? r.wakeAt : Math.min(out.wakeAt, r.wakeAt);
      if (r.again === true) out.again = true;
      if (r.resync === true) out.resync = true;
      if (m === this.routes) this.logNotes([...this.routes.notes, ...this.tunnel.notes, ...this.vxlan.notes]);
    }
    return out;
  }

  // ---- logging and status ----------------------------------------------------------------

  /** One log line per new decision; a decision that goes away may be logged again when it returns. */
  private logNotes(notes: readonly string[]): void {
    const fresh = new Set(notes);
    for (const n of notes) {
      if (!this.loggedNotes.has(n)) {
        this.loggedNotes.add(n);
        this.o.log.info({ note: n }, 'dataplane decision');
      }
    }
    for (const n of this.loggedNotes) if (!fresh.has(n)) this.loggedNotes.delete(n);
    this.notes = [...notes];
  }

  counts(): RouteCounts {
    return this.routes.counts();
  }

  status(): FibStatus {
    const routes: FibRouteStatus[] = this.routes.status();
    routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    return { protocol: this.protocol, table: this.table, inSync: this.inSync, lastResync: this.lastResync, routes, notes: this.notes };
  }
}
