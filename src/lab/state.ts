// The lab's record on disk (/run/kite-lab/state.json): the plan, what was started and how the
// routes were programmed. Written as soon as anything exists, so `kite lab status` and
// `kite lab down` work from another shell and after an `up` that crashed half-way.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_DIR, type LabPlan } from './topology.js';

export const RouteMode = {
  /** `kite run --dataplane linux`: Kite installs remote blocks, blackholes and pod /32s. */
  Kite: 'kite-dataplane',
  /** Fallback: the lab installs routes from what Kite learned over BGP (`show routes`). */
  Lab: 'lab-from-bgp',
} as const;
export type RouteMode = (typeof RouteMode)[keyof typeof RouteMode];

export const ROUTE_MODE_TEXT: Record<RouteMode, string> = {
  [RouteMode.Kite]: "routes programmed by Kite's dataplane",
  [RouteMode.Lab]: "routes programmed by the lab from Kite's BGP table",
};

export interface LabProcess {
  /** What it is: "kite node-1", "zebra tor", "bgpd tor". */
  name: string;
  pid: number;
  netns: string;
  /** A word that must be in /proc/<pid>/cmdline before `down` signals the pid (pid reuse). */
  match: string;
}

export const Phase = { Building: 'building', Up: 'up', Failed: 'failed' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export interface LabState {
  version: 1;
  phase: Phase;
  startedAt: string;
  plan: LabPlan;
  routeMode?: RouteMode;
  /** Why the route mode was chosen (e.g. "the linux dataplane is not available yet"). */
  routeModeReason?: string;
  processes: LabProcess[];
  /** `--datastore etcd`: the lab etcd's client URL (the Kites read it instead of the file). */
  etcd?: string;
  convergenceMs?: number;
  kiteStartMs?: number;
  error?: string;
}

export const STATE_FILE = join(STATE_DIR, 'state.json');

export function writeState(state: LabState): void {
  mkdirSync(STATE_DIR, { recursive: true });
  // Write-then-rename: a reader in another shell never sees half a file.
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, STATE_FILE);
}

/** The recorded state, or null when no lab was recorded (or the record is unreadable). */
export function readState(): LabState | null {
  try {
    const v: unknown = JSON.parse(readFileSync(STATE_FILE, 'utf8'));
    if (typeof v === 'object' && v !== null && 'version' in v && v.version === 1 && 'plan' in v) return v as LabState;
    return null;
  } catch {
    return null;
  }
}
