// Prefix containment for the export/import hot path: "is this route inside a pool, a block, a
// service CIDR?" asked once per route per peer. CIDRs are compiled into a binary trie held in
// typed arrays (one trie per family), so a lookup walks at most `len` bits and allocates nothing.
//
// Semantics match BIRD's `net ~ cidr` (the route lies inside the entry: entry length <= route
// length and the first `entry length` bits agree) and `net = cidr` (same bits, same length).
// Two adjacent /25s do NOT contain the /24 they tile, exactly as `net ~ a || net ~ b` in BIRD.
import { parsePrefix, writeIpv4, type Family } from '../net/index.js';

/** A parsed CIDR: family, address bytes (host bits cleared) and prefix length. */
export interface ParsedCidr { family: Family; bytes: Uint8Array; len: number }

/**
 * Parses "10.0.0.0/16" or "2001:db8::/32". Host bits are cleared rather than rejected, as Go's
 * net.ParseCIDR (used by confd) does. Returns null on anything else.
 */
export function parseCidr(text: string): ParsedCidr | null {
  const p = parsePrefix(text, { hostBits: 'clear' });
  return p === null ? null : { family: p.family, bytes: p.addr.toBytes(), len: p.len };
}

/** Bit `i` (0 = most significant) of an address; bytes past the array's end read as zero. */
function bitAt(bytes: Uint8Array, i: number): number {
  const b = bytes[i >> 3];
  return b === undefined ? 0 : (b >> (7 - (i & 7))) & 1;
}

/** One family's trie: node 0 is the root; -1 means "no child" / "no entry". */
class Trie {
  child0: Int32Array = new Int32Array(64).fill(-1);
  child1: Int32Array = new Int32Array(64).fill(-1);
  entry: Int32Array = new Int32Array(64).fill(-1);
  nodes = 1;

  private grow(): void {
    const n = this.child0.length * 2;
    const g = (a: Int32Array): Int32Array => { const b = new Int32Array(n).fill(-1); b.set(a); return b; };
    this.child0 = g(this.child0);
    this.child1 = g(this.child1);
    this.entry = g(this.entry);
  }

  /** Node for exactly (bytes, len), created when missing. */
  node(bytes: Uint8Array, len: number): number {
    let n = 0;
    for (let i = 0; i < len; i++) {
      const arr = bitAt(bytes, i) === 0 ? this.child0 : this.child1;
      let next = arr[n]!;
      if (next < 0) {
        if (this.nodes === this.child0.length) this.grow();
        next = this.nodes++;
        // grow() may have replaced the arrays: index the current ones.
        (bitAt(bytes, i) === 0 ? this.child0 : this.child1)[n] = next;
      }
      n = next;
    }
    return n;
  }
}

/**
 * A set of CIDRs of both families, each carrying a value (a pool name, a block, a label for
 * reasons). Built once per configuration; lookups are allocation free.
 */
export class PrefixSet<T> {
  private readonly v4 = new Trie();
  private readonly v6 = new Trie();
  private readonly values: T[] = [];
  private readonly prefixes: ParsedCidr[] = [];

  /** Builds a set from CIDR text; throws on text that is not a CIDR (config is validated earlier). */
  static of<T>(entries: Iterable<readonly [cidr: string, value: T]>): PrefixSet<T> {
    const s = new PrefixSet<T>();
    for (const [cidr, value] of entries) {
      const p = parseCidr(cidr);
      if (p === null) throw new Error(`invalid CIDR "${cidr}"`);
      s.add(p, value);
    }
    return s;
  }

  get size(): number { return this.values.length; }

  /** Adds an entry; an entry already present for the same prefix keeps its first value. */
  add(p: ParsedCidr, value: T): void {
    const trie = this.trie(p.family);
    const n = trie.node(p.bytes, p.len);
    if (trie.entry[n]! >= 0) return;
    trie.entry[n] = this.values.length;
    this.values.push(value);
    this.prefixes.push(p);
  }

  private trie(family: Family): Trie {
    return family === 6 ? this.v6 : this.v4;
  }

  /**
   * Index of the entry containing (bytes, len): the outermost (shortest) when `outermost`,
   * else the innermost (longest). -1 when none does.
   */
  private find(family: Family, bytes: Uint8Array, len: number, outermost: boolean): number {
    const t = this.trie(family);
    let n = 0;
    let found = t.entry[0]!;
    if (found >= 0 && outermost) return found;
    for (let i = 0; i < len; i++) {
      n = bitAt(bytes, i) === 0 ? t.child0[n]! : t.child1[n]!;
      if (n < 0) break;
      const e = t.entry[n]!;
      if (e >= 0) {
        if (outermost) return e;
        found = e;
      }
    }
    return found;
  }

  /** True when some entry contains the prefix (BIRD `net ~ entry` for any entry). */
  contains(family: Family, bytes: Uint8Array, len: number): boolean {
    return this.find(family, bytes, len, true) >= 0;
  }

  /** Value of the outermost entry containing the prefix. */
  outermost(family: Family, bytes: Uint8Array, len: number): T | undefined {
    const i = this.find(family, bytes, len, true);
    return i < 0 ? undefined : this.values[i];
  }

  /** Value of the innermost (most specific) entry containing the prefix. */
  innermost(family: Family, bytes: Uint8Array, len: number): T | undefined {
    const i = this.find(family, bytes, len, false);
    return i < 0 ? undefined : this.values[i];
  }

  /** Value of the entry equal to the prefix (BIRD `net = entry`). */
  exact(family: Family, bytes: Uint8Array, len: number): T | undefined {
    const t = this.trie(family);
    let n = 0;
    for (let i = 0; i < len && n >= 0; i++) n = bitAt(bytes, i) === 0 ? t.child0[n]! : t.child1[n]!;
    if (n < 0) return undefined;
    const e = t.entry[n]!;
    return e < 0 ? undefined : this.values[e];
  }

  /** IPv4 convenience for the RIB's uint32 path (RIB keeps IPv4 addresses as numbers). */
  contains4(addr: number, len: number): boolean {
    return this.contains(4, u32Bytes(addr), len);
  }

  /** Entries in insertion order, for listings and tests. */
  entries(): { prefix: ParsedCidr; value: T }[] {
    return this.prefixes.map((prefix, i) => ({ prefix, value: this.values[i]! }));
  }
}

// Scratch for contains4: the trie reads it synchronously, so one buffer per module is safe.
const scratch4 = new Uint8Array(4);
function u32Bytes(addr: number): Uint8Array {
  writeIpv4(addr, scratch4, 0);
  return scratch4;
}

/** True when (bytes, len) lies inside `outer` (BIRD `net ~ outer`): one CIDR, no trie. */
export function prefixContains(outer: ParsedCidr, bytes: Uint8Array, len: number): boolean {
  return len >= outer.len && sameBits(outer.bytes, bytes, outer.len);
}

/** True when the first `bits` bits of a and b agree (missing bytes read as zero). */
export function sameBits(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (((a[whole] ?? 0) ^ (b[whole] ?? 0)) & mask) === 0;
}
