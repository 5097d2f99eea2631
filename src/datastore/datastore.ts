// The interface every datastore (the YAML file, the Kubernetes API) offers the daemon: full,
// validated Resources snapshots plus a sync status, so the daemon never withdraws routes or
// prunes kernel state from a partial view (Calico's syncer: wait-for-datastore → resync → in-sync).
import type { Resources } from './resources.js';

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
}
