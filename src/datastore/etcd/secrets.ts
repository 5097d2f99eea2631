// BGP password Secrets for the etcd datastore. etcd holds no Secrets: calico-node's confd reads them
// from the Kubernetes API in etcd mode too (its secret watcher: $KUBECONFIG, else the in-cluster
// service account; Secrets in $NAMESPACE, default kube-system; one watch per Secret, by name), and
// when it has no API it logs a warning and runs the peering without a password. Kite reads them
// the same way, and where it cannot, reports which peer goes without its password and why.
import type { Logger } from 'pino';
import type { KubeClient } from '../kubernetes/client.js';
import type { Reflector } from '../kubernetes/reflector.js';
import { Lazy } from '../../lazy.js';

/** One password reference: who uses it (for the message), and the Secret's name and key. */
export interface SecretUse { who: string; name: string; key: string }

export interface EtcdSecretsOptions {
  /** Kubeconfig file (`kite run --kubeconfig`); default $KUBECONFIG, then in-cluster ($KUBERNETES_SERVICE_HOST). */
  kubeconfig?: string;
  /** Where the Secrets are; default $NAMESPACE (calico-node's variable), $POD_NAMESPACE, then kube-system. */
  namespace?: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** The Secrets changed, were listed, or waiting for them is over: build a snapshot again. */
  onChange(): void;
  onError(e: Error): void;
  /**
   * How long a snapshot waits for the Secrets' first list (confd allows 0.5 s, then carries on
   * and reconfigures when they come). Longer here: a session that started without its password
   * is torn down and started again once it arrives. Default 3 s.
   */
  waitMs?: number;
  /** Use this client (tests). */
  client?: KubeClient;
}

type Access = { kind: 'none' } | { kind: 'kubeconfig'; file: string } | { kind: 'in-cluster' };

/**
 * The Kubernetes API beside an etcd datastore, found as calico-node finds it (startup and confd
 * alike: clientcmd with $KUBECONFIG, which falls back to the in-cluster service account): the
 * kubeconfig given, else $KUBECONFIG, else in-cluster when $KUBERNETES_SERVICE_HOST is set.
 */
export class KubeAccess {
  private readonly access: Access;
  /** Loaded at the first client(); a load that failed (a kubeconfig not there yet) is tried again at the next. */
  private readonly loaded: Lazy<KubeClient>;
  private readonly given: boolean;

  constructor(o: { kubeconfig?: string | undefined; env: NodeJS.ProcessEnv; client?: KubeClient | undefined }) {
    const file = o.kubeconfig ?? o.env['KUBECONFIG'];
    this.access = file !== undefined && file !== '' ? { kind: 'kubeconfig', file }
      : o.env['KUBERNETES_SERVICE_HOST'] !== undefined && o.env['KUBERNETES_SERVICE_HOST'] !== '' ? { kind: 'in-cluster' }
      : { kind: 'none' };
    const client = o.client;
    this.given = client !== undefined;
    this.loaded = new Lazy(async () => {
      if (client !== undefined) return client;
      if (this.access.kind === 'none') throw new Error('no Kubernetes API configured: set KUBECONFIG (or --kubeconfig) or run in a pod with a service account');
      const { loadKubeConfig, createKubeClient } = await import('../kubernetes/client.js');
      return createKubeClient(loadKubeConfig(this.access.kind === 'kubeconfig' ? this.access.file : undefined));
    });
  }

  /** False when neither a kubeconfig nor an in-cluster service account is there. */
  get configured(): boolean { return this.given || this.access.kind !== 'none'; }

  /**
   * The client (loaded once); rejects when none is configured or the configuration does not load,
   * and then loads again at the next call.
   */
  client(): Promise<KubeClient> {
    return this.loaded.get();
  }
}

const NO_API = 'with the etcdv3 datastore, BGP password Secrets are read from the Kubernetes API (as calico-node does), ' +
  'and none is configured: set KUBECONFIG (or --kubeconfig) or run in a pod with a service account';

