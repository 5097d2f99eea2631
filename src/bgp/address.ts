// A peer's address in one canonical text form, so that the speaker's peer map, incoming
// connections (often IPv4-mapped IPv6 on a dual-stack listener) and the configuration agree.
import net from 'node:net';
import { parseAddr } from '../net/index.js';

/** Canonical text of an address: IPv4-mapped IPv6 becomes IPv4, IPv6 is RFC 5952 text. */
export function canonicalAddress(addr: string): string {
  const a = addr.startsWith('::ffff:') && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
  if (net.isIPv6(a)) return parseAddr(a.replace(/%.*$/, ''))?.toString() ?? a;
  return a;
}
