// This node's tunnel addresses as one service: the IPIP tunnel address (tunl0) and the VXLAN VTEPs
// (vxlan.calico, vxlan-v6.calico), each allocated once by Kite's IPAM when a pool needs it and the Node has none,
// as calico-node does; an address the Node already carries is checked once in IPAM (Kubernetes and
// etcd datastores) and re-registered or replaced as calico-node's allocateip does; a VTEP without a
// MAC gets the derived one written beside it. Grants go to
// `onGrant` (the calc layer originates their blocks).
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/types.js';
import type { Datastore } from '../datastore/datastore.js';
import type { IPPool } from '../datastore/resources.js';
import { vxlanMac } from './names.js';
import { TunnelAddress, type IpamGrant, type TunnelAddressOptions } from './tunnel.js';

export interface TunnelAddressesOptions {
  node: string;
  datastore: Pick<Datastore, 'setTunnelAddress'>;
  datastoreKind: TunnelAddressOptions['datastoreKind'];
  kubeconfig?: string | undefined;
  stateDir: string;
  pools: () => readonly IPPool[];
  log: Logger;
  onGrant: (grant: IpamGrant) => void;
}

/** Which tunnels this node's pools use (the dataplane's own predicates decide; see dataplane/inputs.ts). */
export interface TunnelNeeds { ipip: boolean; vxlan: boolean; vxlan6?: boolean }

export class TunnelAddresses {
  private ipip: TunnelAddress | null = null;
  /** The VXLAN VTEP services and whether a derived MAC was written, by address family. */
  private readonly vtep: { 4?: TunnelAddress; 6?: TunnelAddress } = {};
  private readonly vtepMacWritten = { 4: false, 6: false };

  constructor(private readonly o: TunnelAddressesOptions) {}

  /** Allocates (once each) what `cfg` lacks and `needs` asks for. Never rejects: failures are logged. */
  async ensure(cfg: NodeConfig, needs: TunnelNeeds): Promise<void> {
    await Promise.all([this.ensureIpip(cfg, needs.ipip), this.ensureVtep(cfg, needs.vxlan, 4), this.ensureVtep(cfg, needs.vxlan6 ?? false, 6)]);
  }

  private service(vxlan?: { mac: string; family?: 4 | 6 }): TunnelAddress {
    const o = this.o;
    return new TunnelAddress({ node: o.node, datastore: o.datastore, log: o.log, datastoreKind: o.datastoreKind,
      kubeconfig: o.kubeconfig, stateDir: o.stateDir, pools: o.pools, ...(vxlan ? { vxlan } : {}) });
  }

  /**
   * The Node carries a tunnel address: check it once in IPAM as calico-node's allocateip does
   * (kept, re-registered under the handle, or replaced and the new one written). Not with the file
   * datastore: its Nodes are the user's file, which Kite never rewrites, and an address given
   * there is used as written.
   */
  private async judge(svc: TunnelAddress, cfg: NodeConfig, current: string): Promise<void> {
    if (this.o.datastoreKind === 'file') return;
    const grant = await svc.ensure(cfg.labels, cfg.pools, current);
    if (grant !== null) this.o.onGrant(grant);
  }

  /** The Node's tunnel address `current` judged in IPAM, or, when it has none, one allocated (until the service has settled). */
  private async judgeOrAllocate(svc: TunnelAddress, cfg: NodeConfig, current: string | undefined): Promise<void> {
    if (current) return this.judge(svc, cfg, current);
    if (svc.settled) return;
    const grant = await svc.ensure(cfg.labels, cfg.pools);
    if (grant !== null) this.o.onGrant(grant);
  }

  /** A pool uses IPIP and the Node has no ipv4IPIPTunnelAddr: allocate one; its block is originated with the others. */
  private async ensureIpip(cfg: NodeConfig, needed: boolean): Promise<void> {
    if (!needed) return;
    this.ipip ??= this.service();
    return this.judgeOrAllocate(this.ipip, cfg, cfg.ipv4IPIPTunnelAddr);
  }

  /**
   * A pool of `family` uses VXLAN and the Node has no VTEP of that family (ipv4VXLANTunnelAddr,
   * ipv6VXLANTunnelAddr): allocate it and write it with the device MAC (the Node's,
   * vxlanTunnelMACAddr / vxlanTunnelMACAddrV6, else derived from the node name). IPv6 is
   * calico-node's allocateip for Felix's vxlan-v6.calico.
   */
  private async ensureVtep(cfg: NodeConfig, needed: boolean, family: 4 | 6): Promise<void> {
    if (!needed) return;
    const v6 = family === 6;
    const address = v6 ? cfg.ipv6VXLANTunnelAddr : cfg.ipv4VXLANTunnelAddr;
    const nodeMac = v6 ? cfg.vxlanTunnelMACAddrV6 : cfg.vxlanTunnelMACAddr;
    if (address && !nodeMac && !this.vtepMacWritten[family]) {
      // A VTEP without a MAC (calico-node's allocateip writes only the address): the device gets
      // the derived MAC, and the Node says so, so other nodes' FDB entries match it.
      this.vtepMacWritten[family] = true;
      const mac = vxlanMac(this.o.node, family);
      await this.o.datastore.setTunnelAddress(address, v6 ? { mac, family } : { mac })
        .catch((e: unknown) => this.o.log.error({ err: (e as Error).message }, `writing the ${v6 ? 'IPv6 ' : ''}VXLAN MAC ${mac} to the Node failed; the device uses it anyway`));
      return;
    }
    const svc = this.vtep[family] ??= this.service({ mac: nodeMac ?? vxlanMac(this.o.node, family), ...(v6 ? { family } : {}) });
    return this.judgeOrAllocate(svc, cfg, address);
  }
}
