// The shape every dataplane manager has, as in Felix: typed updates are buffered by `onUpdate`
// (cheap, synchronous, any number per apply) and brought to the kernel by `apply` (one at a time,
// driven by the scheduler). Every manager sees every update and ignores the kinds it does not use.

import type { HostView } from './host.js';
import type { Prefix } from '../net/index.js';
import type { DataplaneConfig, LocalWorkload, RemoteNextHop, RemoteRoutes } from './inputs.js';
import type { ApplyOutcome } from './scheduler.js';

export type DataplaneUpdate =
  /** The node-wide inputs changed (pools, addresses, blocks, services, tunnel address). */
  | { kind: 'config'; config: DataplaneConfig }
  /** This node's workloads, all of them. */
  | { kind: 'workloads'; workloads: readonly LocalWorkload[] }
  /** One Loc-RIB prefix (a network) changed (hops null: withdrawn). */
  | { kind: 'remote'; prefix: Prefix; hops: readonly RemoteNextHop[] | null }
  /** Every remote prefix at once, replacing what was there. */
  | { kind: 'remoteAll'; routes: RemoteRoutes }
  /** Links and addresses as the kernel just showed them. */
  | { kind: 'host'; host: HostView }
  /** Re-read kernel state before the next apply (periodic, link events, after a failure). */
  | { kind: 'resync' }
  /** Datastore and BGP are in sync: what Kite owns and no longer wants may now be removed. */
  | { kind: 'inSync' };

export interface Manager {
  onUpdate(u: DataplaneUpdate): void;
  apply(): Promise<ApplyOutcome>;
}
