// The storage the allocator needs: get/list plus compare-and-swap writes on the three IPAM
// kinds. Every write names the revision it read, and a write against a newer revision fails
// with a conflict, which is how two allocators (in one process, two processes, or Kite and
// Calico's CNI plugin on different nodes) never both take one block or one address.
import type { IpamKind, SpecOf } from './objects.js';

export interface Stored<K extends IpamKind> {
  name: string;
  spec: SpecOf[K];
  /** Opaque version of this object (a Kubernetes resourceVersion, or a counter in the file). */
  revision: string;
}

export const StoreErrorCode = {
  /** create: the name is taken. */
  Exists: 'exists',
  /** update/delete: the object changed since `revision` was read. */
  Conflict: 'conflict',
  /** update/delete: the object is gone. */
  NotFound: 'notFound',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(readonly code: StoreErrorCode, readonly kind: IpamKind, readonly objectName: string, detail = '') {
    super(`${kind} "${objectName}": ${code === 'exists' ? 'already exists' : code === 'conflict' ? 'changed since it was read (conflict)' : 'not found'}${detail !== '' ? `: ${detail}` : ''}`);
  }
}

export const isStoreError = (e: unknown, code?: StoreErrorCode): e is StoreError =>
  e instanceof StoreError && (code === undefined || e.code === code);

export interface IpamStore {
  get<K extends IpamKind>(kind: K, name: string): Promise<Stored<K> | undefined>;
  list<K extends IpamKind>(kind: K): Promise<Stored<K>[]>;
  /** Fails with StoreError 'exists' when the name is taken. */
  create<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K]): Promise<Stored<K>>;
  /** Fails with 'conflict' when the object is no longer at `revision`, 'notFound' when gone. */
  update<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision: string): Promise<Stored<K>>;
  /** Fails with 'conflict' when the object is no longer at `revision`, 'notFound' when gone. */
  delete(kind: IpamKind, name: string, revision: string): Promise<void>;
}

/** The in-memory table both the memory store and the file store operate on. */
export interface StoreTable {
  revision: number;
  objects: Map<string, { kind: IpamKind; name: string; spec: unknown; revision: string }>;
}

const keyOf = (kind: IpamKind, name: string): string => `${kind}/${name}`;

/**
 * One operation applied to a table, atomically (the caller holds whatever lock protects it).
 * Returns the result and whether the table changed.
 */
export const tableOps = {
  get<K extends IpamKind>(t: StoreTable, kind: K, name: string): Stored<K> | undefined {
    const o = t.objects.get(keyOf(kind, name));
    return o === undefined ? undefined : { name, spec: structuredClone(o.spec) as SpecOf[K], revision: o.revision };
  },
  list<K extends IpamKind>(t: StoreTable, kind: K): Stored<K>[] {
    const out: Stored<K>[] = [];
    for (const o of t.objects.values()) {
      if (o.kind === kind) out.push({ name: o.name, spec: structuredClone(o.spec) as SpecOf[K], revision: o.revision });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  },
  create<K extends IpamKind>(t: StoreTable, kind: K, name: string, spec: SpecOf[K]): Stored<K> {
    if (t.objects.has(keyOf(kind, name))) throw new StoreError('exists', kind, name);
    const revision = String(++t.revision);
    t.objects.set(keyOf(kind, name), { kind, name, spec: structuredClone(spec), revision });
    return { name, spec: structuredClone(spec), revision };
  },
  update<K extends IpamKind>(t: StoreTable, kind: K, name: string, spec: SpecOf[K], revision: string): Stored<K> {
    const o = t.objects.get(keyOf(kind, name));
    if (o === undefined) throw new StoreError('notFound', kind, name);
    if (o.revision !== revision) throw new StoreError('conflict', kind, name, `read at ${revision}, now at ${o.revision}`);
    const next = String(++t.revision);
    t.objects.set(keyOf(kind, name), { kind, name, spec: structuredClone(spec), revision: next });
    return { name, spec: structuredClone(spec), revision: next };
  },
  delete(t: StoreTable, kind: IpamKind, name: string, revision: string): void {
    const o = t.objects.get(keyOf(kind, name));
    if (o === undefined) throw new StoreError('notFound', kind, name);
    if (o.revision !== revision) throw new StoreError('conflict', kind, name, `read at ${revision}, now at ${o.revision}`);
    t.objects.delete(keyOf(kind, name));
    t.revision++;
  },
};

export interface MemoryStoreOptions {
  /**
   * Awaited before every operation. Tests pass a random short delay so concurrent allocators
   * interleave between their reads and their writes, where races happen.
   */
  beforeOp?: () => Promise<void>;
}

/** A store in memory: for tests, and for a single process that needs no persistence. */
export class MemoryStore implements IpamStore {
  readonly table: StoreTable = { revision: 0, objects: new Map() };
  /** Counts of each operation, for tests (how many conflicts were retried…). */
  readonly ops = { get: 0, list: 0, create: 0, update: 0, delete: 0 };
  constructor(private readonly opts: MemoryStoreOptions = {}) {}

  private async pause(): Promise<void> {
    if (this.opts.beforeOp !== undefined) await this.opts.beforeOp();
  }
  async get<K extends IpamKind>(kind: K, name: string): Promise<Stored<K> | undefined> {
    await this.pause();
    this.ops.get++;
    return tableOps.get(this.table, kind, name);
  }
  async list<K extends IpamKind>(kind: K): Promise<Stored<K>[]> {
    await this.pause();
    this.ops.list++;
    return tableOps.list(this.table, kind);
  }
  async create<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K]): Promise<Stored<K>> {
    await this.pause();
    this.ops.create++;
    return tableOps.create(this.table, kind, name, spec);
  }
  async update<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision: string): Promise<Stored<K>> {
    await this.pause();
    this.ops.update++;
    return tableOps.update(this.table, kind, name, spec, revision);
  }
  async delete(kind: IpamKind, name: string, revision: string): Promise<void> {
    await this.pause();
    this.ops.delete++;
    tableOps.delete(this.table, kind, name, revision);
  }
}
