// Kite's health verdicts, as pure functions of what the daemon reports: readiness follows
// calico-node's `-bird-ready` (node/pkg/health/health.go checkBIRDReady), with the datastore's
// sync added; liveness says the event loop, the datastore watch and the dataplane are not stuck.
import type { PeerState } from '../api/types.js';
import type { SyncStatus } from '../datastore/datastore.js';

/** calico-node's `-threshold-time` default: the start-up window in which every peer must be up. */
export const DEFAULT_READY_THRESHOLD_MS = 30_000;
/** A datastore watch or a dataplane apply that makes no progress for this long is stuck. */
export const DEFAULT_STUCK_MS = 120_000;

export interface Verdict {
  ok: boolean;
  /** Why not (empty when ok), one short sentence each, as `kite health` prints them. */
  reasons: string[];
}

export interface HealthInputs {
  now: number;
  /** When the daemon started (ms, same clock as now): the start-up window runs from here. */
  startedAt: number;
  /** The BGP instance exists and the HTTP server answers; false while Kite is still starting. */
  started: boolean;
  datastore: SyncStatus;
  /** Last time the datastore reported anything (status, snapshot or error). */
  datastoreActivity: number;
  /** Every configured peer and its session state. */
  peers: readonly { address: string; state: PeerState }[];
  /** Kite's own graceful restart (the restarting role, RFC 4724 §4.1) is not over yet. */
  restarting: boolean;
  /** When the dataplane's apply in flight started, null when idle or with --dataplane none. */
  dataplaneBusySince: number | null;
  readyThresholdMs?: number;
  stuckMs?: number;
}

/**
 * Ready (calico-node `-bird-ready`): the datastore is in sync, and
 * - no peers configured: ready;
 * - during start-up (readyThresholdMs since start): every peer Established and no graceful
 *   restart in progress, so a rolling update waits until BGP is back on this node;
 * - after start-up: at least one peer Established, so the whole mesh does not turn not-ready
 *   when some other nodes go down.
 */
export function readiness(i: HealthInputs): Verdict {
  const reasons: string[] = [];
  if (!i.started) return { ok: false, reasons: ['starting'] };
  if (i.datastore !== 'in-sync') reasons.push(`datastore not in sync (${i.datastore})`);
  const down = i.peers.filter((p) => p.state !== 'Established').map((p) => p.address);
  const established = i.peers.length - down.length;
  if (i.peers.length > 0) {
    if (i.now - i.startedAt < (i.readyThresholdMs ?? DEFAULT_READY_THRESHOLD_MS)) {
      if (down.length > 0) reasons.push(`BGP not established with ${down.join(',')}`);
      else if (i.restarting) reasons.push('graceful restart in progress');
    } else if (established === 0) {
      reasons.push(`BGP not established with ${down.join(',')}`);
    }
  }
  return { ok: reasons.length === 0, reasons };
}

/**
 * Live: the event loop answers (this runs at all), the datastore watch is either in sync or
 * still reporting something (retries count: an unreachable API server is not a Kite bug that a
 * restart cures), and no dataplane apply has hung.
 */
export function liveness(i: HealthInputs): Verdict {
  const reasons: string[] = [];
  const stuck = i.stuckMs ?? DEFAULT_STUCK_MS;
  if (i.datastore !== 'in-sync' && i.now - i.datastoreActivity > stuck) {
    reasons.push(`datastore watch stuck: ${i.datastore} with no activity for ${Math.round((i.now - i.datastoreActivity) / 1000)} s`);
  }
  if (i.dataplaneBusySince !== null && i.now - i.dataplaneBusySince > stuck) {
    reasons.push(`dataplane stuck: one apply running for ${Math.round((i.now - i.dataplaneBusySince) / 1000)} s`);
  }
  return { ok: reasons.length === 0, reasons };
}
