// Datastore resources and node config -> the dataplane's inputs: pools with their modes, own
// blocks, service ranges and addresses from a derived config; this node's workloads; Calico node
// addresses from Node resources.

import { describe, expect, it } from 'vitest';
import { calicoNodeAddresses, dataplaneConfig, dataplaneFeed, localWorkloads } from '../../src/calc/dataplane-inputs.js';
import { deriveNodeConfig } from '../../src/config/node-config.js';
import { parseResources } from '../../src/datastore/file.js';
import type { Node, WorkloadEndpoint } from '../../src/datastore/resources.js';

const resources = parseResources(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: { name: default }
spec: { asNumber: 64512, serviceClusterIPs: [{ cidr: 10.96.0.0/12 }], serviceExternalIPs: [{ cidr: 192.0.2.0/24 }] }
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: a, annotations: { projectcalico.org/IPv4IPIPTunnelAddr: 10.244.1.1 } }
spec: { bgp: { ipv4Address: 198.18.0.1/24 } }
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: b }
spec: { bgp: { ipv4Address: 198.18.0.2/24 } }
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: pods }
spec: { cidr: 10.244.0.0/16, ipipMode: CrossSubnet }
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: { name: a-0 }
spec: { node: a, cidr: 10.244.1.0/26, state: confirmed }
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: { name: p1, namespace: default }
spec: { node: a, pod: p1, interfaceName: calip1000000000, ipNetworks: [10.244.1.5/32], mac: 'aa:bb:cc:dd:ee:01' }
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: { name: p2, namespace: default }
spec: { node: b, pod: p2, interfaceName: calip2000000000, ipNetworks: [10.244.2.5/32] }
`, 'test.yaml');

describe('dataplane inputs from the node config', () => {
  it('pools with their modes, own blocks, service ranges, addresses and the tunnel address', () => {
    const cfg = deriveNodeConfig(resources, 'a');
    const dc = dataplaneConfig(cfg);
    expect(dc.pools).toEqual([{ name: 'pods', cidr: '10.244.0.0/16', family: 4, ipipMode: 'CrossSubnet', vxlanMode: 'Never' }]);
    expect(dc.blocks).toEqual([{ prefix: '10.244.1.0/26', pool: 'pods' }]);
    expect(dc.serviceRanges).toEqual(['10.96.0.0/12', '192.0.2.0/24']);
    expect(dc.ipv4Address).toEqual({ address: '198.18.0.1', prefixLength: 24, subnet: '198.18.0.0/24' });
    expect(dc.ipv6Address).toBeUndefined();
    expect(dc.ipv4IPIPTunnelAddr).toBe(cfg.ipv4IPIPTunnelAddr);
    // programClusterRoutes unset (Enabled): nothing is left to Felix.
    expect(dc.clusterRoutes).toBeUndefined();
    expect(dataplaneConfig({ ...cfg, clusterRoutes: { ipip: false, noEncap: true, setting: 'EnabledNoEncapOnly' } }).clusterRoutes)
      .toEqual({ ipip: false, noEncap: true, setting: 'EnabledNoEncapOnly' });
  });

  it('the feed: this node\'s workloads and every Calico node address', () => {
    const feed = dataplaneFeed(deriveNodeConfig(resources, 'a'), resources);
    expect(feed.workloads).toEqual([{ name: 'p1', interfaceName: 'calip1000000000', ipNetworks: ['10.244.1.5/32'], mac: 'aa:bb:cc:dd:ee:01' }]);
    expect(feed.nodes).toEqual(new Map([['198.18.0.1', 'a'], ['198.18.0.2', 'b']]));
  });
});

describe('workloads and node addresses', () => {
  it('localWorkloads keeps this node\'s endpoints that name an interface', () => {
    const wep = (name: string, node: string, iface?: string): WorkloadEndpoint => ({
      apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, labels: {}, annotations: {} },
      origin: { file: 'test.yaml', document: 1 },
      spec: { node, ipNetworks: ['10.244.1.5/32'], profiles: [], mac: 'AA:BB:CC:DD:EE:FF', ...(iface ? { interfaceName: iface } : {}) },
    });
    const got = localWorkloads([wep('a', 'node-1', 'cali1'), wep('b', 'node-2', 'cali2'), wep('c', 'node-1')], 'node-1');
    expect(got).toEqual([{ name: 'a', interfaceName: 'cali1', ipNetworks: ['10.244.1.5/32'], mac: 'AA:BB:CC:DD:EE:FF' }]);
  });

  it('calicoNodeAddresses maps IPv4 and IPv6 node addresses to names', () => {
    const n = (name: string, v4?: string, v6?: string): Node => ({
      apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels: {}, annotations: {} }, origin: { file: 't', document: 1 },
      spec: { bgp: { ...(v4 ? { ipv4Address: v4 } : {}), ...(v6 ? { ipv6Address: v6 } : {}) } },
    });
    expect(calicoNodeAddresses([n('a', '198.18.0.2/24', 'FD00:18::0002/64'), n('b')])).toEqual(
      new Map([['198.18.0.2', 'a'], ['fd00:18::2', 'a']]),
    );
  });
});
