// Route policy: Calico's export and import rules and BGPFilter, as pure functions of the node's
// configuration. The RIB/export path asks `evaluate(route, peer)`; nothing here does I/O.
//
// Use (once per configuration change, then per route and peer):
//   const exp = compileExportPolicy(nodeConfig, bgpFilters);   // throws ConfigError on a bad BGPFilter
//   const imp = compileImportPolicy(nodeConfig, bgpFilters);
//   const peer = peerInfo(peerConfig);                          // { ibgp, address, filters }
//   const d = exp.evaluate({ family, bytes, len, source: 'local-block', attrs }, peer);
//   if (d.accept) { add d.communities / d.largeCommunities, prepend d.prependAs, use d.priority }
//   else log(d.reason);                                         // reasons are meant for people
// Decisions may be shared between calls: never mutate them. `notes` lists compile remarks
// (a BGPFilter a peer names that does not exist, an unresolved community name).
// Split horizon and next-hop handling are not policy: the channel keeps doing those.
export { compileExportPolicy, peerInfo, EXCLUDE_LB_LABEL, type ExportPolicy } from './export.js';
export { compileImportPolicy, type ImportPolicy } from './import.js';
export { PrefixSet, parseCidr, prefixContains, type ParsedCidr } from './prefix-set.js';
export { NORMAL_ROUTE_PRIORITY, parseAsn, parseCommunity } from './bgp-filter.js';
export * from './types.js';
