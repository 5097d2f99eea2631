// The Kubernetes datastore: one list+watch reflector per Calico kind (in the group discovery
// found), Kubernetes Nodes, this node's Pods, Services and EndpointSlices (per-service routes) and
// the Secrets that BGP passwords name; emits
// debounced whole-Resources snapshots and Calico's sync status (waiting → resyncing → in-sync).
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Datastore, DatastoreHandlers, NodeBGPWrite, VtepWrite } from '../datastore.js';
import { addResource, emptyResources, type IPPool, type Node, type Resource, type Resources, type WorkloadEndpoint } from '../resources.js';
import { createKubeClient, loadKubeConfig, type KubeClient } from './client.js';
import { convertCalico, convertNode, convertPod, convertSecret, NodeAnnotation, NodeVxlanAnnotation } from './convert.js';
import { discoverCalico, type CalicoGroup } from './discovery.js';
import { readEndpointSlice, readService } from '../services.js';
import type { EndpointSlice, Service } from '../resources.js';
import { DEFAULT_TIMING, Reflector, type ReflectorTiming } from './reflector.js';
import { FlushLimiter } from '../flush-limiter.js';
import { SyncState } from '../sync-state.js';

export { CalicoGroup } from './discovery.js';
export { caliInterfaceName, workloadEndpointName, NodeAnnotation, NodeVxlanAnnotation } from './convert.js';

export interface KubernetesDatastoreOptions {
  /** Kubeconfig file; default $KUBECONFIG, then the in-cluster service account, then ~/.kube/config. */
  kubeconfig?: string;
  /** This node's name (Kubernetes Node name): selects its Pods. */
  nodeName: string;
  /** Where BGP password Secrets are read; default $POD_NAMESPACE, the service account's, then kube-system. */
  namespace?: string;
  log: Logger;
  /** Skip discovery and read this group (for clusters where the automatic choice is wrong). */
  apiGroup?: CalicoGroup;
  /**
   * Snapshots are taken at once while changes are rare, and at most one per this many ms on
   * average while they keep coming (src/datastore/flush-limiter.ts). Default 100 ms.
   */
  debounceMs?: number;
  timing?: Partial<ReflectorTiming>;
  /** Use this client instead of loading a kubeconfig (tests, embedding). */
  client?: KubeClient;
}

/** Calico's CRD kinds Kite reads, by plural (the same in crd.projectcalico.org/v1 and projectcalico.org/v3). */
const CALICO_PLURALS = ['bgpconfigurations', 'bgppeers', 'bgpfilters', 'ippools', 'blockaffinities', 'ipamblocks'] as const;

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function defaultNamespace(): string {
  const env = process.env['POD_NAMESPACE'];
  if (env !== undefined && env !== '') return env;
  try {
    const ns = readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
    if (ns !== '') return ns;
  } catch { /* not in a pod */ }
  return 'kube-system';
}

const bodyText = (b: unknown): string => (typeof b === 'string' ? b : JSON.stringify(b)).slice(0, 300);

const sortedValues = <T>(m: ReadonlyMap<string, T>): T[] => [...m.keys()].sort().map((k) => m.get(k) as T);

export function createKubernetesDatastore(opts: KubernetesDatastoreOptions): Datastore {
  return new KubernetesDatastore(opts);
}

export class KubernetesDatastore implements Datastore {
  private h: DatastoreHandlers | undefined;
  private client: KubeClient | undefined;
  private stopped = false;
  private readonly calico: Reflector<Resource>[] = [];
  private nodes: Reflector<Node> | undefined;
  private pods: Reflector<WorkloadEndpoint> | undefined;
  private services: Reflector<Service> | undefined;
  private slices: Reflector<EndpointSlice> | undefined;
  private readonly secrets = new Map<string, Reflector<Record<string, string>>>();
  private readonly limiter: FlushLimiter;
  private readonly sync: SyncState;
  private wake: (() => void) | undefined;
  private namespace = '';
  private readonly timing: ReflectorTiming;
  /** What discovery chose, once known. */
  group: CalicoGroup | undefined;

