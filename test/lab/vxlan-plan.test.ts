// `kite lab up --vxlan` (issue 15), without building a lab: the plan says what it chose and why,
// the generated Calico YAML (read by Kite's own file datastore) has VXLAN pools and VTEPs per
// Node (IPv4, IPv6 or both), the ToR's FRR configuration with --tor, and the impossible
// combinations are refused with the reason.
import { describe, expect, it } from 'vitest';
import { parseLabArgs } from '../../src/cli/lab.js';
import { parseResources } from '../../src/datastore/file.js';
import { labConfigYaml, planLab, DEFAULT_OPTIONS } from '../../src/lab/topology.js';
import { torConfig } from '../../src/lab/tor.js';

const kernel = { ipip: true, vxlan: true, bridge: true };

describe('kite lab --vxlan', () => {
  it('chooses vxlanMode Always with ipipMode Never, says so, and gives every Node its VTEP', () => {
    const plan = planLab({ ...DEFAULT_OPTIONS, vxlan: true }, kernel);
    expect(plan.vxlanMode).toBe('Always');
    expect(plan.encap).toBe('Never');
    expect(plan.reasons.join('\n')).toMatch(/--vxlan: IPv4 pool vxlanMode Always, ipipMode Never/);
    const rs = parseResources(labConfigYaml(plan), 'lab.yaml');
    expect(rs.ipPools[0]!.spec).toMatchObject({ vxlanMode: 'Always', ipipMode: 'Never' });
    expect(rs.nodes.map((n) => n.spec.ipv4VXLANTunnelAddr)).toEqual(['10.244.1.0', '10.244.2.0', '10.244.3.0']);
  });

  it('refuses what cannot work: no vxlan in the kernel, or a status with --vxlan', () => {
    expect(() => planLab({ ...DEFAULT_OPTIONS, vxlan: true }, { ...kernel, vxlan: false })).toThrow(/no vxlan device type/);
    expect(parseLabArgs(['up', '--vxlan'])).toMatchObject({ vxlan: true });
    expect(parseLabArgs(['up', '--vxlan', '--tor'])).toMatchObject({ vxlan: true, tor: true });
    expect(parseLabArgs(['up', '--vxlan', '--ipv6'])).toMatchObject({ vxlan: true, family: 'ipv6' });
    expect(() => parseLabArgs(['status', '--vxlan'])).toThrow(/applies to 'lab up' only/);
  });

  it('--vxlan --ipv6: the IPv6 pool is VXLAN Always and every Node has its IPv6 VTEP (quoted: a bare "fd00:…::" is not YAML text)', () => {
    const plan = planLab({ ...DEFAULT_OPTIONS, vxlan: true, family: 'ipv6' }, kernel);
    expect(plan.vxlanMode).toBe('Always');
    expect(plan.reasons.join('\n')).toMatch(/IPv6 pool vxlanMode Always: every IPv6 pod packet between nodes goes through vxlan-v6\.calico/);
    expect(plan.reasons.join('\n')).not.toMatch(/IPv4 pool/);
    const rs = parseResources(labConfigYaml(plan), 'lab.yaml');
    expect(rs.ipPools.map((p) => [p.spec.cidr, p.spec.vxlanMode])).toEqual([['fd00:10:244::/48', 'Always']]);
    expect(rs.nodes.map((n) => [n.spec.ipv4VXLANTunnelAddr, n.spec.ipv6VXLANTunnelAddr])).toEqual([
      [undefined, 'fd00:10:244:1::'], [undefined, 'fd00:10:244:2::'], [undefined, 'fd00:10:244:3::']]);
  });

  it('--vxlan --dual-stack: both pools VXLAN, both VTEPs per Node', () => {
    const rs = parseResources(labConfigYaml(planLab({ ...DEFAULT_OPTIONS, vxlan: true, family: 'dual' }, kernel)), 'lab.yaml');
    expect(rs.ipPools.map((p) => p.spec.vxlanMode)).toEqual(['Always', 'Always']);
    expect(rs.nodes[1]!.spec).toMatchObject({ ipv4VXLANTunnelAddr: '10.244.2.0', ipv6VXLANTunnelAddr: 'fd00:10:244:2::' });
  });

  it('--vxlan with VTEPs from IPAM (the lab on etcd): no VTEP in any Node, and it says who allocates them', () => {
    const plan = planLab({ ...DEFAULT_OPTIONS, vxlan: true, family: 'dual', vtepsFromIpam: true }, kernel);
    expect(plan.reasons.join('\n')).toMatch(/the Nodes start without VTEPs; each Kite allocates its own .*vxlan-v6-tunnel-addr-<node>/);
    // The Kites claim the affinities' CIDRs (libcalico-go getBlockFromAffinity), not extra blocks.
    expect(plan.reasons.join('\n')).toMatch(/each Kite claims the CIDR of its own affinity as calico-ipam does, creating the block, and takes the VTEP from it: the first address of its block, IPv6 too, no extra block/);
    expect(plan.reasons.join('\n')).not.toMatch(/each node's VTEP the first address of its block|claims a block of its own/);
    const rs = parseResources(labConfigYaml(plan), 'lab.yaml');
    expect(rs.nodes.map((n) => [n.spec.ipv4VXLANTunnelAddr, n.spec.ipv6VXLANTunnelAddr])).toEqual([[undefined, undefined], [undefined, undefined], [undefined, undefined]]);
    expect(rs.ipPools.map((p) => p.spec.vxlanMode)).toEqual(['Always', 'Always']);
  });

  it('--vxlan --tor: the ToR keeps each block\'s node as next hop (attribute-unchanged), so the nodes encapsulate to its VTEP; it says so', () => {
    const plan = planLab({ ...DEFAULT_OPTIONS, vxlan: true, tor: true }, kernel);
    expect(plan.underlay).toBe('tor-routed');
    expect(plan.vxlanMode).toBe('Always');
    expect(plan.reasons.join('\n')).toMatch(/--vxlan with --tor: the ToR passes each block on with its node as next hop/);
    const conf = torConfig(plan);
    for (const ip of ['198.18.1.1', '198.18.2.1', '198.18.3.1']) expect(conf).toContain(`  neighbor ${ip} attribute-unchanged next-hop\n`);
    expect(conf).not.toContain('address-family ipv6');
    // Without --vxlan the ToR is the next hop (native routing through it).
    expect(torConfig(planLab({ ...DEFAULT_OPTIONS, tor: true }, kernel))).not.toContain('attribute-unchanged');
  });
});
