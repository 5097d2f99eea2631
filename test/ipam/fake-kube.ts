// A minimal HTTPS Kubernetes API for Calico's IPAM CRDs (blockaffinities, ipamblocks,
// ipamhandles): GET/list with pagination, POST (409 AlreadyExists), PUT with resourceVersion
// (409 Conflict), DELETE with preconditions (409), bearer-token auth, and test controls: extra
// 409s on demand and a log of every request. Objects are kept as JSON text so that uint64
// sequence numbers keep their digits, as etcd would.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GROUPS = ['crd.projectcalico.org/v1', 'projectcalico.org/v3'];
const KINDS: Record<string, string> = { blockaffinities: 'BlockAffinity', ipamblocks: 'IPAMBlock', ipamhandles: 'IPAMHandle' };

export interface Logged { method: string; path: string; status: number; body: string }

export class FakeKube {
  readonly token = 'ipam-test-token';
  readonly log: Logged[] = [];
  /** Object text by "<plural>/<name>". */
  readonly objects = new Map<string, { text: string; rv: number }>();
  /** The next n PUTs answer 409 Conflict whatever their resourceVersion (another writer won). */
  conflictPuts = 0;
  pageSize = 0;
  private rv = 100;
  private server!: Server;
  private dir = '';
  url = '';

  static async start(): Promise<FakeKube> {
    const s = new FakeKube();
    s.dir = mkdtempSync(join(tmpdir(), 'kite-ipam-kube-'));
    const key = join(s.dir, 'key.pem');
    const cert = join(s.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=fake-kube', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    s.server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => s.handle(req, res));
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.url = `https://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    writeFileSync(join(s.dir, 'kubeconfig'), [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- name: fake', '  cluster:', `    server: ${s.url}`,
      `    certificate-authority-data: ${readFileSync(cert).toString('base64')}`,
      'users:', '- name: kite', '  user:', `    token: ${s.token}`,
      'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: kite', 'current-context: fake', '',
    ].join('\n'));
    return s;
  }

  get kubeconfig(): string {
    return join(this.dir, 'kubeconfig');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The stored object with its raw JSON text (sequence numbers exact). */
  raw(plural: string, name: string): string | undefined {
    return this.objects.get(`${plural}/${name}`)?.text;
  }

  private withRV(text: string, rv: number, uid: string): string {
    // Set metadata.resourceVersion/uid by editing the parsed copy, but splice the spec text back
    // verbatim so big integers survive.
    const o = JSON.parse(text) as { metadata: Record<string, unknown>; spec: unknown };
    const specText = extractSpec(text);
    o.metadata['resourceVersion'] = String(rv);
    o.metadata['uid'] = uid;
    o.spec = '__SPEC__';
    return JSON.stringify(o).replace('"__SPEC__"', specText);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      const [status, out] = this.route(req.method ?? 'GET', new URL(req.url ?? '/', 'https://x'), req.headers.authorization, body);
      this.log.push({ method: req.method ?? '', path: req.url ?? '', status, body });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(out);
    });
  }

  private route(method: string, u: URL, auth: string | undefined, body: string): [number, string] {
    const st = (code: number, reason: string, message: string): [number, string] =>
      [code, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code })];
    if (auth !== `Bearer ${this.token}`) return st(401, 'Unauthorized', 'Unauthorized');
    const m = /^\/apis\/([^/]+\/[^/]+)\/([a-z]+)(?:\/([^/]+))?$/.exec(u.pathname);
    if (m === null || !GROUPS.includes(m[1] ?? '') || KINDS[m[2] ?? ''] === undefined) return st(404, 'NotFound', 'the server could not find the requested resource');
    const plural = m[2] ?? '';
    const name = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
    const key = `${plural}/${name ?? ''}`;
    const cur = this.objects.get(key);
    const gr = `${plural}.${(m[1] ?? '').split('/')[0] ?? ''}`;
    if (method === 'GET' && name === undefined) {
      const all = [...this.objects.entries()].filter(([k]) => k.startsWith(`${plural}/`)).sort(([a], [b]) => (a < b ? -1 : 1));
      const from = Number(u.searchParams.get('continue') ?? '0');
      const limit = Number(u.searchParams.get('limit') ?? '0');
      const size = this.pageSize > 0 ? this.pageSize : limit > 0 ? limit : all.length;
      const page = all.slice(from, from + size);
      const more = from + size < all.length;
      return [200, `{"kind":"${KINDS[plural] ?? ''}List","apiVersion":"${m[1] ?? ''}","metadata":{"resourceVersion":"${this.rv}"${more ? `,"continue":"${from + size}"` : ''}},"items":[${page.map(([, v]) => v.text).join(',')}]}`];
    }
    if (method === 'GET') return cur === undefined ? st(404, 'NotFound', `${gr} "${name ?? ''}" not found`) : [200, cur.text];
    if (method === 'POST') {
      const o = JSON.parse(body) as { metadata?: { name?: string } };
      const n = o.metadata?.name ?? '';
      if (this.objects.has(`${plural}/${n}`)) return st(409, 'AlreadyExists', `${gr} "${n}" already exists`);
      const text = this.withRV(body, ++this.rv, `uid-${this.rv}`);
      this.objects.set(`${plural}/${n}`, { text, rv: this.rv });
      return [201, text];
    }
    if (method === 'PUT') {
      if (cur === undefined) return st(404, 'NotFound', `${gr} "${name ?? ''}" not found`);
      const o = JSON.parse(body) as { metadata?: { resourceVersion?: string } };
      if (this.conflictPuts > 0 || o.metadata?.resourceVersion !== String(cur.rv)) {
        if (this.conflictPuts > 0) this.conflictPuts--;
        return st(409, 'Conflict', `Operation cannot be fulfilled on ${gr} "${name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      const uid = String((JSON.parse(cur.text) as { metadata: { uid: string } }).metadata.uid);
      const text = this.withRV(body, ++this.rv, uid);
      this.objects.set(key, { text, rv: this.rv });
      return [200, text];
    }
    if (method === 'DELETE') {
      if (cur === undefined) return st(404, 'NotFound', `${gr} "${name ?? ''}" not found`);
      const pre = body === '' ? undefined : (JSON.parse(body) as { preconditions?: { resourceVersion?: string } }).preconditions;
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(cur.rv)) {
        return st(409, 'Conflict', `Operation cannot be fulfilled on ${gr} "${name ?? ''}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.rv}`);
      }
      this.objects.delete(key);
      this.rv++;
      return [200, cur.text];
    }
    return st(405, 'MethodNotAllowed', `${method} not allowed`);
  }
}

/** The text of the top-level "spec" value, found by bracket matching (strings skipped). */
function extractSpec(text: string): string {
  const at = text.indexOf('"spec":');
  if (at < 0) return 'null';
  let i = at + 7;
  while (text[i] === ' ') i++;
  const start = i;
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') { i++; while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1; continue; }
    if (c === '{' || c === '[') depth++;
    if (c === '}' || c === ']') { depth--; if (depth === 0) return text.slice(start, i + 1); }
  }
  return 'null';
}
