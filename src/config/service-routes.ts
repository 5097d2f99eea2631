// Per-service routes, as Calico's confd routeGenerator (confd/pkg/backends/calico/routes.go,
// advertiseThisService and getAllRoutesForService) decides them: which Service addresses this
// node originates as /32 or /128, on top of the service CIDRs every node originates.
//   - none when the node has node.kubernetes.io/exclude-from-external-load-balancers=true;
//   - only ClusterIP, NodePort and LoadBalancer Services with a cluster IP (not headless);
//   - externalTrafficPolicy Local: the cluster IPs (when serviceClusterIPs is configured),
//     external IPs inside serviceExternalIPs and load-balancer IPs inside serviceLoadBalancerIPs,
//     of each family for which this node has a ready endpoint of that family (confd compares the
//     endpoint's family with the cluster IP's; a dual-stack Service is judged per family);
//   - internalTrafficPolicy Local (Kite, per issue 15): the cluster IPs alone, on the same rule;
//   - externalTrafficPolicy Cluster: no /32 except an external or load-balancer IP that a
//     single-address (/32, /128) entry of those lists names, advertised from every node.
// Every address must lie inside the configured service CIDRs; the export policy accepts it there.
import { parseAddr, parsePrefix, type Family, type Prefix } from '../net/index.js';
import type { EndpointSlice, Resources, Service } from '../datastore/resources.js';
import type { NodeConfig } from './types.js';

const ROUTED_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

const prefixes = (cidrs: readonly string[]): Prefix[] => cidrs.map((c) => parsePrefix(c)).filter((p): p is Prefix => p !== null);

function inside(list: readonly Prefix[], address: string): Prefix | undefined {
  const ip = parseAddr(address);
  if (ip === null) return undefined;
  return list.find((p) => p.family === ip.family && p.has(ip));
}

const hostPrefix = (address: string): string => `${address}/${address.includes(':') ? 128 : 32}`;
const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4);

/** The families in which `node` has a ready endpoint of the Service. */
function localFamilies(svc: Service, slices: readonly EndpointSlice[], node: string): Set<Family> {
  const out = new Set<Family>();
  for (const s of slices) {
    if (s.namespace !== svc.namespace || s.service !== svc.name || s.addressType === 'FQDN') continue;
    if (s.endpoints.some((e) => e.ready && e.nodeName === node && e.addresses.length > 0)) out.add(s.addressType === 'IPv4' ? 4 : 6);
  }
  return out;
}

/** This node's per-service /32 and /128 routes (canonical prefix text, sorted, no duplicates). */
export function serviceRoutes(rs: Pick<Resources, 'services' | 'endpointSlices'>, node: string, services: NodeConfig['services']): string[] {
  if (!services.advertise) return [];
  const clusterCidrs = prefixes(services.clusterIPs);
  const externalCidrs = prefixes(services.externalIPs);
  const lbCidrs = prefixes(services.loadBalancerIPs);
  const single = (p: Prefix | undefined): boolean => p !== undefined && p.len === p.addr.bits;
  const slices = rs.endpointSlices ?? [];
  const out = new Set<string>();
  for (const svc of rs.services ?? []) {
    if (!ROUTED_TYPES.has(svc.type) || svc.clusterIPs.length === 0) continue;
    const external = svc.externalIPs.filter((a) => inside(externalCidrs, a) !== undefined);
    const lb = svc.type === 'LoadBalancer' ? svc.loadBalancerIPs.filter((a) => inside(lbCidrs, a) !== undefined) : [];
    const cluster = svc.clusterIPs.filter((a) => inside(clusterCidrs, a) !== undefined);
    if (svc.externalTrafficPolicy === 'Cluster') {
      for (const a of external) if (single(inside(externalCidrs, a))) out.add(hostPrefix(a));
      for (const a of lb) if (single(inside(lbCidrs, a))) out.add(hostPrefix(a));
    }
    const local = svc.externalTrafficPolicy === 'Local' ? [...cluster, ...external, ...lb]
      : svc.internalTrafficPolicy === 'Local' ? cluster : [];
    if (local.length === 0) continue;
    const families = localFamilies(svc, slices, node);
    for (const a of local) if (families.has(familyOf(a))) out.add(hostPrefix(a));
  }
  return [...out].sort();
}
