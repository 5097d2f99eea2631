// The link from the RIB to the Linux dataplane (src/dataplane), loaded only with --dataplane
// linux (it needs the netlink addon): follows the Loc-RIB's best-path changes, is fed this
// node's configuration and resources, and may prune only once BGP has converged.
import type { Logger } from 'pino';
import { dataplaneFeed } from './calc/dataplane-inputs.js';
import type { NodeConfig } from './config/types.js';
import type { FibStatus, RouteCounts } from './dataplane/index.js';
import type { WorkloadRoutes } from './dataplane/dataplane.js';
import type { Resources } from './datastore/resources.js';
import type { Rib } from './rib/rib.js';

/** What the daemon holds of the Linux dataplane. */
export interface DataplaneHandle {
  /** A new configuration or snapshot: the dataplane's inputs again. */
  feed(): void;
  /** BGP has converged (or stopped waiting): routes Kite owns but no longer wants may go. Once. */
  markInSync(why: string): void;
  status(): FibStatus;
  /** The routes by state and the refused ones by reason, counted (the metrics). */
  counts(): RouteCounts;
  /** Routes calico-node's BIRD (protocol 12) left in the main table when Kite started: a migration. */
  readonly inheritedBirdRoutes: number;
  /** When the dataplane's apply in flight started (Date.now ms), null when idle. */
  busySince(): number | null;
  stop(): void;
}

export interface DataplaneLinkOptions {
  rib: Rib;
  log: Logger;
  /** The configuration in force and the last snapshot, read at each feed. */
  inputs(): { config: NodeConfig; resources: Resources | null };
  /** How long to wait for convergence before pruning anyway (ms). */
  inSyncTimeoutMs: number;
  /** Who programs workload routes, neighbours and cali* sysctls. */
  workloadRoutes: WorkloadRoutes;
  /** The metrics' hooks: each apply's duration, each failed netlink request. */
  meter?: { applied(seconds: number, ok: boolean): void; netlinkError(op: string, code: string): void };
}

export async function startDataplane(o: DataplaneLinkOptions): Promise<DataplaneHandle> {
  const { rib, log } = o;
  const d = await import('./dataplane/index.js');
  const kernel = d.openKernel();
  const m = o.meter;
  const ops = m === undefined ? kernel.ops : d.meteredOps(kernel.ops, (op, code) => m.netlinkError(op, code));
  const dp = d.createDataplane({ ops, sysctl: d.procSysctl(), clock: d.systemClock(), log, workloadRoutes: o.workloadRoutes, ...(m ? { onApplied: (s: number, ok: boolean) => m.applied(s, ok) } : {}) });
  const current = () => { const i = o.inputs(); return dataplaneFeed(i.config, i.resources); };
  let feed = current();
  // First among the RIB's listeners, so a burst of changes reaches the kernel (on the netlink
  // thread) before Kite re-advertises it, and the two overlap.
  rib.onBestChange(d.followRib(rib, dp, () => feed.nodes), { first: true });
  const stopLinks = await d.watchLinks(dp, log);
  // BIRD's routes in the kernel mean calico-node ran here: its forwarding state is this node's.
  const inheritedBirdRoutes = (await kernel.ops.dumpRoutes({ table: 254 })).filter((r) => r.protocol === d.RTPROT_BIRD).length;
  let inSync = false;
  const handle: DataplaneHandle = {
    feed: () => {
      feed = current();
      dp.update({ config: feed.config, remote: d.remoteRoutes(rib, feed.nodes), workloads: feed.workloads });
    },
    markInSync: (why) => {
      if (inSync) return;
      inSync = true;
      clearTimeout(timer);
      log.info({ why }, 'dataplane in sync: routes Kite owns but no longer wants may now be removed');
      dp.markInSync();
    },
    status: () => dp.status(),
    counts: () => dp.counts(),
    inheritedBirdRoutes,
    busySince: () => dp.busySince(),
    stop: () => { clearTimeout(timer); stopLinks(); dp.stop(); kernel.close(); },
  };
  // Nothing is pruned before BGP has converged: every peer's first End-of-RIB, or a timeout
  // for peers that never come up (RFC 4724's selection deferral plays the same role).
  const timer = setTimeout(() => handle.markInSync('timeout waiting for End-of-RIB from every peer'), o.inSyncTimeoutMs);
  timer.unref();
  handle.feed();
  log.info({ protocol: dp.status().protocol }, 'linux dataplane started (routes tagged with this protocol number)');
  if (o.workloadRoutes === 'felix') log.info('workload routes, their neighbour entries and cali* sysctls are left to Felix (--workload-routes felix): Kite never touches them');
  return handle;
}
