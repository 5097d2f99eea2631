// The three objects calico-ipam keeps, in its own JSON field names (libcalico-go apis/v3
// ipam types, stored as crd.projectcalico.org/v1 CRDs): BlockAffinity (a node's claim on a
// block), IPAMBlock (who holds each address of the block) and IPAMHandle (which blocks hold a
// handle's addresses). Conversion to and from the CRD spec JSON checks what is read.
import { bitsOf, parsePrefix } from '../net/index.js';
import { AffinityState } from '../datastore/resources.js';

export const IpamKind = { BlockAffinity: 'BlockAffinity', IPAMBlock: 'IPAMBlock', IPAMHandle: 'IPAMHandle' } as const;
export type IpamKind = (typeof IpamKind)[keyof typeof IpamKind];

/** Kubernetes resource (plural) names of the kinds. */
export const PLURAL: Readonly<Record<IpamKind, string>> = {
  BlockAffinity: 'blockaffinities', IPAMBlock: 'ipamblocks', IPAMHandle: 'ipamhandles',
};

export interface AffinitySpec {
  node: string;
  cidr: string;
  state: AffinityState;
  /** Set just before deletion: the API has no compare-and-delete, so Calico marks, then deletes. */
  deleted: boolean;
}

export interface BlockAttribute {
  handle_id?: string;
  secondary?: Record<string, string>;
}

export interface BlockSpec {
  cidr: string;
  /** "host:<node>", or null when no node holds the block (addresses still in use). */
  affinity: string | null;
  /** RFC 3339; when the affinity was claimed (Calico reclaims empty blocks only after a minute). */
  affinityClaimTime?: string;
  strictAffinity: boolean;
  /** One entry per address: an index into attributes, or null when free. */
  allocations: (number | null)[];
  /** Free address ordinals, in the order they will be handed out. */
  unallocated: number[];
  attributes: BlockAttribute[];
  /** Bumped on every write; a uint64, hence bigint. */
  sequenceNumber: bigint;
  /** Ordinal (decimal text) → the block's sequenceNumber when that address was assigned. */
  sequenceNumberForAllocation: Record<string, bigint>;
  deleted: boolean;
}

export interface HandleSpec {
  handleID: string;
  /** Block CIDR → number of this handle's addresses in it. */
  block: Record<string, number>;
  deleted: boolean;
}

export interface SpecOf {
  BlockAffinity: AffinitySpec;
  IPAMBlock: BlockSpec;
  IPAMHandle: HandleSpec;
}

export type RawSpec = Record<string, unknown>;
const isObj = (v: unknown): v is RawSpec => typeof v === 'object' && v !== null && !Array.isArray(v);

export class MalformedObjectError extends Error {
  override readonly name = 'MalformedObjectError';
  constructor(kind: IpamKind, name: string, reason: string) {
    super(`${kind} "${name}": ${reason}`);
  }
}

/**
 * The spec as Calico writes it. `boolDeletedAsString`: in crd.projectcalico.org/v1 a
 * BlockAffinity's `deleted` is the string "true"/"false"; in projectcalico.org/v3 a boolean.
 */
export function toRawSpec<K extends IpamKind>(kind: K, spec: SpecOf[K], boolDeletedAsString = true): RawSpec {
  switch (kind) {
    case 'BlockAffinity': {
      const s = spec as AffinitySpec;
      return { state: s.state, node: s.node, type: 'host', cidr: s.cidr, deleted: boolDeletedAsString ? String(s.deleted) : s.deleted };
    }
    case 'IPAMBlock': {
      const s = spec as BlockSpec;
      const out: RawSpec = { cidr: s.cidr };
      if (s.affinity !== null) out['affinity'] = s.affinity;
      if (s.affinityClaimTime !== undefined) out['affinityClaimTime'] = s.affinityClaimTime;
      Object.assign(out, {
        strictAffinity: s.strictAffinity, allocations: [...s.allocations], unallocated: [...s.unallocated],
        attributes: s.attributes.map((a) => ({ ...a, ...(a.secondary !== undefined ? { secondary: { ...a.secondary } } : {}) })),
        sequenceNumber: s.sequenceNumber, sequenceNumberForAllocation: { ...s.sequenceNumberForAllocation }, deleted: s.deleted,
      });
      return out;
    }
    default: {
      const s = spec as HandleSpec;
      return { handleID: s.handleID, block: { ...s.block }, deleted: s.deleted };
    }
  }
}

