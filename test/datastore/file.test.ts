// Tests for reading a resource file: the shipped example, YAML syntax errors, and validation
// errors whose messages name the file, the document (index and object) and the field.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/datastore/errors.js';
import { loadFile, parseResources, watchFile } from '../../src/datastore/file.js';
import { eventually } from '../helpers/eventually.js';

const dir = await mkdtemp(join(tmpdir(), 'kite-file-'));
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const HEAD = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 64512
`;
/** Error text for `body` appended as document 2 (after a valid document 1). */
const errorOf = (body: string, file = 'cfg.yaml'): ConfigError => {
  try {
    parseResources(`${HEAD}---\n${body}`, file);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('examples/kite.yaml', () => {
  it('loads and has what the example promises', async () => {
    const rs = await loadFile('examples/kite.yaml');
    expect(rs.nodes.map((n) => n.metadata.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(rs.nodes[0]?.spec.bgp?.ipv4Address).toBe('198.18.0.1/24');
    expect(rs.ipPools[0]?.spec).toMatchObject({ cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never' });
    expect(rs.blockAffinities.map((b) => b.spec.cidr)).toEqual(['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26']);
    expect(rs.bgpPeers[0]?.spec).toMatchObject({ peerAddress: '198.18.0.254', asNumber: 65000, keepaliveTime: 30 });
    expect(rs.bgpConfigurations[0]?.spec.serviceClusterIPs).toEqual([{ cidr: '10.96.0.0/12' }]);
    expect(rs.warnings).toEqual([]);
  });
});

describe('validation errors name file, document and field', () => {
  it('a bad peerIP', () => {
    const e = errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: 10.0.0.300, asNumber: 65000}
`, 'examples/kite.yaml');
    expect(e.message).toBe('examples/kite.yaml: document 2 (BGPPeer "tor"): spec.peerIP: "10.0.0.300" is not an IP address');
    expect(e.problems[0]).toMatchObject({ document: 2, path: 'spec.peerIP', line: 11 });
  });
  it('a bad port in peerIP', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: "[fd00::1]:99999", asNumber: 65000}
`).message).toBe('cfg.yaml: document 2 (BGPPeer "tor"): spec.peerIP: "[fd00::1]:99999": port "99999" is not a number from 1 to 65535');
  });
  it('an unknown kind', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: x}
`).message).toMatch(/^cfg\.yaml: document 2 \(NetworkPolicy "x"\): kind: unknown kind "NetworkPolicy"; Kite reads BGPConfiguration, /);
  });
  it('a wrongly cased kind gets a suggestion', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BgpPeer
metadata: {name: x}
`).message).toContain('(did you mean BGPPeer?)');
  });
  it('a node address without prefix length', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-1}
spec: {bgp: {ipv4Address: 198.18.0.1}}
`).message).toBe('cfg.yaml: document 2 (Node "node-1"): spec.bgp.ipv4Address: "198.18.0.1" is not an IPv4 CIDR (write it with a prefix length, like 198.18.0.1/24)');
  });
  it('a typo in a field name', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIp: 10.0.0.1, asNumber: 65000}
