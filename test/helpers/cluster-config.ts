// One builder for the Calico configuration the daemon tests and the interop suites hand Kite: a
// cluster described as nodes (address, labels, blocks), pools, peers and filters with Calico's
// field names, written as the multi-document projectcalico.org/v3 YAML Kite's file datastore reads.
import { stringify } from 'yaml';
import { affinityName } from '../../src/ipam/names.js';

type Fields = Record<string, unknown>;

export interface ClusterNodeConfig {
  /** Calico node name. */
  name: string;
  /** Node spec.bgp.ipv4Address, with its length ("127.0.0.21/8"). */
  ipv4: string;
  ipv6?: string;
  asNumber?: number;
  labels?: Record<string, string>;
  routeReflectorClusterID?: string;
  /** Confirmed affine blocks (one BlockAffinity each). */
  blocks?: readonly string[];
}

/** A named resource: its name plus its spec fields, with Calico's field names. */
export type Named = { name: string; annotations?: Record<string, string> } & Fields;

export interface ClusterConfig {
  /** BGPConfiguration "default"'s spec. */
  bgp: Fields;
  nodes: readonly ClusterNodeConfig[];
  pools: readonly Named[];
  filters?: readonly Named[];
  peers?: readonly Named[];
  /** v1 Secrets (kube-system) by name: key → value (stringData). */
  secrets?: Readonly<Record<string, Record<string, string>>>;
}

/** Fields left undefined are left out, as if not written. */
const resource = (kind: string, r: Named): Fields => {
  const { name, annotations, ...spec } = r;
  const defined = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
  return { apiVersion: 'projectcalico.org/v3', kind, metadata: annotations ? { name, annotations } : { name }, spec: defined };
};

/** The resources in file order: configuration, nodes, pools, filters, peers, secrets, block affinities (named as Calico names them). */
export function clusterResources(c: ClusterConfig): Fields[] {
  const docs: Fields[] = [resource('BGPConfiguration', { name: 'default', ...c.bgp })];
  for (const n of c.nodes) {
    const bgp: Fields = { ipv4Address: n.ipv4 };
    if (n.ipv6 !== undefined) bgp['ipv6Address'] = n.ipv6;
    if (n.asNumber !== undefined) bgp['asNumber'] = n.asNumber;
    if (n.routeReflectorClusterID !== undefined) bgp['routeReflectorClusterID'] = n.routeReflectorClusterID;
    const metadata: Fields = { name: n.name };
    if (n.labels !== undefined && Object.keys(n.labels).length > 0) metadata['labels'] = n.labels;
    docs.push({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata, spec: { bgp } });
  }
  for (const p of c.pools) docs.push(resource('IPPool', p));
  for (const f of c.filters ?? []) docs.push(resource('BGPFilter', f));
  for (const p of c.peers ?? []) docs.push(resource('BGPPeer', p));
  for (const [name, stringData] of Object.entries(c.secrets ?? {})) {
    docs.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'kube-system' }, type: 'Opaque', stringData });
  }
  for (const n of c.nodes) {
    for (const cidr of n.blocks ?? []) {
      docs.push(resource('BlockAffinity', { name: affinityName(n.name, cidr), node: n.name, cidr, state: 'confirmed', deleted: 'false' }));
    }
  }
  return docs;
}

/** The cluster as Kite's file datastore reads it. */
export function clusterYaml(c: ClusterConfig): string {
  return clusterResources(c).map((d) => stringify(d)).join('---\n');
}
