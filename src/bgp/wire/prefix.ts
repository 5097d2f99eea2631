// A prefix as the codec and the RIB hold it: AFI/SAFI family key, address bytes, length. Address
// text rules (parse, RFC 5952 output) live in src/net; this file only adapts them to family keys.
import { checkPrefix, formatIpv4, formatIpv6, NetParseError, parseIpv4, readIpv4 } from '../../net/index.js';
import { familyOfKey, unicastKey, type FamilyKey } from './types.js';

export interface Prefix { family: FamilyKey; bytes: Uint8Array; len: number }

/** "a.b.c.d" → uint32 for BGP identifiers (router ID, cluster ID); throws on anything else. */
export function ipv4ToUint(text: string): number {
  const n = parseIpv4(text);
  if (n < 0) throw new NetParseError('address', text, `invalid IPv4 address "${text}"`);
  return n;
}

/** "10.0.0.0/24" | "2001:db8::/32" → family key, bytes, length. Host bits set is an error (a typo, not a route). */
export function parsePrefix(text: string): Prefix {
  const p = checkPrefix(text, { hostBits: 'reject' });
  if (p instanceof NetParseError) throw p;
  return { family: unicastKey(p.family), bytes: p.addr.toBytes(), len: p.len };
}

// Formatting reads the bytes synchronously, so one scratch per module is safe.
const scratch = new Uint8Array(16);

/** Prefix text of (family key, bytes, len); bytes past the array's end read as zero. */
export function formatPrefix(family: FamilyKey, bytes: Uint8Array, len: number): string {
  scratch.fill(0);
  scratch.set(bytes.subarray(0, 16));
  return `${familyOfKey(family) === 6 ? formatIpv6(scratch) : formatIpv4(readIpv4(scratch))}/${len}`;
}
