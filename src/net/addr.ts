// An IP address value: IPv4 held as a uint32 (no bytes, no text), IPv6 as 16 bytes. Canonical
// text is made on demand. Parse returns null; the `mustParse` variant throws a NetParseError.
import { bitsOf, type Family } from './family.js';
import { formatIpv4, parseIpv4, readIpv4, writeIpv4 } from './ipv4.js';
import { formatIpv6, parseIpv6Into } from './ipv6.js';

/** Why text is not an address or prefix; the message reads the way config errors always have. */
export type NetParseReason = 'address' | 'missing-length' | 'length' | 'host-bits';

export class NetParseError extends Error {
  constructor(readonly reason: NetParseReason, readonly text: string, message: string) {
    super(message);
    this.name = 'NetParseError';
  }
}

export class IpAddr {
  private constructor(
    readonly family: Family,
    /** IPv4 as uint32; 0 for IPv6. */
    readonly v4: number,
    /** IPv6's 16 bytes (never mutated); undefined for IPv4. */
    readonly v6: Uint8Array | undefined,
  ) {}

  static v4(n: number): IpAddr {
    return new IpAddr(4, n >>> 0, undefined);
  }

  /** An IPv6 address from 16 bytes at off (copied into a plain Uint8Array, even from a Buffer). */
  static v6(b: Uint8Array, off = 0): IpAddr {
    const own = new Uint8Array(16);
    own.set(b.subarray(off, off + 16));
    return new IpAddr(6, 0, own);
  }

  /** Reads an address of `family` from bytes at off (4 or 16 bytes). */
  static read(family: Family, b: Uint8Array, off = 0): IpAddr {
    return family === 4 ? IpAddr.v4(readIpv4(b, off)) : IpAddr.v6(b, off);
  }

  get bits(): 32 | 128 { return bitsOf(this.family); }

  /** Bit i (0 = most significant). */
  bit(i: number): number {
    return this.v6 === undefined ? (this.v4 >>> (31 - i)) & 1 : (this.v6[i >> 3]! >> (7 - (i & 7))) & 1;
  }

  /** Writes the 4 or 16 address bytes at off; returns the offset after them. */
  write(out: Uint8Array, off = 0): number {
    if (this.v6 === undefined) return writeIpv4(this.v4, out, off);
    out.set(this.v6, off);
    return off + 16;
  }

  /** A fresh copy of the address bytes (4 or 16). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.v6 === undefined ? 4 : 16);
    this.write(out, 0);
    return out;
  }

  equals(o: IpAddr): boolean {
    return compareAddr(this, o) === 0;
  }

  /** Orders IPv4 before IPv6, then numerically. */
  compare(o: IpAddr): number {
    return compareAddr(this, o);
  }

  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  toString(): string {
    return this.v6 === undefined ? formatIpv4(this.v4) : formatIpv6(this.v6);
  }

  toJSON(): string { return this.toString(); }

  /** The address as an unsigned integer: for IPAM's ordinal arithmetic at the edges, never per route. */
  toBigInt(): bigint {
    if (this.v6 === undefined) return BigInt(this.v4);
    let v = 0n;
    for (const b of this.v6) v = (v << 8n) | BigInt(b);
    return v;
  }

  /** The address of `family` holding v (taken modulo the family's width). */
  static fromBigInt(family: Family, v: bigint): IpAddr {
    if (family === 4) return IpAddr.v4(Number(BigInt.asUintN(32, v)));
    const b = new Uint8Array(16);
    let x = BigInt.asUintN(128, v);
    for (let i = 15; i >= 0; i--) { b[i] = Number(x & 255n); x >>= 8n; }
    return new IpAddr(6, 0, b);
  }
}

function compareAddr(a: IpAddr, b: IpAddr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.v6 === undefined || b.v6 === undefined) return a.v4 - b.v4;
  for (let i = 0; i < 16; i++) if (a.v6[i] !== b.v6[i]) return a.v6[i]! - b.v6[i]!;
  return 0;
}

/** Family of address text, judged by ':' alone (the parse that follows validates it). */
export function familyOfText(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

/** Address text of either family → IpAddr, or null. Zones ("fe80::1%eth0") are not addresses here. */
export function parseAddr(text: string, start = 0, end = text.length): IpAddr | null {
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === 58 /* : */) {
      const b = new Uint8Array(16);
      return parseIpv6Into(text, b, 0, start, end) ? IpAddr.v6(b) : null;
    }
  }
  const n = parseIpv4(text, start, end);
  return n < 0 ? null : IpAddr.v4(n);
}

/**
 * Parses address text straight into out[off] (4 or 16 bytes, by the text's family): the codecs'
 * way to put a configured address on the wire without an object. Returns the offset after the
 * address, or -1 when the text is not an address.
 */
export function writeAddrText(text: string, out: Uint8Array, off = 0): number {
  if (familyOfText(text) === 6) return parseIpv6Into(text, out, off) ? off + 16 : -1;
  const n = parseIpv4(text);
  return n < 0 ? -1 : writeIpv4(n, out, off);
}

/** parseAddr, or throw NetParseError('address') naming the family the text looked like. */
export function mustParseAddr(text: string): IpAddr {
  const a = parseAddr(text);
  if (a === null) throw new NetParseError('address', text, `invalid IPv${familyOfText(text)} address "${text}"`);
  return a;
}
