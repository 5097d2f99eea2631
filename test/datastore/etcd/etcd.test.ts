// The etcdv3 datastore against a real etcd (one member, in a Lab namespace): Calico's key layout
// and values read as libcalico-go writes them (fixtures spelled out by hand below, not made by
// Kite's encoder), watch changes, relist after compaction without a second snapshot, Kite's own
// Node write, and two allocators racing for addresses through etcd transactions.
// Reference for keys: libcalico-go lib/backend/model (ResourceListOptions.defaultPathRoot,
// BlockKey, BlockAffinityKey "/calico/ipam/v2/host/%s/ipv%d/block/%s", IPAMHandleKey).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Etcd3 } from 'etcd3';
import { createEtcdDatastore, type EtcdDatastore } from '../../../src/datastore/etcd/index.js';
import { EtcdReflector } from '../../../src/datastore/etcd/reflector.js';
import { affinityKey, blockKey, handleKey, parseKey, resourceKey } from '../../../src/datastore/etcd/keys.js';
import type { Resources } from '../../../src/datastore/resources.js';
import type { SyncStatus } from '../../../src/datastore/datastore.js';
import { Allocator, IpamError } from '../../../src/ipam/index.js';
import { EtcdStore } from '../../../src/ipam/etcd-store.js';
import { auditStore, node, pool } from '../../ipam/helpers.js';
import { etcdEntries } from '../../../src/lab/etcd.js';
import { Daemon } from '../../../src/daemon.js';
import { join } from 'node:path';
import { EtcdCluster, sleep, waitFor, etcdPrerequisites } from './cluster.js';
import { FakeApiServer } from '../kubernetes/fake-apiserver.js';
import { k8sNode, secret } from '../kubernetes/fixtures.js';

const log = pino({ level: 'silent' });

describe('Calico etcdv3 keys (no etcd needed)', () => {
  it('spells keys as libcalico-go does', () => {
    expect(resourceKey('bgppeers', 'rr-1')).toBe('/calico/resources/v3/projectcalico.org/bgppeers/rr-1');
    expect(resourceKey('workloadendpoints', 'n1-k8s-p-eth0', 'default')).toBe('/calico/resources/v3/projectcalico.org/workloadendpoints/default/n1-k8s-p-eth0');
    expect(blockKey('10.65.0.0/26')).toBe('/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26');
    expect(blockKey('fd00:10::/122')).toBe('/calico/ipam/v2/assignment/ipv6/block/fd00:10::-122');
    expect(affinityKey('node-a', '10.65.0.64/26')).toBe('/calico/ipam/v2/host/node-a/ipv4/block/10.65.0.64-26');
    expect(handleKey('ipip-tunnel-addr-node-a')).toBe('/calico/ipam/v2/handle/ipip-tunnel-addr-node-a');
  });
  it('parses what it spells and ignores keys outside the layout', () => {
    expect(parseKey('/calico/ipam/v2/host/node-a/ipv6/block/fd00:10::40-122')).toEqual({ type: 'affinity', host: 'node-a', cidr: 'fd00:10::40/122' });
    expect(parseKey('/calico/resources/v3/projectcalico.org/workloadendpoints/ns/w')).toEqual({ type: 'resource', plural: 'workloadendpoints', namespace: 'ns', name: 'w' });
    expect(parseKey('/calico/felix/v2/no-region/host/n1/status')).toBeUndefined();
    expect(parseKey('/calico/resources/v3/projectcalico.org/bgppeers/a/b')).toBeUndefined();
  });
  it('kite lab --datastore etcd writes the lab file\'s documents under Calico\'s keys', () => {
    const yaml = [
      'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: node-1}\nspec: {bgp: {ipv4Address: 198.18.0.1/24}}',
      'apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: {name: node-1-10-244-1-0-26}\nspec: {node: node-1, cidr: 10.244.1.0/26, state: confirmed}',
      'apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata: {name: w, namespace: default}\nspec: {node: node-1}',
    ].join('\n---\n');
    expect(etcdEntries(yaml)).toEqual([
      ['/calico/resources/v3/projectcalico.org/nodes/node-1', JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1' }, spec: { bgp: { ipv4Address: '198.18.0.1/24' } } })],
      ['/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26', '{"state":"confirmed","deleted":false}'],
      ['/calico/resources/v3/projectcalico.org/workloadendpoints/default/w', JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'w', namespace: 'default' }, spec: { node: 'node-1' } })],
    ]);
  });
});


