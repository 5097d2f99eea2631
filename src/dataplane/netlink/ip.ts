// Address text <-> bytes for the netlink codec, written straight into the message buffer: thin
// wrappers over src/net (one address grammar for Kite) that throw the codec's error. Output keeps
// an IPv4-mapped address dotted (RFC 5952 §5), as the kernel and iproute2 print it. MACs live here.
import { familyOfText, formatIpv4 as formatU32, formatIpv6 as formatNet6, parseIpv4, parseIpv6Into, readIpv4, writeIpv4 as writeU32, type Family } from '../../net/index.js';

export type IpFamily = Family;

/** Address family of an address text, decided by the presence of ':' (validated when written). */
export const ipFamily: (text: string) => IpFamily = familyOfText;

function bad(text: string): Error {
  return new Error(`invalid IP address ${JSON.stringify(text)}`);
}

/** Write dotted-quad IPv4 text as 4 bytes at off; throws on malformed text (leading zeros included). */
export function writeIpv4(text: string, out: Uint8Array, off: number): void {
  const n = parseIpv4(text);
  if (n < 0) throw bad(text);
  writeU32(n, out, off);
}

/** Write IPv6 text (with optional :: and trailing dotted quad, RFC 4291 §2.2) as 16 bytes at off. */
export function writeIpv6(text: string, out: Uint8Array, off: number): void {
  if (!parseIpv6Into(text, out, off)) throw bad(text);
}

export function writeIp(text: string, family: IpFamily, out: Uint8Array, off: number): void {
  if (family === 4) writeIpv4(text, out, off);
  else writeIpv6(text, out, off);
}

export function formatIpv4(b: Uint8Array, off: number): string {
  return formatU32(readIpv4(b, off));
}

export function formatIpv6(b: Uint8Array, off: number): string {
  return formatNet6(b, off, true);
}

export function formatIp(b: Uint8Array, off: number, len: number): string {
  if (len === 4) return formatIpv4(b, off);
  if (len === 16) return formatIpv6(b, off);
  return Buffer.from(b.subarray(off, off + len)).toString('hex');
}

/** "aa:bb:cc:dd:ee:ff" <-> bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`invalid MAC address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array, off: number, len: number): string {
  const out: string[] = [];
  for (let k = 0; k < len; k++) out.push(b[off + k]!.toString(16).padStart(2, '0'));
  return out.join(':');
}
