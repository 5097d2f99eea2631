// The Kubernetes datastore against the local list/watch server (fake-apiserver.ts) over HTTPS
// with a bearer token: initial sync and status order, updates and deletes, dropped watches,
// 410 Gone, bookmarks, Calico group detection, Node annotations, Pods, Secrets, invalid objects.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncStatus } from '../../../src/datastore/datastore.js';
import { CalicoGroup, KubernetesDatastore, type KubernetesDatastoreOptions } from '../../../src/datastore/kubernetes/index.js';
import type { Resources } from '../../../src/datastore/resources.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver.js';
import { baseCluster, calico, endpointSlice, k8sNode, pod, secret, service, V1, V3 } from './fixtures.js';
import { loadRbac } from './rbac.js';
import { eventually } from '../../helpers/eventually.js';

type Event = { t: 'status'; s: SyncStatus } | { t: 'snapshot'; r: Resources } | { t: 'error'; e: Error };

interface Harness {
  server: FakeApiServer;
  ds: KubernetesDatastore;
  events: Event[];
  snapshots(): Resources[];
  last(): Resources;
  statuses(): SyncStatus[];
  errors(): string[];
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) {
    h.ds.stop();
    await h.server.close();
  }
});

const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function harness(objects: object[], serverOpts: FakeApiServerOptions = {}, dsOpts: Partial<KubernetesDatastoreOptions> = {}, startIt = true): Promise<Harness> {
  const server = await FakeApiServer.start(serverOpts);
  for (const o of objects) server.put(o as Record<string, unknown>);
  const events: Event[] = [];
  const ds = new KubernetesDatastore({
    kubeconfig: server.kubeconfig(), nodeName: 'node-1', namespace: 'kube-system', log: pino({ level: 'silent' }),
    debounceMs: 20, timing: { backoffMs: [20, 50, 100], watchTimeoutSeconds: 30, pageSize: 2 }, ...dsOpts,
  });
  const h: Harness = {
    server, ds, events,
    snapshots: () => events.flatMap((e) => (e.t === 'snapshot' ? [e.r] : [])),
    last: () => {
      const s = h.snapshots();
      const r = s[s.length - 1];
      if (r === undefined) throw new Error('no snapshot yet');
      return r;
    },
    statuses: () => events.flatMap((e) => (e.t === 'status' ? [e.s] : [])),
    errors: () => events.flatMap((e) => (e.t === 'error' ? [e.e.message] : [])),
  };
  open.push(h);
  if (startIt) {
    await ds.start({
      onSnapshot: (r) => events.push({ t: 'snapshot', r }),
      onStatus: (s) => events.push({ t: 'status', s }),
      onError: (e) => events.push({ t: 'error', e }),
    });
  }
  return h;
}

const names = (l: { metadata: { name: string } }[]): string[] => l.map((x) => x.metadata.name);
const reflector = (h: Harness, path: string) => {
  const r = h.ds.reflectors.find((x) => (x as unknown as { o: { path: string } }).o.path === path);
  if (r === undefined) throw new Error(`no reflector for ${path}`);
  return r;
};

