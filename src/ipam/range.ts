// A pool's or block's address range as numbers, for IPAM's ordinal arithmetic (address i of a
// block, block i of a pool), from src/net's prefix: the network address and 2^(bits - len)
// addresses. test/net/properties.test.ts checks it against ip-cidr, which the daemon no longer
// loads (issue 16: ip-cidr and ip-address cost an idle daemon ~7 MiB).
import { parsePrefix, type Family } from '../net/index.js';

export interface Range {
  readonly family: Family;
  /** Prefix length of the CIDR. */
  readonly len: number;
  /** First address (the network), as an unsigned integer. */
  readonly start: bigint;
  /** Number of addresses. */
  readonly size: bigint;
}

// Releasing an address probes every block: remember the ranges (block CIDRs repeat; a cluster has thousands at most, and the cache forgets past that).
const cache = new Map<string, Range>();
const CACHE_MAX = 8192;

/** The range of CIDR text; throws `"<text>" is not a CIDR` on anything else. */
export function blockRange(cidr: string): Range {
  let r = cache.get(cidr);
  if (r === undefined) {
    r = compute(cidr);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(cidr, r);
  }
  return r;
}

function compute(cidr: string): Range {
  const p = parsePrefix(cidr);
  if (p === null) throw new Error(`"${cidr}" is not a CIDR`);
  const bits = p.family === 4 ? 32 : 128;
  return { family: p.family, len: p.len, start: p.network().addr.toBigInt(), size: 1n << BigInt(bits - p.len) };
}
