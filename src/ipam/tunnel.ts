// The tunnel addresses as a service (calico-node's job, now Kite's): allocates the node's IPIP
// tunnel address or VXLAN VTEP address (IPv4 or IPv6) with Kite's IPAM (claiming an affine block), records it
// through the datastore (Kubernetes: the Node annotations calico-node writes; for VXLAN with the
// device MAC), and hands back what to originate.
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { Datastore } from '../datastore/datastore.js';
import { parsePrefix } from '../net/index.js';
import type { IPPool } from '../datastore/resources.js';
import type { Labels } from '../datastore/selector.js';
import { Allocator } from './allocator.js';
import type { IpamStore } from './store.js';

/** What Kite's IPAM allocated for this node: a tunnel address and its affine blocks, by pool. */
export interface IpamGrant {
  tunnelAddress: string;
  /** Which tunnel: IPIP (tunl0, the default) or VXLAN (vxlan.calico, with `mac`). */
  kind?: 'ipip' | 'vxlan';
  mac?: string;
  /** VXLAN: the VTEP's family (4 when absent: vxlan.calico; 6: vxlan-v6.calico). */
  family?: 4 | 6;
  blocks: readonly { prefix: string; pool: string }[];
}

/**
 * Where the IPAM objects live: with the Kubernetes datastore, Calico's own IPAM custom resources
 * (so Calico's CNI IPAM and Kite agree); otherwise a locked state file under `stateDir`.
 */
export async function ipamStoreFor(o: { datastore: 'file' | 'kubernetes' | 'etcdv3'; kubeconfig?: string | undefined;
  group?: 'crd.projectcalico.org/v1' | 'projectcalico.org/v3' | undefined; stateDir: string; etcd?: Etcd3 | undefined }): Promise<IpamStore> {
  if (o.datastore === 'etcdv3') {
    if (o.etcd === undefined) throw new Error('the etcd IPAM store needs the etcd datastore\'s client');
    const { EtcdStore } = await import('./etcd-store.js');
    return new EtcdStore(o.etcd);
  }
  if (o.datastore === 'kubernetes') {
    const { loadKubeConfig } = await import('../datastore/kubernetes/client.js');
    const { KubeStore, createKubeRequester } = await import('./kube-store.js');
    return new KubeStore({ requester: createKubeRequester(loadKubeConfig(o.kubeconfig)), ...(o.group !== undefined ? { apiVersion: o.group } : {}) });
  }
  const { FileStore } = await import('./file-store.js');
  return new FileStore(join(o.stateDir, 'ipam'));
}

export interface TunnelAddressOptions {
  node: string;
  /** Records the address where Calico keeps it; its kind decides where the IPAM objects live. */
  datastore: Pick<Datastore, 'setTunnelAddress'>;
  datastoreKind: 'file' | 'kubernetes' | 'etcdv3';
  kubeconfig?: string | undefined;
  /** The file store's directory (its ipam/ subdirectory holds the state file). */
  stateDir: string;
  /** The current IPPools (read on every request). */
  pools: () => readonly IPPool[];
  log: Logger;
  /** VXLAN: allocate the VTEP address of this family (default 4) and record it with this MAC. Default: IPIP. */
  vxlan?: { mac: string; family?: 4 | 6 };
}

export class TunnelAddress {
  private grantNow: IpamGrant | null = null;
  private busy = false;
  /** Addresses the Node carried that were already judged in IPAM (each is checked once). */
  private readonly judged = new Set<string>();

  constructor(private readonly o: TunnelAddressOptions) {}

  get grant(): IpamGrant | null { return this.grantNow; }
  /** An allocation is running (or done): asking again does nothing. */
  get settled(): boolean { return this.busy || this.grantNow !== null; }

  /**
   * Allocates this node's tunnel address as calico-node does, for a node that needs one (a pool
   * uses IPIP and the Node has no ipv4IPIPTunnelAddr; the caller decides). Returns the grant, or
   * null when none could be had (logged; a later configuration may try again).
   */
  async ensure(labels: Labels, pools: readonly { name: string; cidr: string }[], current?: string): Promise<IpamGrant | null> {
    // `current`: the address the Node carries, checked once in IPAM as calico-node does (kept,
    // re-registered under the handle, or replaced by a new one that is then written to the Node).
    if (current === undefined ? this.settled : this.busy || this.judged.has(current)) return null;
    if (current !== undefined) this.judged.add(current);
    this.busy = true;
    const log = this.o.log;
    try {
      const o = this.o;
      // The Kubernetes store uses the API group the datastore's discovery chose.
      const group = (o.datastore as { group?: 'crd.projectcalico.org/v1' | 'projectcalico.org/v3' }).group;
      // The etcd store shares the etcd datastore's connection.
      const etcd = (o.datastore as { client?: Etcd3 }).client;
      const store = await ipamStoreFor({ datastore: o.datastoreKind, kubeconfig: o.kubeconfig, group, stateDir: o.stateDir, etcd });
      const alloc = new Allocator({ store, pools: o.pools });
      const vx = o.vxlan;
      const family = vx?.family ?? 4;
      const K = vx ? (family === 6 ? 'IPv6 VXLAN' : 'VXLAN') : 'IPIP';
      const r = await alloc.ensureTunnelAddress({ name: this.o.node, labels, ...(current !== undefined ? { tunnelAddress: current } : {}) }, vx ? (family === 6 ? 'vxlan-v6' : 'vxlan') : 'ipip');
      if (!r.address) { log.warn({ reason: r.reason }, `no ${K} tunnel address`); return null; }
      if (!r.allocated) {
        log.info({ address: r.address, reason: r.reason }, `${K} tunnel address ${r.address} checked in IPAM`);
        return null;
      }
      try {
        if (vx) await this.o.datastore.setTunnelAddress(r.address, family === 6 ? { mac: vx.mac, family } : { mac: vx.mac });
        else await this.o.datastore.setTunnelAddress(r.address);
      } catch (e) {
        log.error({ node: this.o.node, err: (e as Error).message }, `${K} tunnel address ${r.address} allocated, but recording it in the datastore failed; using it anyway`);
      }
      const blocks = (await alloc.affineBlocks(this.o.node, family)).map((prefix) => ({ prefix, pool: poolOf(pools, prefix) }));
      this.grantNow = { tunnelAddress: r.address, blocks: blocks.filter((b) => b.pool !== ''),
        ...(vx ? { kind: 'vxlan' as const, mac: vx.mac, ...(family === 6 ? { family } : {}) } : {}) };
      log.info({ address: r.address, blocks: this.grantNow.blocks.map((b) => b.prefix), reason: r.reason, ...(vx ? { mac: vx.mac } : {}),
        ...(o.datastoreKind === 'file' ? { stateDir: o.stateDir } : { store: o.datastoreKind }) }, `${K} tunnel address allocated by Kite IPAM`);
      return this.grantNow;
    } catch (e) {
      // Not judged after all: the next configuration checks `current` again.
      if (current !== undefined) this.judged.delete(current);
      log.error({ err: (e as Error).message }, `${this.o.vxlan ? (this.o.vxlan.family === 6 ? 'IPv6 VXLAN' : 'VXLAN') : 'IPIP'} tunnel address allocation failed`);
      return null;
    } finally {
      this.busy = false;
    }
  }
}

/** The pool that holds a block ('' when none does). */
function poolOf(pools: readonly { name: string; cidr: string }[], prefix: string): string {
  const b = parsePrefix(prefix);
  return pools.find((p) => { const a = parsePrefix(p.cidr); return a !== null && b !== null && a.contains(b); })?.name ?? '';
}
