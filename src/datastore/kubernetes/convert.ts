// Turns Kubernetes objects into Kite's typed resources with the file datastore's validator, so
// both report the same errors: Calico CRDs as they are; a Kubernetes Node through its
// projectcalico.org/* annotations (Calico's kdd node conversion); a Pod into a WorkloadEndpoint.
import { createHash } from 'node:crypto';
import { Checker, type Path } from '../check.js';
import { API_VERSION, type Node, type Resource, type WorkloadEndpoint } from '../resources.js';
import { validateDocument } from '../validate.js';
import type { Converted, RawObject } from './reflector.js';

const isObj = (v: unknown): v is RawObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const metaOf = (o: RawObject): RawObject => (isObj(o['metadata']) ? o['metadata'] : {});
const stringMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

/** The annotations Calico's kdd backend keeps a Node's BGP settings in (libcalico-go k8s/conversion). */
export const NodeAnnotation = {
  ipv4Address: 'projectcalico.org/IPv4Address',
  ipv6Address: 'projectcalico.org/IPv6Address',
  asNumber: 'projectcalico.org/ASNumber',
  ipv4IPIPTunnelAddr: 'projectcalico.org/IPv4IPIPTunnelAddr',
  routeReflectorClusterID: 'projectcalico.org/RouteReflectorClusterID',
} as const;

/** The annotations the kdd backend keeps a Node's VXLAN tunnel fields in (top-level spec fields in v3). */
export const NodeVxlanAnnotation = {
  ipv4VXLANTunnelAddr: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanTunnelMACAddr: 'projectcalico.org/VXLANTunnelMACAddr',
  ipv6VXLANTunnelAddr: 'projectcalico.org/IPv6VXLANTunnelAddr',
  vxlanTunnelMACAddrV6: 'projectcalico.org/VXLANTunnelMACAddrV6',
} as const;

/**
 * Validates a document built from a Kubernetes object. `rename` maps a field path of the built
 * document back to where the value lives in the Kubernetes object, so errors point at what
 * the user has to fix (an annotation, not a spec.bgp field they never wrote).
 */
function validate<R extends Resource>(
  doc: RawObject, source: string, rename: (path: string) => string = (p) => p, label?: string,
): Converted<R> {
  const c = new Checker({ file: source, document: 0, lineOf: (_p: Path) => 0 });
  const r = validateDocument(doc, c);
  if (r === undefined || c.problems.length > 0) {
    const named = c.problems[0]?.object ?? '';
    const what = label ?? (named !== '' ? named : source);
    const detail = c.problems.map((p) => (p.path === '' ? p.reason : `${rename(p.path)}: ${p.reason}`)).join('; ');
    return { error: `${what}: ${detail || 'invalid'}` };
  }
  return c.warnings.length > 0 ? { value: r as R, warnings: [...c.warnings] } : { value: r as R };
}

/** A Calico CRD object (crd.projectcalico.org/v1 or projectcalico.org/v3), validated as in a file. */
export function convertCalico(raw: RawObject, plural: string): Converted<Resource> {
  const meta = metaOf(raw);
  // Keep what the validator reads; uid, managedFields, resourceVersion and the rest would
  // only make two equal objects look different.
  const metadata: RawObject = { name: meta['name'], labels: meta['labels'], annotations: meta['annotations'] };
  if (meta['namespace'] !== undefined) metadata['namespace'] = meta['namespace'];
  const doc: RawObject = { apiVersion: raw['apiVersion'], kind: raw['kind'], metadata, spec: raw['spec'] };
  return validate(doc, `${plural}/${str(meta['name'])}`);
}

/**
 * A Kubernetes Node as a Calico Node: name and labels as they are, spec.bgp from the
 * projectcalico.org annotations, and no spec.bgp at all when none is set (Calico does the same,
 * and such a node takes no part in BGP).
 */
