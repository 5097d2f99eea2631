// IPAM objects in the Kubernetes API as Calico keeps them: BlockAffinity, IPAMBlock and
// IPAMHandle custom resources (crd.projectcalico.org/v1, or projectcalico.org/v3 on clusters that
// serve Calico's v3 CRDs). Compare-and-swap is Kubernetes optimistic concurrency: a PUT carries
// metadata.resourceVersion and fails with 409 Conflict when the object moved on. The API has no
// compare-and-delete without preconditions, so deletion is Calico's: mark spec.deleted with a
// conditional PUT, then DELETE with a resourceVersion precondition; readers treat a marked
// object as gone and finish its deletion.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConnection } from '../datastore/kubernetes/kubeconfig.js';
import { parseJson, stringifyJson } from './json.js';
import { affinityLabels } from './names.js';
import { fromRawSpec, PLURAL, toRawSpec, type AffinitySpec, type IpamKind, type SpecOf } from './objects.js';
import { StoreError, type IpamStore, type Stored } from './store.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface KubeRequester {
  /** One request; resolves for every HTTP status, rejects on connection errors. */
  request(method: HttpMethod, path: string, body?: string): Promise<{ status: number; text: string }>;
}

/** Requests with the cluster's credentials (TLS material, rotated bearer tokens) from a kubeconfig. */
export function createKubeRequester(kc: KubeConnection, timeoutMs = 30_000): KubeRequester {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no Kubernetes cluster configured');
  const base = new URL(cluster.server);
  const secure = base.protocol === 'https:';
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    async request(method, path, body) {
      const opts: RequestOptions = {
        method,
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port === '' ? (secure ? 443 : 80) : Number(base.port),
        path: prefix + path,
        // An explicit length: a chunked DELETE body is refused by some servers.
        // PATCH bodies are JSON merge patches (RFC 7386), which every kube-apiserver accepts.
        headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}) },
      };
      await kc.applyToHTTPSOptions(opts);
      return new Promise((resolve, reject) => {
        const done = (res: IncomingMessage): void => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (d: string) => { text += d; });
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        };
        const req = secure ? httpsRequest(opts, done) : httpRequest(opts, done);
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs / 1000} s`)));
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

export interface KubeStoreOptions {
  requester: KubeRequester;
  /** Which group stores Calico's resources (see datastore/kubernetes/discovery). Default crd.projectcalico.org/v1. */
  apiVersion?: 'crd.projectcalico.org/v1' | 'projectcalico.org/v3';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Labels and annotations last seen per object and revision, so a PUT does not drop them. */
interface Meta { revision: string; labels?: unknown; annotations?: unknown }

export class KubeStore implements IpamStore {
  private readonly apiVersion: string;
  private readonly meta = new Map<string, Meta>();

  constructor(private readonly opts: KubeStoreOptions) {
    this.apiVersion = opts.apiVersion ?? 'crd.projectcalico.org/v1';
  }

  private path(kind: IpamKind, name?: string): string {
    return `/apis/${this.apiVersion}/${PLURAL[kind]}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  private async call(method: HttpMethod, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await this.opts.requester.request(method, path, body === undefined ? undefined : stringifyJson(body));
    let parsed: unknown = res.text;
    try { parsed = parseJson(res.text); } catch { /* keep the text for the message */ }
    return { status: res.status, body: parsed };
  }

  private fail(kind: IpamKind, name: string, method: string, status: number, body: unknown): never {
    const msg = isObj(body) && typeof body['message'] === 'string' ? body['message'] : typeof body === 'string' ? body.slice(0, 200) : '';
    if (status === 404) throw new StoreError('notFound', kind, name, msg);
    if (status === 409) {
      const reason = isObj(body) ? body['reason'] : undefined;
      throw new StoreError(reason === 'AlreadyExists' ? 'exists' : 'conflict', kind, name, msg);
    }
    throw new Error(`${method} ${PLURAL[kind]}/${name}: HTTP ${status}${msg !== '' ? `: ${msg}` : ''}`);
  }

  /** Converts an API object; undefined for one marked deleted. */
  private decode<K extends IpamKind>(kind: K, o: unknown): Stored<K> & { marked: boolean } {
    if (!isObj(o) || !isObj(o['metadata'])) throw new Error(`${PLURAL[kind]}: the API returned an object without metadata`);
    const md = o['metadata'];
    const name = String(md['name'] ?? '');
    const revision = String(md['resourceVersion'] ?? '');
    const spec = fromRawSpec(kind, name, o['spec']);
    this.meta.set(`${kind}/${name}`, { revision, labels: md['labels'], annotations: md['annotations'] });
    return { name, spec, revision, marked: spec.deleted };
  }

  private body<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision?: string): Obj {
    const metadata: Obj = { name };
    const seen = this.meta.get(`${kind}/${name}`);
    if (revision !== undefined) {
      metadata['resourceVersion'] = revision;
      if (seen?.revision === revision) {
        if (seen.labels !== undefined) metadata['labels'] = seen.labels;
        if (seen.annotations !== undefined) metadata['annotations'] = seen.annotations;
      }
    }
    if (kind === 'BlockAffinity') {
      // Calico 3.30+ lists a node's affinities by these labels: set them on every create and
      // rewrite, keeping any other label (EnsureBlockAffinityLabels overwrites only its own).
      const a = spec as AffinitySpec;
      const others = isObj(metadata['labels']) ? metadata['labels'] : {};
      metadata['labels'] = { ...others, ...affinityLabels(a.node, a.cidr) };
    }
    return { apiVersion: this.apiVersion, kind, metadata, spec: toRawSpec(kind, spec, this.apiVersion === 'crd.projectcalico.org/v1') };
  }

  async get<K extends IpamKind>(kind: K, name: string): Promise<Stored<K> | undefined> {
    const res = await this.call('GET', this.path(kind, name));
    if (res.status === 404) return undefined;
    if (res.status !== 200) this.fail(kind, name, 'GET', res.status, res.body);
    const s = this.decode(kind, res.body);
    if (s.marked) {
      // Its deleter may have died between mark and delete; finishing is safe (it is gone either way).
      await this.finishDelete(kind, name, s.revision).catch((e: unknown) => { if (!(e instanceof StoreError)) throw e; });
      return undefined;
    }
    return { name: s.name, spec: s.spec, revision: s.revision };
  }

  async list<K extends IpamKind>(kind: K): Promise<Stored<K>[]> {
    const out: Stored<K>[] = [];
    let cont = '';
    do {
      const res = await this.call('GET', `${this.path(kind)}?limit=500${cont !== '' ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      if (res.status !== 200 || !isObj(res.body) || !Array.isArray(res.body['items'])) this.fail(kind, '', 'LIST', res.status, res.body);
      const body = res.body as Obj;
      for (const item of body['items'] as unknown[]) {
        const s = this.decode(kind, item);
        if (!s.marked) out.push({ name: s.name, spec: s.spec, revision: s.revision });
      }
      const md = isObj(body['metadata']) ? body['metadata'] : {};
      cont = typeof md['continue'] === 'string' ? md['continue'] : '';
    } while (cont !== '');
    return out;
  }

  async create<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K]): Promise<Stored<K>> {
    const res = await this.call('POST', this.path(kind), this.body(kind, name, spec));
    if (res.status !== 201 && res.status !== 200) this.fail(kind, name, 'POST', res.status, res.body);
    const s = this.decode(kind, res.body);
    return { name: s.name, spec: s.spec, revision: s.revision };
  }

  async update<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision: string): Promise<Stored<K>> {
    const res = await this.call('PUT', this.path(kind, name), this.body(kind, name, spec, revision));
    if (res.status !== 200) this.fail(kind, name, 'PUT', res.status, res.body);
    const s = this.decode(kind, res.body);
    return { name: s.name, spec: s.spec, revision: s.revision };
  }

  async delete(kind: IpamKind, name: string, revision: string): Promise<void> {
    const cur = await this.call('GET', this.path(kind, name));
    if (cur.status === 404) throw new StoreError('notFound', kind, name);
    if (cur.status !== 200) this.fail(kind, name, 'GET', cur.status, cur.body);
    const s = this.decode(kind, cur.body);
    if (s.revision !== revision) throw new StoreError('conflict', kind, name, `read at ${revision}, now at ${s.revision}`);
    // Mark first, conditionally: a writer that raced us gets 409 instead of losing its change.
    const marked = await this.update(kind, name, { ...s.spec, deleted: true } as SpecOf[typeof kind], revision);
    await this.finishDelete(kind, name, marked.revision);
  }

  private async finishDelete(kind: IpamKind, name: string, revision: string): Promise<void> {
    const res = await this.call('DELETE', this.path(kind, name), {
      kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: revision },
    });
    if (res.status === 200 || res.status === 202 || res.status === 404) {
      this.meta.delete(`${kind}/${name}`);
      return;
    }
    this.fail(kind, name, 'DELETE', res.status, res.body);
  }
}
