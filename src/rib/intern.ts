// Interning of path attribute sets (BIRD's rta cache), owned by the table: equal sets share one
// frozen PathAttrs and id, so a million routes with a few distinct sets cost a few objects. Also a
// raw-bytes cache so a repeated attribute section is not decoded again (the UPDATE hot path; the
// decoder reaches it through wire's AttrInterner). Reference counts let the RIB free sets.
import { encodeAttrs } from '../bgp/wire/attributes/table.js';
import type { AttrInterner, PathAttrsInput, RawEntry } from '../bgp/wire/interning.js';
import type { PathAttrs } from '../bgp/wire/types.js';
import { BufWriter } from '../bgp/wire/writer.js';

export type { PathAttrsInput, RawEntry };

interface Entry { attrs: PathAttrs; refs: number; key: string; rawKeys: string[] }

/** Raw cache entries kept before the cache is flushed (it is only an accelerator). */
const RAW_LIMIT = 100_000;
const CANONICAL = { fourOctetAs: true, ibgp: true, nextHop: false } as const;

export class Interner implements AttrInterner {
  private readonly byKey = new Map<string, Entry>();
  private readonly byId = new Map<number, Entry>();
  private readonly raw = new Map<string, RawEntry>();
  private w: BufWriter | null = null; // allocated on first use: many Interners are short-lived in tests
  private nextId = 1;

  /** Number of distinct attribute sets held. */
  get size(): number { return this.byId.size; }

  /** Intern a locally built or decoded set: keyed by its canonical encoding plus next hop. */
  internAttrs(input: PathAttrsInput): PathAttrs {
    const attrs = normalize(input, 0);
    const key = this.canonicalKey(attrs);
    const hit = this.byKey.get(key);
    if (hit) return hit.attrs;
    const id = this.nextId++;
    const frozen = deepFreeze(normalize(attrs, id));
    const e: Entry = { attrs: frozen, refs: 0, key, rawKeys: [] };
    this.byKey.set(key, e);
    this.byId.set(id, e);
    return frozen;
  }
  intern(input: PathAttrsInput): PathAttrs { return this.internAttrs(input); }

  /** The set with this id. Throws when it was released (a RIB bug, not a wire condition). */
  get(id: number): PathAttrs {
    const e = this.byId.get(id);
    if (!e) throw new Error(`no interned attribute set ${id}`);
    return e.attrs;
  }
  has(id: number): boolean { return this.byId.has(id); }

  /** The RIB holds one more route with these attributes. */
  ref(a: PathAttrs | number): void {
    const e = this.byId.get(typeof a === 'number' ? a : a.id);
    if (!e) throw new Error(`ref of released attribute set ${typeof a === 'number' ? a : a.id}`);
    e.refs++;
  }
  /** One route fewer; at zero the set is released (and its raw cache keys with it). */
  unref(a: PathAttrs | number): void {
    const e = this.byId.get(typeof a === 'number' ? a : a.id);
    if (!e) return;
    if (--e.refs <= 0) this.drop(e);
  }
  refCount(id: number): number { return this.byId.get(id)?.refs ?? 0; }

  /** Release every set no route references (decoded but never stored, e.g. filtered). Returns how many. */
  sweep(): number {
    let n = 0;
    for (const e of this.byId.values()) if (e.refs <= 0) { this.drop(e); n++; }
    return n;
  }

  /** Decoder cache: raw attribute section bytes (with session flags) → decoded result. */
  rawGet(key: string): RawEntry | undefined { return this.raw.get(key); }
  rawSet(key: string, entry: RawEntry): void {
    if (this.raw.size >= RAW_LIMIT) {
      this.raw.clear();
      for (const e of this.byId.values()) e.rawKeys.length = 0;
    }
    this.raw.set(key, entry);
    if (entry.attrs) this.byId.get(entry.attrs.id)?.rawKeys.push(key);
  }

  private drop(e: Entry): void {
    this.byKey.delete(e.key);
    this.byId.delete(e.attrs.id);
    for (const k of e.rawKeys) this.raw.delete(k);
  }

  private canonicalKey(a: PathAttrs): string {
    // Attributes fit one extended message (RFC 8654), so 64 KiB holds any set a peer can send.
    const w = (this.w ??= new BufWriter(65536));
    w.reset();
    encodeAttrs(a, w, CANONICAL);
    const flags = a.unknown.map((u) => String.fromCharCode(u.flags)).join('');
    return `${w.buf.toString('latin1', 0, w.pos)}\n${flags}\n${a.nextHop}\n${a.nextHopLinkLocal ?? ''}\n${a.kernelPriority ?? ''}`;
  }
}

/** A fresh object with only defined fields, copied arrays, and empty lists treated as absent. */
function normalize(a: PathAttrsInput, id: number): PathAttrs {
  const o: { -readonly [K in keyof PathAttrs]: PathAttrs[K] } = {
    id,
    origin: a.origin,
    asPath: a.asPath.map((s) => ({ type: s.type, asns: s.asns.slice() })),
    nextHop: a.nextHop,
    atomicAggregate: a.atomicAggregate,
    unknown: a.unknown.map((u) => ({ flags: u.flags, code: u.code, value: u.value })),
  };
  if (a.nextHopLinkLocal !== undefined) o.nextHopLinkLocal = a.nextHopLinkLocal;
  if (a.med !== undefined) o.med = a.med;
  if (a.localPref !== undefined) o.localPref = a.localPref;
  if (a.aggregator !== undefined) o.aggregator = { asn: a.aggregator.asn, address: a.aggregator.address };
  if (a.communities?.length) o.communities = a.communities.slice();
  if (a.extCommunities?.length) o.extCommunities = a.extCommunities.slice();
  if (a.largeCommunities?.length) o.largeCommunities = a.largeCommunities.map((c) => [c[0], c[1], c[2]] as const);
  if (a.originatorId !== undefined) o.originatorId = a.originatorId;
  if (a.clusterList?.length) o.clusterList = a.clusterList.slice();
  if (a.kernelPriority !== undefined) o.kernelPriority = a.kernelPriority;
  return o;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !Object.isFrozen(v)) {
    for (const x of Object.values(v as object)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
