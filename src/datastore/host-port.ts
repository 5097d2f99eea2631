// A BGPPeer peerIP: "ip", "ipv4:port" or "[ipv6]:port" (Go's net.SplitHostPort forms), checked
// with the reason a user needs when it is wrong.
import { IpAddr, parseAddr } from '../net/index.js';

export interface HostPort { host: IpAddr; port: number | undefined }

/**
 * Parses a peerIP. A bare IPv6 address has colons but no brackets and therefore no port.
 * Returns a reason string on failure.
 */
export function parseHostPort(text: string): HostPort | string {
  const bare = parseAddr(text);
  if (bare !== null) return { host: bare, port: undefined };
  let host: IpAddr | null;
  let hostText: string;
  let portText: string;
  const m6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (m6 !== null) {
    hostText = m6[1] ?? '';
    portText = m6[2] ?? '';
    host = parseAddr(hostText);
    if (host === null || host.family !== 6) return `"${text}": "${hostText}" is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || text.indexOf(':') !== colon) return `"${text}" is not an IP address`;
    hostText = text.slice(0, colon);
    portText = text.slice(colon + 1);
    host = parseAddr(hostText);
    if (host === null) return `"${text}": "${hostText}" is not an IP address`;
    if (host.family !== 4) return `"${text}": write IPv6 with a port as "[addr]:port"`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `"${text}": port "${portText}" is not a number from 1 to 65535`;
  }
  return { host, port: Number(portText) };
}
