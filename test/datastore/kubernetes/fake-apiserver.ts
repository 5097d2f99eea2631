// A local HTTPS server speaking the Kubernetes list/watch protocol the way kube-apiserver does
// (no kube-apiserver can be installed here): discovery, paginated lists with resourceVersion,
// watches streaming one JSON event a line (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR 410), field
// selectors, bearer-token auth, plus test controls: mutate, drop watches, compact history (→ 410).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Obj = Record<string, unknown>;

interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const CALICO_TYPES: readonly [string, string, boolean][] = [
  ['bgpconfigurations', 'BGPConfiguration', false], ['bgppeers', 'BGPPeer', false], ['bgpfilters', 'BGPFilter', false],
  ['ippools', 'IPPool', false], ['blockaffinities', 'BlockAffinity', false], ['ipamblocks', 'IPAMBlock', false],
  // Served by a real cluster too; Kite must ignore them.
  ['felixconfigurations', 'FelixConfiguration', false], ['ipamhandles', 'IPAMHandle', false],
  ['clusterinformations', 'ClusterInformation', false], ['networkpolicies', 'NetworkPolicy', true],
];

export interface FakeApiServerOptions {
  /** Which Calico groups are served: the CRD group, v3, or both (v3 then acts as the API server). */
  calicoGroups?: ('crd.projectcalico.org/v1' | 'projectcalico.org/v3')[];
  /** Leave kinds out of discovery (an older Calico without BGPFilter). */
  omitPlurals?: string[];
  /** How a watch from a compacted resourceVersion is refused: an ERROR event (usual) or HTTP 410. */
  goneAs?: 'event' | 'http';
  /** Plurals the token may not read (RBAC missing): 403 with kube-apiserver's message. */
  forbid?: string[];
  /**
   * Serve writes as kube-apiserver does: POST (409 AlreadyExists), PUT with
   * metadata.resourceVersion (409 Conflict when stale), DELETE with a resourceVersion
   * precondition (409), PATCH as a JSON merge patch (RFC 7386). Off: writes get 405.
   */
  writable?: boolean;
  /** The IPv4 address to listen on (default 127.0.0.1; bench:e2e serves nodes in namespaces). */
  host?: string;
}

interface Watcher {
  type: ResourceType;
  namespace: string | undefined;
  selector: [string, string][];
  res: ServerResponse;
  req: IncomingMessage;
}

interface HistoryEvent {
  rv: number;
  key: string; // type key
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  previous: Obj | undefined;
}