describe('initial sync', () => {
  it('goes waiting → resyncing → in-sync with exactly one complete snapshot before in-sync', async () => {
    const h = await harness(baseCluster());
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);
    const kinds = h.events.map((e) => (e.t === 'status' ? e.s : e.t));
    expect(kinds).toEqual(['waiting', 'resyncing', 'snapshot', 'in-sync']);
    const r = h.last();
    expect(h.ds.group).toBe(CalicoGroup.CRDv1);
    expect(names(r.bgpConfigurations)).toEqual(['default']);
    expect(r.bgpConfigurations[0]?.spec).toEqual({ asNumber: 64512, nodeToNodeMeshEnabled: true, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] });
    expect(r.bgpPeers[0]?.spec).toMatchObject({ peerIP: '10.0.0.1', peerAddress: '10.0.0.1', asNumber: 65001, nodeSelector: "rack == 'a'" });
    expect(r.bgpPeers[0]?.apiVersion).toBe(V1);
    expect(r.ipPools[0]?.spec).toMatchObject({ cidr: '10.244.0.0/16', blockSize: 26, natOutgoing: true });
    // The CRD stores deleted as the string "false": normalised to a boolean.
    expect(r.blockAffinities[0]?.spec).toEqual({ node: 'node-1', cidr: '10.244.1.0/26', state: 'confirmed', deleted: false });
    expect(r.ipamBlocks[0]?.spec).toMatchObject({ cidr: '10.244.1.0/26', affinity: 'host:node-1', allocations: [0, null, null] });
    expect(names(r.nodes)).toEqual(['node-1', 'node-2']);
    // Only node-1's running, non-host-network pods.
    expect(r.workloadEndpoints.map((w) => `${w.metadata.namespace ?? ''}/${w.spec.pod ?? ''}`)).toEqual(['default/nginx', 'web/frontend-0']);
    expect(r.secrets).toEqual({});
    expect(h.errors()).toEqual([]);
  });

  it('pages lists with limit/continue and reads every page', async () => {
    const peers = Array.from({ length: 7 }, (_, i) => calico('BGPPeer', `peer-${i}`, { peerIP: `10.1.0.${i + 1}`, asNumber: 65000 + i }));
    const h = await harness(peers);
    expect(names(h.last().bgpPeers)).toEqual(peers.map((_, i) => `peer-${i}`));
    const pages = h.server.requests.filter((q) => q.path.endsWith('/bgppeers') && !q.watch);
    expect(pages.length).toBe(4); // 2 + 2 + 2 + 1
    expect(pages.slice(1).every((q) => (q.query.get('continue') ?? '') !== '')).toBe(true);
  });

  it('uses the field selector for pods and watches with bookmarks from the list resourceVersion', async () => {
    const h = await harness(baseCluster());
    await eventually('pod watch', () => h.server.openWatches('pods') === 1, 5000);
    const podReqs = h.server.requests.filter((q) => q.path === '/api/v1/pods');
    expect(podReqs.every((q) => q.query.get('fieldSelector') === 'spec.nodeName=node-1')).toBe(true);
    const w = podReqs.find((q) => q.watch);
    expect(w?.query.get('allowWatchBookmarks')).toBe('true');
    expect(w?.query.get('resourceVersion')).toBe(String(h.server.resourceVersion));
  });
});