`).message).toContain('cfg.yaml: document 2 (BGPPeer "tor"): spec.peerIp: unknown field (did you mean peerIP?)');
  });
  it('several mistakes are all reported, with list indexes in paths', () => {
    const e = errorOf(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool
  labels: {tier: 1}
spec:
  cidr: 10.244.0.1/16
  ipipMode: Sometimes
  allowedUses: [Workload, Pods]
`);
    expect(e.problems.map((p) => `${p.path}: ${p.reason}`)).toEqual([
      'metadata.labels.tier: must be a string, got 1 (quote it: "1")',
      'spec.cidr: "10.244.0.1/16" has host bits set (did you mean 10.244.0.0/16?)',
      'spec.ipipMode: "Sometimes" is not one of Never, Always, CrossSubnet',
      'spec.allowedUses[1]: "Pods" is not one of Workload, Tunnel, LoadBalancer',
    ]);
  });
  it('a bad selector names the position', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {nodeSelector: "rack = 'r1'", peerIP: 10.0.0.1, asNumber: 65000}
`).message).toBe(`cfg.yaml: document 2 (BGPPeer "tor"): spec.nodeSelector: selector "rack = 'r1'": at position 6: unexpected character "="`);
  });
  // Issue 11 item 5: Calico's BGPPeerSpec has `asNumber,omitempty` (projectcalico/api v3), so a
  // peerIP without asNumber is a valid resource; confd reads the missing AS as the cluster's.
  it('BGPPeer needs peerIP or peerSelector; a peerIP without asNumber is accepted with a warning', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {node: node-1}
`).message).toContain('spec: needs spec.peerIP');
    const rs = parseResources(`${HEAD}---\napiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {peerIP: 10.0.0.1}
`, 'cfg.yaml');
    expect(rs.bgpPeers[0]?.spec.peerAddress).toBe('10.0.0.1');
    expect(rs.warnings.join('\n')).toContain('spec.asNumber: not set with spec.peerIP: the cluster AS number is used');
  });
  // Issue 11 item 5: ServiceClusterIPBlock / ServiceLoadBalancerIPBlock have `cidr,omitempty` in
  // Calico's API: an entry without one is valid there and advertises nothing.
  it('a service IP entry without cidr is accepted with a warning and advertises nothing', () => {
    const rs = parseResources(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {serviceClusterIPs: [{}, {cidr: 10.96.0.0/12}], serviceLoadBalancerIPs: [{}]}
`, 'cfg.yaml');
    expect(rs.bgpConfigurations[0]?.spec.serviceClusterIPs).toEqual([{ cidr: '10.96.0.0/12' }]);
    expect(rs.bgpConfigurations[0]?.spec.serviceLoadBalancerIPs).toEqual([]);
    expect(rs.warnings.filter((w) => w.includes('has no cidr'))).toHaveLength(2);
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {peerSelector: all(), asNumber: 65000}
`).message).toContain('spec.asNumber: must be empty with spec.peerSelector');
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {node: a, nodeSelector: all(), peerIP: 10.0.0.1, peerSelector: all(), asNumber: 65000}
`).problems.map((p) => `${p.path}: ${p.reason}`)).toEqual([
      'spec.nodeSelector: cannot be set together with spec.node (use one or the other)',
      'spec.peerSelector: cannot be set together with spec.peerIP (use one or the other)',
      "spec.asNumber: must be empty with spec.peerSelector (the selected nodes' own AS numbers are used)",
    ]);
  });
  it('bad AS numbers, durations and communities', () => {
    const e = errorOf(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.node-1}
spec:
  listenPort: 70000
  communities: [{name: c, value: "65536:1"}]
  prefixAdvertisements: [{cidr: 10.0.0.0/8, communities: [nope]}]
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {peerIP: 10.0.0.1, asNumber: 0, keepaliveTime: 30}
`);
    expect(e.problems.map((p) => `${p.document} ${p.path}: ${p.reason}`)).toEqual([
      '2 spec.listenPort: 70000 is out of range (1 to 65535)',
      '2 spec.communities[0].value: "65536:1" is not a community ("a:b" with 16-bit parts, or large "a:b:c" with 32-bit parts)',
      '2 spec.prefixAdvertisements[0].communities[0]: "nope" is neither a community value nor a name defined in spec.communities',
      '3 spec.asNumber: AS 0 is reserved (RFC 7607)',
      '3 spec.keepaliveTime: must be a duration string such as "120s", got 30',
    ]);
  });
  it('duplicate names', () => {
    expect(errorOf(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
`).message).toBe('cfg.yaml: document 2 (BGPConfiguration "default"): metadata.name: duplicate BGPConfiguration "default" (already defined in document 1)');
  });
  it('missing metadata.name and unsupported apiVersion', () => {
    const e = errorOf(`apiVersion: v1
kind: Node
metadata: {labels: {a: b}}
`);
    expect(e.problems.map((p) => p.text)).toEqual([
      'cfg.yaml: document 2 (Node): metadata.name: is required',
      'cfg.yaml: document 2 (Node): apiVersion: "v1" is not supported (use projectcalico.org/v3 or crd.projectcalico.org/v1)',
    ]);
  });
  it('YAML syntax errors name file and line', () => {
    expect(() => parseResources(`${HEAD}---\nkind: Node\nmetadata:\n  name: [oops\n`, 'bad.yaml')).toThrow(/^bad\.yaml: document 2: line 1[01], column \d+: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  });
  it('a missing file', async () => {
    await expect(loadFile(join(dir, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: no such file/);
  });
});

describe('accepted forms', () => {
  it('the CRD form: string booleans, asdot AS, List documents, ignored extra fields', () => {
    const rs = parseResources(`apiVersion: crd.projectcalico.org/v1
kind: BlockAffinity
metadata: {name: a, resourceVersion: "12", uid: x}
spec: {node: n1, cidr: 10.244.1.0/26, state: confirmed, deleted: "false"}
---
apiVersion: projectcalico.org/v3
kind: BGPPeerList
items:
  - apiVersion: projectcalico.org/v3
    kind: BGPPeer
    metadata: {name: p1}
    spec: {peerIP: "10.0.0.1:1790", asNumber: "1.10", futureField: 1}
  - apiVersion: projectcalico.org/v3
    kind: BGPPeer
    metadata: {name: p2}
    spec: {peerSelector: "has(rr)", maxRestartTime: 2m30s}
---
`, 'c.yaml');
    expect(rs.blockAffinities[0]?.spec).toEqual({ node: 'n1', cidr: '10.244.1.0/26', state: 'confirmed', deleted: false });
    expect(rs.bgpPeers[0]?.spec).toMatchObject({ peerAddress: '10.0.0.1', peerPort: 1790, asNumber: 65546 });
    expect(rs.bgpPeers[1]?.spec.maxRestartTime).toBe(150);
    expect(rs.warnings).toEqual(['c.yaml: document 2 (BGPPeer "p1"): items[0].spec.futureField: unknown field, ignored']);
  });
  it('IPPool defaults (blockSize by family, modes Never)', () => {
    const rs = parseResources(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:10:244::/64"}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.0.0.0/16, disabled: true}
`, 'p.yaml');
    expect(rs.ipPools.map((p) => [p.spec.blockSize, p.spec.ipipMode, p.spec.disabled])).toEqual([[122, 'Never', false], [26, 'Never', true]]);
  });
  it('an empty file is an empty configuration', () => {
    expect(parseResources('', 'e.yaml').nodes).toEqual([]);
    expect(parseResources('# only a comment\n', 'e.yaml').nodes).toEqual([]);
  });
});