export interface RequestRecord {
  path: string;
  query: URLSearchParams;
  watch: boolean;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
const typeKey = (t: ResourceType): string => `${t.group}/${t.version}/${t.plural}`;
const metaOf = (o: Obj): Obj => {
  if (!isObj(o['metadata'])) o['metadata'] = {};
  return o['metadata'] as Obj;
};
const objKey = (o: Obj): string => {
  const m = metaOf(o);
  return `${String(m['namespace'] ?? '')}/${String(m['name'] ?? '')}`;
};

function fieldValue(o: Obj, path: string): string {
  let cur: unknown = o;
  for (const part of path.split('.')) cur = isObj(cur) ? cur[part] : undefined;
  return cur === undefined || cur === null ? '' : String(cur);
}

/**
 * /api/v1[/namespaces/ns]/plural[/name] or /apis/g/v[/namespaces/ns]/plural[/name] into its parts
 * (`rest` is [plural, name?], or empty for the group version itself); undefined for other paths.
 */
function splitPath(pathname: string): { group: string; version: string; namespace: string | undefined; rest: string[] } | undefined {
  const parts = pathname.split('/').filter((p) => p !== '');
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) { group = ''; version = parts[1] ?? ''; rest = parts.slice(2); }
  else if (parts[0] === 'apis' && parts.length >= 3) { group = parts[1] ?? ''; version = parts[2] ?? ''; rest = parts.slice(3); }
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
  return { group, version, namespace, rest };
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** A self-signed certificate for 127.0.0.1 (and `host`), made with openssl (present on the build machine). */
function makeCert(dir: string, host: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=fake-apiserver', '-addext', `subjectAltName=IP:127.0.0.1,DNS:localhost${host === '127.0.0.1' ? '' : `,IP:${host}`}`,
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

export class FakeApiServer {
  readonly token = 'kite-test-token';
  readonly requests: RequestRecord[] = [];
  private readonly types = new Map<string, ResourceType>();
  private readonly store = new Map<string, Map<string, Obj>>();
  private readonly history: HistoryEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly pages = new Map<string, { items: Obj[]; rv: number }>();
  private rv = 1000;
  /** Events at or below this resourceVersion are forgotten (etcd compaction). */
  private compacted = 1000;
  private uid = 0;
  private server!: Server;
  private dir = '';
  ca = '';
  url = '';
  /** Every write served (writable servers), in order. */
  readonly writes: { method: string; path: string; body: string }[] = [];
  calicoGroups: ('crd.projectcalico.org/v1' | 'projectcalico.org/v3')[];

  private constructor(private readonly opts: FakeApiServerOptions) {
    this.calicoGroups = opts.calicoGroups ?? ['crd.projectcalico.org/v1'];
    const omit = new Set(opts.omitPlurals ?? []);
    for (const gv of this.calicoGroups) {
      const [group = '', version = ''] = gv.split('/');
      for (const [plural, kind, namespaced] of CALICO_TYPES) {
        if (omit.has(plural)) continue;
        this.addType({ group, version, plural, kind, namespaced });
      }
    }
    this.addType({ group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false });
    this.addType({ group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true });
    this.addType({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true });
    this.addType({ group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true });
    this.addType({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true });
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    s.dir = mkdtempSync(join(tmpdir(), 'kite-fake-apiserver-'));
    const host = opts.host ?? '127.0.0.1';
    const { key, cert } = makeCert(s.dir, host);
    s.ca = cert;
    s.server = createServer({ key, cert }, (req, res) => s.handle(req, res));
    await new Promise<void>((resolve) => s.server.listen(0, host, resolve));
    s.url = `https://${host}:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** Writes a kubeconfig for this server (CA data + bearer token) and returns its path. */
  kubeconfig(token = this.token): string {
    const path = join(this.dir, `kubeconfig-${token}`);
    writeFileSync(path, [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- name: fake', '  cluster:', `    server: ${this.url}`,
      `    certificate-authority-data: ${Buffer.from(this.ca).toString('base64')}`,
      'users:', '- name: kite', '  user:', `    token: ${token}`,
      'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: kite',
      'current-context: fake', '',
    ].join('\n'));
    return path;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private addType(t: ResourceType): void {
    this.types.set(typeKey(t), t);
    this.store.set(typeKey(t), new Map());
  }

  private typeFor(apiVersion: string, kind: string): ResourceType {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    for (const t of this.types.values()) if (t.group === group && t.version === version && t.kind === kind) return t;
    throw new Error(`fake apiserver does not serve ${apiVersion} ${kind}`);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Creates or replaces an object (as `kubectl apply` would); returns the stored copy. */
  put(input: Obj): Obj {
    const t = this.typeFor(String(input['apiVersion']), String(input['kind']));
    const coll = this.store.get(typeKey(t)) as Map<string, Obj>;
    const o = clone(input);
    const m = metaOf(o);
    if (t.namespaced && m['namespace'] === undefined) m['namespace'] = 'default';
    const key = objKey(o);
    const prev = coll.get(key);
    const pm = prev === undefined ? undefined : metaOf(prev);
    this.rv++;
    m['resourceVersion'] = String(this.rv);
    m['uid'] = pm?.['uid'] ?? `00000000-0000-4000-8000-${String(++this.uid).padStart(12, '0')}`;
    m['creationTimestamp'] = pm?.['creationTimestamp'] ?? new Date(0).toISOString();
    const specChanged = prev === undefined || JSON.stringify(prev['spec']) !== JSON.stringify(o['spec']);
    m['generation'] = (typeof pm?.['generation'] === 'number' ? pm['generation'] : 0) + (specChanged ? 1 : 0);
    coll.set(key, o);
    this.emit({ rv: this.rv, key: typeKey(t), type: prev === undefined ? 'ADDED' : 'MODIFIED', object: clone(o), previous: prev });
    return clone(o);
  }

  /** Deletes an object; the DELETED event carries the object at a new resourceVersion. */
  remove(apiVersion: string, kind: string, name: string, namespace?: string): void {
    const t = this.typeFor(apiVersion, kind);
    const coll = this.store.get(typeKey(t)) as Map<string, Obj>;
    const key = `${t.namespaced ? namespace ?? 'default' : ''}/${name}`;
    const prev = coll.get(key);
    if (prev === undefined) throw new Error(`fake apiserver: no ${kind} ${key}`);
    coll.delete(key);
    this.rv++;
    const o = clone(prev);
    metaOf(o)['resourceVersion'] = String(this.rv);
    this.emit({ rv: this.rv, key: typeKey(t), type: 'DELETED', object: o, previous: prev });
  }

  get(apiVersion: string, kind: string, name: string, namespace?: string): Obj | undefined {
    const t = this.typeFor(apiVersion, kind);
    const o = this.store.get(typeKey(t))?.get(`${t.namespaced ? namespace ?? 'default' : ''}/${name}`);
    return o === undefined ? undefined : clone(o);
  }

  /** Closes every open watch abruptly (a load balancer or apiserver restart). */
  dropWatches(): void {
    for (const w of this.watchers) w.req.socket.destroy();
    this.watchers.clear();
  }

  /** Ends every open watch cleanly (the server's timeout). */
  endWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /**
   * Forgets history up to now (etcd compaction): a watch resuming from an older
   * resourceVersion gets 410. With `notifyOpen`, open watches get an ERROR 410 event and are
   * closed, as the watch cache does when a watcher falls too far behind.
   */
  compact(notifyOpen = false): void {
    this.compacted = this.rv;
    this.history.length = 0;
    this.pages.clear();
    if (!notifyOpen) return;
    for (const w of this.watchers) {
      this.write(w, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${this.rv}`) });
      w.res.end();
    }
    this.watchers.clear();
  }

  /** Sends a BOOKMARK carrying the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.watchers) {
      this.write(w, { type: 'BOOKMARK', object: { kind: w.type.kind, apiVersion: this.apiVersionOf(w.type), metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Advances the resourceVersion with writes to a collection nobody watches here (other objects in etcd). */
  bumpResourceVersion(n: number): void {
    this.rv += n;
  }

  openWatches(plural?: string): number {
    let n = 0;
    for (const w of this.watchers) if (plural === undefined || w.type.plural === plural) n++;
    return n;
  }

  private apiVersionOf(t: ResourceType): string {
    return t.group === '' ? t.version : `${t.group}/${t.version}`;
  }

  private write(w: Watcher, ev: Obj): void {
    if (!w.res.writableEnded) w.res.write(JSON.stringify(ev) + '\n');
  }

  private matches(w: Watcher, o: Obj | undefined): boolean {
    if (o === undefined) return false;
    if (w.namespace !== undefined && metaOf(o)['namespace'] !== w.namespace) return false;
    return w.selector.every(([f, v]) => fieldValue(o, f) === v);
  }

  /** Sends an event to the watches it concerns, turning selector exits into DELETED (as kube-apiserver does). */
  private deliver(w: Watcher, ev: HistoryEvent): void {
    if (typeKey(w.type) !== ev.key) return;
    const now = ev.type === 'DELETED' ? false : this.matches(w, ev.object);
    const before = this.matches(w, ev.previous);
    let type: string | undefined;
    if (ev.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (now) type = before ? 'MODIFIED' : 'ADDED';
    else if (before) type = 'DELETED';
    if (type !== undefined) this.write(w, { type, object: this.itemShape(w.type, ev.object) });
  }

  private emit(ev: HistoryEvent): void {
    this.history.push(ev);
    for (const w of this.watchers) this.deliver(w, ev);
  }

  /** Core-group list items carry no kind/apiVersion; CRD items do (both as kube-apiserver). */
  private itemShape(t: ResourceType, o: Obj): Obj {
    const c = clone(o);
    c['apiVersion'] = this.apiVersionOf(t);
    c['kind'] = t.kind;
    return c;
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'https://x');
    const q = u.searchParams;
    const watch = q.get('watch') === '1' || q.get('watch') === 'true';
    this.requests.push({ path: u.pathname, query: q, watch });
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      this.send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (req.method !== 'GET') {
      if (!this.opts.writable) {
        this.send(res, 405, status(405, 'MethodNotAllowed', `${req.method ?? ''} is not supported by the fake apiserver`));
        return;
      }
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => { text += d; });
      req.on('end', () => this.serveWrite(req.method ?? '', u.pathname, req.headers['content-type'] ?? '', text, res));
      return;
    }
    if (u.pathname === '/apis') { this.send(res, 200, this.groupList()); return; }
    if (u.pathname === '/api') { this.send(res, 200, { kind: 'APIVersions', versions: ['v1'] }); return; }
    const p = splitPath(u.pathname);
    if (p === undefined) { this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource')); return; }
    const { group, version, namespace, rest } = p;
    if (rest.length === 0) {
      const list = this.resourceList(group, version);
      if (list === undefined) this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      else this.send(res, 200, list);
      return;
    }
    const t = this.types.get(`${group}/${version}/${rest[0] ?? ''}`);
    if (t === undefined || (namespace !== undefined && !t.namespaced)) {
      this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    if (this.opts.forbid?.includes(t.plural)) {
      const gr = t.group === '' ? t.plural : `${t.plural}.${t.group}`;
      this.send(res, 403, status(403, 'Forbidden', `${gr} is forbidden: User "system:serviceaccount:kube-system:kite" cannot ${watch ? 'watch' : 'list'} resource "${t.plural}" in API group "${t.group}"${namespace === undefined ? ' at the cluster scope' : ` in the namespace "${namespace}"`}`));
      return;
    }
    if (rest.length === 2) {
      const o = this.store.get(typeKey(t))?.get(`${namespace ?? ''}/${rest[1] ?? ''}`);
      if (o === undefined) this.send(res, 404, status(404, 'NotFound', `${t.plural} "${rest[1] ?? ''}" not found`));
      else this.send(res, 200, this.itemShape(t, o));
      return;
    }
    const selector: [string, string][] = [];
    for (const term of (q.get('fieldSelector') ?? '').split(',').filter((s) => s !== '')) {
      const [f = '', v = ''] = term.split('=');
      selector.push([f, v]);
    }
    if (watch) this.watch(t, namespace, selector, q, req, res);
    else this.list(t, namespace, selector, q, res);
  }

  /** Resolves /api/v1[/namespaces/ns]/plural[/name] and /apis/g/v/... to a type, namespace and name. */
  private route(pathname: string): { t: ResourceType; namespace: string | undefined; name: string | undefined } | undefined {
    const p = splitPath(pathname);
    if (p === undefined) return undefined;
    const { group, version, namespace, rest } = p;
    const t = this.types.get(`${group}/${version}/${rest[0] ?? ''}`);
    if (t === undefined || rest.length > 2 || (namespace !== undefined && !t.namespaced)) return undefined;
    return { t, namespace, name: rest[1] === undefined ? undefined : decodeURIComponent(rest[1]) };
  }

  /** Write verbs (writable servers only). */
  private serveWrite(method: string, pathname: string, contentType: string, text: string, res: ServerResponse): void {
    const r = this.route(pathname);
    if (r === undefined) { this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource')); return; }
    const { t, namespace, name } = r;
    this.writes.push({ method, path: pathname, body: text });
    let body: Obj = {};
    try { body = text === '' ? {} : JSON.parse(text) as Obj; } catch { this.send(res, 400, status(400, 'BadRequest', 'invalid JSON')); return; }
    const apiVersion = this.apiVersionOf(t);
    const key = (n: string): string => `${t.namespaced ? namespace ?? 'default' : ''}/${n}`;
    const coll = this.store.get(typeKey(t)) as Map<string, Obj>;
    const gr = t.group === '' ? t.plural : `${t.plural}.${t.group}`;
    if (method === 'POST' && name === undefined) {
      const n = String(metaOf(body)['name'] ?? '');
      if (coll.has(key(n))) { this.send(res, 409, status(409, 'AlreadyExists', `${gr} "${n}" already exists`)); return; }
      delete metaOf(body)['resourceVersion'];
      this.send(res, 201, this.itemShape(t, this.put({ ...body, apiVersion, kind: t.kind })));
      return;
    }
    if (name === undefined) { this.send(res, 405, status(405, 'MethodNotAllowed', `${method} on a collection`)); return; }
    const cur = coll.get(key(name));
    if (cur === undefined) { this.send(res, 404, status(404, 'NotFound', `${gr} "${name}" not found`)); return; }
    const curRv = String(metaOf(cur)['resourceVersion'] ?? '');
    const conflict = (): void => this.send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${gr} "${name}": the object has been modified; please apply your changes to the latest version and try again`));
    if (method === 'PUT') {
      const rv = metaOf(body)['resourceVersion'];
      if (rv !== undefined && String(rv) !== curRv) { conflict(); return; }
      this.send(res, 200, this.itemShape(t, this.put({ ...body, apiVersion, kind: t.kind })));
      return;
    }
    if (method === 'DELETE') {
      const pre = (body['preconditions'] as Obj | undefined)?.['resourceVersion'];
      if (pre !== undefined && String(pre) !== curRv) { conflict(); return; }
      this.remove(apiVersion, t.kind, name, namespace);
      this.send(res, 200, status(200, 'Success', 'deleted'));
      return;
    }
    if (method === 'PATCH') {
      if (!contentType.startsWith('application/merge-patch+json')) {
        this.send(res, 415, status(415, 'UnsupportedMediaType', `the fake apiserver takes merge patches, not ${contentType}`));
        return;
      }
      this.send(res, 200, this.itemShape(t, this.put(mergePatch(cur, body) as Obj)));
      return;
    }
    this.send(res, 405, status(405, 'MethodNotAllowed', `${method} is not supported`));
  }

  private groupList(): Obj {
    const groups = new Map<string, string[]>();
    for (const t of this.types.values()) {
      if (t.group === '') continue;
      const vs = groups.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      groups.set(t.group, vs);
    }
    // Groups a real cluster serves as well, so Kite has to pick its own out of a realistic list.
    for (const [g, v] of [['apps', 'v1'], ['apiextensions.k8s.io', 'v1'], ['operator.tigera.io', 'v1']] as const) groups.set(g, [v]);
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: [...groups].map(([name, vs]) => ({
        name,
        versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${vs[0] ?? ''}`, version: vs[0] ?? '' },
      })),
    };
  }

  private resourceList(group: string, version: string): Obj | undefined {
    const ts = [...this.types.values()].filter((t) => t.group === group && t.version === version);
    if (ts.length === 0) return undefined;
    const resources: Obj[] = [];
    for (const t of ts) {
      resources.push({ name: t.plural, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'] });
      if (t.group !== '') resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
  }

  private list(t: ResourceType, namespace: string | undefined, selector: [string, string][], q: URLSearchParams, res: ServerResponse): void {
    const limit = Number(q.get('limit') ?? '0');
    const cont = q.get('continue') ?? '';
    let items: Obj[];
    let rv: number;
    if (cont !== '') {
      const page = this.pages.get(cont);
      if (page === undefined) {
        this.send(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
        return;
      }
      this.pages.delete(cont);
      ({ items, rv } = page);
    } else {
      const w = { type: t, namespace, selector } as Watcher;
      items = [...(this.store.get(typeKey(t))?.values() ?? [])]
        .filter((o) => this.matches(w, o))
        .sort((a, b) => objKey(a).localeCompare(objKey(b)))
        .map((o) => this.listItem(t, o));
      rv = this.rv;
    }
    const meta: Obj = { resourceVersion: String(rv) };
    if (limit > 0 && items.length > limit) {
      const token = Buffer.from(JSON.stringify({ rv, n: this.pages.size, t: Date.now() })).toString('base64');
      this.pages.set(token, { items: items.slice(limit), rv });
      meta['continue'] = token;
      meta['remainingItemCount'] = items.length - limit;
      items = items.slice(0, limit);
    }
    this.send(res, 200, { kind: `${t.kind}List`, apiVersion: this.apiVersionOf(t), metadata: meta, items });
  }

  private listItem(t: ResourceType, o: Obj): Obj {
    const c = clone(o);
    if (t.group === '') { delete c['kind']; delete c['apiVersion']; } else { c['kind'] = t.kind; c['apiVersion'] = this.apiVersionOf(t); }
    return c;
  }

  private watch(t: ResourceType, namespace: string | undefined, selector: [string, string][], q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const rvText = q.get('resourceVersion') ?? '';
    const from = rvText === '' || rvText === '0' ? undefined : Number(rvText);
    if (from !== undefined && from < this.compacted) {
      const msg = `too old resource version: ${from} (${this.compacted})`;
      if (this.opts.goneAs === 'http') { this.send(res, 410, status(410, 'Gone', msg)); return; }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', msg) }) + '\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { type: t, namespace, selector, res, req };
    if (from === undefined) {
      // No resourceVersion: synthetic ADDED for everything that exists, then live events.
      for (const o of this.store.get(typeKey(t))?.values() ?? []) if (this.matches(w, o)) this.write(w, { type: 'ADDED', object: this.itemShape(t, o) });
    } else {
      for (const ev of this.history) if (ev.rv > from) this.deliver(w, ev);
    }
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => { this.watchers.delete(w); res.end(); }, timeout * 1000) : undefined;
    const gone = (): void => { if (timer !== undefined) clearTimeout(timer); this.watchers.delete(w); };
    res.on('close', gone);
    req.on('close', gone);
  }
}