describe('changes', () => {
  it('updates and deletes become snapshots; a burst becomes one snapshot', async () => {
    const h = await harness(baseCluster());
    const n = h.snapshots().length;
    h.server.put(calico('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65099, nodeSelector: "rack == 'a'" }));
    await eventually('update snapshot', () => h.snapshots().length === n + 1, 5000);
    expect(h.last().bgpPeers[0]?.spec.asNumber).toBe(65099);

    h.server.put(calico('BGPPeer', 'tor2', { peerIP: '10.0.0.2', asNumber: 65002 }));
    h.server.put(calico('BGPPeer', 'tor3', { peerIP: '10.0.0.3', asNumber: 65003 }));
    h.server.remove(V1, 'BGPPeer', 'tor');
    await eventually('burst snapshot', () => h.snapshots().length === n + 2, 5000);
    await settle();
    expect(h.snapshots().length).toBe(n + 2);
    expect(names(h.last().bgpPeers)).toEqual(['tor2', 'tor3']);

    h.server.remove(V1, 'BlockAffinity', 'node-1-10-244-1-0-26');
    await eventually('affinity deleted', () => h.last().blockAffinities.length === 0, 5000);
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);
  });

  it('a Node heartbeat (status only) or an unrelated annotation gives no snapshot', async () => {
    const h = await harness(baseCluster());
    const n = h.snapshots().length;
    const node = k8sNode('node-2', {
      'projectcalico.org/IPv4Address': '10.0.1.7/24', 'projectcalico.org/IPv6Address': 'fd00::7/64',
      'projectcalico.org/ASNumber': '64513', 'projectcalico.org/RouteReflectorClusterID': '224.0.0.1',
      'node.alpha.kubernetes.io/ttl': '15',
    }, { rack: 'b', 'route-reflector': 'true' });
    (node['status'] as { conditions: { lastHeartbeatTime: string }[] }).conditions[0]!.lastHeartbeatTime = '2024-01-01T00:00:40Z';
    h.server.put(node);
    await eventually('node event', () => reflector(h, '/api/v1/nodes').resourceVersion === String(h.server.resourceVersion), 5000);
    await settle();
    expect(h.snapshots().length).toBe(n);
  });
});

describe('watch interruptions', () => {
  it('a dropped watch resumes from the last resourceVersion: nothing missed, nothing repeated, no relist', async () => {
    const h = await harness(baseCluster());
    const peers = reflector(h, `/apis/${V1}/bgppeers`);
    await eventually('watch open', () => h.server.openWatches('bgppeers') === 1, 5000);
    const listsBefore = peers.stats.lists;
    h.server.put(calico('BGPPeer', 'a', { peerIP: '10.0.0.11', asNumber: 65011 }));
    await eventually('first event', () => peers.items.has('a'), 5000);
    const rvBefore = peers.resourceVersion;
    const n = h.snapshots().length;

    h.server.dropWatches();
    // Written while no watch is open: must arrive through the resumed watch.
    h.server.put(calico('BGPPeer', 'b', { peerIP: '10.0.0.12', asNumber: 65012 }));
    h.server.remove(V1, 'BGPPeer', 'a');
    await eventually('events after the drop', () => peers.items.has('b') && !peers.items.has('a'), 5000);
    await settle();

    const resumed = h.server.requests.filter((q) => q.path.endsWith('/bgppeers') && q.watch);
    expect(resumed[resumed.length - 1]?.query.get('resourceVersion')).toBe(rvBefore);
    expect(peers.stats.lists).toBe(listsBefore);
    expect(peers.stats.events).toBe(3); // ADDED a, ADDED b, DELETED a: each exactly once
    expect(h.snapshots().length).toBeGreaterThan(n);
    expect(names(h.last().bgpPeers)).toEqual(['b', 'tor']);
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);
    expect(h.errors().some((e) => e.includes('/bgppeers'))).toBe(true); // the drop is reported
  });

  it('a watch ended cleanly by the server (timeout) resumes without an error', async () => {
    const h = await harness(baseCluster());
    await eventually('watches open', () => h.server.openWatches() === h.ds.reflectors.length, 5000);
    h.server.endWatches();
    h.server.put(calico('IPPool', 'extra', { cidr: '10.250.0.0/16' }));
    await eventually('pool via resumed watch', () => h.last().ipPools.length === 2, 5000);
    expect(h.errors()).toEqual([]);
  });

  for (const goneAs of ['event', 'http'] as const) {
    it(`410 Gone (${goneAs}) relists; an unchanged relist gives no snapshot and never an empty one`, async () => {
      const h = await harness(baseCluster(), { goneAs });
      const peers = reflector(h, `/apis/${V1}/bgppeers`);
      await eventually('watches open', () => h.server.openWatches() === h.ds.reflectors.length, 5000);
      const n = h.snapshots().length;
      h.server.bumpResourceVersion(10); // writes elsewhere in etcd, then compaction past our point
      h.server.compact();
      h.server.dropWatches();
      await eventually('relist', () => peers.stats.gone >= 1 && h.ds.reflectors.every((r) => r.synced) && h.statuses().at(-1) === 'in-sync' && h.statuses().length >= 5, 5000);
      await settle();
      expect(h.snapshots().length).toBe(n);
      expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync', 'resyncing', 'in-sync']);

      // A change lost in the gap: the relist finds it and emits exactly one snapshot.
      h.server.dropWatches();
      h.server.put(calico('BGPPeer', 'late', { peerIP: '10.0.0.99', asNumber: 65099 }));
      h.server.compact();
      await eventually('snapshot after relist', () => h.snapshots().length === n + 1, 5000);
      await settle();
      expect(h.snapshots().length).toBe(n + 1);
      expect(names(h.last().bgpPeers)).toEqual(['late', 'tor']);
      for (const s of h.snapshots()) {
        expect(s.bgpPeers.length).toBeGreaterThan(0);
        expect(s.nodes.length).toBe(2);
      }
      expect(h.statuses().at(-1)).toBe('in-sync');
    });
  }

  it('an ERROR 410 on an open watch relists', async () => {
    const h = await harness(baseCluster());
    const peers = reflector(h, `/apis/${V1}/bgppeers`);
    await eventually('watches open', () => h.server.openWatches() === h.ds.reflectors.length, 5000);
    h.server.compact(true);
    await eventually('relist', () => peers.stats.gone === 1 && peers.stats.lists === 2 && h.statuses().at(-1) === 'in-sync', 5000);
  });

  it('bookmarks keep the resume point current, so a reconnect after compaction needs no relist', async () => {
    const h = await harness(baseCluster());
    const peers = reflector(h, `/apis/${V1}/bgppeers`);
    await eventually('watches open', () => h.server.openWatches() === h.ds.reflectors.length, 5000);
    h.server.bumpResourceVersion(500); // writes elsewhere in the cluster
    h.server.bookmark();
    const rv = String(h.server.resourceVersion);
    await eventually('bookmarks', () => h.ds.reflectors.every((r) => r.resourceVersion === rv), 5000);
    expect(peers.stats.bookmarks).toBe(1);
    h.server.compact();
    h.server.dropWatches();
    await eventually('rewatch', () => h.server.openWatches() === h.ds.reflectors.length, 5000);
    await settle();
    expect(h.ds.reflectors.map((r) => r.stats.gone)).toEqual(h.ds.reflectors.map(() => 0));
    expect(peers.stats.lists).toBe(1);
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);

    // The contrast: more writes elsewhere and no bookmark leave the resume point behind the
    // compaction, so the next reconnect has to relist.
    h.server.bumpResourceVersion(10);
    h.server.compact();
    h.server.dropWatches();
    await eventually('relist without bookmark', () => peers.stats.gone === 1 && peers.stats.lists === 2, 5000);
  });
});