export function convertNode(raw: RawObject): Converted<Node> {
  const meta = metaOf(raw);
  const ann = stringMap(meta['annotations']);
  const bgp: RawObject = {};
  for (const [field, key] of Object.entries(NodeAnnotation)) {
    const v = ann[key];
    if (v !== undefined && v !== '') bgp[field] = v;
  }
  // Only Calico's own annotations are kept: the rest (kubeadm, CSI, node-lifecycle) change
  // often and mean nothing to routing.
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(ann)) if (k.startsWith('projectcalico.org/')) annotations[k] = v;
  const spec: RawObject = Object.keys(bgp).length > 0 ? { bgp } : {};
  for (const [field, key] of Object.entries(NodeVxlanAnnotation)) {
    const v = ann[key];
    if (v !== undefined && v !== '') spec[field] = v;
  }
  const doc: RawObject = {
    apiVersion: API_VERSION, kind: 'Node',
    metadata: { name: meta['name'], labels: stringMap(meta['labels']), annotations },
    spec,
  };
  const fieldToAnnotation = new Map<string, string>([
    ...Object.entries(NodeAnnotation).map(([f, a]) => [`spec.bgp.${f}`, `metadata.annotations["${a}"]`] as const),
    ...Object.entries(NodeVxlanAnnotation).map(([f, a]) => [`spec.${f}`, `metadata.annotations["${a}"]`] as const),
  ]);
  return validate<Node>(doc, `nodes/${str(meta['name'])}`, (p) => fieldToAnnotation.get(p) ?? p);
}

/** Calico's host-side interface name for a pod: "cali" + 11 hex digits of sha1("<ns>.<pod>"). */
export function caliInterfaceName(namespace: string, pod: string): string {
  return 'cali' + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/** Calico's WorkloadEndpoint name: node, orchestrator, pod and endpoint joined by "-", each "-" doubled. */
export function workloadEndpointName(node: string, pod: string, endpoint = 'eth0'): string {
  const esc = (s: string): string => s.replaceAll('-', '--');
  return `${esc(node)}-k8s-${esc(pod)}-${esc(endpoint)}`;
}

const hostCIDR = (ip: string): string => (ip.includes('/') ? ip : ip.includes(':') ? `${ip}/128` : `${ip}/32`);

/** The pod's addresses: Calico's CNI annotation first (set before the status catches up), then status. */
function podIPs(meta: RawObject, status: RawObject): string[] {
  const ann = stringMap(meta['annotations']);
  const fromAnn = ann['cni.projectcalico.org/podIPs'] ?? ann['cni.projectcalico.org/podIP'] ?? '';
  if (fromAnn.trim() !== '') return fromAnn.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const list = Array.isArray(status['podIPs']) ? status['podIPs'] : [];
  const ips = list.filter(isObj).map((x) => str(x['ip'])).filter((s) => s !== '');
  if (ips.length > 0) return ips;
  const one = str(status['podIP']);
  return one === '' ? [] : [one];
}

/**
 * A Pod on `nodeName` as the WorkloadEndpoint Calico's kdd backend derives from it. Pods that
 * have no Calico networking are absent: host-network pods, finished pods (their IPs may already
 * belong to another pod), pods not yet given an address, and pods on other nodes.
 */
export function convertPod(raw: RawObject, nodeName: string): Converted<WorkloadEndpoint> {
  const meta = metaOf(raw);
  const spec = isObj(raw['spec']) ? raw['spec'] : {};
  const status = isObj(raw['status']) ? raw['status'] : {};
  const name = str(meta['name']);
  const ns = str(meta['namespace']);
  if (str(spec['nodeName']) !== nodeName) return { absent: true };
  if (spec['hostNetwork'] === true) return { absent: true };
  const phase = str(status['phase']);
  if (phase === 'Succeeded' || phase === 'Failed') return { absent: true };
  const ips = podIPs(meta, status);
  if (ips.length === 0) return { absent: true };
  const sa = str(spec['serviceAccountName']) || 'default';
  const doc: RawObject = {
    apiVersion: API_VERSION, kind: 'WorkloadEndpoint',
    metadata: {
      name: workloadEndpointName(nodeName, name), namespace: ns,
      labels: {
        ...stringMap(meta['labels']),
        'projectcalico.org/namespace': ns,
        'projectcalico.org/orchestrator': 'k8s',
        'projectcalico.org/serviceaccount': sa,
      },
    },
    spec: {
      node: nodeName, orchestrator: 'k8s', pod: name, endpoint: 'eth0',
      interfaceName: caliInterfaceName(ns, name),
      ipNetworks: ips.map(hostCIDR),
      profiles: [`kns.${ns}`, `ksa.${ns}.${sa}`],
    },
  };
  return validate<WorkloadEndpoint>(doc, `pods/${ns}/${name}`, (p) => (p.startsWith('spec.ipNetworks') ? 'status.podIPs (or annotation cni.projectcalico.org/podIPs)' : p), `Pod "${ns}/${name}"`);
}

/** A Secret's data, base64-decoded, by key. */
export function convertSecret(raw: RawObject): Converted<Record<string, string>> {
  const data = isObj(raw['data']) ? raw['data'] : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  return { value: out };
}
