// Per-service routes (src/config/service-routes.ts) as Calico's confd routeGenerator decides them
// (confd/pkg/backends/calico/routes.go advertiseThisService, getAllRoutesForService): a Local
// Service's /32 or /128 only from nodes with a ready endpoint of that family, withdrawn with the
// last one; Cluster services only through the CIDRs, except single-address external/LB entries;
// addresses outside the configured CIDRs never; nothing from a node with
// node.kubernetes.io/exclude-from-external-load-balancers=true. Read from a file's Service and
// EndpointSlice documents, as the file datastore accepts them.
import { describe, expect, it } from 'vitest';
import { originatedPrefixes } from '../../src/calc/pipeline.js';
import { deriveNodeConfig } from '../../src/config/node-config.js';
import { ConfigError } from '../../src/datastore/errors.js';
import { parseResources } from '../../src/datastore/file.js';

const node = (name: string, v4: string, labels = ''): string =>
  `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: ${name}, labels: {${labels}}}\nspec: {bgp: {ipv4Address: ${v4}, ipv6Address: "fd00::${v4.split('.')[3]?.split('/')[0] ?? ''}/64"}}\n`;
const config = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.96.0.0/12}, {cidr: "fd00:96::/108"}]
  serviceExternalIPs: [{cidr: 192.0.2.0/24}, {cidr: 203.0.113.7/32}]
  serviceLoadBalancerIPs: [{cidr: 198.51.100.0/24}]
`;
const svc = (name: string, spec: string, lb: string[] = []): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec: ${spec}
status: {loadBalancer: {${lb.length > 0 ? `ingress: [${lb.map((ip) => `{ip: "${ip}"}`).join(', ')}]` : ''}}}
`;
const slice = (name: string, service: string, type: 'IPv4' | 'IPv6', eps: [string, string, boolean?][]): string => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: shop, labels: {kubernetes.io/service-name: ${service}}}
addressType: ${type}
endpoints: [${eps.map(([ip, n, ready]) => `{addresses: ["${ip}"], nodeName: ${n}${ready === undefined ? '' : `, conditions: {ready: ${ready}}`}}`).join(', ')}]
`;
const base = [node('a', '198.18.0.1/24'), node('b', '198.18.0.2/24'), node('c', '198.18.0.3/24', 'node.kubernetes.io/exclude-from-external-load-balancers: "true"'), config];
const routes = (docs: string[], n: string): string[] => deriveNodeConfig(parseResources([...base, ...docs].join('---\n'), 't.yaml'), n).services.routes ?? [];

describe('per-service routes', () => {
  const local = svc('web', '{type: LoadBalancer, clusterIP: 10.96.0.10, clusterIPs: [10.96.0.10], externalIPs: [192.0.2.5, 8.8.8.8], externalTrafficPolicy: Local}', ['198.51.100.9']);

  it('externalTrafficPolicy Local: cluster, external and LB /32s only from nodes with a ready local endpoint, only inside the CIDRs', () => {
    const docs = [local, slice('web-1', 'web', 'IPv4', [['10.244.0.5', 'a'], ['10.244.1.5', 'b', false]])];
    expect(routes(docs, 'a')).toEqual(['10.96.0.10/32', '192.0.2.5/32', '198.51.100.9/32']);
    expect(routes(docs, 'b')).toEqual([]); // its endpoint is not ready
    // The /32s ride on top of the CIDRs every node originates.
    const cfg = deriveNodeConfig(parseResources([...base, ...docs].join('---\n'), 't.yaml'), 'a');
    expect([...originatedPrefixes(cfg).keys()]).toEqual(expect.arrayContaining(['10.96.0.0/12', '10.96.0.10/32', '198.51.100.9/32']));
  });

  it('moves with its endpoints and is withdrawn when the last local one goes', () => {
    expect(routes([local, slice('web-1', 'web', 'IPv4', [['10.244.1.5', 'b']])], 'a')).toEqual([]);
    expect(routes([local, slice('web-1', 'web', 'IPv4', [['10.244.1.5', 'b']])], 'b')).toEqual(['10.96.0.10/32', '192.0.2.5/32', '198.51.100.9/32']);
    expect(routes([local], 'b')).toEqual([]);
  });

  it('honours the exclusion label on the node', () => {
    expect(routes([local, slice('web-1', 'web', 'IPv4', [['10.244.2.5', 'c']])], 'c')).toEqual([]);
  });

  it('externalTrafficPolicy Cluster: only the CIDRs, except a single-address external entry', () => {
    const cluster = svc('api', '{type: LoadBalancer, clusterIP: 10.96.0.11, externalIPs: [192.0.2.6, 203.0.113.7]}', ['198.51.100.10']);
    const docs = [cluster, slice('api-1', 'api', 'IPv4', [['10.244.0.6', 'a']])];
    expect(routes(docs, 'a')).toEqual(['203.0.113.7/32']);
    expect(routes(docs, 'b')).toEqual(['203.0.113.7/32']);
  });

  it('internalTrafficPolicy Local: the cluster IP alone, from nodes with an endpoint', () => {
    const internal = svc('db', '{clusterIP: 10.96.0.12, externalIPs: [192.0.2.7], internalTrafficPolicy: Local}');
    const docs = [internal, slice('db-1', 'db', 'IPv4', [['10.244.0.7', 'a']])];
    expect(routes(docs, 'a')).toEqual(['10.96.0.12/32']);
    expect(routes(docs, 'b')).toEqual([]);
  });

  it('a dual-stack Service is judged per family: a /128 needs a ready IPv6 endpoint here', () => {
    const dual = svc('dual', '{clusterIPs: [10.96.0.13, "fd00:96::13"], ipFamilies: [IPv4, IPv6], externalTrafficPolicy: Local, type: NodePort}');
    const docs = [dual, slice('dual-4', 'dual', 'IPv4', [['10.244.0.8', 'a']]), slice('dual-6', 'dual', 'IPv6', [['fd00:244::8', 'a'], ['fd00:244:1::8', 'b']])];
    expect(routes(docs, 'a')).toEqual(['10.96.0.13/32', 'fd00:96::13/128']);
    expect(routes(docs, 'b')).toEqual(['fd00:96::13/128']);
  });

  it('skips headless and ExternalName Services', () => {
    const headless = svc('h', '{clusterIP: None, externalTrafficPolicy: Local}');
    const ext = svc('e', '{type: ExternalName, externalName: example.org, externalTrafficPolicy: Local}');
    expect(routes([headless, ext, slice('h-1', 'h', 'IPv4', [['10.244.0.9', 'a']])], 'a')).toEqual([]);
  });

  it('the file datastore refuses a malformed Service or EndpointSlice, and duplicates', () => {
    expect(() => parseResources([...base, svc('x', '{clusterIP: 10.96.0.300}')].join('---\n'), 't.yaml')).toThrow(ConfigError);
    expect(() => parseResources([...base, svc('x', '{clusterIP: 10.96.0.3}'), svc('x', '{clusterIP: 10.96.0.4}')].join('---\n'), 't.yaml')).toThrow(/duplicate Service "shop\/x"/);
    expect(() => parseResources([...base, 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: shop}\naddressType: IPv4\nendpoints: []\n'].join('---\n'), 't.yaml'))
      .toThrow(/kubernetes.io\/service-name/);
  });
});
