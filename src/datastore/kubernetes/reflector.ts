// One list+watch loop for one Kubernetes collection (client-go's Reflector): list, then watch
// from the list's resourceVersion with bookmarks; a dropped watch resumes from the last
// resourceVersion seen; 410 Gone relists and swaps the cache in one step, so readers never see
// it empty. Objects are converted on arrival; an invalid one keeps its last good version.
import type { Logger } from 'pino';
import { KubeHttpError, type KubeClient, type KubeStream } from './client.js';

export type RawObject = Record<string, unknown>;

/** What a raw object means to Kite: a value, "not for us" (e.g. another node's pod), or invalid. */
/** A valid object may carry warnings (fields accepted without effect): logged once per object and text. */
export type Converted<T> = { value: T; warnings?: string[] } | { absent: true } | { error: string };

export interface ReflectorTiming {
  /** Retry delays after failures, the last one repeating. */
  backoffMs: readonly number[];
  /** Asked of the server per watch request; the server ends the watch after it and we resume. */
  watchTimeoutSeconds: number;
  /** A watch with no bytes for this long is treated as dead (bookmarks normally arrive each minute). */
  idleTimeoutMs: number;
  /** Page size for lists (limit/continue). */
  pageSize: number;
}

export const DEFAULT_TIMING: ReflectorTiming = {
  backoffMs: [250, 500, 1000, 2000, 5000, 10_000, 30_000],
  watchTimeoutSeconds: 300,
  idleTimeoutMs: 390_000,
  pageSize: 500,
};

export interface ReflectorOptions<T> {
  client: KubeClient;
  /** Collection path without query: /apis/crd.projectcalico.org/v1/bgppeers, /api/v1/pods. */
  path: string;
  /** Extra query parameters for list and watch (fieldSelector). */
  query?: Record<string, string>;
  convert(raw: RawObject): Converted<T>;
  /** The cache changed (a watch event, or a relist whose result was swapped in). */
  onChange(): void;
  /** false when a (re)list starts, true when it has been swapped in. */
  onSynced(synced: boolean): void;
  /** A failure being retried, or an invalid object being skipped (reported once per message). */
  onError(err: Error): void;
  log: Logger;
  timing?: Partial<ReflectorTiming>;
  /**
   * A collection Kite can do without (Services, EndpointSlices: per-service routes only): when
   * the server refuses the first list (403: RBAC not updated yet, 404: not served), it counts as
   * listed and empty, so the rest still syncs; the list is retried and replaces it once allowed.
   */
  optional?: boolean;
}

/** The resourceVersion given to us is too old for the server (HTTP 410, or an ERROR event). */
class GoneError extends Error {
  override readonly name = 'GoneError';
}

