// A prefix value: an IpAddr and a length. It keeps the address as written (a node address
// "198.18.0.1/24" keeps its host part); network() and isAligned() say what a route needs.
import { NetParseError, familyOfText, IpAddr, parseAddr } from './addr.js';
import { bitsOf, type Family } from './family.js';
import { maskV4, readIpv4 } from './ipv4.js';

export class Prefix {
  private constructor(readonly addr: IpAddr, readonly len: number) {}

  /** Prefix of addr and len; throws RangeError when len exceeds the family's width. */
  static of(addr: IpAddr, len: number): Prefix {
    if (!Number.isInteger(len) || len < 0 || len > addr.bits) throw new RangeError(`prefix length ${len} outside 0..${addr.bits}`);
    return new Prefix(addr, len);
  }

  static v4(n: number, len: number): Prefix {
    return Prefix.of(IpAddr.v4(n), len);
  }

  /**
   * Reads the RFC 4271 §4.3 NLRI body (ceil(len/8) bytes at off, the length octet already read):
   * missing bytes are zero and bits past len are cleared.
   */
  static readNlri(family: Family, len: number, b: Uint8Array, off: number): Prefix {
    const n = (len + 7) >> 3;
    const full = new Uint8Array(family === 4 ? 4 : 16);
    for (let i = 0; i < n; i++) full[i] = b[off + i]!;
    if (len & 7) full[n - 1]! &= (0xff00 >> (len & 7)) & 0xff;
    return Prefix.of(family === 4 ? IpAddr.v4(readIpv4(full)) : IpAddr.v6(full), len);
  }

  get family(): Family { return this.addr.family; }
  /** IPv4 address as uint32 (0 for IPv6): the hot path's key. */
  get v4(): number { return this.addr.v4; }

  /** True when no bit past len is set. */
  isAligned(): boolean {
    const a = this.addr;
    if (a.v6 === undefined) return (a.v4 & ~maskV4(this.len)) === 0;
    for (let i = this.len; i < 128; i++) if (a.bit(i) !== 0) return false;
    return true;
  }

  /** The network: this prefix with the bits past len cleared (itself when already aligned). */
  network(): Prefix {
    if (this.isAligned()) return this;
    const a = this.addr;
    if (a.v6 === undefined) return new Prefix(IpAddr.v4((a.v4 & maskV4(this.len)) >>> 0), this.len);
    const b = Uint8Array.from(a.v6);
    clearFrom(b, this.len);
    return new Prefix(IpAddr.v6(b), this.len);
  }

  /** BIRD's `inner ~ this`: inner is as long or longer and agrees on this prefix's bits. */
  contains(inner: Prefix): boolean {
    return inner.family === this.family && inner.len >= this.len && sameBits(this.addr, inner.addr, this.len);
  }

  /** True when the address lies inside this prefix. */
  has(a: IpAddr): boolean {
    return a.family === this.family && sameBits(this.addr, a, this.len);
  }

  /** Same family, address (host bits included) and length. */
  equals(o: Prefix): boolean {
    return this.len === o.len && this.addr.equals(o.addr);
  }

  /** Family, then address, then length (shorter first): the order `ip route` lists in. */
  compare(o: Prefix): number {
    return this.addr.compare(o.addr) || this.len - o.len;
  }

  /** Writes the full address (4 or 16 bytes) at off; returns the offset after it. */
  write(out: Uint8Array, off = 0): number {
    return this.addr.write(out, off);
  }

  /** Writes the RFC 4271 §4.3 NLRI form (length octet, ceil(len/8) bytes); returns the offset after. */
  writeNlri(out: Uint8Array, off: number): number {
    const n = (this.len + 7) >> 3;
    out[off] = this.len;
    const a = this.addr;
    if (a.v6 === undefined) {
      for (let i = 0; i < n; i++) out[off + 1 + i] = (a.v4 >>> (24 - 8 * i)) & 255;
    } else {
      for (let i = 0; i < n; i++) out[off + 1 + i] = a.v6[i]!;
    }
    return off + 1 + n;
  }

  /** "10.0.0.0/24", "2001:db8::/32": the address as held (host bits kept), canonical text. */
  toString(): string {
    return `${this.addr.toString()}/${this.len}`;
  }

  toJSON(): string { return this.toString(); }
}

function clearFrom(b: Uint8Array, len: number): void {
  for (let bit = len; bit < b.length * 8; bit++) b[bit >> 3]! &= ~(0x80 >> (bit & 7));
}

/** True when the first `bits` bits of two same-family addresses agree. */
function sameBits(a: IpAddr, b: IpAddr, bits: number): boolean {
  if (a.v6 === undefined || b.v6 === undefined) return ((a.v4 ^ b.v4) & maskV4(bits)) === 0;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a.v6[i] !== b.v6[i]) return false;
  const rest = bits & 7;
  return rest === 0 || ((a.v6[whole]! ^ b.v6[whole]!) & (0xff00 >> rest) & 0xff) === 0;
}

export interface PrefixParseOptions {
  /**
   * What to do with host bits past the length: 'keep' (an interface address), 'clear' (Go's
   * net.ParseCIDR, as confd reads BGPFilter CIDRs) or 'reject' (a route: a typo, not a network).
   * Default 'keep'.
   */
  hostBits?: 'keep' | 'clear' | 'reject';
}

/** "addr/len" → Prefix, or a NetParseError saying what is wrong. Never throws. */
export function checkPrefix(text: string, opts: PrefixParseOptions = {}): Prefix | NetParseError {
  const slash = text.indexOf('/');
  if (slash < 0) return new NetParseError('missing-length', text, `invalid prefix "${text}": missing "/len"`);
  const addr = parseAddr(text, 0, slash);
  if (addr === null) {
    const fam = familyOfText(text.slice(0, slash));
    return new NetParseError('address', text, `invalid prefix "${text}": not an IPv${fam} address`);
  }
  const max = bitsOf(addr.family);
  let len = 0;
  const digits = text.length - slash - 1;
  for (let i = slash + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) { len = -1; break; }
    len = len * 10 + (c - 48);
  }
  if (digits === 0 || digits > 3 || len < 0 || len > max) {
    return new NetParseError('length', text, `invalid prefix "${text}": length must be 0..${max}`);
  }
  const p = Prefix.of(addr, len);
  const mode = opts.hostBits ?? 'keep';
  if (mode === 'keep' || p.isAligned()) return p;
  if (mode === 'clear') return p.network();
  return new NetParseError('host-bits', text, `invalid prefix "${text}": host bits set beyond /${len}`);
}

/** checkPrefix, null on failure. */
export function parsePrefix(text: string, opts?: PrefixParseOptions): Prefix | null {
  const p = checkPrefix(text, opts);
  return p instanceof NetParseError ? null : p;
}

/** checkPrefix, throwing the NetParseError on failure (for input already validated upstream). */
export function mustParsePrefix(text: string, opts?: PrefixParseOptions): Prefix {
  const p = checkPrefix(text, opts);
  if (p instanceof NetParseError) throw p;
  return p;
}
