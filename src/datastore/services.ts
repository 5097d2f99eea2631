// Kubernetes Services (v1) and EndpointSlices (discovery.k8s.io/v1) read into the small shapes
// per-service routes need (resources.ts Service, EndpointSlice). One reader for both datastores:
// the Kubernetes watch and `kind: Service` / `kind: EndpointSlice` documents in the file.
import { parseAddr } from '../net/index.js';
import type { EndpointSlice, Service, SliceEndpoint } from './resources.js';

type Raw = Record<string, unknown>;
export type Read<T> = { value: T } | { error: string };

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export const isServiceDoc = (v: unknown): boolean => isObj(v) && v['apiVersion'] === 'v1' && v['kind'] === 'Service';
export const isEndpointSliceDoc = (v: unknown): boolean =>
  isObj(v) && v['apiVersion'] === 'discovery.k8s.io/v1' && v['kind'] === 'EndpointSlice';

/** The label an EndpointSlice names its Service by (Kubernetes' EndpointSlice controller sets it). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function meta(raw: Raw): { name: string; namespace: string; labels: Record<string, string> } {
  const m = isObj(raw['metadata']) ? raw['metadata'] : {};
  const labels: Record<string, string> = {};
  if (isObj(m['labels'])) for (const [k, v] of Object.entries(m['labels'])) if (typeof v === 'string') labels[k] = v;
  return { name: str(m['name']), namespace: str(m['namespace']) || 'default', labels };
}

/** Canonical address text, or an error naming the field. */
function addresses(list: string[], field: string, out: string[]): string | undefined {
  for (const a of list) {
    const ip = parseAddr(a);
    if (ip === null) return `${field}: "${a}" is not an IP address`;
    const text = ip.toString();
    if (!out.includes(text)) out.push(text);
  }
  return undefined;
}

export function readService(raw: Raw): Read<Service> {
  const m = meta(raw);
  if (m.name === '') return { error: 'a Service needs metadata.name' };
  const where = `Service ${m.namespace}/${m.name}`;
  const spec = isObj(raw['spec']) ? raw['spec'] : {};
  const status = isObj(raw['status']) ? raw['status'] : {};
  const lb = isObj(status['loadBalancer']) ? status['loadBalancer'] : {};
  const ingress = Array.isArray(lb['ingress']) ? lb['ingress'].filter(isObj).map((i) => str(i['ip'])).filter((x) => x !== '') : [];
  const cluster = strings(spec['clusterIPs']);
  if (cluster.length === 0 && str(spec['clusterIP']) !== '') cluster.push(str(spec['clusterIP']));
  const out: Service = {
    namespace: m.namespace, name: m.name, type: str(spec['type']) || 'ClusterIP',
    clusterIPs: [], externalIPs: [], loadBalancerIPs: [],
    externalTrafficPolicy: spec['externalTrafficPolicy'] === 'Local' ? 'Local' : 'Cluster',
    internalTrafficPolicy: spec['internalTrafficPolicy'] === 'Local' ? 'Local' : 'Cluster',
  };
  const problem = addresses(cluster.filter((c) => c !== 'None'), 'spec.clusterIPs', out.clusterIPs)
    ?? addresses(strings(spec['externalIPs']), 'spec.externalIPs', out.externalIPs)
    ?? addresses([...ingress, ...(str(spec['loadBalancerIP']) !== '' ? [str(spec['loadBalancerIP'])] : [])],
      'status.loadBalancer.ingress', out.loadBalancerIPs);
  return problem === undefined ? { value: out } : { error: `${where}: ${problem}` };
}

/**
 * An EndpointSlice. With `node`, only that node's endpoints are kept: the others never decide
 * this node's routes, and dropping them keeps a large cluster's endpoint churn out of the snapshot.
 */
export function readEndpointSlice(raw: Raw, node?: string): Read<EndpointSlice> {
  const m = meta(raw);
  if (m.name === '') return { error: 'an EndpointSlice needs metadata.name' };
  const where = `EndpointSlice ${m.namespace}/${m.name}`;
  const service = m.labels[SERVICE_NAME_LABEL];
  if (service === undefined || service === '') return { error: `${where}: no ${SERVICE_NAME_LABEL} label, so no Service to belong to` };
  const type = raw['addressType'];
  if (type !== 'IPv4' && type !== 'IPv6' && type !== 'FQDN') return { error: `${where}: addressType must be IPv4, IPv6 or FQDN` };
  const endpoints: SliceEndpoint[] = [];
  const list = Array.isArray(raw['endpoints']) ? raw['endpoints'].filter(isObj) : [];
  for (const e of list) {
    const nodeName = str(e['nodeName']);
    if (node !== undefined && nodeName !== node) continue;
    const conditions = isObj(e['conditions']) ? e['conditions'] : {};
    // Kubernetes: an absent ready condition is to be read as ready.
    const ep: SliceEndpoint = { addresses: [], ready: conditions['ready'] !== false };
    if (type !== 'FQDN') {
      const problem = addresses(strings(e['addresses']), 'endpoints[].addresses', ep.addresses);
      if (problem !== undefined) return { error: `${where}: ${problem}` };
    }
    if (nodeName !== '') ep.nodeName = nodeName;
    endpoints.push(ep);
  }
  return { value: { namespace: m.namespace, name: m.name, service, addressType: type, endpoints } };
}