const isObj = (v: unknown): v is RawObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const metaOf = (o: RawObject): RawObject => (isObj(o['metadata']) ? o['metadata'] : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const keyOf = (o: RawObject): string => {
  const m = metaOf(o);
  const ns = str(m['namespace']);
  return ns === '' ? str(m['name']) : `${ns}/${str(m['name'])}`;
};

export class Reflector<T> {
  private cache = new Map<string, T>();
  /** Last reported error per object key, so a recurring MODIFIED does not repeat the log. */
  private readonly objectErrors = new Map<string, string>();
  private readonly objectWarnings = new Map<string, string>();
  private rv = '';
  private stopped = false;
  private current: KubeStream | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** An optional collection the server refused stands in as listed and empty (see ReflectorOptions.optional). */
  private standIn = false;
  private readonly timing: ReflectorTiming;
  /** Counters for tests and `show` output. */
  readonly stats = { lists: 0, watches: 0, events: 0, bookmarks: 0, gone: 0 };
  synced = false;

  constructor(private readonly o: ReflectorOptions<T>) {
    this.timing = { ...DEFAULT_TIMING, ...o.timing };
  }

  /** The converted objects, by namespace/name. */
  get items(): ReadonlyMap<string, T> {
    return this.cache;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  start(): void {
    void this.run();
  }

  /** The collection this reflector lists and watches. */
  get path(): string { return this.o.path; }

  stop(): void {
    this.stopped = true;
    this.current?.close();
    if (this.sleepTimer !== undefined) clearTimeout(this.sleepTimer);
    this.wake?.();
  }

  private url(extra: Record<string, string>): string {
    const q = new URLSearchParams({ ...this.o.query, ...extra });
    return `${this.o.path}?${q.toString()}`;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list();
          needList = false;
        }
        await this.watch();
        this.failures = 0;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof GoneError) {
          // Our resourceVersion has been compacted away (etcd keeps ~5 minutes): events are
          // lost, so only a fresh list can tell what changed. No delay: it is not a failure.
          this.stats.gone++;
          this.o.log.info({ path: this.o.path, resourceVersion: this.rv }, 'watch expired (410 Gone): relisting');
          needList = true;
          continue;
        }
        const err = e instanceof Error ? e : new Error(String(e));
        const refused = err instanceof KubeHttpError && (err.status === 403 || err.status === 404);
        if (this.o.optional === true && refused && !this.synced) {
          this.standIn = true;
          this.synced = true;
          this.o.onSynced(true);
        }
        // KubeHttpError already names the request; connection errors need the path added.
        const where = err instanceof KubeHttpError ? '' : `${this.o.path}: `;
        this.o.onError(new Error(`${where}${err.message}; ${this.standIn ? 'treated as empty meanwhile; ' : ''}retrying`));
        await this.sleep(this.backoff());
      }
    }
  }

  private backoff(): number {
    const b = this.timing.backoffMs;
    const d = b[Math.min(this.failures, b.length - 1)] ?? 1000;
    this.failures++;
    return d;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  /** Lists every page, converts, then swaps the cache in one step and reports a change. */
  private async list(): Promise<void> {
    // A stand-in stays in force while its list is retried: it must not unsync the datastore.
    if (this.synced && !this.standIn) {
      this.synced = false;
      this.o.onSynced(false);
    }
    this.stats.lists++;
    const raws: RawObject[] = [];
    let cont = '';
    let rv = '';
    do {
      const q: Record<string, string> = { limit: String(this.timing.pageSize) };
      if (cont !== '') q['continue'] = cont;
      const url = this.url(q);
      const res = await this.o.client.get(url);
      if (this.stopped) return;
      // An expired continue token is a 410 too: start the list again from the first page.
      if (res.status === 410 && cont !== '') { cont = ''; raws.length = 0; continue; }
      if (res.status !== 200 || !isObj(res.body)) throw new KubeHttpError(res.status, decodeURIComponent(url), reasonOf(res.body));
      const meta = metaOf(res.body);
      rv = str(meta['resourceVersion']);
      cont = str(meta['continue']);
      const items = res.body['items'];
      if (Array.isArray(items)) for (const it of items) if (isObj(it)) raws.push(it);
    } while (cont !== '');

    const next = new Map<string, T>();
    const seen = new Set<string>();
    for (const raw of raws) {
      const key = keyOf(raw);
      seen.add(key);
      const v = this.convertOne(key, raw);
      if (v === 'keep') {
        const old = this.cache.get(key);
        if (old !== undefined) next.set(key, old);
      } else if (v !== undefined) next.set(key, v.value);
    }
    for (const k of [...this.objectErrors.keys()]) if (!seen.has(k)) this.objectErrors.delete(k);
    this.cache = next;
    this.rv = rv;
    this.standIn = false;
    this.synced = true;
    this.o.onSynced(true);
    this.o.onChange();
  }

  /** undefined: drop the object; 'keep': invalid, keep the last good version. */
  private convertOne(key: string, raw: RawObject): { value: T } | 'keep' | undefined {
    const c = this.o.convert(raw);
    if ('error' in c) {
      if (this.objectErrors.get(key) !== c.error) {
        this.objectErrors.set(key, c.error);
        const kept = this.cache.has(key) ? ' (its last valid version stays in use)' : '';
        this.o.onError(new Error(`${c.error}; object skipped${kept}`));
      }
      return 'keep';
    }
    this.objectErrors.delete(key);
    if ('value' in c && c.warnings !== undefined && c.warnings.length > 0) {
      const text = c.warnings.join('; ');
      if (this.objectWarnings.get(key) !== text) {
        this.objectWarnings.set(key, text);
        this.o.log.warn({ object: key, warnings: c.warnings }, 'configuration field accepted without effect');
      }
    }
    return 'value' in c ? { value: c.value } : undefined;
  }

  private watch(): Promise<void> {
    this.stats.watches++;
    const path = this.url({
      watch: '1',
      resourceVersion: this.rv,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.timing.watchTimeoutSeconds),
    });
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        this.current = undefined;
        if (err === undefined || this.stopped) resolve();
        else reject(err);
      };
      this.o.client.stream(path, {
        onLine: (line) => {
          if (done) return;
          const err = this.event(line);
          if (err !== undefined) { this.current?.close(); finish(err); }
        },
        onEnd: (err) => finish(err),
      }, this.timing.idleTimeoutMs).then((s) => {
        if (done || this.stopped) s.close();
        else this.current = s;
        if (this.stopped) finish();
      }, (e: unknown) => {
        finish(e instanceof KubeHttpError && e.status === 410 ? new GoneError(e.message) : e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  /** Applies one watch event; returns an error that ends this watch. */
  private event(line: string): Error | undefined {
    let ev: unknown;
    try { ev = JSON.parse(line); } catch { return new Error(`watch sent a line that is not JSON: ${line.slice(0, 80)}`); }
    if (!isObj(ev) || !isObj(ev['object'])) return new Error('watch sent an event without an object');
    const type = str(ev['type']);
    const obj = ev['object'];
    if (type === 'ERROR') {
      // A Status object; 410 means our resourceVersion is older than the server's history.
      const code = obj['code'];
      if (code === 410) return new GoneError(str(obj['message']));
      return new Error(`watch error: ${str(obj['message']) || JSON.stringify(obj)}`);
    }
    const rv = str(metaOf(obj)['resourceVersion']);
    if (type === 'BOOKMARK') {
      // Only moves the resume point forward: a reconnect after a quiet period stays inside
      // the server's history instead of ending in 410 and a full relist.
      this.stats.bookmarks++;
      if (rv !== '') this.rv = rv;
      return undefined;
    }
    this.stats.events++;
    const key = keyOf(obj);
    if (type === 'ADDED' || type === 'MODIFIED') {
      const v = this.convertOne(key, obj);
      if (v === undefined) {
        if (this.cache.delete(key)) this.o.onChange();
      } else if (v !== 'keep') {
        this.cache.set(key, v.value);
        this.o.onChange();
      }
    } else if (type === 'DELETED') {
      this.objectErrors.delete(key);
      if (this.cache.delete(key)) this.o.onChange();
    } else {
      return new Error(`watch sent an unknown event type "${type}"`);
    }
    if (rv !== '') this.rv = rv;
    return undefined;
  }
}

function reasonOf(body: unknown): string {
  if (isObj(body) && typeof body['message'] === 'string') return body['message'];
  return typeof body === 'string' ? body.slice(0, 200) : '';
}
