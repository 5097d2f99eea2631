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
    expect(rs.warnings.join('\n')).toMatch(/programClusterRoutes.*Kite does not act on programClusterRoutes/);
    expect(rs.warnings.join('\n')).toMatch(/Kite does not act on localWorkloadPeeringIPV4/);
    expect(rs.warnings.join('\n')).not.toMatch(/ignoredInterfaces/); // acted on: detection and dataplane skip it
  });

  it('reports them from the Kubernetes datastore too', () => {
    const c = convertCalico({ apiVersion: 'crd.projectcalico.org/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { programClusterRoutes: 'Enabled' } }, 'bgpconfigurations');
    expect('value' in c && c.warnings?.join()).toMatch(/Kite does not act on programClusterRoutes/);
  });
});