/** HEAD written to `name` in the temporary folder and watched: the AS number of each update and each error's message, in order. */
async function watched(name: string, debounceMs: number) {
  const path = join(dir, name);
  await writeFile(path, HEAD);
  const updates: number[] = [];
  const errors: string[] = [];
  const w = await watchFile(path, {
    onUpdate: (rs) => updates.push(rs.bgpConfigurations[0]?.spec.asNumber ?? 0),
    onError: (e) => errors.push(e.message),
  }, debounceMs);
  return { path, updates, errors, w };
}

describe('watchFile', () => {
  it('delivers valid edits and keeps the last good config on invalid ones', async () => {
    const { path, updates, errors, w } = await watched('watched.yaml', 20);
    try {
      await writeFile(path, HEAD.replace('64512', '65001'));
      await eventually('the valid edit', () => updates.length === 2, 2000);
      await writeFile(path, HEAD.replace('64512', '"x"'));
      await eventually('the invalid edit\'s error', () => errors.length === 1, 2000);
      expect(errors[0]).toContain('spec.asNumber: "x" is not an AS number');
      expect(w.current().bgpConfigurations[0]?.spec.asNumber).toBe(65001);
      expect(updates).toEqual([64512, 65001]);
    } finally {
      w.close();
    }
  });
});

describe('watchFile: adaptive debounce (issue 16)', () => {

  it('a single edit after a quiet period lands at once, not after the debounce', async () => {
    const t = await watched('quick.yaml', 60_000);
    try {
      await writeFile(t.path, HEAD.replace('64512', '65001'));
      await eventually('the edit', () => t.updates.length === 2, 10_000); // a sixth of the debounce
      expect(t.updates).toEqual([64512, 65001]);
    } finally {
      t.w.close();
    }
  });

  it('edits that follow a reload are coalesced: the consumer sees the last, once', async () => {
    const t = await watched('burst.yaml', 3000);
    try {
      await writeFile(t.path, HEAD.replace('64512', '65001'));
      await eventually('the first edit', () => t.updates.length === 2, 10_000);
      for (const as of ['65002', '65003', '65004']) await writeFile(t.path, HEAD.replace('64512', as));
      await eventually('the last edit', () => t.updates.at(-1) === 65004, 20_000);
      expect(t.updates).toEqual([64512, 65001, 65004]);
      expect(t.errors).toEqual([]);
    } finally {
      t.w.close();
    }
  });

  it('a file caught empty (a writer between truncate and data) is not acted on at once', async () => {
    const t = await watched('truncated.yaml', 1500);
    try {
      await writeFile(t.path, '');
      await new Promise((r) => setTimeout(r, 300));
      expect(t.updates).toEqual([64512]); // no empty configuration applied
      await writeFile(t.path, HEAD.replace('64512', '65001'));
      await eventually('the written file', () => t.updates.length === 2, 20_000);
      expect(t.updates).toEqual([64512, 65001]);
      expect(t.errors).toEqual([]);
    } finally {
      t.w.close();
    }
  });
});

