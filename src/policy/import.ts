// Import policy: which routes learned from a peer enter its Adj-RIB-In, with which changes.
// Calico's import filter is the peer's BGPFilter import rules followed by `accept;`
// (confd/pkg/backends/calico/bgp_processor.go buildImportFilter: "Prior to the introduction of
// BGP Filters we used 'import all' so use default accept behaviour on import"; older
// bird.cfg.template has `import all;` in template bgp_template). Calico rejects nothing else on
// import: not routes to its own blocks (its static blackhole wins on BIRD preference, 200 over
// BGP's 100), not routes inside disableBGPExport pools, not service routes (those are kept out
// of the kernel by the kernel export filter, a separate step). Kite does the same, so a
// mixed Calico/Kite cluster sees the same tables; local routes winning over learned ones is the
// RIB's decision, and what reaches the kernel is the dataplane's.
import { ConfigError, plainProblem } from '../datastore/errors.js';
import type { NodeConfig } from '../config/node-config.js';
import { compileFilters, evaluateFilters } from './bgp-filter.js';
import type { BGPFilter, Decision, PeerInfo, RouteInfo } from './types.js';

export interface ImportPolicy {
  /**
   * The decision for a route learned from `peer` (route.source 'peer'). An Accept may carry
   * operations from a BGPFilter rule: communities and large communities to add, ASNs to
   * prepend, and a priority (kernel metric) to set. Decisions may be shared: do not mutate them.
   */
  evaluate(route: RouteInfo, peer: PeerInfo): Decision;
  readonly notes: readonly string[];
}

const DEFAULT_ACCEPT: Decision = Object.freeze({
  accept: true as const,
  reason: 'no BGPFilter import rule matched; Calico imports every other route',
});

/** Compiles the import policy; throws ConfigError listing every invalid BGPFilter rule. */
export function compileImportPolicy(_cfg: NodeConfig, filters: readonly BGPFilter[]): ImportPolicy {
  const compiled = compileFilters(filters, 'import');
  if (compiled.errors.length > 0) throw new ConfigError(compiled.errors.map(plainProblem));
  return {
    evaluate: (route, peer) => evaluateFilters(compiled, route, peer) ?? DEFAULT_ACCEPT,
    notes: compiled.notes,
  };
}
