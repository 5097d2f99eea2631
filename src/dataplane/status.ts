// What the dataplane reports about itself for `kite show fib`: every route Kite wants or owns,
// its state, and the reason for any difference between what is wanted and what the kernel holds.

import type { Refusal, DesiredSource } from './desired.js';

export type FibState = 'programmed' | 'pending' | 'failed' | 'conflict' | 'stale' | 'refused' | 'waiting';

export interface FibRouteStatus {
  prefix: string;
  source: DesiredSource | 'kernel';
  state: FibState;
  /** The route Kite wants, `ip route` style. */
  desired?: string;
  /** The route the kernel holds for the same key. */
  kernel?: string;
  reason: string;
  /** Refused routes: the reason as one of a fixed set (the metrics' label). */
  code?: Refusal;
}

export interface FibStatus {
  protocol: number;
  table: number;
  inSync: boolean;
  /** Clock time of the last full dump, or null before the first. */
  lastResync: number | null;
  routes: FibRouteStatus[];
  /** Current decisions (CrossSubnet subnet source, tunnel notes…). */
  notes: string[];
}

/** How many routes are in each state, and the refused ones by reason code (the metrics). */
export interface RouteCounts {
  byState: ReadonlyMap<string, number>;
  refused: ReadonlyMap<string, number>;
}