describe('IPAMBlock and WorkloadEndpoint', () => {
  it('parse with the fields later features need', () => {
    const rs = parseResources(`apiVersion: crd.projectcalico.org/v1
kind: IPAMBlock
metadata: {name: 10-244-1-0-26}
spec:
  cidr: 10.244.1.0/26
  affinity: host:node-1
  strictAffinity: false
  allocations: [0, null, 1]
  unallocated: [1, 3]
  attributes:
    - {handle_id: k8s-pod-network.abc, secondary: {namespace: default, node: node-1, pod: web}}
    - {handle_id: ipip-tunnel-addr-node-1, secondary: {node: node-1, type: ipipTunnelAddress}}
  deleted: false
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node--1-k8s-web-eth0, namespace: default, labels: {app: web}}
spec:
  node: node-1
  orchestrator: k8s
  pod: web
  endpoint: eth0
  interfaceName: cali1234567890a
  mac: "EE:EE:EE:EE:EE:EE"
  ipNetworks: [10.244.1.0/32]
  profiles: [kns.default]
`, 'w.yaml');
    expect(rs.ipamBlocks[0]?.spec).toMatchObject({ cidr: '10.244.1.0/26', affinity: 'host:node-1', allocations: [0, null, 1] });
    expect(rs.ipamBlocks[0]?.spec.attributes[0]?.secondary['pod']).toBe('web');
    expect(rs.workloadEndpoints[0]?.metadata.namespace).toBe('default');
    expect(rs.workloadEndpoints[0]?.spec).toMatchObject({ node: 'node-1', interfaceName: 'cali1234567890a', mac: 'ee:ee:ee:ee:ee:ee', ipNetworks: ['10.244.1.0/32'] });
  });
  it('report their mistakes like every other kind', () => {
    const e = errorOf(`apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: w}
spec: {node: n, mac: nope, ipNetworks: [10.244.1.300/32]}
---
apiVersion: projectcalico.org/v3
kind: IPAMBlock
metadata: {name: b}
spec: {cidr: 10.244.1.0/26, affinity: node-1, allocations: [x]}
`);
    expect(e.problems.map((p) => `${p.document} ${p.path}: ${p.reason}`)).toEqual([
      '2 metadata.namespace: is required for a WorkloadEndpoint',
      '2 spec.ipNetworks[0]: "10.244.1.300/32" is not a CIDR',
      '2 spec.mac: "nope" is not a MAC address',
      '3 spec.affinity: "node-1" is not an affinity ("host:<node name>")',
      '3 spec.allocations[0]: must be an attribute index or null, got "x"',
    ]);
  });
});

describe('watchFile rejection by the consumer', () => {
  it('a snapshot rejected by onUpdate does not become the last good one', async () => {
    const path = join(dir, 'rejected.yaml');
    await writeFile(path, HEAD);
    const errors: string[] = [];
    const w = await watchFile(path, {
      onUpdate: (rs) => {
        if (rs.bgpConfigurations[0]?.spec.asNumber === 65099) throw new ConfigError('node "x" not found');
      },
      onError: (e) => errors.push(e.message),
    }, 20);
    try {
      await writeFile(path, HEAD.replace('64512', '65099'));
      await eventually('the error', () => errors.length > 0, 2000);
      expect(errors).toEqual(['node "x" not found']);
      expect(w.current().bgpConfigurations[0]?.spec.asNumber).toBe(64512);
    } finally {
      w.close();
    }
  });
});

describe('Secrets (BGP passwords) in the file', () => {
  const peer = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 198.18.0.254
  asNumber: 65000
  password:
    secretKeyRef:
      name: bgp-secrets
      key: tor
  ttlSecurity: 1
`;
  it('reads data (base64) and stringData (plain, winning on the same key), as Kubernetes does', () => {
    const rs = parseResources(`${HEAD}---\n${peer}---
apiVersion: v1
kind: Secret
metadata:
  name: bgp-secrets
  namespace: kube-system
type: Opaque
data:
  tor: ${Buffer.from('from-data').toString('base64')}
  other: ${Buffer.from('x y').toString('base64')}
stringData:
  tor: s3cret
`, 'cfg.yaml');
    expect(rs.secrets).toEqual({ 'bgp-secrets': { tor: 's3cret', other: 'x y' } });
    expect(rs.bgpPeers[0]?.spec.password).toEqual({ secretKeyRef: { name: 'bgp-secrets', key: 'tor' } });
    expect(rs.bgpPeers[0]?.spec.ttlSecurity).toBe(1);
  });

  it('names the document and field of a bad Secret', () => {
    expect(errorOf('apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: "not base64!"\n').message)
      .toMatch(/document 2.*data\.k.*not base64/);
    expect(errorOf('apiVersion: v1\nkind: Secret\nmetadata: {}\nstringData:\n  k: v\n').message).toMatch(/document 2.*metadata\.name.*needs metadata\.name/);
    expect(errorOf('apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: 5\n').message).toMatch(/stringData\.k.*must be a string/);
  });
});
