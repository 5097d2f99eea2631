// IPAM state in a file, for clusters without Kubernetes: one JSON document holding the objects
// in Calico's CRD shapes, guarded by a lock file created with O_CREAT|O_EXCL ('wx'), so any
// number of processes on the host can share it. Each operation is lock → read → change →
// write a temporary file → rename (atomic on POSIX) → unlock; the allocator's compare-and-swap
// protocol on top is the same as against Kubernetes.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseJson, stringifyJson } from './json.js';
import { affinityLabels } from './names.js';
import { fromRawSpec, IpamKind, toRawSpec, type AffinitySpec, type SpecOf } from './objects.js';
import { tableOps, type IpamStore, type Stored, type StoreTable } from './store.js';

export const STATE_FILE = 'ipam-state.json';
export const LOCK_FILE = 'ipam-state.lock';
const STATE_KIND = 'KiteIPAMState';
const API_VERSION = 'crd.projectcalico.org/v1';

export interface FileStoreOptions {
  /** Give up waiting for the lock after this long (default 15 s). */
  lockTimeoutMs?: number;
  /**
   * A lock whose holder cannot be checked (another host or PID namespace, or no content) is
   * taken as abandoned after this long (default 30 s; an operation holds it for milliseconds).
   */
  staleLockMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** True when the process is certainly gone (kill(pid, 0) → ESRCH). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return errno(e) === 'ESRCH';
  }
}

interface LockHolder { host: string; pid: number; token: string }

function parseHolder(text: string): LockHolder | undefined {
  const [host, pidText, token] = text.trim().split(' ');
  const pid = Number(pidText);
  if (host === undefined || token === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
  return { host, pid, token };
}

export class FileLock {
  constructor(readonly path: string, private readonly timeoutMs: number, private readonly staleMs: number) {}

  /** Waits for the lock; resolves with the release function. */
  async acquire(): Promise<() => Promise<void>> {
    const content = `${hostname()} ${process.pid} ${randomUUID()}\n`;
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await open(this.path, 'wx', 0o644);
        try { await fh.writeFile(content); } finally { await fh.close(); }
        return async () => {
          // Remove only our own lock: if it was (wrongly) broken, the new one is someone else's.
          try { if ((await readFile(this.path, 'utf8')) === content) await unlink(this.path); } catch { /* gone */ }
        };
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
      }
      const holder = await this.breakIfStale();
      if (Date.now() > deadline) {
        throw new Error(`IPAM state lock ${this.path} still held${holder !== undefined ? ` by pid ${holder.pid} on ${holder.host}` : ''} after ${this.timeoutMs} ms; remove it if that process is gone`);
      }
      await sleep(1 + Math.random() * Math.min(20, 2 + attempt));
    }
  }

  /** Removes the lock when its holder is provably dead, or unverifiable and old. Returns the holder. */
  private async breakIfStale(): Promise<LockHolder | undefined> {
    let text: string;
    let age: number;
    try {
      text = await readFile(this.path, 'utf8');
      age = Date.now() - (await stat(this.path)).mtimeMs;
    } catch {
      return undefined;
    }
    const holder = parseHolder(text);
    const stale = holder !== undefined && holder.host === hostname() ? processGone(holder.pid) : age > this.staleMs;
    if (!stale) return holder;
    // Two waiters may judge the same lock stale: only the one holding the breaker may remove
    // it, and only if it still is the lock that was judged (not a fresh one taken meanwhile).
    const breaker = `${this.path}.break`;
    try {
      const fh = await open(breaker, 'wx');
      await fh.close();
    } catch (e) {
      if (errno(e) === 'EEXIST') {
        // A breaker left by a process killed mid-break would block everyone; it lives milliseconds.
        try { if (Date.now() - (await stat(breaker)).mtimeMs > 5000) await unlink(breaker); } catch { /* gone */ }
      }
      return holder;
    }
    try {
      if ((await readFile(this.path, 'utf8')) === text) await unlink(this.path);
    } catch { /* already gone */ } finally {
      await unlink(breaker).catch(() => undefined);
    }
    return holder;
  }
}

