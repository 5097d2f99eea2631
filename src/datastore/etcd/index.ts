// The etcdv3 datastore: Calico's resources, IPAM blocks and block affinities read from etcd in
// libcalico-go's key layout (keys.ts), one list+watch reflector per prefix, debounced whole
// snapshots and the same sync status as the Kubernetes datastore (waiting → resyncing → in-sync).
import type { Logger } from 'pino';
import type { Etcd3 } from 'etcd3';
import type { Datastore, DatastoreHandlers, NodeBGPWrite, VtepWrite } from '../datastore.js';
import { addResource, emptyResources, type IPPool, type Resource, type Resources } from '../resources.js';
import { convertCalico } from '../kubernetes/convert.js';
import type { Converted, RawObject } from '../kubernetes/reflector.js';
import { createEtcdClient, explainEtcdError, isConnectFailure, probeTls, usesTls, type EtcdClientHooks } from './client.js';
import type { EtcdConfig } from './env.js';
import { AFFINITIES_PREFIX, BLOCKS_PREFIX, kubeStyleName, parseKey, resourceKey, RESOURCES_PREFIX } from './keys.js';
import { EtcdReflector } from './reflector.js';
import { EtcdSecrets, type SecretUse } from './secrets.js';
import { FlushLimiter } from '../flush-limiter.js';
import { SyncState } from '../sync-state.js';

export { etcdConfigFromEnv, type EtcdConfig } from './env.js';

export interface EtcdDatastoreOptions {
  etcd: EtcdConfig;
  /** This node's name: selects its WorkloadEndpoints and names its Node. */
  nodeName: string;
  log: Logger;
  debounceMs?: number;
  backoffMs?: readonly number[];
  /** Use this client (tests, the IPAM store sharing one connection). */
  client?: Etcd3;
  /**
   * BGP password Secrets come from the Kubernetes API, as calico-node reads them in etcd mode:
   * this kubeconfig, else $KUBECONFIG, else in-cluster; namespace $NAMESPACE, else kube-system.
   */
  kubeconfig?: string;
  secretsNamespace?: string;
  /** The variables to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long a snapshot waits for the Secrets' first list. Default 3 s. */
  secretsWaitMs?: number;
}

/** The v3 kinds Kite reads, by the plural their keys use. */
const PLURALS = new Set(['bgpconfigurations', 'bgppeers', 'bgpfilters', 'ippools', 'nodes', 'workloadendpoints']);

const isObj = (v: unknown): v is RawObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJsonObject(key: string, value: string): { obj: RawObject } | { error: string } {
  try {
    const v: unknown = JSON.parse(value);
    return isObj(v) ? { obj: v } : { error: `${key}: the value is not a JSON object` };
  } catch (e) {
    return { error: `${key}: the value is not JSON: ${(e as Error).message}` };
  }
}

/** A key/value under /calico/resources/v3/projectcalico.org/ as Kite's resource; other kinds are absent. */
export function convertResourceKV(key: string, value: string, nodeName: string): Converted<Resource> {
  const k = parseKey(key);
  if (k?.type !== 'resource' || !PLURALS.has(k.plural)) return { absent: true };
  const parsed = parseJsonObject(key, value);
  if ('error' in parsed) return parsed;
  const obj = parsed.obj;
  // The key names the object; the stored metadata may omit what the key already says.
  const meta: RawObject = isObj(obj['metadata']) ? { ...obj['metadata'] } : {};
  meta['name'] = k.name;
  if (k.namespace !== undefined) meta['namespace'] = k.namespace;
  if (k.plural === 'workloadendpoints') {
    const spec = isObj(obj['spec']) ? obj['spec'] : {};
    if (spec['node'] !== nodeName) return { absent: true };
  }
  return convertCalico({ ...obj, metadata: meta }, k.plural);
}

/** An IPAM block (libcalico-go model.AllocationBlock JSON) as Kite's IPAMBlock resource. */
export function convertBlockKV(key: string, value: string): Converted<Resource> {
  const k = parseKey(key);
  if (k?.type !== 'block') return { absent: true };
  const parsed = parseJsonObject(key, value);
  if ('error' in parsed) return parsed;
  const spec: RawObject = { ...parsed.obj };
  delete spec['sequenceNumber'];
  delete spec['sequenceNumberForAllocation'];
  delete spec['affinityClaimTime'];
  if (spec['affinity'] === null) delete spec['affinity'];
  if (spec['deleted'] === undefined) spec['deleted'] = false;
  if (spec['attributes'] === null) spec['attributes'] = [];
  return convertCalico({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: kubeStyleName(k.cidr) }, spec }, 'ipamblocks');
}

