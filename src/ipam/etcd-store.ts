// IPAM objects in etcd where libcalico-go's etcdv3 backend keeps them (blocks under
// /calico/ipam/v2/assignment/, affinities under /calico/ipam/v2/host/<node>/, handles under
// /calico/ipam/v2/handle/), so Kite and calico-ipam share them. Compare-and-swap is an etcd
// transaction comparing the key's mod_revision (create: create_revision 0), the etcd form of
// resourceVersion; deletion is a conditional delete in one transaction, no marking needed.
// No labels here: Calico 3.30+'s BlockAffinity labels belong to its Kubernetes backend; the
// etcdv3 backend stores model.BlockAffinity ({state, deleted}) under a key that already names
// the affinity type, the host and the IP version (/calico/ipam/v2/host/<node>/ipv4/block/...),
// and lists a host's affinities by that key prefix.
import type { Etcd3, IKeyValue } from 'etcd3';
import { affinityKey, AFFINITIES_PREFIX, BLOCKS_PREFIX, blockKey, handleKey, HANDLES_PREFIX, parseKey } from '../datastore/etcd/keys.js';
import { prefixEnd } from '../datastore/etcd/reflector.js';
import { parseJson, stringifyJson } from './json.js';
import { affinityName, blockName, handleName } from './names.js';
import { fromRawSpec, toRawSpec, type AffinitySpec, type BlockSpec, type HandleSpec, type IpamKind, type SpecOf } from './objects.js';
import { StoreError, type IpamStore, type Stored } from './store.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const PREFIX: Readonly<Record<IpamKind, string>> = { BlockAffinity: AFFINITIES_PREFIX, IPAMBlock: BLOCKS_PREFIX, IPAMHandle: HANDLES_PREFIX };

export class EtcdStore implements IpamStore {
  /** Object name (Calico's Kubernetes name, which the allocator uses) → etcd key, as seen. */
  private readonly keys = new Map<string, string>();

  constructor(private readonly client: Etcd3) {}

  /** The key for a spec about to be written. */
  private keyOfSpec<K extends IpamKind>(kind: K, spec: SpecOf[K]): string {
    if (kind === 'IPAMBlock') return blockKey((spec as BlockSpec).cidr);
    if (kind === 'BlockAffinity') { const a = spec as AffinitySpec; return affinityKey(a.node, a.cidr); }
    return handleKey((spec as HandleSpec).handleID);
  }

  /** The key for a name: remembered, or derived (blocks, handles), or found by listing (affinities). */
  private async keyOfName(kind: IpamKind, name: string): Promise<string | undefined> {
    const known = this.keys.get(`${kind}/${name}`);
    if (known !== undefined) return known;
    if (kind === 'IPAMHandle') return handleKey(name);
    if (kind === 'IPAMBlock') {
      // IPv4 "10-0-0-0-26"; IPv6 "fd00-1---122" (":" and "/" both became "-": the last one is "/").
      const i = name.lastIndexOf('-');
      const addr = name.slice(0, i);
      const text = /^\d+-\d+-\d+-\d+$/.test(addr) ? addr.replaceAll('-', '.') : addr.replaceAll('-', ':');
      try { return blockKey(`${text}/${name.slice(i + 1)}`); } catch { return undefined; }
    }
    await this.list(kind);
    return this.keys.get(`${kind}/${name}`);
  }

  private decode<K extends IpamKind>(kind: K, kv: IKeyValue): Stored<K> {
    const key = kv.key.toString();
    const k = parseKey(key);
    const raw: unknown = parseJson(kv.value.toString());
    const v: Obj = isObj(raw) ? { ...raw } : {};
    let name: string;
    if (kind === 'BlockAffinity' && k?.type === 'affinity') {
      Object.assign(v, { node: k.host, cidr: k.cidr });
      name = affinityName(k.host, k.cidr);
    } else if (kind === 'IPAMHandle' && k?.type === 'handle') {
      v['handleID'] = k.handleID;
      name = handleName(k.handleID);
    } else if (kind === 'IPAMBlock' && k?.type === 'block') {
      name = blockName(k.cidr);
    } else {
      throw new Error(`${key}: not a ${kind} key`);
    }
    if (v['deleted'] === undefined) v['deleted'] = false;
    this.keys.set(`${kind}/${name}`, key);
    return { name, spec: fromRawSpec(kind, name, v), revision: kv.mod_revision };
  }

  /** The value libcalico-go stores: the model's JSON without what the key already says. */
  private encode<K extends IpamKind>(kind: K, spec: SpecOf[K]): Buffer {
    const raw = toRawSpec(kind, spec, false);
    if (kind === 'BlockAffinity') return Buffer.from(stringifyJson({ state: raw['state'], deleted: raw['deleted'] }));
    if (kind === 'IPAMHandle') return Buffer.from(stringifyJson({ block: raw['block'], deleted: raw['deleted'] }));
    return Buffer.from(stringifyJson(raw));
  }

  async get<K extends IpamKind>(kind: K, name: string): Promise<Stored<K> | undefined> {
    const key = await this.keyOfName(kind, name);
    if (key === undefined) return undefined;
    const res = await this.client.kv.range({ key: Buffer.from(key) });
    const kv = res.kvs[0];
    return kv === undefined ? undefined : this.decode(kind, kv);
  }

  async list<K extends IpamKind>(kind: K): Promise<Stored<K>[]> {
    const out: Stored<K>[] = [];
    const end = prefixEnd(PREFIX[kind]);
    let key = Buffer.from(PREFIX[kind]);
    let rev = '0';
    for (;;) {
      const res = await this.client.kv.range({ key, range_end: end, limit: 1000, revision: rev });
      if (rev === '0') rev = res.header.revision;
      for (const kv of res.kvs) if (parseKey(kv.key.toString()) !== undefined) out.push(this.decode(kind, kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) break;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async create<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K]): Promise<Stored<K>> {
    const key = Buffer.from(this.keyOfSpec(kind, spec));
    const t = await this.client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: this.encode(kind, spec) } }],
      failure: [],
    });
    if (!t.succeeded) throw new StoreError('exists', kind, name);
    this.keys.set(`${kind}/${name}`, key.toString());
    return { name, spec: structuredClone(spec), revision: t.header.revision };
  }

  /** Why a conditional write failed: gone, or moved on. */
  private async failure(kind: IpamKind, name: string, key: Buffer, revision: string): Promise<never> {
    const cur = (await this.client.kv.range({ key })).kvs[0];
    if (cur === undefined) throw new StoreError('notFound', kind, name);
    throw new StoreError('conflict', kind, name, `read at ${revision}, now at ${cur.mod_revision}`);
  }

  async update<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision: string): Promise<Stored<K>> {
    const key = Buffer.from(this.keyOfSpec(kind, spec));
    const t = await this.client.kv.txn({
      compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: revision }],
      success: [{ request_put: { key, value: this.encode(kind, spec) } }],
      failure: [],
    });
    if (!t.succeeded) return this.failure(kind, name, key, revision);
    return { name, spec: structuredClone(spec), revision: t.header.revision };
  }

  async delete(kind: IpamKind, name: string, revision: string): Promise<void> {
    const k = await this.keyOfName(kind, name);
    if (k === undefined) throw new StoreError('notFound', kind, name);
    const key = Buffer.from(k);
    const t = await this.client.kv.txn({
      compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: revision }],
      success: [{ request_delete_range: { key } }],
      failure: [],
    });
    if (!t.succeeded) await this.failure(kind, name, key, revision);
  }
}
