// One builder for the Calico configuration the daemon tests and the interop suites hand Kite: a
// cluster described as nodes (address, labels, blocks), pools, peers and filters with Calico's
// field names, written as the multi-document projectcalico.org/v3 YAML Kite's file datastore reads.
import { stringify } from 'yaml';
import { affinityName } from '../../src/ipam/names.js';
import { wepName } from '../../src/lab/topology.js';

type Fields = Record<string, unknown>;

export interface ClusterNodeConfig {
  /** Calico node name. */
  name: string;
  /** Node spec.bgp.ipv4Address, with its length ("127.0.0.21/8"); absent: left to start-up. */
  ipv4?: string;
  ipv6?: string;
  asNumber?: number;
  labels?: Record<string, string>;
  routeReflectorClusterID?: string;
  ipv4IPIPTunnelAddr?: string;
  /** Confirmed affine blocks (one BlockAffinity each). */
  blocks?: readonly string[];
  /** Node spec fields beside bgp, as calico-node writes them (the VXLAN tunnel addresses and MACs); undefined ones left out. */
  spec?: Fields;
}

/** A pod's WorkloadEndpoint as Calico's CNI writes it (orchestrator k8s, endpoint eth0, profile kns.<namespace>). */
export interface PodEndpoint {
  node: string;
  pod: string;
  /** Namespace (default: "default"). */
  namespace?: string;
  /** The pod's address: IPv4 (a /32 in ipNetworks), or IPv6 (a /128) for an IPv6-only pod. */
  ip: string;
  /** A dual-stack pod's IPv6 address (a /128 after the /32). */
  ipv6?: string;
  /** The host side of the pod's veth (cali…). */
  interfaceName: string;
  mac?: string;
  /** The pod's labels (Calico adds projectcalico.org/namespace and the like; not written here). */
  labels?: Record<string, string>;
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
  workloads?: readonly PodEndpoint[];
}

/** Fields left undefined are left out, as if not written. */
const defined = (o: Fields): Fields => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const resource = (kind: string, r: Named): Fields => {
  const { name, annotations, ...spec } = r;
  return { apiVersion: 'projectcalico.org/v3', kind, metadata: annotations ? { name, annotations } : { name }, spec: defined(spec) };
};

/** The resources in file order: configuration, nodes, pools, filters, peers, secrets, block affinities (named as Calico names them), workload endpoints. */
export function clusterResources(c: ClusterConfig): Fields[] {
  const docs: Fields[] = [resource('BGPConfiguration', { name: 'default', ...c.bgp })];
  for (const n of c.nodes) {
    const bgp: Fields = n.ipv4 !== undefined ? { ipv4Address: n.ipv4 } : {};
    if (n.ipv6 !== undefined) bgp['ipv6Address'] = n.ipv6;
    if (n.asNumber !== undefined) bgp['asNumber'] = n.asNumber;
    if (n.routeReflectorClusterID !== undefined) bgp['routeReflectorClusterID'] = n.routeReflectorClusterID;
    if (n.ipv4IPIPTunnelAddr !== undefined) bgp['ipv4IPIPTunnelAddr'] = n.ipv4IPIPTunnelAddr;
    const metadata: Fields = { name: n.name };
    if (n.labels !== undefined && Object.keys(n.labels).length > 0) metadata['labels'] = n.labels;
    docs.push({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata, spec: { bgp, ...defined(n.spec ?? {}) } });
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
  for (const w of c.workloads ?? []) {
    const namespace = w.namespace ?? 'default';
    docs.push({
      apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
      metadata: w.labels === undefined ? { name: wepName(w.node, w.pod), namespace } : { name: wepName(w.node, w.pod), namespace, labels: w.labels },
      spec: defined({
        node: w.node, orchestrator: 'k8s', pod: w.pod, endpoint: 'eth0', interfaceName: w.interfaceName, mac: w.mac,
        ipNetworks: [w.ip, ...(w.ipv6 === undefined ? [] : [w.ipv6])].map((a) => `${a}/${a.includes(':') ? 128 : 32}`), profiles: [`kns.${namespace}`],
      }),
    });
  }
  return docs;
}

/** The cluster as Kite's file datastore reads it. */
export function clusterYaml(c: ClusterConfig): string {
  return clusterResources(c).map((d) => stringify(d)).join('---\n');
}