/** A block affinity: host and CIDR from the key, {state, deleted} from the value. */
export function convertAffinityKV(key: string, value: string): Converted<Resource> {
  const k = parseKey(key);
  if (k?.type !== 'affinity') return { absent: true };
  const parsed = parseJsonObject(key, value);
  if ('error' in parsed) return parsed;
  const raw = parsed.obj;
  const spec: RawObject = { node: k.host, cidr: k.cidr, deleted: raw['deleted'] ?? false };
  if (typeof raw['state'] === 'string' && raw['state'] !== '') spec['state'] = raw['state'];
  return convertCalico({ apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name: kubeStyleName(k.cidr, k.host) }, spec }, 'blockaffinities');
}

/** The password references in force: BGPPeers' and the mesh's (BGPConfiguration nodeMeshPassword). */
function secretUses(rs: Resources): SecretUse[] {
  const out: SecretUse[] = [];
  for (const p of rs.bgpPeers) {
    const ref = p.spec.password?.secretKeyRef;
    if (ref !== undefined) out.push({ who: `BGPPeer "${p.metadata.name}"`, name: ref.name, key: ref.key });
  }
  for (const c of rs.bgpConfigurations) {
    const ref = c.spec.nodeMeshPassword?.secretKeyRef;
    if (ref !== undefined) out.push({ who: `BGPConfiguration "${c.metadata.name}" (nodeMeshPassword, every mesh peer)`, name: ref.name, key: ref.key });
  }
  return out;
}

const sortedValues = <T>(m: ReadonlyMap<string, T>): T[] => [...m.keys()].sort().map((k) => m.get(k) as T);

export function createEtcdDatastore(opts: EtcdDatastoreOptions): EtcdDatastore {
  return new EtcdDatastore(opts);
}

export class EtcdDatastore implements Datastore {
  readonly client: Etcd3;
  readonly reflectors: EtcdReflector<Resource>[] = [];
  private h: DatastoreHandlers | undefined;
  private stopped = false;
  private readonly limiter: FlushLimiter;
  private readonly sync: SyncState;
  private readonly ownClient: boolean;
  private readonly secrets: EtcdSecrets;

  constructor(private readonly opts: EtcdDatastoreOptions) {
    this.sync = new SyncState({ what: 'etcd datastore', log: opts.log, handlers: () => this.h });
    this.ownClient = opts.client === undefined;
    this.client = opts.client ?? createEtcdClient(opts.etcd);
    this.secrets = new EtcdSecrets({
      log: opts.log, onChange: () => this.changed(), onError: (e) => { this.opts.log.error({ err: e.message }, 'etcd datastore'); this.h?.onError(e); },
      ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.secretsNamespace !== undefined ? { namespace: opts.secretsNamespace } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      ...(opts.secretsWaitMs !== undefined ? { waitMs: opts.secretsWaitMs } : {}),
    });
    this.limiter = new FlushLimiter({ intervalMs: opts.debounceMs ?? 100, flush: () => this.flush() });
  }

  async start(h: DatastoreHandlers): Promise<void> {
    if (this.h !== undefined) throw new Error('etcd datastore already started');
    this.h = h;
    this.sync.set('waiting');
    const common = {
      client: this.client, log: this.opts.log,
      ...(this.ownClient ? { watchClient: (hooks: EtcdClientHooks) => createEtcdClient(this.opts.etcd, hooks) } : {}),
      onChange: () => this.changed(),
      onSynced: (s: boolean) => this.synced(s),
      onError: (e: Error) => this.error(e),
      ...(this.opts.backoffMs !== undefined ? { backoffMs: this.opts.backoffMs } : {}),
    };
    const node = this.opts.nodeName;
    this.reflectors.push(
      new EtcdReflector<Resource>({ ...common, prefix: RESOURCES_PREFIX, convert: (k, v) => convertResourceKV(k, v, node) }),
      new EtcdReflector<Resource>({ ...common, prefix: BLOCKS_PREFIX, convert: convertBlockKV }),
      new EtcdReflector<Resource>({ ...common, prefix: AFFINITIES_PREFIX, convert: convertAffinityKV }),
    );
    const done = this.sync.firstSync();
    for (const r of this.reflectors) r.start();
    return done;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.limiter.cancel();
    for (const r of this.reflectors) r.stop();
    this.secrets.stop();
    this.sync.stopped();
    if (this.ownClient) this.client.close();
  }

