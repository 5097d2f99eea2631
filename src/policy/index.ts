// Route policy: Calico's export and import rules and BGPFilter, as pure functions of the node's
// configuration. The RIB/export path asks `evaluate(route, peer)`; nothing here does I/O.
export { compileExportPolicy, peerInfo, EXCLUDE_LB_LABEL, type ExportPolicy } from './export.js';
export { compileImportPolicy, type ImportPolicy } from './import.js';
export { PrefixSet, parseCidr, prefixContains, type ParsedCidr } from './prefix-set.js';
export { NORMAL_ROUTE_PRIORITY, parseAsn, parseCommunity } from './bgp-filter.js';
export * from './types.js';
