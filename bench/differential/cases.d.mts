// Types of the differential check's case generator (cases.mjs), for the type-checked tests.
export const DUT_AS: number;
export const EBGP_AS: number;
export interface CaseContext {
  local: string; local6: string; dut: string; dut6: string; other: string; ibgp: boolean; as4: boolean; peerAs: number;
  P: string; P6: string; S: string; S6: string; cls?: string;
}
export interface Case {
  id: number; cls: string | null; kind: 'update' | 'open' | 'raw'; ibgp: boolean; as4: boolean;
  base: 'P' | 'P6' | null; probes: string[]; probe: string | null; build(c: CaseContext): Buffer[];
}
export function generate(o?: { seed?: number; random?: number }): Case[];
export function prefixesOf(id: number): { P: string; P6: string; S: string; S6: string };
export function classOf(kase: Case, ctx: Omit<CaseContext, 'P' | 'P6' | 'S' | 'S6'> & Partial<CaseContext>): string;
