// Carrying out a tunnel device's plan (tunnel.ts's planTunnel for tunl0, vxlan.ts's
// planVxlanDevice for the VXLAN devices) against the kernel, in one order for both: the old
// device out, the device in, its flags and MTU, stale addresses out, wanted addresses in.
import type { DpLog, KAddress, KernelOps, KLinkCreate, OpResult } from './types.js';

/** EEXIST: the device appeared meanwhile (another agent, or the ipip module's fallback tunl0). */
const EEXIST = 17;

/** The kernel changes a device plan asks for (the plans' notes are their managers' business). */
export interface DevicePlanChanges {
  remove?: { index: number };
  create?: KLinkCreate;
  set?: { index: number; up?: boolean; mtu?: number };
  deleteAddresses: readonly KAddress[];
  addAddresses: readonly KAddress[];
}

/** Applies `plan`; resolves with every operation's result (none when the plan changes nothing). A create that finds the device there counts as done. */
export async function applyDevicePlan(ops: KernelOps, plan: DevicePlanChanges): Promise<OpResult[]> {
  const results: OpResult[] = [];
  if (plan.remove) results.push(...(await ops.deleteLinks([plan.remove])));
  if (plan.create) results.push(...(await ops.createLinks([plan.create])).map((r): OpResult => (r.ok || r.errno === EEXIST ? { ok: true } : r)));
  if (plan.set) results.push(...(await ops.setLinks([plan.set])));
  if (plan.deleteAddresses.length > 0) results.push(...(await ops.deleteAddresses(plan.deleteAddresses)));
  if (plan.addAddresses.length > 0) results.push(...(await ops.addAddresses(plan.addAddresses)));
  return results;
}

/** Logs each failed result as "<what> failed"; true when none failed. */
export function logFailures(log: DpLog, results: readonly OpResult[], what: string): boolean {
  let ok = true;
  for (const r of results) {
    if (!r.ok) {
      ok = false;
      log.error({ err: r.message }, `${what} failed`);
    }
  }
  return ok;
}
