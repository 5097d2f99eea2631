// Address bookkeeping inside one IPAMBlock, as calico-ipam does it (libcalico-go
// lib/ipam/ipam_block.go): `allocations[i]` points at the attribute (handle + secondary
// attributes) holding address i, `unallocated` lists free ordinals in hand-out order, and
// attributes no address refers to any more are dropped with indexes renumbered. Pure functions
// on a BlockSpec; storage and concurrency live in the allocator.
import { blockRange } from './range.js';
import { IpAddr, parseAddr } from '../net/index.js';
import type { BlockAttribute, BlockSpec } from './objects.js';

export function blockAddressCount(cidr: string): number {
  return Number(blockRange(cidr).size);
}

export function ordinalToIP(cidr: string, ordinal: number): string {
  const r = blockRange(cidr);
  return IpAddr.fromBigInt(r.family, r.start + BigInt(ordinal)).toString();
}

/** The address's index in the block, or undefined when it lies outside. */
export function ipToOrdinal(cidr: string, ip: string): number | undefined {
  const r = blockRange(cidr);
  const a = parseAddr(ip);
  if (a === null || a.family !== r.family) return undefined;
  const off = a.toBigInt() - r.start;
  if (off < 0n || off >= r.size) return undefined;
  return Number(off);
}

/** A fresh block: every address free, in ordinal order, affine to `affinity` ("host:<node>"). */
export function newBlock(cidr: string, affinity: string | null, now: Date, sequenceNumber: bigint): BlockSpec {
  const n = blockAddressCount(cidr);
  if (n > 65536) throw new Error(`block ${cidr} has ${n} addresses; Calico blocks hold at most 65536 (IPv4 /16, IPv6 /112)`);
  const spec: BlockSpec = {
    cidr,
    affinity,
    strictAffinity: false,
    allocations: new Array<number | null>(n).fill(null),
    unallocated: Array.from({ length: n }, (_v, i) => i),
    attributes: [],
    // Seeded from the clock like Calico, so a deleted and recreated block never reuses
    // numbers a client may still hold for the old one.
    sequenceNumber,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
  if (affinity !== null) spec.affinityClaimTime = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return spec;
}

export function freeCount(b: BlockSpec): number {
  return b.unallocated.length;
}

export function isEmpty(b: BlockSpec): boolean {
  return b.allocations.every((a) => a === null);
}

function sameSecondary(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {}).sort();
  const eb = Object.entries(b ?? {}).sort();
  return ea.length === eb.length && ea.every(([k, v], i) => eb[i]?.[0] === k && eb[i]?.[1] === v);
}

function findOrAddAttribute(b: BlockSpec, handle: string | undefined, secondary: Record<string, string> | undefined): number {
  const i = b.attributes.findIndex((a) => a.handle_id === handle && sameSecondary(a.secondary, secondary));
  if (i >= 0) return i;
  const attr: BlockAttribute = {};
  if (handle !== undefined) attr.handle_id = handle;
  if (secondary !== undefined && Object.keys(secondary).length > 0) attr.secondary = { ...secondary };
  b.attributes.push(attr);
  return b.attributes.length - 1;
}

/**
 * Takes up to `count` free addresses from the front of `unallocated`, all under one attribute.
 * Mutates `b`; returns the ordinals taken (fewer than asked when the block runs out).
 */
export function assignFromBlock(b: BlockSpec, count: number, handle: string | undefined, secondary?: Record<string, string>): number[] {
  if (count <= 0 || b.unallocated.length === 0) return [];
  const taken = b.unallocated.slice(0, count);
  b.unallocated = b.unallocated.slice(taken.length);
  const attr = findOrAddAttribute(b, handle, secondary);
  for (const o of taken) {
    b.allocations[o] = attr;
    b.sequenceNumberForAllocation[String(o)] = b.sequenceNumber;
  }
  return taken;
}

/** Assigns one given address. False when it is already taken. */
export function assignOrdinal(b: BlockSpec, ordinal: number, handle: string | undefined, secondary?: Record<string, string>): boolean {
  if (b.allocations[ordinal] !== null) return false;
  const at = b.unallocated.indexOf(ordinal);
  if (at >= 0) b.unallocated.splice(at, 1);
  b.allocations[ordinal] = findOrAddAttribute(b, handle, secondary);
  b.sequenceNumberForAllocation[String(ordinal)] = b.sequenceNumber;
  return true;
}

/** Drops attributes no allocation refers to and renumbers the rest (Calico's deleteAttributes). */
function compactAttributes(b: BlockSpec): void {
  const used = new Set<number>();
  for (const a of b.allocations) if (a !== null) used.add(a);
  const remap = new Map<number, number>();
  const kept: BlockAttribute[] = [];
  b.attributes.forEach((a, i) => {
    if (!used.has(i)) return;
    remap.set(i, kept.length);
    kept.push(a);
  });
  b.attributes = kept;
  b.allocations = b.allocations.map((a) => (a === null ? null : remap.get(a) ?? null));
}

/**
 * Frees the given ordinals (those allocated; others are ignored) and appends them to the end of
 * `unallocated`, so a just-freed address is the last to be handed out again. Returns the
 * ordinals freed. With `handle`, an address held by another handle is left alone.
 */
export function releaseOrdinals(b: BlockSpec, ordinals: readonly number[], handle?: string): number[] {
  const freed: number[] = [];
  for (const o of new Set(ordinals)) {
    const a = b.allocations[o];
    if (a === null || a === undefined) continue;
    if (handle !== undefined && b.attributes[a]?.handle_id !== handle) continue;
    b.allocations[o] = null;
    b.unallocated.push(o);
    delete b.sequenceNumberForAllocation[String(o)];
    freed.push(o);
  }
  if (freed.length > 0) compactAttributes(b);
  return freed;
}

/** Ordinals held by `handle` (Calico strips a trailing "\r…" from handles written by old migrations). */
export function handleOrdinals(b: BlockSpec, handle: string): number[] {
  const out: number[] = [];
  b.allocations.forEach((a, o) => {
    const h = a === null ? undefined : b.attributes[a]?.handle_id;
    if (h !== undefined && h.split('\r')[0] === handle) out.push(o);
  });
  return out;
}

/** Invariants of a well-formed block; the list of violations (empty when sound). */
export function checkBlock(b: BlockSpec): string[] {
  const problems: string[] = [];
  const n = blockAddressCount(b.cidr);
  if (b.allocations.length !== n) problems.push(`allocations has ${b.allocations.length} entries, block has ${n} addresses`);
  const free = new Set<number>();
  for (const u of b.unallocated) {
    if (free.has(u)) problems.push(`ordinal ${u} is listed twice in unallocated`);
    free.add(u);
    if (b.allocations[u] !== null) problems.push(`ordinal ${u} is both allocated and unallocated`);
  }
  const used = new Set<number>();
  b.allocations.forEach((a, o) => {
    if (a === null) {
      if (!free.has(o)) problems.push(`ordinal ${o} is neither allocated nor unallocated`);
      return;
    }
    if (a >= b.attributes.length) problems.push(`ordinal ${o} points at missing attribute ${a}`);
    used.add(a);
  });
  b.attributes.forEach((_a, i) => { if (!used.has(i)) problems.push(`attribute ${i} is not referenced`); });
  return problems;
}