  /** Watch streams after the first, by prefix (the metrics' watch restarts). */
  watchRestarts(): ReadonlyMap<string, number> {
    const out = new Map<string, number>();
    for (const r of this.reflectors) out.set(r.prefix, Math.max(0, r.stats.watches - 1) + Math.max(0, r.stats.lists - 1));
    return out;
  }

  /** The member each watch streams from, by prefix (unknown until its stream has answered). */
  watchMembers(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const r of this.reflectors) if (r.peer !== undefined) out.set(r.prefix, r.peer);
    return out;
  }

  /** Read-modify-write of this node's Node resource, compare-and-swap on its mod_revision. */
  private async updateNode(change: (spec: RawObject) => void, what: string): Promise<void> {
    const key = resourceKey('nodes', this.opts.nodeName);
    for (let attempt = 0; attempt < 5; attempt++) {
      let res;
      try {
        res = await this.client.kv.range({ key: Buffer.from(key) });
      } catch (e) { throw explainEtcdError(e, this.opts.etcd.endpoints); }
      const kv = res.kvs[0];
      const obj: RawObject = kv === undefined
        ? { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: this.opts.nodeName, creationTimestamp: new Date().toISOString() }, spec: {} }
        : JSON.parse(kv.value.toString()) as RawObject;
      const spec: RawObject = isObj(obj['spec']) ? obj['spec'] : {};
      obj['spec'] = spec;
      change(spec);
      const value = Buffer.from(JSON.stringify(obj));
      const t = await this.client.kv.txn({
        compare: [kv === undefined
          ? { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }
          : { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }],
        success: [{ request_put: { key: Buffer.from(key), value } }],
        failure: [],
      }).catch((e: unknown) => { throw explainEtcdError(e, this.opts.etcd.endpoints); });
      if (t.succeeded) return;
    }
    throw new Error(`writing ${what} to ${key}: it kept changing under us (5 conflicts)`);
  }

  /**
   * calico-node keeps the IPIP tunnel address in the Node's spec.bgp.ipv4IPIPTunnelAddr, and the
   * VXLAN VTEP in spec.ipv4VXLANTunnelAddr with its MAC in spec.vxlanTunnelMACAddr (v3 NodeSpec;
   * the IPv6 VTEP in spec.ipv6VXLANTunnelAddr and spec.vxlanTunnelMACAddrV6).
   */
  async setTunnelAddress(address: string, vxlan?: VtepWrite): Promise<void> {
    await this.updateNode((spec) => {
      if (vxlan !== undefined) {
        const v6 = vxlan.family === 6;
        spec[v6 ? 'ipv6VXLANTunnelAddr' : 'ipv4VXLANTunnelAddr'] = address;
        spec[v6 ? 'vxlanTunnelMACAddrV6' : 'vxlanTunnelMACAddr'] = vxlan.mac;
        return;
      }
      const bgp: RawObject = isObj(spec['bgp']) ? spec['bgp'] : {};
      bgp['ipv4IPIPTunnelAddr'] = address;
      spec['bgp'] = bgp;
    }, vxlan !== undefined ? 'the VXLAN tunnel address' : 'the IPIP tunnel address');
  }

  /** calico-node's start-up write: spec.bgp.ipv4Address/ipv6Address/asNumber (null removes). */
  async setNodeBGP(fields: NodeBGPWrite): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    await this.updateNode((spec) => {
      const bgp: RawObject = isObj(spec['bgp']) ? spec['bgp'] : {};
      for (const [k, v] of Object.entries(fields)) {
        if (v === null || v === undefined) delete bgp[k];
        else bgp[k] = k === 'asNumber' ? Number(v) : v;
      }
      spec['bgp'] = bgp;
    }, 'the Node\'s BGP fields');
  }

  /** A default pool as calico-node creates it: put only when the key does not exist yet. */
  async createIPPool(pool: IPPool): Promise<void> {
    const key = Buffer.from(resourceKey('ippools', pool.metadata.name));
    const value = Buffer.from(JSON.stringify({
      kind: 'IPPool', apiVersion: 'projectcalico.org/v3',
      metadata: { name: pool.metadata.name, creationTimestamp: new Date().toISOString() },
      spec: { cidr: pool.spec.cidr, blockSize: pool.spec.blockSize, ipipMode: pool.spec.ipipMode, vxlanMode: pool.spec.vxlanMode,
        natOutgoing: pool.spec.natOutgoing, nodeSelector: pool.spec.nodeSelector ?? 'all()', ...(pool.spec.disableBGPExport ? { disableBGPExport: true } : {}) },
    }));
    await this.client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value } }], failure: [],
    }).catch((e: unknown) => { throw explainEtcdError(e, this.opts.etcd.endpoints); });
  }

  /**
   * kubernetes-internal-ip: the Kubernetes Node's InternalIPs, read from the Kubernetes API as
   * calico-node reads them whatever its datastore ($CALICO_K8S_NODE_REF names the Node, else this
   * node's name). Without an API calico-node fails ("Cannot use method 'kubernetes-internal-ip'
   * when not running on a Kubernetes cluster"); so does Kite, saying what to configure.
   */
  async nodeInternalIPs(): Promise<string[] | undefined> {
    if (!this.secrets.kube.configured) {
      throw new Error("Cannot use method 'kubernetes-internal-ip' when not running on a Kubernetes cluster: with the etcdv3 datastore the " +
        'Kubernetes Node\'s InternalIP is read from the Kubernetes API (as calico-node does), and none is configured: set KUBECONFIG ' +
        '(or --kubeconfig) or run in a pod with a service account, or choose another IP_AUTODETECTION_METHOD');
    }
    const env = this.opts.env ?? process.env;
    const name = env['CALICO_K8S_NODE_REF'] || this.opts.nodeName;
    const api = await this.secrets.kube.client();
    const res = await api.get(`/api/v1/nodes/${encodeURIComponent(name)}`);
    if (res.status >= 300) throw new Error(`kubernetes-internal-ip: reading the Kubernetes Node ${name} from ${api.server} failed: HTTP ${res.status}`);
    const addrs = (res.body as { status?: { addresses?: { type?: string; address?: string }[] } }).status?.addresses ?? [];
    return addrs.filter((a) => a.type === 'InternalIP' && typeof a.address === 'string').map((a) => a.address as string);
  }

  private error(e: Error): void {
    const err = explainEtcdError(e, this.opts.etcd.endpoints);
    if (usesTls(this.opts.etcd) && isConnectFailure(err.message) && !/TLS failed/.test(err.message)) {
      void this.explainConnectFailure(err);
      return;
    }
    this.report(err);
  }

  private report(err: Error): void {
    if (this.stopped) return;
    this.opts.log.error({ err: err.message }, 'etcd datastore');
    this.h?.onError(err);
  }

  /** The last TLS probe (shared by the failures that arrive together), so retries do not probe every time. */
  private tlsProbe: { at: number; result: Promise<{ why: string; endpoint: string } | undefined> } | undefined;

  /**
   * gRPC says only "Failed to connect" when a member rejects our client certificate: a handshake
   * of our own says whether TLS is why, and the error then names the TLS variables.
   */
  private async explainConnectFailure(err: Error): Promise<void> {
    if (this.tlsProbe === undefined || Date.now() - this.tlsProbe.at > 10_000) {
      this.tlsProbe = { at: Date.now(), result: (async () => {
        for (const endpoint of this.opts.etcd.endpoints) {
          const why = await probeTls(this.opts.etcd, endpoint);
          if (why !== undefined) return { why, endpoint };
        }
        return undefined;
      })() };
    }
    const p = await this.tlsProbe.result;
    this.report(p === undefined ? err
      : new Error(`etcd ${p.endpoint}: TLS failed: check ETCD_CA_CERT_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE (${p.why}; the client said: ${err.message})`));
  }

  private synced(s: boolean): void {
    if (this.stopped) return;
    if (!s) {
      this.sync.resyncing();
      return;
    }
    if (this.sync.status === 'waiting') this.sync.set('resyncing');
    if (this.reflectors.every((r) => r.synced)) this.flush();
  }

  private changed(): void {
    if (this.stopped) return;
    this.limiter.changed();
  }

  private flush(): void {
    this.limiter.flushing();
    if (this.stopped || this.h === undefined) return;
    if (!this.reflectors.every((r) => r.synced)) {
      this.sync.resyncing();
      return;
    }
    const rs: Resources = emptyResources();
    for (const r of this.reflectors) for (const res of sortedValues(r.items)) addResource(rs, res);
    const uses = secretUses(rs);
    if (!this.secrets.reconcile(uses)) {
      // Hold the snapshot until the password Secrets are listed (or the wait is over).
      this.sync.resyncing();
      return;
    }
    const secrets = this.secrets.data();
    if (Object.keys(secrets).length > 0 || uses.length > 0) rs.secrets = secrets;
    // Sorted and stripped of revisions: a relist that found nothing new gives equal text, no snapshot.
    this.sync.publish(rs, (e) => this.error(e));
  }
}
