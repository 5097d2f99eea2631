// The HTTP side of the Kubernetes datastore: loads a kubeconfig (in-cluster service account or
// a file; kubeconfig.ts, which hands the uncommon forms to @kubernetes/client-node), which also
// supplies TLS material and bearer tokens, and makes the two kinds of request Kite needs: a JSON
// GET and a streamed watch (one JSON event a line).
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultKubeconfigPath, fileConnection, inClusterConnection, type KubeConnection } from './kubeconfig.js';

export type { KubeConnection } from './kubeconfig.js';

export interface KubeResponse {
  status: number;
  body: unknown;
}

export interface StreamHandlers {
  /** One complete line of the response body (a watch event), without the newline. */
  onLine(line: string): void;
  /** The stream ended: cleanly (server timeout, close()), or with an error (dropped connection). */
  onEnd(err?: Error): void;
}

export interface KubeStream {
  close(): void;
}

/** HTTP status and the Kubernetes Status object's message, when a request is refused. */
export class KubeHttpError extends Error {
  override readonly name = 'KubeHttpError';
  constructor(readonly status: number, readonly path: string, readonly reason: string) {
    super(`GET ${path}: HTTP ${status}${reason !== '' ? `: ${reason}` : ''}`);
  }
}

export interface KubeClient {
  readonly server: string;
  /** GET path (with query); resolves for every HTTP status, rejects on connection errors. */
  get(path: string): Promise<KubeResponse>;
  /**
   * Starts a streamed GET. Resolves once the response headers say 200; rejects with
   * KubeHttpError for other statuses (e.g. 410 when the resourceVersion is too old).
   */
  stream(path: string, h: StreamHandlers, idleTimeoutMs: number): Promise<KubeStream>;
  /** A JSON merge patch (RFC 7386, which every kube-apiserver accepts) to `path`; resolves for every HTTP status. */
  mergePatch(path: string, patch: unknown): Promise<KubeResponse>;
  /** POST (create) `body` as JSON to a collection `path`; resolves for every HTTP status (409: exists). */
  create(path: string, body: unknown): Promise<KubeResponse>;
}

/**
 * Loads the cluster connection: `path` (from --kubeconfig), else $KUBECONFIG, else the pod's
 * service account (in-cluster), else ~/.kube/config. Throws with a readable message.
 */
export function loadKubeConfig(path?: string): KubeConnection {
  const file = path ?? process.env['KUBECONFIG'];
  const fallback = defaultKubeconfigPath();
  try {
    if (file !== undefined && file !== '') return fileConnection(file);
    if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) return inClusterConnection();
    if (existsSync(fallback)) return fileConnection(fallback);
  } catch (e) {
    const m = (e as Error).message;
    if (m.startsWith('no Kubernetes cluster configured')) throw e;
    throw new Error(`cannot load Kubernetes configuration${file ? ` from ${file}` : ''}: ${m}`);
  }
  throw new Error(`no Kubernetes cluster configured (no --kubeconfig, $KUBECONFIG, in-cluster service account or ${fallback})`);
}

function statusReason(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  return typeof body === 'string' ? body.slice(0, 200) : '';
}

export function createKubeClient(kc: KubeConnection): KubeClient {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no Kubernetes cluster configured');
  const base = new URL(cluster.server);
  const secure = base.protocol === 'https:';
  const prefix = base.pathname.replace(/\/$/, '');

  // Options are rebuilt for every request: in-cluster tokens are rotated on disk (bound
  // service account tokens expire after an hour) and are re-read here.
  const options = async (path: string): Promise<RequestOptions> => {
    const opts: RequestOptions = {
      method: 'GET',
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port === '' ? (secure ? 443 : 80) : Number(base.port),
      path: prefix + path,
      headers: { Accept: 'application/json' },
    };
    await kc.applyToHTTPSOptions(opts);
    return opts;
  };
  const send = (opts: RequestOptions, cb: (res: IncomingMessage) => void) => (secure ? httpsRequest(opts, cb) : httpRequest(opts, cb));

  /** One request with a whole (JSON when it parses) answer. */
  const exchange = async (method: 'GET' | 'PATCH' | 'POST', path: string, body?: string): Promise<KubeResponse> => {
    const opts = await options(path);
    opts.method = method;
    const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    if (body !== undefined) opts.headers = { ...opts.headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) };
    return new Promise((resolve, reject) => {
      const req = send(opts, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (d: string) => { text += d; });
        res.on('error', reject);
        res.on('end', () => {
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* keep the text for the error message */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(body);
    });
  };

  return {
    server: cluster.server,

    get: (path: string): Promise<KubeResponse> => exchange('GET', path),

    mergePatch: (path: string, patch: unknown): Promise<KubeResponse> => exchange('PATCH', path, JSON.stringify(patch)),

    create: (path: string, body: unknown): Promise<KubeResponse> => exchange('POST', path, JSON.stringify(body)),

    async stream(path: string, h: StreamHandlers, idleTimeoutMs: number): Promise<KubeStream> {
      const opts = await options(path);
      return new Promise((resolve, reject) => {
        let ended = false;
        let started = false;
        const end = (err?: Error): void => {
          if (ended) return;
          ended = true;
          h.onEnd(err);
        };
        const req = send(opts, (res) => {
          res.setEncoding('utf8');
          if (res.statusCode !== 200) {
            let text = '';
            res.on('data', (d: string) => { text += d; });
            res.on('end', () => {
              let body: unknown = text;
              try { body = JSON.parse(text); } catch { /* plain text */ }
              reject(new KubeHttpError(res.statusCode ?? 0, decodeURIComponent(path), statusReason(body)));
            });
            return;
          }
          started = true;
          resolve({ close: () => { ended = true; req.destroy(); } });
          let tail = '';
          res.on('data', (d: string) => {
            tail += d;
            let nl: number;
            while ((nl = tail.indexOf('\n')) >= 0) {
              const line = tail.slice(0, nl).trim();
              tail = tail.slice(nl + 1);
              if (line !== '' && !ended) h.onLine(line);
            }
          });
          res.on('error', (e) => end(e));
          res.on('aborted', () => end(new Error('watch connection aborted')));
          res.on('end', () => end(tail.trim() === '' ? undefined : new Error('watch stream ended inside an event')));
        });
        // A silently dead connection (no RST) would stall the watch forever: the server sends a
        // bookmark about once a minute, so a long silence means the connection is gone.
        req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`watch silent for ${Math.round(idleTimeoutMs / 1000)} s`)));
        req.on('error', (e) => { if (started) end(e); else reject(e); });
        req.end();
      });
    },
  };
}
