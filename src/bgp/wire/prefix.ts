// IP address and prefix text helpers: "10.0.0.0/24" and "2001:db8::/32" to bytes and back.
// Used by config parsing, the CLI and the codec; IPv6 output follows RFC 5952 (canonical text).
import { IPV4_UNICAST, IPV6_UNICAST, type FamilyKey } from './types.js';

export interface Prefix { family: FamilyKey; bytes: Uint8Array; len: number }

/** "a.b.c.d" → uint32. Throws on anything that is not four decimal octets. */
export function ipv4ToUint(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address "${text}"`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw new Error(`invalid IPv4 address "${text}"`);
    const v = Number(p);
    if (v > 255) throw new Error(`invalid IPv4 address "${text}"`);
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function uintToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** IPv4 text from 4 bytes at off. */
export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** IPv6 text (also accepts a trailing dotted quad) → 16 bytes. Throws on bad text. */
export function parseIpv6(text: string): Uint8Array {
  const bad = () => new Error(`invalid IPv6 address "${text}"`);
  if (!/^[0-9a-fA-F:.]+$/.test(text)) throw bad();
  let s = text;
  if (s.includes('.')) {
    // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
    const i = s.lastIndexOf(':');
    if (i < 0) throw bad();
    const v4 = ipv4ToUint(s.slice(i + 1));
    s = `${s.slice(0, i + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const dbl = s.split('::');
  if (dbl.length > 2) throw bad();
  const parseGroups = (g: string): number[] => {
    if (g === '') return [];
    return g.split(':').map((h) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) throw bad();
      return parseInt(h, 16);
    });
  };
  let groups: number[];
  if (dbl.length === 2) {
    const head = parseGroups(dbl[0]!);
    const rest = parseGroups(dbl[1]!);
    const fill = 8 - head.length - rest.length;
    if (fill < 1) throw bad();
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = parseGroups(s);
  }
  if (groups.length !== 8) throw bad();
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 255; });
  return out;
}

/** RFC 5952 text for 16 bytes at off: lower case, longest run (≥2) of zero groups as "::". */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + i * 2]! << 8) | b[off + i * 2 + 1]!);
  let bestStart = -1, bestLen = 1, curStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && g[i] === 0) { if (curStart < 0) curStart = i; }
    else if (curStart >= 0) {
      const l = i - curStart;
      if (l > bestLen) { bestLen = l; bestStart = curStart; }
      curStart = -1;
    }
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Parse an address of either family. */
export function parseIp(text: string): { family: FamilyKey; bytes: Uint8Array } {
  if (text.includes(':')) return { family: IPV6_UNICAST, bytes: parseIpv6(text) };
  const n = ipv4ToUint(text);
  return { family: IPV4_UNICAST, bytes: Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255) };
}

export function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** "10.0.0.0/24" | "2001:db8::/32" → bytes and length. Host bits set is an error (a typo, not a route). */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`invalid prefix "${text}": missing "/len"`);
  const addr = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const max = addr.bytes.length * 8;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) throw new Error(`invalid prefix "${text}": length must be 0..${max}`);
  const len = Number(lenText);
  for (let bit = len; bit < max; bit++) {
    if (addr.bytes[bit >> 3]! & (0x80 >> (bit & 7))) throw new Error(`invalid prefix "${text}": host bits set beyond /${len}`);
  }
  return { family: addr.family, bytes: addr.bytes, len };
}

export function formatPrefix(family: FamilyKey, bytes: Uint8Array, len: number): string {
  const full = new Uint8Array(family === IPV6_UNICAST || (family >> 8) === 2 ? 16 : 4);
  full.set(bytes.subarray(0, Math.min(bytes.length, full.length)));
  return `${formatIp(full)}/${len}`;
}