describe('Calico API group detection', () => {
  it('reads projectcalico.org/v3 CRDs when only v3 is served', async () => {
    const objs = baseCluster().map((o) => (String((o as { apiVersion: string }).apiVersion) === V1 ? { ...o, apiVersion: V3 } : o));
    const h = await harness(objs, { calicoGroups: [V3] });
    expect(h.ds.group).toBe(CalicoGroup.V3);
    expect(h.last().bgpPeers[0]?.apiVersion).toBe(V3);
    expect(h.last().ipPools.length).toBe(1);
    expect(h.server.requests.some((q) => q.path.startsWith('/apis/crd.projectcalico.org'))).toBe(false);
  });

  it('reads crd.projectcalico.org/v1 when both are served (v3 is then the Calico API server)', async () => {
    const objs = [...baseCluster(), calico('BGPPeer', 'only-in-v3', { peerIP: '10.9.9.9', asNumber: 65009 }, V3)];
    const h = await harness(objs, { calicoGroups: [V1, V3] });
    expect(h.ds.group).toBe(CalicoGroup.CRDv1);
    expect(names(h.last().bgpPeers)).toEqual(['tor']);
  });

  it('treats a kind the cluster does not serve (older Calico: no BGPFilter) as empty', async () => {
    const h = await harness(baseCluster(), { omitPlurals: ['bgpfilters'] });
    expect(h.last().bgpFilters).toEqual([]);
    expect(h.server.requests.some((q) => q.path.endsWith('/bgpfilters'))).toBe(false);
  });

  it('waits (status waiting, errors reported) while Calico is not installed', async () => {
    const h = await harness([], { calicoGroups: [] }, {}, false);
    const events = h.events;
    const started = h.ds.start({
      onSnapshot: (r) => events.push({ t: 'snapshot', r }),
      onStatus: (s) => events.push({ t: 'status', s }),
      onError: (e) => events.push({ t: 'error', e }),
    });
    await eventually('discovery retries', () => h.errors().length >= 2, 5000);
    expect(h.statuses()).toEqual(['waiting']);
    expect(h.errors()[0]).toMatch(/neither crd\.projectcalico\.org\/v1 nor projectcalico\.org\/v3/);
    h.ds.stop();
    await expect(started).rejects.toThrow(/stopped/);
  });
});

