// Calico's route priority carried in LOCAL_PREF: a route's kernel metric (BIRD krt_metric, 1024 by
// default) leaves as LOCAL_PREF 2147483647 − metric and comes back as the metric, so every node
// programs the same priority (confd bgp_processor.go filters; golden configs in confd/tests).

/** BIRD's krt_metric for an ordinary route (Calico's ipv4/ipv6NormalRoutePriority). */
export const NORMAL_PRIORITY = 1024;
/** The base Calico subtracts from: bgp_local_pref = 2147483647 − krt_metric. */
const BASE = 2147483647;

/** LOCAL_PREF sent to iBGP peers for a route of `priority` (undefined: the normal 1024 → 2147482623). */
export function localPrefFor(priority: number | undefined): number {
  return BASE - (priority ?? NORMAL_PRIORITY);
}

/**
 * The kernel priority a received LOCAL_PREF stands for (Calico's import filter:
 * krt_metric = 2147483647 − bgp_local_pref), undefined when it is the normal one, so ordinary
 * routes keep the kernel's default metric. A LOCAL_PREF above 2147483647 counts as priority 0.
 */
export function priorityFromLocalPref(localPref: number): number | undefined {
  const p = Math.max(0, BASE - localPref);
  return p === NORMAL_PRIORITY ? undefined : p;
}

/**
 * Calico's import filter gives a route whose priority is below the normal one BIRD
 * `preference = 200` (BGP routes have 100): in BIRD's route selection it wins before any BGP
 * attribute is compared. LOCAL_PREF above 2147482623 means exactly this.
 */
export function elevated(priority: number | undefined): boolean {
  return priority !== undefined && priority < NORMAL_PRIORITY;
}
