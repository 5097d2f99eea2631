// The VXLAN manager (Felix's vxlan_mgr.go in Kite's shape): brings vxlan.calico and
// vxlan-v6.calico in line with the plans in vxlan.ts — the device, its VTEP address, and a
// neighbour and FDB entry per remote node — and has the host re-read after a device change, so
// the routes manager computes VXLAN routes against the device as it now is.

import { applyDevicePlan, logFailures } from './device-plan.js';
import type { HostView } from './host.js';
import { vxlanInUse, type DataplaneConfig } from './inputs.js';
import type { DataplaneUpdate, Manager } from './manager.js';
import type { ApplyOutcome } from './scheduler.js';
import type { DpLog, Family, KernelOps, OpResult } from './types.js';
import { planVxlanDevice, planVxlanEntries, VXLAN_DEVICE, vxlanMtu } from './vxlan.js';

export interface VxlanManagerOptions {
  ops: KernelOps;
  log: DpLog;
  /** Configured VXLAN MTU per family (else derived from the host NIC). */
  mtu?: Partial<Record<Family, number>>;
  host: HostView;
  refreshHost(): Promise<void>;
}

export class VxlanManager implements Manager {
  private config: DataplaneConfig | undefined;
  private host: HostView;
  private inSync = false;
  private planNotes: string[] = [];
  /** Entries are re-read from the kernel after a resync or a failure; otherwise what was set stands. */
  private entriesDirty = true;

  constructor(private readonly o: VxlanManagerOptions) {
    this.host = o.host;
  }

  get notes(): readonly string[] {
    return this.planNotes;
  }

  onUpdate(u: DataplaneUpdate): void {
    if (u.kind === 'config') {
      this.config = u.config;
      this.entriesDirty = true;
    } else if (u.kind === 'host') {
      this.host = u.host;
    } else if (u.kind === 'resync') this.entriesDirty = true;
    else if (u.kind === 'inSync') {
      this.inSync = true;
      this.entriesDirty = true;
    }
  }

  async apply(): Promise<ApplyOutcome> {
    const cfg = this.config;
    if (cfg === undefined) return { ok: true };
    this.planNotes = [];
    let ok = true;
    for (const family of [4, 6] as const) {
      if (!(await this.applyDevice(cfg, family))) ok = false;
    }
    if (this.entriesDirty) {
      this.entriesDirty = false;
      for (const family of [4, 6] as const) {
        if (!(await this.applyEntries(cfg, family))) ok = false;
      }
      if (!ok) this.entriesDirty = true;
    }
    return { ok };
  }

  private async applyDevice(cfg: DataplaneConfig, family: Family): Promise<boolean> {
    const name = VXLAN_DEVICE[family];
    const addr = family === 4 ? cfg.ipv4Address : cfg.ipv6Address;
    const vtep = family === 4 ? cfg.vxlan4 : cfg.vxlan6;
    let ok = true;
    // Up to three rounds: a device recreated is deleted, created, then given its address.
    for (let round = 0; round < 3; round++) {
      const link = this.host.link(name);
      const nic = addr !== undefined ? this.host.holderOf(addr.address) : undefined;
      const plan = planVxlanDevice({
        family,
        needed: vxlanInUse(cfg.pools, family),
        mtu: vxlanMtu(this.o.mtu?.[family], family, this.host, cfg),
        addresses: link ? this.host.addressesOn(link.index, family) : [],
        allowRemove: this.inSync,
        ...(vtep !== undefined ? { vtep } : {}),
        ...(nic !== undefined && addr !== undefined ? { parent: { link: nic.link, address: addr.address } } : {}),
        ...(link !== undefined ? { link } : {}),
      });
      for (const n of plan.notes) if (!this.planNotes.includes(n)) this.planNotes.push(n);
      const results = await applyDevicePlan(this.o.ops, plan);
      if (results.length === 0) break;
      if (!logFailures(this.o.log, results, `${name} change`)) ok = false;
      await this.o.refreshHost();
      if (plan.create || plan.remove) this.entriesDirty = true;
      if (!plan.create && !plan.remove) break;
    }
    return ok;
  }

  private async applyEntries(cfg: DataplaneConfig, family: Family): Promise<boolean> {
    const link = this.host.link(VXLAN_DEVICE[family]);
    if (link === undefined || link.kind !== 'vxlan') return true;
    const [neighbours, fdb] = await Promise.all([this.o.ops.dumpNeighbours(), this.o.ops.dumpFdb({ index: link.index })]);
    const plan = planVxlanEntries({
      family, index: link.index, vteps: cfg.vteps ?? [], neighbours, fdb, allowRemove: this.inSync,
    });
    const results: OpResult[] = [];
    // FDB first: a neighbour entry is only useful once its MAC has somewhere to go.
    if (plan.setFdb.length > 0) results.push(...(await this.o.ops.setFdb(plan.setFdb)));
    if (plan.setNeighbours.length > 0) results.push(...(await this.o.ops.setNeighbours(plan.setNeighbours)));
    if (plan.deleteNeighbours.length > 0) results.push(...(await this.o.ops.deleteNeighbours(plan.deleteNeighbours)));
    if (plan.deleteFdb.length > 0) results.push(...(await this.o.ops.deleteFdb(plan.deleteFdb)));
    if (results.length > 0) {
      this.o.log.info({ device: link.name, neighbours: plan.setNeighbours.length, fdb: plan.setFdb.length,
        deletedNeighbours: plan.deleteNeighbours.length, deletedFdb: plan.deleteFdb.length }, 'VXLAN entries applied');
    }
    return logFailures(this.o.log, results, `${link.name} neighbour/FDB change`);
  }
}
