// One list+watch loop over an etcd key prefix, the etcd twin of kubernetes/reflector.ts: list
// every key at one revision (paged), watch from revision+1; a watch the client reconnects resumes
// where it was; a compacted revision (ErrCompacted, the 410 Gone of etcd) relists and swaps the
// cache in one step, so readers never see it empty and nothing flaps.
import type { Logger } from 'pino';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { EtcdClientHooks } from './client.js';
import type { Converted } from '../kubernetes/reflector.js';

export interface EtcdReflectorOptions<T> {
  client: Etcd3;
  /**
   * A fresh client for each watch, closed when that watch ends. The etcd3 client multiplexes its
   * watches on one stream and, after a watch is cancelled at creation (a compacted revision), stops
   * attaching further watches to that stream; a client per watch keeps one cancellation from
   * stalling the next watch. Default: `client` for every watch. The hooks tell the reflector which
   * member its watch streams from.
   */
  watchClient?: (hooks: EtcdClientHooks) => Etcd3;
  prefix: string;
  convert(key: string, value: string): Converted<T>;
  onChange(): void;
  /** false when a relist starts, true when its result has been swapped in. */
  onSynced(synced: boolean): void;
  onError(e: Error): void;
  log: Logger;
  /** Retry delays after failures, the last one repeating. */
  backoffMs?: readonly number[];
  /** Keys per range request while listing. Default 1000. */
  pageSize?: number;
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) { const out = Buffer.from(b.subarray(0, i + 1)); out[i] = (b[i] as number) + 1; return out; }
  }
  return Buffer.from([0]);
}

/** etcd cancels a watch whose start revision was compacted (the reason may be empty, compact_revision set). */
const isCompacted = (e: unknown): boolean => /compacted|Watcher canceled:\s*$/i.test(e instanceof Error ? e.message : String(e));

export class EtcdReflector<T> {
  /** Converted objects by key. */
  items = new Map<string, T>();
  synced = false;
  /** lists: (re)lists done; watches: watch streams started (the first and every reconnect); compactions seen. */
  readonly stats = { lists: 0, watches: 0, compactions: 0 };
  /** The revision the cache reflects. */
  revision = 0;
  /** The member the watch streams from (gRPC's peer address), when the watch has its own client. */
  peer: string | undefined;
  private stopped = false;
  private watcher: Watcher | undefined;
  private wake: (() => void) | undefined;
  private readonly errors = new Map<string, string>();

  constructor(private readonly o: EtcdReflectorOptions<T>) {}

  get prefix(): string { return this.o.prefix; }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    void this.watcher?.cancel().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const backoff = this.o.backoffMs ?? [250, 500, 1000, 2000];
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.list();
        failures = 0;
        if (this.stopped) return;
        await this.watch();
        // The watch ended for a reason only a relist mends (compaction, cancellation).
      } catch (e) {
        if (this.stopped) return;
        this.o.onError(new Error(`etcd ${this.o.prefix}: ${(e as Error).message}; retrying`));
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, backoff[Math.min(failures++, backoff.length - 1)] ?? 1000);
        });
      }
      if (this.synced && !this.stopped) { this.synced = false; this.o.onSynced(false); }
    }
  }

  private convert(kv: IKeyValue, into: Map<string, T>): void {
    const key = kv.key.toString();
    const r = this.o.convert(key, kv.value.toString());
    if ('value' in r) { into.set(key, r.value); this.errors.delete(key); return; }
    if ('absent' in r) { into.delete(key); return; }
    // Invalid: keep the last good version (as the Kubernetes reflector does); say so once per text.
    if (this.errors.get(key) !== r.error) { this.errors.set(key, r.error); this.o.onError(new Error(`${key}: ${r.error}`)); }
  }

  /** Pages through the prefix at one revision; swaps the result in at the end. */
  private async list(): Promise<void> {
    const end = prefixEnd(this.o.prefix);
    let key = Buffer.from(this.o.prefix);
    let rev = '0';
    const fresh = new Map<string, T>();
    for (const [k, v] of this.items) if (this.errors.has(k)) fresh.set(k, v);
    for (;;) {
      const res = await this.o.client.kv.range({ key, range_end: end, limit: this.o.pageSize ?? 1000, revision: rev });
      if (rev === '0') rev = res.header.revision;
      for (const kv of res.kvs) this.convert(kv, fresh);
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) break;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
    if (this.stopped) return;
    this.stats.lists++;
    this.revision = Number(rev);
    this.items = fresh;
    this.synced = true;
    this.o.onChange();
    this.o.onSynced(true);
  }

  /** Resolves when the watch has to be replaced by a relist; the client reconnects it otherwise. */
  private watch(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const own = this.o.watchClient?.({
        onStreamPeer: (peer) => {
          if (peer !== this.peer) this.o.log.info({ prefix: this.o.prefix, member: peer }, 'etcd watch streaming from this member');
          this.peer = peer;
        },
      });
      const w = (own ?? this.o.client).watch().prefix(this.o.prefix).startRevision(String(this.revision + 1)).watcher();
      this.watcher = w;
      let done = false;
      const finish = (e?: Error): void => {
        if (done) return;
        done = true;
        w.removeAllListeners();
        w.on('error', () => undefined);
        // A cancel the stalled stream never answers must not keep the client open.
        const cancelled = Promise.race([w.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
        void cancelled.then(() => own?.close());
        if (this.watcher === w) this.watcher = undefined;
        this.wake = undefined;
        if (e === undefined) resolve(); else reject(e);
      };
      this.wake = () => finish();
      w.on('connected', () => { this.stats.watches++; });
      // A member down, a cut connection, or (require-leader) a member that lost the quorum: the
      // client reconnects to a member, resuming after the last revision seen; no relist.
      w.on('disconnected', (e: Error) => { this.o.log.info({ prefix: this.o.prefix, member: this.peer, err: e.message }, 'etcd watch disconnected; the client reconnects it'); });
      w.on('data', (res: { events: { type: string; kv: IKeyValue }[]; header: { revision: string } }) => {
        let changed = false;
        for (const ev of res.events) {
          const key = ev.kv.key.toString();
          if (String(ev.type).toLowerCase() === 'delete') {
            changed = this.items.delete(key) || changed;
            this.errors.delete(key);
          } else {
            this.convert(ev.kv, this.items);
            changed = true;
          }
        }
        this.revision = Math.max(this.revision, Number(res.header.revision));
        if (changed) this.o.onChange();
      });
      w.on('error', (e: Error) => {
        if (isCompacted(e)) {
          this.stats.compactions++;
          this.o.log.info({ prefix: this.o.prefix, revision: this.revision }, 'etcd revision compacted: relisting');
          finish();
        } else finish(e);
      });
      w.on('end', () => finish());
    });
  }
}