// What calicoctl / calico-node put into etcd: keys and JSON values written out by hand.
const R = '/calico/resources/v3/projectcalico.org';
const FIXTURES: Record<string, unknown> = {
  [`${R}/bgpconfigurations/default`]: { kind: 'BGPConfiguration', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default', uid: 'a1', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { logSeverityScreen: 'Info', nodeToNodeMeshEnabled: true, asNumber: 64512 } },
  [`${R}/nodes/node-a`]: { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node-a', uid: 'b1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { rack: 'r1' } }, spec: { bgp: { ipv4Address: '198.18.5.1/24', ipv4IPIPTunnelAddr: '10.65.0.1' }, orchRefs: [{ nodeName: 'node-a', orchestrator: 'k8s' }] } },
  [`${R}/nodes/node-b`]: { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node-b', uid: 'b2', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { bgp: { ipv4Address: '198.18.5.2/24' } } },
  [`${R}/bgppeers/tor`]: { kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'tor', uid: 'c1', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { peerIP: '198.18.5.254', asNumber: 64500 } },
  [`${R}/ippools/default-ipv4-ippool`]: { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default-ipv4-ippool', uid: 'd1', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { cidr: '10.65.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' } },
  // Kinds Kite does not read sit beside them and are skipped.
  [`${R}/felixconfigurations/default`]: { kind: 'FelixConfiguration', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default' }, spec: { bpfLogLevel: '' } },
  [`${R}/workloadendpoints/default/node--a-k8s-web-eth0`]: { kind: 'WorkloadEndpoint', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node--a-k8s-web-eth0', namespace: 'default', labels: { app: 'web' } }, spec: { node: 'node-a', orchestrator: 'k8s', pod: 'web', endpoint: 'eth0', interfaceName: 'cali0123456789a', ipNetworks: ['10.65.0.2/32'], profiles: ['kns.default'] } },
  [`${R}/workloadendpoints/default/node--b-k8s-db-eth0`]: { kind: 'WorkloadEndpoint', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node--b-k8s-db-eth0', namespace: 'default' }, spec: { node: 'node-b', orchestrator: 'k8s', pod: 'db', endpoint: 'eth0', interfaceName: 'cali0123456789b', ipNetworks: ['10.65.0.66/32'], profiles: ['kns.default'] } },
  // libcalico-go model.AllocationBlock and BlockAffinity values (the key carries host and CIDR).
  '/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26': {
    cidr: '10.65.0.0/26', affinity: 'host:node-a', strictAffinity: false,
    allocations: [null, 0, 1, ...Array.from({ length: 61 }, () => null)],
    unallocated: [3, 4, ...Array.from({ length: 59 }, (_, i) => i + 5), 0],
    attributes: [{ handle_id: 'ipip-tunnel-addr-node-a', secondary: { node: 'node-a', type: 'ipipTunnelAddress' } }, { handle_id: 'k8s-pod-network.web', secondary: { namespace: 'default', node: 'node-a', pod: 'web' } }],
    deleted: false, sequenceNumber: 1767225600000000000, sequenceNumberForAllocation: { '1': 1767225600000000000, '2': 1767225600000000000 },
  },
  '/calico/ipam/v2/host/node-a/ipv4/block/10.65.0.0-26': { state: 'confirmed', deleted: false },
  '/calico/ipam/v2/handle/ipip-tunnel-addr-node-a': { block: { '10.65.0.0/26': 1 }, deleted: false },
};

const missing = etcdPrerequisites('the etcd datastore tests');

describe.skipIf(missing !== undefined)('etcd datastore against one etcd member', () => {
  const cluster = new EtcdCluster('etcd1', 213, 1);
  let client: Etcd3;
  beforeAll(async () => {
    await cluster.start();
    client = new Etcd3({ hosts: cluster.endpoints });
    for (const [k, v] of Object.entries(FIXTURES)) await client.put(k).value(JSON.stringify(v));
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await cluster.destroy();
  });

  function watchDatastore(ds: EtcdDatastore): { snaps: Resources[]; statuses: SyncStatus[]; errors: string[]; started: Promise<void> } {
    const out = { snaps: [] as Resources[], statuses: [] as SyncStatus[], errors: [] as string[], started: Promise.resolve() };
    out.started = ds.start({ onSnapshot: (r) => out.snaps.push(r), onStatus: (s) => out.statuses.push(s), onError: (e) => out.errors.push(e.message) });
    return out;
  }

  it('reads Calico\'s keys and values: resources, this node\'s endpoints, blocks and affinities', async () => {
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints }, nodeName: 'node-a', log, debounceMs: 20 });
    const w = watchDatastore(ds);
    try {
      await w.started;
      expect(w.statuses).toEqual(['waiting', 'resyncing', 'in-sync']);
      const s = w.snaps.at(-1) as Resources;
      expect(s.nodes.map((n) => [n.metadata.name, n.spec.bgp?.ipv4Address])).toEqual([['node-a', '198.18.5.1/24'], ['node-b', '198.18.5.2/24']]);
      expect(s.nodes[0]?.metadata.labels).toEqual({ rack: 'r1' });
      expect(s.bgpPeers.map((p) => [p.metadata.name, p.spec.peerIP, p.spec.asNumber])).toEqual([['tor', '198.18.5.254', 64500]]);
      expect(s.bgpConfigurations[0]?.spec.asNumber).toBe(64512);
      expect(s.ipPools.map((p) => [p.spec.cidr, p.spec.ipipMode])).toEqual([['10.65.0.0/16', 'Always']]);
      expect(s.workloadEndpoints.map((e) => e.metadata.name)).toEqual(['node--a-k8s-web-eth0']);
      expect(s.ipamBlocks.map((b) => [b.metadata.name, b.spec.cidr, b.spec.affinity, b.spec.allocations.filter((a) => a !== null).length])).toEqual([['10-65-0-0-26', '10.65.0.0/26', 'host:node-a', 2]]);
      expect(s.blockAffinities.map((a) => [a.metadata.name, a.spec.node, a.spec.cidr, a.spec.state])).toEqual([['node-a-10-65-0-0-26', 'node-a', '10.65.0.0/26', 'confirmed']]);
      expect(w.errors).toEqual([]);

      // A change, a creation and a deletion each reach the next snapshot.
      const n = w.snaps.length;
      await cluster.put(`${R}/bgppeers/tor`, { ...FIXTURES[`${R}/bgppeers/tor`] as object, spec: { peerIP: '198.18.5.253', asNumber: 64500 } });
      await cluster.put(`${R}/nodes/node-c`, { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: 'node-c' }, spec: { bgp: { ipv4Address: '198.18.5.3/24' } } });
      await cluster.del(`${R}/nodes/node-b`);
      await waitFor('the changes in a snapshot', async () => {
        const last = w.snaps.at(-1) as Resources;
        return last.bgpPeers[0]?.spec.peerIP === '198.18.5.253' && last.nodes.map((x) => x.metadata.name).join() === 'node-a,node-c' ? true : undefined;
      }, { timeoutMs: 5000, intervalMs: 50 });
      expect(w.snaps.length).toBeGreaterThan(n);
    } finally {
      ds.stop();
      await cluster.put(`${R}/bgppeers/tor`, FIXTURES[`${R}/bgppeers/tor`]);
      await cluster.put(`${R}/nodes/node-b`, FIXTURES[`${R}/nodes/node-b`]);
      await cluster.del(`${R}/nodes/node-c`);
    }
  }, 30_000);

  it('lists every page at one revision, then watches from the next: a key written during the list is not in it, and not lost', async () => {
    const c = new Etcd3({ hosts: cluster.endpoints });
    const prefix = '/kite-test/list-watch/';
    for (let i = 0; i < 5; i++) await c.put(`${prefix}k${i}`).value('{}');
    // After the first page, a write lands (its key sorts after k4, on the last page).
    const range = c.kv.range.bind(c.kv);
    let pages = 0;
    c.kv.range = async (req, opts) => {
      const res = await range(req, opts);
      if (++pages === 1) await c.put(`${prefix}late`).value('{}');
      return res;
    };
    const views: string[] = [];
    const errors: string[] = [];
    const r: EtcdReflector<string> = new EtcdReflector<string>({
      client: c, prefix, pageSize: 2, log,
      convert: (k) => ({ value: k }), onChange: () => views.push([...r.items.keys()].map((k) => k.slice(prefix.length)).sort().join()),
      onSynced: () => undefined, onError: (e) => errors.push(e.message),
    });
    r.start();
    try {
      await waitFor('the key written during the list', async () => (r.items.has(`${prefix}late`) ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
      expect(pages).toBe(3);
      expect(views[0]).toBe('k0,k1,k2,k3,k4');
      expect(views.at(-1)).toBe('k0,k1,k2,k3,k4,late');
      expect(r.stats.lists).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      r.stop();
      await c.delete().prefix(prefix);
      c.close();
    }
  }, 20_000);

  it('a watch that comes back to a compacted revision relists; the unchanged view gives no second snapshot', async () => {
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints, keepaliveMs: 1000, keepaliveTimeoutMs: 1000 }, nodeName: 'node-a', log, debounceMs: 20, backoffMs: [100] });
    const w = watchDatastore(ds);
    const m = cluster.members[0]!;
    try {
      await w.started;
      const snaps = w.snaps.length;
      const lists = ds.reflectors.map((r) => r.stats.lists);
      // Cut the client off, churn a key and put it back (the view is unchanged), compact past it.
      await cluster.disconnect(m);
      await sleep(300);
      await cluster.put(`${R}/bgppeers/flap`, { kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'flap' }, spec: { peerIP: '198.18.5.9', asNumber: 64501 } });
      await cluster.del(`${R}/bgppeers/flap`);
      await cluster.compact();
      cluster.connect(m);
      await waitFor('a relist after compaction', async () => (ds.reflectors.some((r, i) => r.stats.lists > (lists[i] ?? 0)) && w.statuses.at(-1) === 'in-sync' ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
      expect(ds.reflectors.reduce((n, r) => n + r.stats.compactions, 0)).toBeGreaterThan(0);
      expect(w.statuses.slice(-2)).toEqual(['resyncing', 'in-sync']);
      // No snapshot without the flapping peer and none with it: routes never moved.
      expect(w.snaps.length).toBe(snaps);
      // And the watch works again afterwards.
      await cluster.put(`${R}/bgppeers/after`, { kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'after' }, spec: { peerIP: '198.18.5.8', asNumber: 64501 } });
      await waitFor('the new peer', async () => ((w.snaps.at(-1) as Resources).bgpPeers.some((p) => p.metadata.name === 'after') ? true : undefined), { timeoutMs: 5000, intervalMs: 50 });
    } finally {
      ds.stop();
      if (m.forwarder === undefined) cluster.connect(m);
      await cluster.del(`${R}/bgppeers/after`);
    }
  }, 40_000);

  // etcd holds no Secrets: calico-node's confd reads BGP passwords from the Kubernetes API in etcd
  // mode too (confd/pkg/backends/calico/secret_watcher.go: $KUBECONFIG, else in-cluster; one
  // watch per Secret by name in $NAMESPACE, default kube-system), and without an API it warns
  // and peers without the password (client.go getPassword). Kite names the peer in an error.
  it('BGP passwords: Secrets come from the Kubernetes API as calico-node reads them; without one, an error names the peer', async () => {
    const api = await FakeApiServer.start();
    const peer = { kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'secure' }, spec: { peerIP: '198.18.5.250', asNumber: 64501, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } } };
    api.put(secret('kube-system', 'bgp-secrets', { tor: 's3cret' }));
    api.put(secret('calico-system', 'bgp-secrets', { tor: 'other-namespace' }));
    await cluster.put(`${R}/bgppeers/secure`, peer);
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints }, nodeName: 'node-a', log, debounceMs: 20, kubeconfig: api.kubeconfig(), env: {} });
    const bare = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints }, nodeName: 'node-a', log, debounceMs: 20, env: {} });
    try {
      const w = watchDatastore(ds);
      await w.started;
      // The first snapshot already carries the password: it waited for the Secret's list.
      expect(w.snaps[0]?.secrets).toEqual({ 'bgp-secrets': { tor: 's3cret' } });
      const req = api.requests.find((q) => q.path === '/api/v1/namespaces/kube-system/secrets');
      expect(req?.query.get('fieldSelector')).toBe('metadata.name=bgp-secrets');
      api.put(secret('kube-system', 'bgp-secrets', { tor: 'rotated' }));
      await waitFor('the rotated password', async () => (w.snaps.at(-1)?.secrets?.['bgp-secrets']?.['tor'] === 'rotated' ? true : undefined), { timeoutMs: 5000, intervalMs: 50 });
      expect(w.errors).toEqual([]);

      // No kubeconfig, no in-cluster service account: the peer is named, and why.
      const b = watchDatastore(bare);
      await b.started;
      expect(b.snaps.at(-1)?.secrets).toEqual({});
      expect(b.errors).toEqual([expect.stringMatching(/^BGPPeer "secure": its password \(Secret "bgp-secrets", key "tor"\) cannot be read: .*Kubernetes API.*set KUBECONFIG.*runs without TCP MD5/)]);
    } finally {
      ds.stop();
      bare.stop();
      await api.close();
      await cluster.del(`${R}/bgppeers/secure`);
    }
  }, 30_000);

  it('NAMESPACE (calico-node\'s variable) says where the Secrets are', async () => {
    const api = await FakeApiServer.start();
    api.put(secret('calico-system', 'mesh', { pw: 'm3sh' }));
    await cluster.put(`${R}/bgpconfigurations/default`, { ...FIXTURES[`${R}/bgpconfigurations/default`] as { spec: object }, spec: { ...(FIXTURES[`${R}/bgpconfigurations/default`] as { spec: object }).spec, nodeMeshPassword: { secretKeyRef: { name: 'mesh', key: 'pw' } } } });
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints }, nodeName: 'node-a', log, debounceMs: 20, env: { KUBECONFIG: api.kubeconfig(), NAMESPACE: 'calico-system' } });
    try {
      const w = watchDatastore(ds);
      await w.started;
      expect(w.snaps.at(-1)?.secrets).toEqual({ mesh: { pw: 'm3sh' } });
    } finally {
      ds.stop();
      await api.close();
      await cluster.put(`${R}/bgpconfigurations/default`, FIXTURES[`${R}/bgpconfigurations/default`]);
    }
  }, 30_000);

  // calico-node's startup reads the Kubernetes Node whatever its datastore (startup.go: clientcmd
  // with $KUBECONFIG, falling back to in-cluster; the Node named by CALICO_K8S_NODE_REF, else the
  // node name), and autodetection without one fails: "Cannot use method 'kubernetes-internal-ip'
  // when not running on a Kubernetes cluster" (autodetection/autodetect.go).
  it('kubernetes-internal-ip: the Kubernetes Node\'s InternalIP through the Kubernetes API; none configured is a clear error', async () => {
    const api = await FakeApiServer.start();
    api.put(k8sNode('node-k', {}));
    const other = k8sNode('k8s-name', {}) as { status: { addresses: { type: string; address: string }[] } };
    other.status.addresses = [{ type: 'InternalIP', address: '10.0.0.77' }, { type: 'InternalIP', address: 'fd00:77::1' }, { type: 'ExternalIP', address: '203.0.113.7' }];
    api.put(other as unknown as Record<string, unknown>);
    const mk = (o: { kubeconfig?: string; env: NodeJS.ProcessEnv }): EtcdDatastore => createEtcdDatastore({ etcd: { endpoints: cluster.endpoints }, nodeName: 'node-k', log, ...o });
    const d = new Daemon({ config: '', node: 'node-k', socket: join(cluster.lab.dir, 'node-k.sock'), dataplane: 'none', listenAddress: '127.0.0.94', listenPort: 0,
      datastore: 'etcdv3', etcd: { endpoints: cluster.endpoints }, kubeconfig: api.kubeconfig(), startup: { IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip', NO_DEFAULT_POOLS: 'true' } }, log);
    try {
      expect(await mk({ kubeconfig: api.kubeconfig(), env: {} }).nodeInternalIPs()).toEqual(['10.0.0.5']);
      expect(await mk({ env: { KUBECONFIG: api.kubeconfig(), CALICO_K8S_NODE_REF: 'k8s-name' } }).nodeInternalIPs()).toEqual(['10.0.0.77', 'fd00:77::1']);
      await expect(mk({ env: {} }).nodeInternalIPs()).rejects.toThrow(/^Cannot use method 'kubernetes-internal-ip' when not running on a Kubernetes cluster: with the etcdv3 datastore .*set KUBECONFIG/);
      await expect(mk({ kubeconfig: api.kubeconfig(), env: { CALICO_K8S_NODE_REF: 'missing' } }).nodeInternalIPs()).rejects.toThrow(/Kubernetes Node missing .*HTTP 404/);
      // The daemon: detected through the API, written to the Node in etcd as calico-node writes it.
      await d.start();
      expect(d.summary()).toMatchObject({ node: 'node-k', routerId: '10.0.0.5' });
      const v = JSON.parse(await client.get(`${R}/nodes/node-k`).string() ?? '{}') as { spec?: { bgp?: { ipv4Address?: string } } };
      expect(v.spec?.bgp?.ipv4Address).toBe('10.0.0.5/32');
    } finally {
      await d.stop('test over').catch(() => undefined);
      await api.close();
      await cluster.del(`${R}/nodes/node-k`);
      // The IPIP pool gave node-k a tunnel address: its block, affinity and handle go too.
      for (const k of await client.getAll().prefix('/calico/ipam/v2/host/node-k/').keys()) {
        const cidr = parseKey(k);
        if (cidr?.type === 'affinity') await client.delete().key(blockKey(cidr.cidr));
      }
      await client.delete().prefix('/calico/ipam/v2/host/node-k/');
      await client.delete().key('/calico/ipam/v2/handle/ipip-tunnel-addr-node-k');
    }
  }, 30_000);

  it('writes this node\'s BGP fields into the Node resource as calico-node does, keeping the rest', async () => {
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints }, nodeName: 'node-a', log });
    try {
      await ds.setNodeBGP({ ipv4Address: '198.18.5.11/24', asNumber: 64513 });
      await ds.setTunnelAddress('10.65.0.1');
      const v = JSON.parse(await client.get(`${R}/nodes/node-a`).string() ?? '{}') as { metadata: { uid: string; labels: object }; spec: { bgp: object; orchRefs: unknown[] } };
      expect(v.spec.bgp).toEqual({ ipv4Address: '198.18.5.11/24', ipv4IPIPTunnelAddr: '10.65.0.1', asNumber: 64513 });
      expect(v.metadata.uid).toBe('b1');
      expect(v.spec.orchRefs).toHaveLength(1);
      await ds.setNodeBGP({ asNumber: null });
      const w = JSON.parse(await client.get(`${R}/nodes/node-a`).string() ?? '{}') as { spec: { bgp: Record<string, unknown> } };
      expect(w.spec.bgp['asNumber']).toBeUndefined();
    } finally {
      ds.stop();
      await cluster.put(`${R}/nodes/node-a`, FIXTURES[`${R}/nodes/node-a`]);
    }
  }, 20_000);

  it('IPAM: reads Calico\'s blocks, and two allocators racing through etcd transactions never hand out an address twice', async () => {
    const c1 = new Etcd3({ hosts: cluster.endpoints });
    const c2 = new Etcd3({ hosts: cluster.endpoints });
    try {
      const s1 = new EtcdStore(c1);
      const s2 = new EtcdStore(c2);
      // Calico's block (written above by hand) is read with its owners.
      const seen = await s1.list('IPAMBlock');
      expect(seen.map((b) => [b.name, b.spec.affinity, b.spec.attributes[1]?.handle_id])).toEqual([['10-65-0-0-26', 'host:node-a', 'k8s-pod-network.web']]);
      expect((await s1.get('BlockAffinity', 'node-a-10-65-0-0-26'))?.spec.state).toBe('confirmed');
      expect((await s1.get('IPAMHandle', 'ipip-tunnel-addr-node-a'))?.spec.block).toEqual({ '10.65.0.0/26': 1 });

      const pools = [pool('race', '10.66.0.0/27', { blockSize: 29 })];
      const allocs = [new Allocator({ store: s1, pools: () => pools }), new Allocator({ store: s2, pools: () => pools })];
      const got = await Promise.all(allocs.map(async (a, i) => {
        const mine: string[] = [];
        for (let k = 0; k < 12; k++) {
          try {
            mine.push(...await a.autoAssign({ node: node(`race-${k % 3}`), handle: `h-${i}-${k}` }));
          } catch (e) {
            if (!(e instanceof IpamError && e.code === 'exhausted')) throw e;
          }
        }
        return mine;
      }));
      const all = got.flat();
      expect(all.length).toBeGreaterThan(12);
      expect(new Set(all).size).toBe(all.length);
      const { owners } = await auditStore(s1);
      for (const ip of all) expect(owners.has(ip)).toBe(true);
      // Where they landed: Calico's keys, Calico's value shapes.
      const keys = (await client.getAll().prefix('/calico/ipam/v2/').keys()).filter((k) => k.includes('10.66.'));
      expect(keys.some((k) => /^\/calico\/ipam\/v2\/assignment\/ipv4\/block\/10\.66\.0\.\d+-29$/.test(k))).toBe(true);
      expect(keys.some((k) => /^\/calico\/ipam\/v2\/host\/race-\d\/ipv4\/block\/10\.66\.0\.\d+-29$/.test(k))).toBe(true);
      const aff = keys.find((k) => k.startsWith('/calico/ipam/v2/host/')) as string;
      expect(Object.keys(JSON.parse(await client.get(aff).string() ?? '{}') as object).sort()).toEqual(['deleted', 'state']);
      const h = JSON.parse(await client.get('/calico/ipam/v2/handle/h-0-0').string() ?? '{}') as object;
      expect(Object.keys(h).sort()).toEqual(['block', 'deleted']);
    } finally {
      c1.close();
      c2.close();
    }
  }, 60_000);

  it('IPAM: an affinity without a block, as kite lab writes it, is claimed as that CIDR in etcd and gives the VTEP its first address (libcalico-go getBlockFromAffinity)', async () => {
    const yaml = 'apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: {name: lab-n-10-67-2-0-26}\nspec: {node: lab-n, cidr: 10.67.2.0/26, state: confirmed}';
    for (const [k, v] of etcdEntries(yaml)) await client.put(k).value(v);
    const c = new Etcd3({ hosts: cluster.endpoints });
    try {
      const a = new Allocator({ store: new EtcdStore(c), pools: () => [pool('vx', '10.67.0.0/16', { vxlanMode: 'Always' })] });
      expect(await a.ensureTunnelAddress(node('lab-n'), 'vxlan')).toMatchObject({ address: '10.67.2.0', allocated: true });
      // Calico's keys: the block under the affinity's CIDR, affine to the node; no other block or affinity.
      expect(await client.getAll().prefix('/calico/ipam/v2/host/lab-n/').keys()).toEqual(['/calico/ipam/v2/host/lab-n/ipv4/block/10.67.2.0-26']);
      // The value is model.BlockAffinity and nothing else: no Calico 3.30+ labels in etcd (only the
      // Kubernetes backend writes them; etcdv3 lists by the key, which names host and IP version).
      expect(JSON.parse(await client.get('/calico/ipam/v2/host/lab-n/ipv4/block/10.67.2.0-26').string() ?? '{}')).toEqual({ state: 'confirmed', deleted: false });
      expect((await client.getAll().prefix('/calico/ipam/v2/assignment/ipv4/block/10.67.').keys())).toEqual(['/calico/ipam/v2/assignment/ipv4/block/10.67.2.0-26']);
      const b = JSON.parse(await client.get('/calico/ipam/v2/assignment/ipv4/block/10.67.2.0-26').string() ?? '{}') as { affinity?: string; attributes?: { handle_id?: string }[] };
      expect(b.affinity).toBe('host:lab-n');
      expect(b.attributes?.map((x) => x.handle_id)).toEqual(['vxlan-tunnel-addr-lab-n']);
    } finally {
      c.close();
    }
  }, 30_000);

  it('a Kite daemon on etcd allocates its IPIP tunnel address through etcd IPAM and records it on its Node', async () => {
    const d = new Daemon({ config: '', node: 'node-b', socket: join(cluster.lab.dir, 'node-b.sock'), dataplane: 'none', listenAddress: '127.0.0.93', listenPort: 0,
      datastore: 'etcdv3', etcd: { endpoints: cluster.endpoints } }, log);
    await d.start();
    try {
      // calico-node's allocateip: a pool with ipipMode Always, no spec.bgp.ipv4IPIPTunnelAddr yet.
      const addr = await waitFor('node-b\'s tunnel address', async () => {
        const v = JSON.parse(await client.get(`${R}/nodes/node-b`).string() ?? '{}') as { spec?: { bgp?: { ipv4IPIPTunnelAddr?: string } } };
        return v.spec?.bgp?.ipv4IPIPTunnelAddr;
      }, { timeoutMs: 15_000, intervalMs: 100 });
      expect(addr).toMatch(/^10\.65\./);
      const h = JSON.parse(await client.get('/calico/ipam/v2/handle/ipip-tunnel-addr-node-b').string() ?? '{}') as { block?: Record<string, number> };
      expect(Object.values(h.block ?? {})).toEqual([1]);
      expect(await client.getAll().prefix('/calico/ipam/v2/host/node-b/ipv4/block/10.65.').keys()).toHaveLength(1);
    } finally {
      await d.stop('test over');
      await cluster.put(`${R}/nodes/node-b`, FIXTURES[`${R}/nodes/node-b`]);
    }
  }, 40_000);

  it('a wrong password gives a clear error', async () => {
    // Auth on, as an operator would set it up (etcd needs a root user first); off again after.
    const m = cluster.members[0]!;
    await cluster.ctl(m, ['user', 'add', 'root:right-password']);
    await cluster.ctl(m, ['auth', 'enable']);
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints, username: 'root', password: 'wrong' }, nodeName: 'node-a', log, backoffMs: [200] });
    const errors: string[] = [];
    void ds.start({ onSnapshot: () => undefined, onStatus: () => undefined, onError: (e) => errors.push(e.message) }).catch(() => undefined);
    try {
      await waitFor('an error', async () => (errors.length > 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
      expect(errors[0]).toMatch(/^etcd unix:.*: authentication failed: check ETCD_USERNAME and ETCD_PASSWORD/);
      // The right password syncs.
      const ok = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints, username: 'root', password: 'right-password' }, nodeName: 'node-a', log });
      await ok.start({ onSnapshot: () => undefined, onStatus: () => undefined, onError: () => undefined });
      ok.stop();
    } finally {
      ds.stop();
      await cluster.ctl(m, ['--user', 'root:right-password', 'auth', 'disable']);
      await cluster.ctl(m, ['user', 'delete', 'root']);
    }
  }, 30_000);
});