describe('Nodes and Pods', () => {
  it('turns Node annotations and labels into Calico Nodes', async () => {
    const h = await harness([...baseCluster(), k8sNode('node-3', {})]);
    const [n1, n2, n3] = h.last().nodes;
    expect(n1?.spec).toEqual({ bgp: { ipv4Address: '10.0.0.5/24', ipv4IPIPTunnelAddr: '10.244.1.1' } });
    expect(n1?.metadata.labels).toMatchObject({ rack: 'a', 'kubernetes.io/hostname': 'node-1' });
    expect(n2?.spec).toEqual({ bgp: { ipv4Address: '10.0.1.7/24', ipv6Address: 'fd00::7/64', asNumber: 64513, routeReflectorClusterID: '224.0.0.1' } });
    expect(n2?.metadata.labels['route-reflector']).toBe('true');
    // Kubernetes' own annotations are dropped; Calico's are kept.
    expect(Object.keys(n2?.metadata.annotations ?? {}).every((k) => k.startsWith('projectcalico.org/'))).toBe(true);
    expect(n3?.spec).toEqual({});
  });

  it('turns this node\'s pods into WorkloadEndpoints with Calico\'s names', async () => {
    const h = await harness(baseCluster());
    const [nginx, fe] = h.last().workloadEndpoints;
    // calic440f455693 is the interface Calico creates for default/nginx (sha1 prefix, hand-checked).
    expect(nginx?.spec).toEqual({
      node: 'node-1', orchestrator: 'k8s', pod: 'nginx', endpoint: 'eth0', interfaceName: 'calic440f455693',
      ipNetworks: ['10.244.1.2/32'], profiles: ['kns.default', 'ksa.default.default'],
    });
    expect(nginx?.metadata).toMatchObject({ name: 'node--1-k8s-nginx-eth0', namespace: 'default' });
    expect(nginx?.metadata.labels).toMatchObject({ app: 'nginx', 'projectcalico.org/namespace': 'default', 'projectcalico.org/orchestrator': 'k8s' });
    expect(nginx?.spec.mac).toBeUndefined();
    expect(fe?.spec.interfaceName).toBe('cali7e28eb9c801');
    expect(fe?.spec.ipNetworks).toEqual(['10.244.1.3/32', 'fd00:244::3/128']);
  });

  it('follows pods: status IPs without the CNI annotation, finishing, and deletion', async () => {
    const h = await harness(baseCluster());
    h.server.put(pod('default', 'new', 'node-1', ['10.244.1.9'], { annotate: false }));
    await eventually('new pod', () => h.last().workloadEndpoints.length === 3, 5000);
    expect(h.last().workloadEndpoints.find((w) => w.spec.pod === 'new')?.spec.ipNetworks).toEqual(['10.244.1.9/32']);
    h.server.put(pod('default', 'new', 'node-1', ['10.244.1.9'], { phase: 'Failed', annotate: false }));
    await eventually('finished pod removed', () => h.last().workloadEndpoints.length === 2, 5000);
    h.server.remove('v1', 'Pod', 'nginx', 'default');
    await eventually('deleted pod removed', () => h.last().workloadEndpoints.length === 1, 5000);
    expect(h.last().workloadEndpoints[0]?.spec.pod).toBe('frontend-0');
  });
});

