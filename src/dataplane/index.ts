// Public surface of Kite's Linux dataplane: the composition API (createDataplane), its inputs,
// the status shape for `kite show fib`, the RIB reader and the real kernel side effects.
// See dataplane.ts for the API contract and kernel.ts for wiring it to netlink. Inside, as in
// Felix: routes-, tunnel- and workloads-manager.ts (onUpdate/apply over manager.ts's update
// union) driven by scheduler.ts; pure plans in desired.ts, tunnel.ts and workloads.ts; the
// kernel's routes reconciled by route-table.ts. Inputs (inputs.ts) come from src/calc.

export {
  createDataplane, DEFAULT_ROUTE_PROTOCOL, DEFAULT_RESYNC_INTERVAL_MS, DEFAULT_WORKLOAD_GRACE_MS,
  type Dataplane, type DataplaneOptions, type FibRouteStatus, type FibState, type FibStatus, type RouteCounts,
} from './dataplane.js';
export {
  ipipInUse, type DataplaneConfig, type DataplaneInputs, type EncapMode, type LocalWorkload, type NodeAddress, type NodeAddresses,
  type OwnBlock, type PoolInput, type RemoteNextHop,
} from './inputs.js';
export { followRib, remoteNextHops, remoteRoutes } from './rib-source.js';
export { meteredOps, netlinkOps, openKernel, procSysctl, systemClock, watchLinks } from './kernel.js';
export type { Clock, DpLog, KernelOps, Sysctl } from './types.js';
export { Refusal } from './desired.js';
export { RTPROT_BIRD } from './route-table.js';
