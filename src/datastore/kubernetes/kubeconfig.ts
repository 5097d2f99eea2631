// Where the Kubernetes API is and how to authenticate, read the way client-go and
// @kubernetes/client-node read it: a kubeconfig file (its current context's cluster and user),
// or the pod's service account (in-cluster). Kite reads the common forms itself — server,
// certificate authority, client certificate and key, bearer token, skip-verify and TLS server
// name — and hands anything else (exec plugins, auth providers, token files, basic auth, proxies,
// impersonation) to @kubernetes/client-node, loaded only then: its config module pulls in the
// whole generated API client, ~50 MiB of RSS an idle daemon would carry for nothing (issue 16).
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { parse } from 'yaml';
import { Lazy } from '../../lazy.js';

/** What the Kubernetes client needs from a loaded configuration (a KubeConfig satisfies it too). */
export interface KubeConnection {
  getCurrentCluster(): { readonly server: string } | null;
  getCurrentContext(): string;
  /** Adds TLS material and credentials to a request's options (re-read for every request). */
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Fields = Record<string, unknown>;
const isObj = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The user and cluster fields Kite applies itself; any other field sends the file to client-node. */
const OWN_USER = new Set(['token', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data']);
const OWN_CLUSTER = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name']);

interface Plan {
  server: string;
  context: string;
  ca?: { file?: string; data?: string };
  cert?: { file?: string; data?: string };
  key?: { file?: string; data?: string };
  token?: string;
  tokenFile?: string;
  skipVerify: boolean;
  serverName?: string;
}

class OwnConnection implements KubeConnection {
  constructor(private readonly p: Plan) {}
  getCurrentCluster(): { server: string } { return { server: this.p.server }; }
  getCurrentContext(): string { return this.p.context; }
  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const p = this.p;
    // client-node's rule, kept: plain HTTP only to a cluster marked insecure-skip-tls-verify.
    if (p.server.startsWith('http:') && !p.skipVerify) throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
    const ca = material(p.ca);
    if (ca !== undefined) opts.ca = ca;
    const cert = material(p.cert);
    if (cert !== undefined) opts.cert = cert;
    const key = material(p.key);
    if (key !== undefined) opts.key = key;
    if (p.skipVerify) opts.rejectUnauthorized = false;
    if (p.serverName !== undefined) opts.servername = p.serverName;
    // A token file is read for every request: bound service-account tokens are rotated on disk.
    const token = p.tokenFile !== undefined ? readFileSync(p.tokenFile, 'utf8').trim() : p.token;
    if (token !== undefined) opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
  }
}

function material(m: { file?: string; data?: string } | undefined): Buffer | undefined {
  if (m?.file !== undefined) return readFileSync(m.file);
  if (m?.data !== undefined) return Buffer.from(m.data, 'base64');
  return undefined;
}

/** A kubeconfig that needs client-node: loaded on the first request, then asked each time. */
class DelegatedConnection implements KubeConnection {
  /** A load that failed (the file unreadable for a moment) is not kept: the next request loads again. */
  private readonly kc = new Lazy(async (): Promise<KubeConnection> => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(this.file);
    return kc;
  });
  constructor(private readonly file: string, private readonly server: string, private readonly context: string) {}
  getCurrentCluster(): { server: string } { return { server: this.server }; }
  getCurrentContext(): string { return this.context; }
  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    await (await this.kc.get()).applyToHTTPSOptions(opts);
  }
  /** For tests: this file goes through client-node. */
  readonly delegated = true;
}

/**
 * The in-cluster configuration, as client-go's rest.InClusterConfig: https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT (IPv6 in brackets; client-node takes ports 80, 8080 and 8001 as plain
 * HTTP), the service account's CA and token (`dir`, for tests).
 */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '';
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return new OwnConnection({
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`, context: 'inClusterContext',
    ca: { file: join(dir, 'ca.crt') }, tokenFile: join(dir, 'token'), skipVerify: false,
  });
}

/** Reads a kubeconfig file: its current context's cluster and user. Throws with what is wrong. */
export function fileConnection(file: string): KubeConnection {
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  if (!isObj(doc)) throw new Error('not a kubeconfig (no mapping at the top)');
  const named = (list: unknown, name: string, field: string): Fields | undefined => {
    if (!Array.isArray(list)) return undefined;
    const e: unknown = list.find((x: unknown) => isObj(x) && x['name'] === name);
    return isObj(e) && isObj(e[field]) ? e[field] : undefined;
  };
  const context = str(doc['current-context']) ?? '';
  const ctx = named(doc['contexts'], context, 'context');
  const cluster = ctx === undefined ? undefined : named(doc['clusters'], str(ctx['cluster']) ?? '', 'cluster');
  const server = cluster === undefined ? undefined : str(cluster['server']);
  if (ctx === undefined || cluster === undefined || server === undefined) {
    throw new Error(`no Kubernetes cluster configured in ${file} (current-context "${context}")`);
  }
  const user = named(doc['users'], str(ctx['user']) ?? '', 'user') ?? {};
  // client-node resolves a relative path against the kubeconfig's directory, as kubectl does.
  const abs = (p: string | undefined): string | undefined => (p === undefined || isAbsolute(p) ? p : join(dirname(file), p));
  const own = Object.keys(user).every((k) => OWN_USER.has(k)) && Object.keys(cluster).every((k) => OWN_CLUSTER.has(k));
  if (!own) return new DelegatedConnection(file, server, context);
  const pair = (f: string, d: string): { file?: string; data?: string } | undefined => {
    const fileName = abs(str(user[f]) ?? str(cluster[f]));
    const data = str(user[d]) ?? str(cluster[d]);
    return fileName !== undefined ? { file: fileName } : data !== undefined ? { data } : undefined;
  };
  const plan: Plan = { server, context, skipVerify: cluster['insecure-skip-tls-verify'] === true };
  const ca = pair('certificate-authority', 'certificate-authority-data');
  if (ca !== undefined) plan.ca = ca;
  const cert = pair('client-certificate', 'client-certificate-data');
  if (cert !== undefined) plan.cert = cert;
  const key = pair('client-key', 'client-key-data');
  if (key !== undefined) plan.key = key;
  const serverName = str(cluster['tls-server-name']);
  if (serverName !== undefined) plan.serverName = serverName;
  const token = str(user['token']);
  if (token !== undefined) plan.token = token;
  return new OwnConnection(plan);
}

/** ~/.kube/config, as client-node's loadFromDefault falls back to. */
export function defaultKubeconfigPath(): string {
  return join(homedir(), '.kube', 'config');
}