describe('invalid objects', () => {
  it('skips an invalid object with an error naming it and the field; the rest keeps working', async () => {
    const h = await harness([...baseCluster(), calico('BGPPeer', 'bad', { peerIP: '10.0.0.300', asNumber: 65001 })]);
    expect(names(h.last().bgpPeers)).toEqual(['tor']);
    const err = h.errors().find((e) => e.includes('"bad"'));
    expect(err).toMatch(/^BGPPeer "bad": spec\.peerIP: .*; object skipped$/);
  });

  it('keeps the last good version of an object that becomes invalid, and takes the fix', async () => {
    const h = await harness(baseCluster());
    const n = h.snapshots().length;
    h.server.put(calico('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 'sixty-five' }));
    await eventually('error', () => h.errors().length === 1, 5000);
    expect(h.errors()[0]).toBe('BGPPeer "tor": spec.asNumber: "sixty-five" is not an AS number; object skipped (its last valid version stays in use)');
    // The same bad object again (e.g. a status update) is not reported twice.
    h.server.put(calico('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 'sixty-five' }));
    await settle();
    expect(h.errors().length).toBe(1);
    expect(h.snapshots().length).toBe(n);
    expect(h.last().bgpPeers[0]?.spec.asNumber).toBe(65001);
    h.server.put(calico('BGPPeer', 'tor', { peerIP: '10.0.0.1', asNumber: 65077 }));
    await eventually('fix applied', () => h.last().bgpPeers[0]?.spec.asNumber === 65077, 5000);
  });

  it('names the annotation when a Node annotation is invalid', async () => {
    const h = await harness([...baseCluster(), k8sNode('node-9', { 'projectcalico.org/ASNumber': '0', 'projectcalico.org/IPv4Address': '10.0.9.1/24' })]);
    expect(names(h.last().nodes)).toEqual(['node-1', 'node-2']);
    expect(h.errors()).toContain('Node "node-9": metadata.annotations["projectcalico.org/ASNumber"]: AS 0 is reserved (RFC 7607); object skipped');
  });
});

describe('secrets and access', () => {
  it('reads the Secrets BGP passwords refer to, in its namespace, and follows changes', async () => {
    const objs = [
      ...baseCluster(),
      calico('BGPPeer', 'secure', { peerIP: '10.0.0.2', asNumber: 65002, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } }),
      secret('kube-system', 'bgp-secrets', { tor: 's3cret' }),
      secret('default', 'bgp-secrets', { tor: 'wrong-namespace' }),
    ];
    const h = await harness(objs);
    // Already in the first snapshot: sessions never come up without their password first.
    expect(h.snapshots().length).toBe(1);
    expect(h.last().secrets).toEqual({ 'bgp-secrets': { tor: 's3cret' } });
    const req = h.server.requests.find((q) => q.path === '/api/v1/namespaces/kube-system/secrets');
    expect(req?.query.get('fieldSelector')).toBe('metadata.name=bgp-secrets');
    h.server.put(secret('kube-system', 'bgp-secrets', { tor: 'rotated' }));
    await eventually('rotation', () => h.last().secrets?.['bgp-secrets']?.['tor'] === 'rotated', 5000);
    h.server.remove(V1, 'BGPPeer', 'secure');
    await eventually('unreferenced secret dropped', () => h.last().secrets?.['bgp-secrets'] === undefined, 5000);
  });

  it('reports a refused token and keeps retrying without going in-sync', async () => {
    const h = await harness(baseCluster(), {}, {}, false);
    const ds = new KubernetesDatastore({
      kubeconfig: h.server.kubeconfig('wrong-token'), nodeName: 'node-1', log: pino({ level: 'silent' }),
      timing: { backoffMs: [20] },
    });
    const errors: string[] = [];
    const statuses: string[] = [];
    const started = ds.start({ onSnapshot: () => undefined, onStatus: (s) => statuses.push(s), onError: (e) => errors.push(e.message) });
    await eventually('errors', () => errors.length >= 2, 5000);
    expect(errors[0]).toMatch(/HTTP 401/);
    expect(statuses).toEqual(['waiting']);
    ds.stop();
    await expect(started).rejects.toThrow(/stopped/);
  });

  it('says which request RBAC refused and stays resyncing until it is granted', async () => {
    const h = await harness(baseCluster(), { forbid: ['bgppeers'] }, {}, false);
    const started = h.ds.start({
      onSnapshot: (r) => h.events.push({ t: 'snapshot', r }),
      onStatus: (s) => h.events.push({ t: 'status', s }),
      onError: (e) => h.events.push({ t: 'error', e }),
    });
    await eventually('errors', () => h.errors().length >= 2, 5000);
    expect(h.errors()[0]).toBe('GET /apis/crd.projectcalico.org/v1/bgppeers?limit=2: HTTP 403: bgppeers.crd.projectcalico.org is forbidden: User "system:serviceaccount:kube-system:kite" cannot list resource "bgppeers" in API group "crd.projectcalico.org" at the cluster scope; retrying');
    expect(h.statuses()).toEqual(['waiting', 'resyncing']);
    expect(h.snapshots()).toEqual([]);
    h.ds.stop();
    await expect(started).rejects.toThrow(/stopped/);
  });

  it('rejects start() when the kubeconfig cannot be loaded', async () => {
    const ds = new KubernetesDatastore({ kubeconfig: '/nonexistent/kubeconfig', nodeName: 'node-1', log: pino({ level: 'silent' }) });
    await expect(ds.start({ onSnapshot: () => undefined, onStatus: () => undefined, onError: () => undefined })).rejects.toThrow(/cannot load Kubernetes configuration from \/nonexistent\/kubeconfig/);
  });
});

describe('RBAC (containers/clusterrole.yaml)', () => {
  it('grants every request the datastore makes, in both Calico groups', async () => {
    const allowed = loadRbac();
    const secretPeer = calico('BGPPeer', 'secure', { peerIP: '10.0.0.2', asNumber: 65002, password: { secretKeyRef: { name: 'bgp', key: 'k' } } });
    for (const group of [V1, V3]) {
      const objs = [...baseCluster(), secretPeer].map((o) => ((o as { apiVersion: string }).apiVersion === V1 ? { ...o, apiVersion: group } : o));
      const h = await harness(objs, { calicoGroups: [group as typeof V1] });
      await eventually('watches open', () => h.server.openWatches() === h.ds.reflectors.length, 5000);
      const checked = new Set<string>();
      for (const q of h.server.requests) {
        if (q.path === '/apis' || /^\/apis\/[^/]+\/[^/]+$/.test(q.path)) continue; // discovery: system:discovery
        const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)$/.exec(q.path);
        expect(m, q.path).not.toBeNull();
        const verb = q.watch ? 'watch' : 'list';
        const [g, ns, resource] = [m?.[1] ?? '', m?.[2], m?.[3] ?? ''];
        expect(allowed(g, resource, verb, ns), `${verb} ${g}/${resource} in ${ns ?? 'cluster'}`).toBe(true);
        checked.add(`${verb} ${g}/${resource}`);
      }
      expect(checked.size).toBe(2 * (6 + 5)); // list+watch of 6 Calico kinds, nodes, pods, secrets, services, endpointslices
    }
  });
});

describe('Services and EndpointSlices (per-service routes)', () => {
  it('lists and watches them; slices keep only this node\'s endpoints, so other nodes\' churn makes no snapshot', async () => {
    const h = await harness([
      ...baseCluster(),
      service('shop', 'web', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], externalTrafficPolicy: 'Local', type: 'LoadBalancer' }, ['192.0.2.10']),
      endpointSlice('shop', 'web-abc', 'web', 'IPv4', [['10.244.1.5', 'node-1', true], ['10.244.2.5', 'node-2', true]]),
    ]);
    expect(h.last().services).toEqual([{ namespace: 'shop', name: 'web', type: 'LoadBalancer', clusterIPs: ['10.96.0.10'], externalIPs: [],
      loadBalancerIPs: ['192.0.2.10'], externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Cluster' }]);
    expect(h.last().endpointSlices).toEqual([{ namespace: 'shop', name: 'web-abc', service: 'web', addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-1', ready: true }] }]);
    const before = h.snapshots().length;
    h.server.put(endpointSlice('shop', 'web-abc', 'web', 'IPv4', [['10.244.1.5', 'node-1', true], ['10.244.2.6', 'node-2', true]]));
    await settle();
    expect(h.snapshots().length).toBe(before);
    h.server.put(endpointSlice('shop', 'web-abc', 'web', 'IPv4', [['10.244.1.5', 'node-1', false]]));
    await eventually('not ready', () => h.last().endpointSlices?.[0]?.endpoints[0]?.ready === false, 3000);
    h.server.remove('discovery.k8s.io/v1', 'EndpointSlice', 'web-abc', 'shop');
    await eventually('slice gone', () => h.last().endpointSlices?.length === 0, 3000);
  });
});

describe('Services and EndpointSlices refused (a ClusterRole from before per-service routes)', () => {
  it('syncs everything else with them empty, says why, and picks them up once allowed', async () => {
    const serverOpts: FakeApiServerOptions = { forbid: ['services', 'endpointslices'] };
    const h = await harness([
      ...baseCluster(),
      service('shop', 'web', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], externalTrafficPolicy: 'Local' }),
    ], serverOpts);
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);
    expect(h.last().bgpPeers.length).toBeGreaterThan(0);
    expect(h.last().services ?? []).toEqual([]);
    expect(h.errors().some((e) => /services.*HTTP 403.*treated as empty meanwhile; retrying/.test(e))).toBe(true);
    // The retries do not flap the sync status.
    await settle(300);
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);
    // The ClusterRole is updated: the next list replaces the stand-in.
    serverOpts.forbid = [];
    await eventually('the Service listed', () => h.last().services?.length === 1, 5000);
    expect(h.statuses()).toEqual(['waiting', 'resyncing', 'in-sync']);
  });
});
