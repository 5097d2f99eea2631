// Issue 15 in the calc layer: VTEPs from Node resources (the Calico v3 spec fields and the kdd
// annotations, as Felix's VXLAN resolver reads them) become the dataplane's local and remote
// VTEPs; an IPAM VXLAN grant fills in a Node without one; borrowed workload addresses (outside
// this node's blocks, inside a pool) are originated as /32s, as Calico's BIRD exports the kernel
// /32 (bird_ipam.cfg: `net ~ block` rejects only inside own blocks, `net ~ pool` accepts).

import { describe, expect, it } from 'vitest';
import { dataplaneFeed, remoteVteps } from '../../src/calc/dataplane-inputs.js';
import { originatedPrefixes, withIpam } from '../../src/calc/pipeline.js';
import { deriveNodeConfig } from '../../src/config/node-config.js';
import { convertNode } from '../../src/datastore/kubernetes/convert.js';
import { parseResources } from '../../src/datastore/file.js';
import { vxlanMac } from '../../src/ipam/names.js';

const resources = parseResources(`apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: a }
spec: { bgp: { ipv4Address: 198.18.0.1/24 }, ipv4VXLANTunnelAddr: 10.250.1.0, vxlanTunnelMACAddr: '66:AA:00:00:00:01' }
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: b }
spec: { bgp: { ipv4Address: 198.18.1.2/24 }, ipv4VXLANTunnelAddr: 10.250.2.0 }
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: c }
spec: { bgp: { ipv4Address: 198.18.0.3/24 } }
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: vx }
spec: { cidr: 10.250.0.0/16, vxlanMode: CrossSubnet }
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: { name: a-0 }
spec: { node: a, cidr: 10.250.1.0/26, state: confirmed }
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: { name: b-0 }
spec: { node: b, cidr: 10.250.2.0/26, state: confirmed }
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: { name: own, namespace: default }
spec: { node: a, pod: own, interfaceName: calio000000000, ipNetworks: [10.250.1.5/32] }
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: { name: lent, namespace: default }
spec: { node: a, pod: lent, interfaceName: calil000000000, ipNetworks: [10.250.2.9/32] }
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: { name: outside, namespace: default }
spec: { node: a, pod: outside, interfaceName: calix000000000, ipNetworks: [192.0.2.9/32] }
`, 'test.yaml');

describe('VXLAN inputs', () => {
  it('this node\'s VTEP and the other nodes\' VTEPs come from the Node resources; a missing MAC is derived from the node name', () => {
    const cfg = deriveNodeConfig(resources, 'a');
    const feed = dataplaneFeed(cfg, resources);
    expect(feed.config.vxlan4).toEqual({ address: '10.250.1.0', mac: '66:aa:00:00:00:01' });
    expect(feed.config.vteps).toEqual([{ node: 'b', family: 4, address: '10.250.2.0', mac: vxlanMac('b'), nodeAddress: '198.18.1.2' }]);
    expect(remoteVteps(resources.nodes, 'b').map((v) => v.node)).toEqual(['a']);
    // Locally administered, unicast, the same on every node.
    expect(vxlanMac('b')).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
    expect(vxlanMac('b')).toBe(vxlanMac('b'));
  });

  it('an IPAM VXLAN grant gives a Node without a VTEP its address, MAC and block', () => {
    const cfg = deriveNodeConfig(resources, 'c');
    const out = withIpam(cfg, [{ tunnelAddress: '10.250.3.0', kind: 'vxlan', mac: vxlanMac('c'), blocks: [{ prefix: '10.250.3.0/26', pool: 'vx' }] }]);
    expect(out.ipv4VXLANTunnelAddr).toBe('10.250.3.0');
    expect(out.vxlanTunnelMACAddr).toBe(vxlanMac('c'));
    expect(out.ipv4IPIPTunnelAddr).toBeUndefined();
    expect(out.originate).toContainEqual({ prefix: '10.250.3.0/26', pool: 'vx' });
    // The Node's own value wins.
    expect(withIpam(deriveNodeConfig(resources, 'a'), { tunnelAddress: '10.250.1.9', kind: 'vxlan', blocks: [] }).ipv4VXLANTunnelAddr).toBe('10.250.1.0');
  });

  it('an IPv6 VXLAN grant fills the IPv6 VTEP and its MAC, leaving the IPv4 VTEP alone', () => {
    const cfg = deriveNodeConfig(resources, 'c');
    const out = withIpam(cfg, [
      { tunnelAddress: '10.250.3.0', kind: 'vxlan', mac: vxlanMac('c'), blocks: [] },
      { tunnelAddress: 'fd00:250::c0', kind: 'vxlan', family: 6, mac: vxlanMac('c', 6), blocks: [{ prefix: 'fd00:250::c0/122', pool: 'vx6' }] },
    ]);
    expect(out.ipv4VXLANTunnelAddr).toBe('10.250.3.0');
    expect(out.vxlanTunnelMACAddr).toBe(vxlanMac('c'));
    expect(out.ipv6VXLANTunnelAddr).toBe('fd00:250::c0');
    expect(out.vxlanTunnelMACAddrV6).toBe(vxlanMac('c', 6));
    expect(out.originate).toContainEqual({ prefix: 'fd00:250::c0/122', pool: 'vx6' });
    // A second IPv6 grant does not replace the first.
    expect(withIpam(out, { tunnelAddress: 'fd00:250::1', kind: 'vxlan', family: 6, blocks: [] }).ipv6VXLANTunnelAddr).toBe('fd00:250::c0');
  });

  it('Kubernetes Nodes carry the VTEP in the kdd annotations', () => {
    const r = convertNode({ metadata: { name: 'k', annotations: {
      'projectcalico.org/IPv4Address': '198.18.0.9/24', 'projectcalico.org/IPv4VXLANTunnelAddr': '10.250.9.0',
      'projectcalico.org/VXLANTunnelMACAddr': '66:00:00:00:00:09' } } });
    expect('value' in r && r.value.spec).toEqual({ bgp: { ipv4Address: '198.18.0.9/24' }, ipv4VXLANTunnelAddr: '10.250.9.0', vxlanTunnelMACAddr: '66:00:00:00:00:09' });
    const bad = convertNode({ metadata: { name: 'k', annotations: { 'projectcalico.org/VXLANTunnelMACAddr': 'nope' } } });
    expect('error' in bad && bad.error).toContain('metadata.annotations["projectcalico.org/VXLANTunnelMACAddr"]');
  });
});

describe('borrowed addresses', () => {
  it('a local workload outside this node\'s blocks, inside a pool, is originated as a /32; the block owner keeps its block', () => {
    const a = deriveNodeConfig(resources, 'a');
    expect(a.borrowed).toEqual(['10.250.2.9/32']);
    const routes = originatedPrefixes(a);
    expect(routes.get('10.250.2.9/32')).toEqual({ block: false });
    expect(routes.get('10.250.1.0/26')).toEqual({ block: true });
    expect(routes.has('10.250.1.5/32')).toBe(false);
    expect(routes.has('192.0.2.9/32')).toBe(false);
    const b = deriveNodeConfig(resources, 'b');
    expect(b.borrowed).toBeUndefined();
    expect(originatedPrefixes(b).get('10.250.2.0/26')).toEqual({ block: true });
  });
});
