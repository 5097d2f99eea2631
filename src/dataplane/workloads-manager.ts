// The workloads manager: host-wide forwarding, and for each local workload interface its
// permanent neighbour entries and per-interface sysctls, as planned by workloads.ts. It keeps the
// kernel's neighbour table as last dumped plus its own successful changes, and which interface
// instances (name and ifindex) are configured, so a recreated interface is configured again.
// (The workloads' routes are the routes manager's.) With `leaveWorkloads` (Felix programs the
// workload interfaces) only host-wide forwarding is written; Felix sets it too, to the same value.

import type { HostView } from './host.js';
import type { DataplaneConfig, LocalWorkload } from './inputs.js';
import type { DataplaneUpdate, Manager } from './manager.js';
import type { ApplyOutcome } from './scheduler.js';
import type { DpLog, Family, KernelOps, KNeighbour, Sysctl } from './types.js';
import { hostSysctls, planWorkloads } from './workloads.js';

/** ENOENT: a neighbour entry already gone is what a delete wanted. */
const ENOENT = 2;

export interface WorkloadsManagerOptions {
  ops: KernelOps;
  sysctl: Sysctl;
  log: DpLog;
  host: HostView;
  /** Felix owns the workload interfaces: no neighbour entry and no per-interface sysctl here. */
  leaveWorkloads?: boolean;
}

export class WorkloadsManager implements Manager {
  private config: DataplaneConfig | undefined;
  private workloads: readonly LocalWorkload[] = [];
  private host: HostView;
  private neighbours: KNeighbour[] = [];
  private dumpNeeded = true;
  private inSync = false;
  /** Workload interfaces whose sysctls are written: name -> ifindex. */
  private readonly configured = new Map<string, number>();
  private readonly hostSysctlsDone = new Set<string>();

  constructor(private readonly o: WorkloadsManagerOptions) {
    this.host = o.host;
  }

  onUpdate(u: DataplaneUpdate): void {
    switch (u.kind) {
      case 'config':
        this.config = u.config;
        return;
      case 'workloads':
        this.workloads = u.workloads;
        return;
      case 'host':
        this.host = u.host;
        for (const [name, index] of this.configured) if (u.host.link(name)?.index !== index) this.configured.delete(name);
        return;
      case 'resync':
        this.dumpNeeded = true;
        return;
      case 'inSync':
        this.inSync = true;
        return;
      default:
        return;
    }
  }

  /**
   * Host-wide forwarding (IPv6 too when the node has IPv6). Applied before the other managers:
   * routes through this node are useless without it.
   */
  async applyForwarding(): Promise<ApplyOutcome> {
    const cfg = this.config;
    if (cfg === undefined) return { ok: true };
    const families = new Set<Family>([4]);
    if (cfg.ipv6Address !== undefined || cfg.pools.some((p) => p.family === 6)) families.add(6);
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
    return { ok };
  }

  async apply(): Promise<ApplyOutcome> {
    if (this.config === undefined || this.o.leaveWorkloads === true) return { ok: true };
    if (this.dumpNeeded) {
      this.dumpNeeded = false;
      this.neighbours = await this.o.ops.dumpNeighbours();
    }
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
        if (r.ok || r.errno === ENOENT) this.neighbours = this.neighbours.filter((x) => x !== n);
        else ok = false;
      });
    }
    const failedIfaces = new Set<string>();
    for (const w of plan.sysctls) {
      try {
        await this.o.sysctl.write(w.path, w.value);
      } catch (e) {
        ok = false;
        // "net/ipv4/conf/<name>/proxy_arp": the interface is configured again next time.
        failedIfaces.add(w.path.split('/')[3] ?? '');
        this.o.log.warn({ sysctl: w.path, err: e instanceof Error ? e.message : String(e) }, 'workload interface sysctl failed');
      }
    }
    for (const [name, index] of plan.configures) if (!failedIfaces.has(name)) this.configured.set(name, index);
    return { ok };
  }
}
