// Legacy address shapes (BigInt value, text fields) kept only for src/dataplane until it moves to
// src/net (issue 10); everything else uses src/net. Parsing and text come from src/net, so there
// is one address grammar and one RFC 5952 printer. Config-time only, never per route.
import { IpAddr, parseAddr, parsePrefix, type Family } from '../net/index.js';

export type { Family } from '../net/index.js';

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

const ipOf = (a: IpAddr): IP => ({ family: a.family, value: a.toBigInt(), text: a.toString() });

export function parseIP(text: string): IP | null {
  const a = parseAddr(text);
  return a === null ? null : ipOf(a);
}

export function formatIP(family: Family, value: bigint): string {
  return IpAddr.fromBigInt(family, value).toString();
}

/** Parses "addr/len". Host bits are allowed (check `isNetworkAligned` where they are not). */
export function parseCIDR(text: string): CIDR | null {
  const p = parsePrefix(text);
  if (p === null) return null;
  const net = p.network();
  return { family: p.family, ip: ipOf(p.addr), prefixLength: p.len, network: net.addr.toBigInt(), text: net.toString() };
}

function maskOf(family: Family, len: number): bigint {
  const bits = BigInt(family === 4 ? 32 : 128);
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
