// A pool's or block's address range as numbers, for IPAM's ordinal arithmetic (address i of a
// block, block i of a pool). The arithmetic is ip-cidr's, at this edge only; src/net checks the
// text first, so both libraries agree on what a CIDR is.
import IPCIDR from 'ip-cidr';
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

// ip-cidr takes ~45 µs per CIDR, and releasing an address probes every block: remember the
// ranges (block CIDRs repeat; a cluster has thousands at most, and the cache forgets past that).
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
  const r = new IPCIDR(p.network().toString());
  // ip-cidr types its BigInts as the wrapper object; the values are primitive bigints.
  return { family: p.family, len: p.len, start: BigInt(r.start<bigint>({ type: 'bigInteger' })), size: BigInt(r.size.toString()) };
}
