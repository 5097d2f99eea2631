// Types of the differential check's runner (runner.mjs), for the type-checked tests.
import type { ObservedRoute } from './bytes.mjs';
import type { Case } from './cases.mjs';
export const OBSERVER_AS: number;
export function probeState(route: ObservedRoute | undefined, probe: string | null): string;
export function kindOf(reaction: string): string;
export interface DaemonUnderTest {
  dut: string; dut6: string; port: number; observer: string; other: string; ebgp: string[]; ibgp: string[];
  v6(addr: string): string; alive(): boolean;
}
export interface CaseResult { id: number; cls: string; reaction: string; hex: string }
export class Runner {
  constructor(dut: DaemonUnderTest, opts?: { settleMs?: number; caseTimeoutMs?: number; quietMs?: number });
  runAll(cases: Case[], lanes?: number, onResult?: (r: CaseResult) => void): Promise<CaseResult[]>;
}
