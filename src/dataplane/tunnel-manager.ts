// The tunnel manager: brings tunl0 in line with the plan (tunnel.ts) — created, up, the tunnel
// MTU, only the tunnel address — and has the host re-read after a change, so the routes manager
// computes IPIP routes against the tunnel as it now is (a created link needs its index first).

import { applyDevicePlan, logFailures } from './device-plan.js';
import type { HostView } from './host.js';
import { ipipInUse, type DataplaneConfig } from './inputs.js';
import type { DataplaneUpdate, Manager } from './manager.js';
import type { ApplyOutcome } from './scheduler.js';
import { planTunnel, tunnelMtu } from './tunnel.js';
import type { DpLog, KernelOps } from './types.js';

export interface TunnelManagerOptions {
  ops: KernelOps;
  log: DpLog;
  name: string;
  /** Configured tunnel MTU (else derived from the host NIC, see tunnelMtu). */
  mtu: number | undefined;
  host: HostView;
  /** Dump links and addresses again and tell every manager (this one included). */
  refreshHost(): Promise<void>;
}

export class TunnelManager implements Manager {
  private config: DataplaneConfig | undefined;
  private host: HostView;
  private inSync = false;
  private planNotes: string[] = [];

  constructor(private readonly o: TunnelManagerOptions) {
    this.host = o.host;
  }

  /** What the last apply decided, one line each. */
  get notes(): readonly string[] {
    return this.planNotes;
  }

  onUpdate(u: DataplaneUpdate): void {
    if (u.kind === 'config') this.config = u.config;
    else if (u.kind === 'host') this.host = u.host;
    else if (u.kind === 'inSync') this.inSync = true;
  }

  async apply(): Promise<ApplyOutcome> {
    const cfg = this.config;
    if (cfg === undefined) return { ok: true };
    const mtu = tunnelMtu(this.o.mtu, this.host, cfg);
    let ok = true;
    this.planNotes = [];
    // Two rounds at most: a created link needs its index before it can get an address.
    for (let round = 0; round < 2; round++) {
      const link = this.host.link(this.o.name);
      const plan = planTunnel({
        name: this.o.name,
        needed: ipipInUse(cfg.pools),
        mtu,
        addresses: link ? this.host.addressesOn(link.index, 4) : [],
        allowRemove: this.inSync,
        ...(link !== undefined ? { link } : {}),
        ...(cfg.ipv4IPIPTunnelAddr !== undefined ? { address: cfg.ipv4IPIPTunnelAddr } : {}),
      });
      this.planNotes.push(...plan.notes.filter((n) => !this.planNotes.includes(n)));
      const results = await applyDevicePlan(this.o.ops, plan);
      if (results.length === 0) break;
      if (!logFailures(this.o.log, results, `${this.o.name} change`)) ok = false;
      await this.o.refreshHost();
      if (!plan.create) break;
    }
    return { ok };
  }
}