  constructor(private readonly opts: KubernetesDatastoreOptions) {
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.sync = new SyncState({ what: 'Kubernetes datastore', log: opts.log, handlers: () => this.h });
    this.limiter = new FlushLimiter({ intervalMs: opts.debounceMs ?? 100, flush: () => this.flush() });
  }

  /** Every reflector, for tests and diagnostics. */
  get reflectors(): Reflector<unknown>[] {
    const out: Reflector<unknown>[] = [...this.calico];
    if (this.nodes) out.push(this.nodes);
    if (this.pods) out.push(this.pods);
    if (this.services) out.push(this.services);
    if (this.slices) out.push(this.slices);
    out.push(...this.secrets.values());
    return out;
  }

  async start(h: DatastoreHandlers): Promise<void> {
    if (this.h !== undefined) throw new Error('Kubernetes datastore already started');
    this.h = h;
    this.sync.set('waiting');
    this.client = this.opts.client ?? createKubeClient(loadKubeConfig(this.opts.kubeconfig));
    this.namespace = this.opts.namespace ?? defaultNamespace();
    const log = this.opts.log;

    let failures = 0;
    let found: Awaited<ReturnType<typeof discoverCalico>> | undefined;
    while (!this.stopped && found === undefined) {
      try {
        found = await discoverCalico(this.client, this.opts.apiGroup);
      } catch (e) {
        if (this.stopped) break;
        const b = this.timing.backoffMs;
        h.onError(new Error(`Kubernetes API ${this.client.server}: ${(e as Error).message}; retrying`));
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, b[Math.min(failures++, b.length - 1)] ?? 1000);
        });
      }
    }
    if (this.stopped || found === undefined) throw new Error('Kubernetes datastore stopped before it synced');
    this.group = found.apiVersion;
    log.info({ apiVersion: found.apiVersion, reason: found.reason, server: this.client.server }, 'Calico resources found');
    this.sync.set('resyncing');

    const common = {
      client: this.client, log, timing: this.timing,
      onChange: () => this.changed(),
      onError: (e: Error) => this.error(e),
    };
    for (const plural of CALICO_PLURALS) {
      if (!found.resources.has(plural)) {
        log.info({ resource: `${found.apiVersion}/${plural}` }, 'not served by this cluster (older Calico?): treated as empty');
        continue;
      }
      this.calico.push(new Reflector<Resource>({
        ...common, path: `/apis/${found.apiVersion}/${plural}`,
        convert: (raw) => convertCalico(raw, plural),
        onSynced: (s) => this.synced(s),
      }));
    }
    this.nodes = new Reflector<Node>({ ...common, path: '/api/v1/nodes', convert: convertNode, onSynced: (s) => this.synced(s) });
    // Only this node's pods: the field selector keeps a big cluster's pod churn off this node.
    this.pods = new Reflector<WorkloadEndpoint>({
      ...common, path: '/api/v1/pods', query: { fieldSelector: `spec.nodeName=${this.opts.nodeName}` },
      convert: (raw) => convertPod(raw, this.opts.nodeName), onSynced: (s) => this.synced(s),
    });
    // Services and their EndpointSlices: per-service routes (Calico confd's routeGenerator
    // watches all Services and their endpoints). Slices keep only this node's endpoints.
    // Optional: a cluster whose RBAC predates them still syncs everything else (then no per-service routes).
    this.services = new Reflector<Service>({ ...common, optional: true, path: '/api/v1/services', convert: readService, onSynced: (s) => this.synced(s) });
    this.slices = new Reflector<EndpointSlice>({
      ...common, optional: true, path: '/apis/discovery.k8s.io/v1/endpointslices',
      convert: (raw) => readEndpointSlice(raw, this.opts.nodeName), onSynced: (s) => this.synced(s),
    });
    const done = this.sync.firstSync();
    for (const r of this.reflectors) r.start();
    return done;
  }

  /** Per collection (the last path segment: bgppeers, nodes, pods, secrets): watches after the first. */
  watchRestarts(): ReadonlyMap<string, number> {
    const out = new Map<string, number>();
    const all = [...this.calico, this.nodes, this.pods, this.services, this.slices, ...this.secrets.values()];
    for (const r of all) {
      if (r === undefined) continue;
      const name = r.path.slice(r.path.lastIndexOf('/') + 1);
      out.set(name, (out.get(name) ?? 0) + Math.max(0, r.stats.watches - 1));
    }
    return out;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.limiter.cancel();
    this.wake?.();
    for (const r of this.reflectors) r.stop();
    this.sync.stopped();
  }

  /** A merge patch of the Node's annotation: the Node's other annotations stay as they are. */
  async setTunnelAddress(address: string, vxlan?: VtepWrite): Promise<void> {
    const client = this.client ?? createKubeClient(loadKubeConfig(this.opts.kubeconfig));
    const v6 = vxlan?.family === 6;
    const annotation = vxlan === undefined ? NodeAnnotation.ipv4IPIPTunnelAddr
      : v6 ? NodeVxlanAnnotation.ipv6VXLANTunnelAddr : NodeVxlanAnnotation.ipv4VXLANTunnelAddr;
    const annotations: Record<string, string> = { [annotation]: address };
    if (vxlan !== undefined) annotations[v6 ? NodeVxlanAnnotation.vxlanTunnelMACAddrV6 : NodeVxlanAnnotation.vxlanTunnelMACAddr] = vxlan.mac;
    const res = await client.mergePatch(`/api/v1/nodes/${encodeURIComponent(this.opts.nodeName)}`,
      { metadata: { annotations } });
    if (res.status >= 300) {
      const body = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      throw new Error(`writing the Node annotation ${annotation} failed (RBAC: nodes patch): HTTP ${res.status}: ${body.slice(0, 300)}`);
    }
  }

  /** calico-node's Node write at start-up: the annotations its kdd backend keeps spec.bgp in, by merge patch. */
  async setNodeBGP(fields: NodeBGPWrite): Promise<void> {
    const annotations: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(fields)) annotations[NodeAnnotation[k as keyof NodeBGPWrite]] = v === null ? null : String(v);
    if (Object.keys(annotations).length === 0) return;
    const res = await this.api().mergePatch(`/api/v1/nodes/${encodeURIComponent(this.opts.nodeName)}`, { metadata: { annotations } });
    if (res.status >= 300) throw new Error(`writing the Node annotations ${Object.keys(annotations).join(', ')} failed (RBAC: nodes patch): HTTP ${res.status}: ${bodyText(res.body)}`);
  }

  /** A default pool, in the group discovery chose (the same spec fields in the CRD and v3 groups). */
  async createIPPool(pool: IPPool): Promise<void> {
    const group = this.group ?? 'crd.projectcalico.org/v1';
    const res = await this.api().create(`/apis/${group}/ippools`, {
      apiVersion: group, kind: 'IPPool', metadata: { name: pool.metadata.name },
      spec: { cidr: pool.spec.cidr, blockSize: pool.spec.blockSize, ipipMode: pool.spec.ipipMode, vxlanMode: pool.spec.vxlanMode,
        natOutgoing: pool.spec.natOutgoing, nodeSelector: pool.spec.nodeSelector ?? 'all()', disableBGPExport: pool.spec.disableBGPExport },
    });
    if (res.status === 409) return; // another node created it first
    if (res.status >= 300) throw new Error(`creating IPPool ${pool.metadata.name} failed (RBAC: ippools create): HTTP ${res.status}: ${bodyText(res.body)}`);
  }

  async nodeInternalIPs(): Promise<string[] | undefined> {
    const res = await this.api().get(`/api/v1/nodes/${encodeURIComponent(this.opts.nodeName)}`);
    if (res.status >= 300) throw new Error(`reading Node ${this.opts.nodeName} failed: HTTP ${res.status}: ${bodyText(res.body)}`);
    const addrs = (res.body as { status?: { addresses?: { type?: string; address?: string }[] } }).status?.addresses ?? [];
    return addrs.filter((a) => a.type === 'InternalIP' && typeof a.address === 'string').map((a) => a.address as string);
  }

  private api(): KubeClient {
    return this.client ?? createKubeClient(loadKubeConfig(this.opts.kubeconfig));
  }

  private error(e: Error): void {
    this.opts.log.error({ err: e.message }, 'Kubernetes datastore');
    this.h?.onError(e);
  }

  private allSynced(): boolean {
    return this.reflectors.every((r) => r.synced);
  }

  private synced(s: boolean): void {
    if (this.stopped) return;
    if (!s) {
      // A relist: the caches still hold the previous view, but the daemon must not prune on it.
      this.sync.resyncing();
      return;
    }
    if (this.allSynced()) this.flush();
  }

  private changed(): void {
    if (this.stopped) return;
    this.limiter.changed();
  }

  /** Secret names that BGPPeer passwords and the mesh password refer to. */
  private referencedSecrets(): Set<string> {
    const names = new Set<string>();
    for (const r of this.calico) {
      for (const res of r.items.values()) {
        if (res.kind === 'BGPPeer' && res.spec.password) names.add(res.spec.password.secretKeyRef.name);
        if (res.kind === 'BGPConfiguration' && res.spec.nodeMeshPassword) names.add(res.spec.nodeMeshPassword.secretKeyRef.name);
      }
    }
    return names;
  }

  /** Starts and stops Secret watches to match the references; true when all are listed. */
  private reconcileSecrets(): boolean {
    const want = this.referencedSecrets();
    for (const [name, r] of this.secrets) {
      if (!want.has(name)) { r.stop(); this.secrets.delete(name); }
    }
    let ready = true;
    for (const name of want) {
      if (this.secrets.has(name)) continue;
      if (this.client === undefined) return false;
      // One watch per Secret, by name (as Calico's confd does), so RBAC can be limited to
      // the named Secrets with resourceNames.
      const r = new Reflector<Record<string, string>>({
        client: this.client, log: this.opts.log, timing: this.timing,
        path: `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/secrets`,
        query: { fieldSelector: `metadata.name=${name}` },
        convert: convertSecret,
        onChange: () => this.changed(),
        onError: (e) => this.error(e),
        onSynced: (s) => this.synced(s),
      });
      this.secrets.set(name, r);
      r.start();
      ready = false;
    }
    return ready;
  }

  /** Builds the snapshot from the caches; emits it when its content changed, then 'in-sync'. */
  private flush(): void {
    this.limiter.flushing();
    if (this.stopped || this.h === undefined) return;
    if (!this.allSynced() || !this.reconcileSecrets()) {
      // Hold the snapshot: it goes out when the last list completes (synced() calls us).
      this.sync.resyncing();
      return;
    }
    const snap = this.build();
    // Objects are converted to Kite's types (no resourceVersion, no status) and sorted, so
    // a relist that found nothing new, or a Node heartbeat, gives equal text and no snapshot.
    this.sync.publish(snap, (e) => this.error(e));
  }

  private build(): Resources {
    const rs = emptyResources();
    for (const r of this.calico) for (const res of sortedValues(r.items)) addResource(rs, res);
    if (this.nodes) for (const n of sortedValues(this.nodes.items)) addResource(rs, n);
    if (this.pods) for (const w of sortedValues(this.pods.items)) addResource(rs, w);
    const secrets: Record<string, Record<string, string>> = {};
    for (const name of [...this.secrets.keys()].sort()) {
      const data = this.secrets.get(name)?.items.get(`${this.namespace}/${name}`);
      if (data !== undefined) secrets[name] = data;
    }
    rs.secrets = secrets;
    if (this.services) rs.services = sortedValues(this.services.items);
    if (this.slices) rs.endpointSlices = sortedValues(this.slices.items);
    return rs;
  }
}
