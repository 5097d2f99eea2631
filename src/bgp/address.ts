// A peer's address in one canonical text form, so that the speaker's peer map, incoming
// connections (often IPv4-mapped IPv6 on a dual-stack listener) and the configuration agree; and
// a peer's key, address plus port, since two peers may share an address on different ports.
import net from 'node:net';
import { parseAddr } from '../net/index.js';

/** Canonical text of an address: IPv4-mapped IPv6 becomes IPv4, IPv6 is RFC 5952 text. */
export function canonicalAddress(addr: string): string {
  const a = addr.startsWith('::ffff:') && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
  if (net.isIPv6(a)) return parseAddr(a.replace(/%.*$/, ''))?.toString() ?? a;
  return a;
}

/**
 * The key of a configured peer: its canonical address, with the port when not 179, written as
 * Calico writes peerIP ("10.0.0.1:1790", "[fd00::1]:1790"). Calico's confd keys BGP peers by
 * (peer IP, port) (client.go updatePeersV1: GlobalBGPPeerKey / NodeBGPPeerKey), so two BGPPeers
 * to one address on different ports are two sessions.
 */
export function peerKey(address: string, port = 179): string {
  const a = canonicalAddress(address);
  if (port === 179) return a;
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}
