// Which host interface a next hop behind a gateway is reached on: the interface of the kernel
// route that covers it (longest prefix, then lowest metric). Calico's BIRD resolves a BGP next
// hop recursively (`gateway recursive`) through its table, which holds the kernel's routes
// (`protocol kernel { learn; import all; }`) and the connected ones (`protocol direct`); a route's
// `ifname`, which BGPFilter `interface` rules match, is then that route's interface.
import { endianness } from 'node:os';
import { readFileSync } from 'node:fs';
import { parsePrefix, type Prefix } from './prefix.js';
import { tableResolver } from './table-resolver.js';

export interface KernelRouteResolverOptions {
  /** /proc/net/route's text (IPv4, the main table); default: read it. */
  readV4?: () => string;
  /** /proc/net/ipv6_route's text; default: read it. */
  readV6?: () => string;
  /** How long one reading is used, in ms. */
  ttlMs?: number;
  now?: () => number;
  /** Byte order the kernel printed IPv4 words in (default: this host's). */
  endian?: 'LE' | 'BE';
}

interface Entry { net: Prefix; iface: string; metric: number }

const read = (path: string) => (): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // no such table (IPv6 disabled): nothing resolves through it
  }
};

/** RTF_REJECT: unreachable, prohibit and blackhole routes lead to no interface. */
const RTF_REJECT = 0x0200;

/** /proc/net/route prints each IPv4 address as one 32-bit word in host byte order. */
function v4Word(hex: string, endian: 'LE' | 'BE'): string {
  const b = Buffer.from(hex.padStart(8, '0'), 'hex');
  if (endian === 'LE') b.reverse();
  return [...b].join('.');
}

const popcount = (hex: string): number => [...hex].reduce((n, c) => n + [...parseInt(c, 16).toString(2)].filter((x) => x === '1').length, 0);

/** The routes of /proc/net/route that lead out of an interface. */
export function parseProcRoute(text: string, endian: 'LE' | 'BE' = endianness()): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dst, , flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    if (iface === '*' || (parseInt(flags, 16) & RTF_REJECT) !== 0) continue;
    const net = parsePrefix(`${v4Word(dst, endian)}/${popcount(mask)}`);
    if (net !== null) out.push({ net, iface, metric: Number(metric) });
  }
  return out;
}

/** The routes of /proc/net/ipv6_route that lead out of an interface (not lo, not rejects). */
export function parseProcIpv6Route(text: string): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dst, len, , , , metric, , , flags, iface] = f as [string, string, string, string, string, string, string, string, string, string];
    if (iface === 'lo' || (parseInt(flags, 16) & RTF_REJECT) !== 0) continue;
    const addr = dst.match(/.{4}/g)?.join(':');
    const net = addr === undefined ? null : parsePrefix(`${addr}/${parseInt(len, 16)}`);
    if (net !== null) out.push({ net: net.network(), iface, metric: parseInt(metric, 16) });
  }
  return out;
}

/**
 * A resolver from next-hop text to the interface of the kernel route that covers it, or undefined
 * when none does. Readings are cached for ttlMs, answers per reading.
 */
export function kernelRouteInterfaceResolver(o: KernelRouteResolverOptions = {}): (nextHop: string) => string | undefined {
  const readV4 = o.readV4 ?? read('/proc/net/route');
  const readV6 = o.readV6 ?? read('/proc/net/ipv6_route');
  const endian = o.endian ?? endianness();
  return tableResolver({
    ttlMs: o.ttlMs ?? 5000,
    now: o.now ?? Date.now,
    read: () => [...parseProcRoute(readV4(), endian), ...parseProcIpv6Route(readV6())]
      .sort((a, b) => b.net.len - a.net.len || a.metric - b.metric)
      .map((r) => ({ net: r.net, name: r.iface })),
  });
}