interface StateDoc {
  kind: string;
  revision: number;
  objects: { apiVersion: string; kind: IpamKind; metadata: { name: string; resourceVersion: string; labels?: Record<string, string> }; spec: unknown }[];
}

export class FileStore implements IpamStore {
  readonly statePath: string;
  readonly lock: FileLock;

  constructor(readonly dir: string, opts: FileStoreOptions = {}) {
    this.statePath = join(dir, STATE_FILE);
    this.lock = new FileLock(join(dir, LOCK_FILE), opts.lockTimeoutMs ?? 15_000, opts.staleLockMs ?? 30_000);
  }

  private async read(): Promise<StoreTable> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (e) {
      if (errno(e) === 'ENOENT') return { revision: 0, objects: new Map() };
      throw e;
    }
    const doc = parseJson(text) as Partial<StateDoc> | null;
    if (doc === null || typeof doc !== 'object' || doc.kind !== STATE_KIND || !Array.isArray(doc.objects)) {
      throw new Error(`${this.statePath} is not a Kite IPAM state file (expected {"kind": "${STATE_KIND}", "objects": [...]})`);
    }
    const t: StoreTable = { revision: Number(doc.revision ?? 0), objects: new Map() };
    for (const o of doc.objects) {
      if (!Object.values(IpamKind).includes(o.kind)) throw new Error(`${this.statePath}: unknown kind ${JSON.stringify(o.kind)}`);
      const name = o.metadata.name;
      t.objects.set(`${o.kind}/${name}`, { kind: o.kind, name, spec: fromRawSpec(o.kind, name, o.spec), revision: o.metadata.resourceVersion });
    }
    return t;
  }

  private async write(t: StoreTable): Promise<void> {
    const doc: StateDoc = {
      kind: STATE_KIND,
      revision: t.revision,
      objects: [...t.objects.values()]
        .sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1))
        .map((o) => ({
          // BlockAffinities carry Calico 3.30+'s labels, so the objects are what Calico would write.
          apiVersion: API_VERSION, kind: o.kind, metadata: { name: o.name, resourceVersion: o.revision,
            ...(o.kind === 'BlockAffinity' ? { labels: affinityLabels((o.spec as AffinitySpec).node, (o.spec as AffinitySpec).cidr) } : {}) },
          spec: toRawSpec(o.kind, o.spec as SpecOf[typeof o.kind]),
        })),
    };
    const tmp = `${this.statePath}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, stringifyJson(doc, 1) + '\n');
    await rename(tmp, this.statePath);
  }

  /** Runs one operation under the lock; writes the file back when it changed the table. */
  private async locked<T>(fn: (t: StoreTable) => T): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    const release = await this.lock.acquire();
    try {
      const t = await this.read();
      const result = fn(t);
      await this.write(t);
      return result;
    } finally {
      await release();
    }
  }

  // Reads take no lock: the file is only ever replaced whole by rename, so a reader sees one
  // complete version; a stale read is caught by the revision check of the write that follows.
  async get<K extends IpamKind>(kind: K, name: string): Promise<Stored<K> | undefined> {
    return tableOps.get(await this.read(), kind, name);
  }
  async list<K extends IpamKind>(kind: K): Promise<Stored<K>[]> {
    return tableOps.list(await this.read(), kind);
  }
  create<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K]): Promise<Stored<K>> {
    return this.locked((t) => tableOps.create(t, kind, name, spec));
  }
  update<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision: string): Promise<Stored<K>> {
    return this.locked((t) => tableOps.update(t, kind, name, spec, revision));
  }
  delete(kind: IpamKind, name: string, revision: string): Promise<void> {
    return this.locked((t) => tableOps.delete(t, kind, name, revision));
  }
}