export class EtcdSecrets {
  readonly kube: KubeAccess;
  private readonly namespace: string;
  private client: KubeClient | undefined;
  private loading = false;
  /** Why the Kubernetes API cannot be used (no configuration, or it failed to load). */
  private unusable: string | undefined;
  private readonly reflectors = new Map<string, Reflector<Record<string, string>>>();
  /** When the Secrets in use started waiting for their first list. */
  private pendingSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Messages already reported, so each is said once while it holds. */
  private reported = new Set<string>();
  private stopped = false;

  constructor(private readonly o: EtcdSecretsOptions) {
    const env = o.env ?? process.env;
    this.kube = new KubeAccess({ kubeconfig: o.kubeconfig, env, client: o.client });
    if (!this.kube.configured) this.unusable = NO_API;
    this.namespace = o.namespace ?? (env['NAMESPACE'] || env['POD_NAMESPACE'] || 'kube-system');
  }

  /**
   * Follows the Secrets `uses` name. True when a snapshot may go out: every Secret listed, none
   * in use, no API to wait for, or the wait is over.
   */
  reconcile(uses: readonly SecretUse[]): boolean {
    if (this.stopped) return true;
    const names = new Set(uses.map((u) => u.name));
    for (const [name, r] of this.reflectors) if (!names.has(name)) { r.stop(); this.reflectors.delete(name); }
    this.reportUnresolvable(uses);
    if (names.size === 0 || this.unusable !== undefined) { this.pendingSince = undefined; return true; }
    if (this.client === undefined) {
      void this.load();
      return this.waitOver();
    }
    for (const name of names) {
      if (this.reflectors.has(name)) continue;
      void this.watch(name);
    }
    if ([...this.reflectors.values()].every((r) => r.synced) && this.reflectors.size === names.size) {
      this.pendingSince = undefined;
      return true;
    }
    return this.waitOver();
  }

  /** The listed Secrets' data, by name then key. */
  data(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const name of [...this.reflectors.keys()].sort()) {
      const d = this.reflectors.get(name)?.items.get(`${this.namespace}/${name}`);
      if (d !== undefined) out[name] = d;
    }
    return out;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const r of this.reflectors.values()) r.stop();
    this.reflectors.clear();
  }

  /** Every peer whose password cannot be read, once per message while it holds. */
  private reportUnresolvable(uses: readonly SecretUse[]): void {
    const now = new Set<string>();
    if (this.unusable !== undefined) {
      for (const u of uses) now.add(`${u.who}: its password (Secret "${u.name}", key "${u.key}") cannot be read: ${this.unusable}; the session runs without TCP MD5, and a peer that expects a password will not answer it`);
    }
    for (const m of now) if (!this.reported.has(m)) this.o.onError(new Error(m));
    this.reported = now;
  }

  private waitOver(): boolean {
    const wait = this.o.waitMs ?? 3000;
    const now = Date.now();
    this.pendingSince ??= now;
    if (now - this.pendingSince >= wait) return true;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => { this.timer = undefined; if (!this.stopped) this.o.onChange(); }, wait - (now - this.pendingSince) + 1);
      this.timer.unref?.();
    }
    return false;
  }

  private async load(): Promise<void> {
    if (this.loading || this.client !== undefined || this.unusable !== undefined) return;
    this.loading = true;
    try {
      this.client = await this.kube.client();
      this.o.log.info({ server: this.client.server, namespace: this.namespace }, 'BGP password Secrets read from the Kubernetes API');
    } catch (e) {
      this.unusable = `the Kubernetes API for BGP password Secrets: ${(e as Error).message}`;
    } finally {
      this.loading = false;
    }
    if (!this.stopped) this.o.onChange();
  }

  private async watch(name: string): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    const [{ Reflector }, { convertSecret }] = await Promise.all([import('../kubernetes/reflector.js'), import('../kubernetes/convert.js')]);
    if (this.stopped || this.reflectors.has(name)) return;
    const r = new Reflector<Record<string, string>>({
      client, log: this.o.log,
      path: `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/secrets`,
      query: { fieldSelector: `metadata.name=${name}` },
      convert: convertSecret,
      onChange: () => this.o.onChange(),
      onSynced: () => this.o.onChange(),
      onError: (e) => this.o.onError(new Error(`BGP password Secret ${this.namespace}/${name} (Kubernetes API ${client.server}): ${e.message}`)),
    });
    this.reflectors.set(name, r);
    r.start();
  }
}
