// Address text helpers for configuration: parse and canonicalise IPs and CIDRs, test prefix
// containment. Config-time only (BigInt based, not for hot paths). IPv6 text is printed in the
// RFC 5952 canonical form so that Calico's "compare IPs as strings" rule sees what Go prints.
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface IP {
  family: Family;
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint;
  /** Canonical text (dotted quad, or RFC 5952 for IPv6). */
  text: string;
}

export interface CIDR {
  family: Family;
  /** The address as written (host bits kept, e.g. a node address 198.18.0.1/24). */
  ip: IP;
  prefixLength: number;
  /** Network address (host bits cleared). */
  network: bigint;
  /** Canonical text of the network: "10.244.0.0/16". */
  text: string;
}

const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

export function parseIP(text: string): IP | null {
  if (isIPv4(text)) {
    const parts = text.split('.').map(Number);
    let v = 0n;
    for (const p of parts) v = (v << 8n) | BigInt(p);
    return { family: 4, value: v, text: formatIP(4, v) };
  }
  if (isIPv6(text) && !text.includes('%')) {
    const v = parseIPv6(text);
    return { family: 6, value: v, text: formatIP(6, v) };
  }
  return null;
}

function parseIPv6(text: string): bigint {
  // node:net already validated the syntax; only expand it here.
  let s = text.toLowerCase();
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // Embedded IPv4 (RFC 4291 §2.5.5): rewrite the dotted quad as two hex groups.
    const q = last.split('.').map(Number);
    const hi = (((q[0] ?? 0) << 8) | (q[1] ?? 0)).toString(16);
    const lo = (((q[2] ?? 0) << 8) | (q[3] ?? 0)).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = '', rest] = s.split('::');
  const hs = head === '' ? [] : head.split(':').map((h) => parseInt(h, 16));
  const rs = rest === undefined || rest === '' ? [] : rest.split(':').map((h) => parseInt(h, 16));
  const groups = rest === undefined ? hs : [...hs, ...new Array<number>(8 - hs.length - rs.length).fill(0), ...rs];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

export function formatIP(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Parses "addr/len". Host bits are allowed (check `isNetworkAligned` where they are not). */
export function parseCIDR(text: string): CIDR | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIP(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (ip === null || !/^\d{1,3}$/.test(lenText)) return null;
  const prefixLength = Number(lenText);
  if (prefixLength > bitsOf(ip.family)) return null;
  const network = ip.value & maskOf(ip.family, prefixLength);
  return {
    family: ip.family,
    ip,
    prefixLength,
    network,
    text: `${formatIP(ip.family, network)}/${prefixLength}`,
  };
}

function maskOf(family: Family, len: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return (all >> BigInt(len)) ^ all;
}

export function isNetworkAligned(c: CIDR): boolean {
  return c.ip.value === c.network;
}

/** True when `inner` lies entirely inside `outer` (same family, equal or longer prefix). */
export function cidrContains(outer: CIDR, inner: CIDR): boolean {
  if (outer.family !== inner.family || inner.prefixLength < outer.prefixLength) return false;
  return (inner.network & maskOf(outer.family, outer.prefixLength)) === outer.network;
}

/** True when `ip` lies inside `net`. */
export function cidrHas(net: CIDR, ip: IP): boolean {
  return net.family === ip.family && (ip.value & maskOf(net.family, net.prefixLength)) === net.network;
}

export interface HostPort { host: IP; port: number | undefined }

/**
 * Parses a BGPPeer peerIP: "ip", "ipv4:port" or "[ipv6]:port" (Go's net.SplitHostPort forms).
 * A bare IPv6 address has colons but no brackets and therefore no port.
 * Returns a reason string on failure.
 */
export function parseHostPort(text: string): HostPort | string {
  const bare = parseIP(text);
  if (bare !== null) return { host: bare, port: undefined };
  let hostText: string;
  let portText: string;
  const m6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (m6 !== null) {
    hostText = m6[1] ?? '';
    portText = m6[2] ?? '';
    const h = parseIP(hostText);
    if (h === null || h.family !== 6) return `"${text}": "${hostText}" is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || text.indexOf(':') !== colon) return `"${text}" is not an IP address`;
    hostText = text.slice(0, colon);
    portText = text.slice(colon + 1);
    const h = parseIP(hostText);
    if (h === null) return `"${text}": "${hostText}" is not an IP address`;
    if (h.family !== 4) return `"${text}": write IPv6 with a port as "[addr]:port"`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `"${text}": port "${portText}" is not a number from 1 to 65535`;
  }
  const host = parseIP(hostText);
  if (host === null) return `"${text}" is not an IP address`;
  return { host, port: Number(portText) };
}
