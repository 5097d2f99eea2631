// Kubernetes objects in the shapes Calico and Kubernetes store them (crd.projectcalico.org/v1
// CRDs with the projectcalico.org/metadata annotation, Nodes with Calico's annotations, Pods with
// Calico CNI's annotations), written by hand for the fake apiserver tests.
import type { Obj } from './fake-apiserver.js';

export const V1 = 'crd.projectcalico.org/v1';
export const V3 = 'projectcalico.org/v3';

export function calico(kind: string, name: string, spec: Obj, apiVersion = V1): Obj {
  return {
    apiVersion, kind,
    metadata: { name, annotations: { 'projectcalico.org/metadata': '{"creationTimestamp":null}' } },
    spec,
  };
}

export function k8sNode(name: string, annotations: Record<string, string>, labels: Record<string, string> = {}): Obj {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', ...annotations },
    },
    spec: { podCIDR: '10.244.0.0/24' },
    status: {
      addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: name }],
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:00Z', reason: 'KubeletReady' }],
    },
  };
}

export function pod(namespace: string, name: string, node: string, ips: string[], extra: { phase?: string; hostNetwork?: boolean; labels?: Record<string, string>; annotate?: boolean } = {}): Obj {
  const annotations: Record<string, string> = {};
  if (extra.annotate !== false && ips.length > 0 && extra.hostNetwork !== true) {
    annotations['cni.projectcalico.org/containerID'] = 'a'.repeat(64);
    annotations['cni.projectcalico.org/podIP'] = ips[0]?.includes(':') ? `${ips[0]}/128` : `${ips[0] ?? ''}/32`;
    annotations['cni.projectcalico.org/podIPs'] = ips.map((ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`)).join(',');
  }
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace, labels: extra.labels ?? { app: name }, annotations },
    spec: {
      nodeName: node, serviceAccountName: 'default', hostNetwork: extra.hostNetwork ?? false,
      containers: [{ name: 'main', image: 'nginx:1.25' }],
    },
    status: {
      phase: extra.phase ?? 'Running',
      ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
      hostIP: '10.0.0.5',
    },
  };
}

export function secret(namespace: string, name: string, data: Record<string, string>): Obj {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** A small cluster: config, a ToR peer, a pool, node-1's block, two nodes, pods on both. */
export function baseCluster(): Obj[] {
  return [
    calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: true, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }),
    calico('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65001, nodeSelector: "rack == 'a'" }),
    calico('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }),
    calico('BlockAffinity', 'node-1-10-244-1-0-26', { node: 'node-1', cidr: '10.244.1.0/26', state: 'confirmed', deleted: 'false' }),
    calico('IPAMBlock', '10-244-1-0-26', {
      cidr: '10.244.1.0/26', affinity: 'host:node-1', strictAffinity: false,
      allocations: [0, null, null], unallocated: [1, 2], attributes: [{ handle_id: 'k8s-pod-network.abc', secondary: { namespace: 'default', node: 'node-1', pod: 'nginx' } }],
      deleted: false, sequenceNumber: 3,
    }),
    k8sNode('node-1', {
      'projectcalico.org/IPv4Address': '10.0.0.5/24',
      'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.1.1',
    }, { rack: 'a' }),
    k8sNode('node-2', {
      'projectcalico.org/IPv4Address': '10.0.1.7/24',
      'projectcalico.org/IPv6Address': 'fd00::7/64',
      'projectcalico.org/ASNumber': '64513',
      'projectcalico.org/RouteReflectorClusterID': '224.0.0.1',
    }, { rack: 'b', 'route-reflector': 'true' }),
    pod('default', 'nginx', 'node-1', ['10.244.1.2']),
    pod('web', 'frontend-0', 'node-1', ['10.244.1.3', 'fd00:244::3']),
    pod('default', 'elsewhere', 'node-2', ['10.244.2.9']),
    pod('kube-system', 'kube-proxy-x', 'node-1', ['10.0.0.5'], { hostNetwork: true }),
    pod('default', 'job-done', 'node-1', ['10.244.1.4'], { phase: 'Succeeded' }),
  ];
}

/** A v1 Service as kube-apiserver returns it (an allocated cluster IP, an optional load-balancer status). */
export function service(namespace: string, name: string, spec: Obj, lbIngress: string[] = []): Obj {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { namespace, name, uid: `uid-${name}`, resourceVersion: '1' },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ipFamilyPolicy: 'SingleStack', ...spec },
    status: { loadBalancer: lbIngress.length > 0 ? { ingress: lbIngress.map((ip) => ({ ip })) } : {} },
  };
}

/** An EndpointSlice as the EndpointSlice controller writes it: one endpoint per [address, node, ready]. */
export function endpointSlice(namespace: string, name: string, svc: string, addressType: 'IPv4' | 'IPv6',
  endpoints: [string, string, boolean][]): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType,
    endpoints: endpoints.map(([ip, node, ready]) => ({ addresses: [ip], nodeName: node, conditions: { ready, serving: ready, terminating: false } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}
