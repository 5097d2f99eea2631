// NLRI runs (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3) read in place: no object per prefix.
// checkNlri validates a run once at decode time; the iterators then trust it (and still stay in bounds).
import type { NlriView } from './types.js';

/** Maximum prefix length in bits for an AFI (1 IPv4 → 32, 2 IPv6 → 128), 0 when unknown. */
export const maxBitsForFamily = (family: number): number => ((family >> 8) === 1 ? 32 : (family >> 8) === 2 ? 128 : 0);

/**
 * Validate a run of NLRI. Returns null when every prefix is well formed, else a short reason:
 * a length above the family maximum or a prefix running past the end (RFC 7606 §5.3).
 */
export function checkNlri(buf: Uint8Array, start: number, end: number, maxBits: number, addPath: boolean): string | null {
  let p = start;
  while (p < end) {
    if (addPath) {
      if (p + 4 >= end) return 'truncated path identifier';
      p += 4;
    }
    const len = buf[p]!;
    if (len > maxBits) return `prefix length ${len} exceeds ${maxBits}`;
    p += 1 + ((len + 7) >> 3);
    if (p > end) return 'prefix runs past the end of the NLRI field';
  }
  return null;
}

/**
 * RFC 4271 §6.3: a semantically incorrect NLRI field (e.g. an unexpected multicast address) is
 * ignored, prefix by prefix; the rest of the UPDATE stands. True for prefixes inside 224.0.0.0/4
 * or ff00::/8 (BIRD and FRR ignore them too; before, Kite stored them).
 */
export const isMulticast4 = (addr: number, len: number): boolean => len >= 4 && (addr >>> 28) === 0xe;
/** The same, from the prefix's first octet (0 when it has none) for either family. */
const isMulticastFirst = (family: number, first: number, len: number): boolean =>
  (family >> 8) === 1 ? len >= 4 && (first >> 4) === 0xe : (family >> 8) === 2 && len >= 8 && first === 0xff;

// One scratch per module: callers get a view valid only during their callback (documented in the API).
const scratch = new Uint8Array(16);

/**
 * Call cb for each prefix; `bytes` is a reused 16-byte scratch zero-filled past the prefix.
 * Multicast prefixes are skipped (isMulticast4): they are neither routes nor withdrawals.
 */
export function forEachPrefix(view: NlriView, cb: (bytes: Uint8Array, len: number, pathId: number) => void): void {
  const { buf, end, addPath } = view;
  let p = view.start;
  while (p < end) {
    let pathId = 0;
    if (addPath) { pathId = buf.readUInt32BE(p); p += 4; }
    const len = buf[p++]!;
    const n = (len + 7) >> 3;
    if (p + n > end || n > 16) return; // cannot happen for a checked view
    for (let i = 0; i < 16; i++) scratch[i] = i < n ? buf[p + i]! : 0;
    if (len & 7) scratch[n - 1]! &= (0xff00 >> (len & 7)) & 0xff;
    p += n;
    if (isMulticastFirst(view.family, scratch[0]!, len)) continue;
    cb(scratch, len, pathId);
  }
}

/** IPv4 fast path: the prefix as a uint32 in network order, host bits cleared; multicast skipped. */
export function forEachIPv4(view: NlriView, cb: (addr: number, len: number, pathId: number) => void): void {
  const { buf, end, addPath } = view;
  let p = view.start;
  while (p < end) {
    let pathId = 0;
    if (addPath) { pathId = buf.readUInt32BE(p); p += 4; }
    const len = buf[p++]!;
    const n = (len + 7) >> 3;
    if (p + n > end || len > 32) return;
    let addr = 0;
    for (let i = 0; i < 4; i++) addr = (addr << 8) | (i < n ? buf[p + i]! : 0);
    addr = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
    p += n;
    if (isMulticast4(addr, len)) continue;
    cb(addr, len, pathId);
  }
}

/** How many prefixes the iterators call back for (multicast ones are not counted). */
export function countPrefixes(view: NlriView): number {
  const { buf, end, addPath } = view;
  let p = view.start, count = 0;
  while (p < end) {
    if (addPath) p += 4;
    if (p >= end) break;
    const len = buf[p]!;
    const first = len > 0 && p + 1 < end ? buf[p + 1]! : 0;
    p += 1 + ((len + 7) >> 3);
    if (p > end) break;
    if (!isMulticastFirst(view.family, first, len)) count++;
  }
  return count;
}
