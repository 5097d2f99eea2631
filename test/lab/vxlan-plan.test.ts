// `kite lab up --vxlan` (issue 15), without building a lab: the plan says what it chose and why,
// the generated Calico YAML (read by Kite's own file datastore) has a VXLAN pool and a VTEP per
// Node, and the impossible combinations are refused with the reason.
import { describe, expect, it } from 'vitest';
import { parseLabArgs } from '../../src/cli/lab.js';
import { parseResources } from '../../src/datastore/file.js';
import { labConfigYaml, planLab, DEFAULT_OPTIONS } from '../../src/lab/topology.js';

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

  it('refuses what cannot work: no vxlan in the kernel, or with --tor', () => {
    expect(() => planLab({ ...DEFAULT_OPTIONS, vxlan: true }, { ...kernel, vxlan: false })).toThrow(/no vxlan device type/);
    expect(() => parseLabArgs(['up', '--vxlan', '--tor'])).toThrow(/--vxlan and --tor do not combine/);
    expect(() => parseLabArgs(['up', '--vxlan', '--ipv6'])).toThrow(/IPv4-only/);
    expect(() => planLab({ ...DEFAULT_OPTIONS, vxlan: true, family: 'ipv6' }, kernel)).toThrow(/IPv4-only/);
    expect(parseLabArgs(['up', '--vxlan'])).toMatchObject({ vxlan: true });
    expect(() => parseLabArgs(['status', '--vxlan'])).toThrow(/applies to 'lab up' only/);
  });
});
