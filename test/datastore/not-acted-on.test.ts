// No field silently ignored (issue 12): BGPConfiguration fields Kite accepts but does not act on
// draw a warning naming the field, in the file datastore and in the Kubernetes one.
import { describe, expect, it } from 'vitest';
import { parseResources } from '../../src/datastore/file.js';
import { convertCalico } from '../../src/datastore/kubernetes/convert.js';

describe('fields Kite does not act on', () => {
  it('warns with the field named, and keeps the object', () => {
    const rs = parseResources(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: { name: default }
spec:
  asNumber: 64512
  programClusterRoutes: Disabled
  localWorkloadPeeringIPV4: 169.254.0.179
  ignoredInterfaces: [eth9]
`, 'c.yaml');
    expect(rs.bgpConfigurations).toHaveLength(1);
    // Acted on since Calico 3.32's split of cluster routes (the routes left to Felix are refused).
    expect(rs.warnings.join('\n')).not.toMatch(/programClusterRoutes/);
    expect(rs.bgpConfigurations[0]?.spec.programClusterRoutes).toBe('Disabled');
    expect(rs.warnings.join('\n')).toMatch(/Kite does not act on localWorkloadPeeringIPV4/);
    expect(rs.warnings.join('\n')).not.toMatch(/ignoredInterfaces/); // acted on: detection and dataplane skip it
  });

  it('reports them from the Kubernetes datastore too', () => {
    const c = convertCalico({ apiVersion: 'crd.projectcalico.org/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { ipv4NormalRoutePriority: 512 } }, 'bgpconfigurations');
    expect('value' in c && c.warnings?.join()).toMatch(/Kite does not act on ipv4NormalRoutePriority/);
  });

  // confd's clusterRoutePolicyFromBGPConfig: "An unset field, and an unrecognised value from a
  // newer version of the API, both fall back to the default", with a warning.
  it('an unknown programClusterRoutes value warns and falls back to the default', () => {
    const rs = parseResources(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: { name: default }
spec: { programClusterRoutes: EnabledVXLANOnly }
`, 'c.yaml');
    expect(rs.bgpConfigurations).toHaveLength(1);
    expect(rs.bgpConfigurations[0]?.spec.programClusterRoutes).toBeUndefined();
    expect(rs.warnings.join('\n')).toMatch(/programClusterRoutes.*"EnabledVXLANOnly" is not one of Enabled, Disabled, EnabledIPIPOnly, EnabledNoEncapOnly; the default \(Enabled\) applies/);
  });
});
