// The interface every datastore (the YAML file, the Kubernetes API) offers the daemon: full,
// validated Resources snapshots plus a sync status, so the daemon never withdraws routes or
// prunes kernel state from a partial view (Calico's syncer: wait-for-datastore → resync → in-sync).
import { watchFile, type FileWatch } from './file.js';
import type { IPPool, Resources } from './resources.js';

export const SyncStatus = {
  /** Not connected yet (or never got a first answer). */
  Waiting: 'waiting',
  /** Listing: the view may be incomplete; never prune or withdraw on it. */
  Resyncing: 'resyncing',
  /** Every kind has been listed and is being watched; snapshots are complete. */
  InSync: 'in-sync',
} as const;
export type SyncStatus = (typeof SyncStatus)[keyof typeof SyncStatus];

export interface DatastoreHandlers {
  /**
   * A complete snapshot. Called first just before the first 'in-sync', then whenever the
   * content changes (debounced); never with a partial view and never twice with equal content.
   */
  onSnapshot(resources: Resources): void;
  onStatus(status: SyncStatus): void;
  /** Something went wrong that the datastore works around (retrying, skipping an invalid object). */
  onError(err: Error): void;
}

export interface Datastore {
  /**
   * Starts syncing. Resolves once the first snapshot has been delivered and the status is
   * 'in-sync'; rejects only on configuration errors (no kubeconfig) or when stopped first.
   * Transient failures (API server down, 410 Gone) are retried and reported via onError.
   */
  start(handlers: DatastoreHandlers): Promise<void>;
  stop(): void;
  /** Watches that ended and were started again, by resource (the metrics); absent when it has no watches. */
  watchRestarts?(): ReadonlyMap<string, number>;
  /** The server each watch streams from, by resource (etcd: the member's address); absent when unknown. */
  watchMembers?(): ReadonlyMap<string, string>;
  /**
   * Records the IPIP tunnel address Kite's IPAM allocated for this node where Calico keeps it
   * (Kubernetes: the Node's projectcalico.org/IPv4IPIPTunnelAddr annotation, as calico-node
   * writes it). The file datastore records nothing: the file is the operator's. Rejects with a
   * readable reason when the write fails. For VXLAN (`vxlan` given): the VTEP address and the
   * device MAC (projectcalico.org/IPv4VXLANTunnelAddr and VXLANTunnelMACAddr; with family 6,
   * IPv6VXLANTunnelAddr and VXLANTunnelMACAddrV6).
   */
  setTunnelAddress(address: string, vxlan?: VtepWrite): Promise<void>;
  /**
   * Records what start-up decided for this node where calico-node writes it (Kubernetes: the
   * Node's projectcalico.org/IPv4Address, IPv6Address and ASNumber annotations by merge patch;
   * null removes one). The file datastore records nothing: the daemon uses the values in memory.
   */
  setNodeBGP(fields: NodeBGPWrite): Promise<void>;
  /** Creates a default IP pool as calico-node does (Kubernetes: create; one that exists is fine). File: nothing. */
  createIPPool(pool: IPPool): Promise<void>;
  /**
   * The Kubernetes Node's InternalIP addresses (kubernetes-internal-ip); undefined without
   * Kubernetes (etcdv3: rejects with what to configure when no Kubernetes API is configured).
   */
  nodeInternalIPs(): Promise<string[] | undefined>;
}

/** A VTEP's MAC and family (4 when absent) beside its address. */
export interface VtepWrite { mac: string; family?: 4 | 6 }

/** Start-up's write to this node's Calico fields: a value sets, null removes. */
export type NodeBGPWrite = Partial<Record<'ipv4Address' | 'ipv6Address' | 'asNumber', string | number | null>>;

/**
 * The file datastore behind the same interface: a file is complete as soon as it is read, so
 * the status goes straight through to 'in-sync' after the first valid load; an invalid first
 * load rejects start() (ConfigError), a later invalid edit goes to onError and is not applied.
 */
export function createFileDatastore(path: string, debounceMs?: number): Datastore {
  let watch: FileWatch | undefined;
  let stopped = false;
  return {
    async start(h: DatastoreHandlers): Promise<void> {
      h.onStatus(SyncStatus.Waiting);
      h.onStatus(SyncStatus.Resyncing);
      watch = await watchFile(path, { onUpdate: (r) => h.onSnapshot(r), onError: (e) => h.onError(e) }, debounceMs);
      if (stopped) { watch.close(); throw new Error('file datastore stopped before it synced'); }
      h.onStatus(SyncStatus.InSync);
    },
    stop(): void {
      stopped = true;
      watch?.close();
    },
    async setTunnelAddress(): Promise<void> {},
    async setNodeBGP(): Promise<void> {},
    async createIPPool(): Promise<void> {},
    async nodeInternalIPs(): Promise<string[] | undefined> { return undefined; },
  };
}