const big = (v: unknown): bigint | undefined => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return undefined;
};
const boolOf = (v: unknown): boolean | undefined => {
  if (v === undefined || v === null || v === '') return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
};
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Reads a spec written by Calico or Kite; throws MalformedObjectError naming the bad field. */
export function fromRawSpec<K extends IpamKind>(kind: K, name: string, raw: unknown): SpecOf[K] {
  const bad = (reason: string): never => { throw new MalformedObjectError(kind, name, reason); };
  if (!isObj(raw)) return bad('spec is not an object');
  const cidrOf = (): string => {
    const c = typeof raw['cidr'] === 'string' ? parsePrefix(raw['cidr'], { hostBits: 'clear' }) : null;
    if (c === null) return bad(`spec.cidr ${JSON.stringify(raw['cidr'])} is not a CIDR`);
    return c.toString();
  };
  const deleted = boolOf(raw['deleted']) ?? bad(`spec.deleted ${JSON.stringify(raw['deleted'])} is not a boolean`);
  switch (kind) {
    case 'BlockAffinity': {
      const node = typeof raw['node'] === 'string' && raw['node'] !== '' ? raw['node'] : bad('spec.node is missing');
      const stateText = raw['state'] ?? '';
      // An empty state is what very old Calico wrote: it means confirmed.
      const states: readonly unknown[] = Object.values(AffinityState);
      const state = stateText === '' ? AffinityState.Confirmed : states.includes(stateText) ? (stateText as AffinityState) : bad(`spec.state ${JSON.stringify(stateText)} is not confirmed|pending|pendingDeletion`);
      const spec: AffinitySpec = { node, cidr: cidrOf(), state, deleted };
      return spec as SpecOf[K];
    }
    case 'IPAMBlock': {
      const cidr = cidrOf();
      const c = parsePrefix(cidr);
      const size = c === null ? 0 : 2 ** (bitsOf(c.family) - c.len);
      const allocations = Array.isArray(raw['allocations']) ? raw['allocations'] : bad('spec.allocations is not a list');
      if (allocations.length !== size) bad(`spec.allocations has ${allocations.length} entries for a block of ${size} addresses`);
      const attrsRaw = Array.isArray(raw['attributes']) ? raw['attributes'] : raw['attributes'] === undefined || raw['attributes'] === null ? [] : bad('spec.attributes is not a list');
      const attributes: BlockAttribute[] = attrsRaw.map((a, i) => {
        if (!isObj(a)) return bad(`spec.attributes[${i}] is not an object`);
        const out: BlockAttribute = {};
        if (typeof a['handle_id'] === 'string') out.handle_id = a['handle_id'];
        if (isObj(a['secondary'])) {
          out.secondary = {};
          for (const [k, v] of Object.entries(a['secondary'])) if (typeof v === 'string') out.secondary[k] = v;
        }
        return out;
      });
      const allocs = allocations.map((a, i) => {
        if (a === null) return null;
        if (!isIndex(a) || a >= attributes.length) return bad(`spec.allocations[${i}] = ${JSON.stringify(a)} is not an attribute index`);
        return a;
      });
      const unRaw = Array.isArray(raw['unallocated']) ? raw['unallocated'] : raw['unallocated'] === undefined || raw['unallocated'] === null ? [] : bad('spec.unallocated is not a list');
      const unallocated = unRaw.map((u, i) => (isIndex(u) && u < size ? u : bad(`spec.unallocated[${i}] = ${JSON.stringify(u)} is not an address index`)));
      const seqFor: Record<string, bigint> = {};
      if (isObj(raw['sequenceNumberForAllocation'])) {
        for (const [k, v] of Object.entries(raw['sequenceNumberForAllocation'])) {
          seqFor[k] = big(v) ?? bad(`spec.sequenceNumberForAllocation.${k} is not a number`);
        }
      }
      const affinity = raw['affinity'];
      const spec: BlockSpec = {
        cidr,
        affinity: typeof affinity === 'string' && affinity !== '' ? affinity : null,
        strictAffinity: boolOf(raw['strictAffinity']) ?? false,
        allocations: allocs, unallocated, attributes,
        sequenceNumber: raw['sequenceNumber'] === undefined ? 0n : big(raw['sequenceNumber']) ?? bad('spec.sequenceNumber is not a number'),
        sequenceNumberForAllocation: seqFor,
        deleted,
      };
      if (typeof raw['affinityClaimTime'] === 'string') spec.affinityClaimTime = raw['affinityClaimTime'];
      return spec as SpecOf[K];
    }
    default: {
      const handleID = typeof raw['handleID'] === 'string' ? raw['handleID'] : bad('spec.handleID is missing');
      const block: Record<string, number> = {};
      if (isObj(raw['block'])) for (const [k, v] of Object.entries(raw['block'])) block[k] = isIndex(v) ? v : bad(`spec.block["${k}"] is not a count`);
      const spec: HandleSpec = { handleID, block, deleted };
      return spec as SpecOf[K];
    }
  }
}
