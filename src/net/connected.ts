// Which host interface reaches a next hop directly: the interface whose address's subnet holds
// it. BIRD gives a BGP route the interface of its resolved next hop (`ifname`), which Calico's
// BGPFilter `interface` rules match; this answers the same for next hops on a connected subnet.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { parseAddr } from './addr.js';
import { parsePrefix, type Prefix } from './prefix.js';

export type InterfaceList = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface ConnectedResolverOptions {
  /** The host's interfaces (default os.networkInterfaces). */
  list?: InterfaceList;
  /** How long one reading of the interfaces is used, in ms (interfaces change rarely). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * A resolver from next-hop text to the name of the interface whose connected subnet holds it
 * (the longest such subnet), or undefined when none does: a next hop behind a gateway is not
 * resolved (BIRD would follow the route to it). Answers are cached per reading of the interfaces.
 */
export function connectedInterfaceResolver(o: ConnectedResolverOptions = {}): (nextHop: string) => string | undefined {
  const list = o.list ?? networkInterfaces;
  const ttl = o.ttlMs ?? 5000;
  const now = o.now ?? Date.now;
  let readAt = -Infinity;
  let subnets: { name: string; net: Prefix }[] = [];
  const memo = new Map<string, string | undefined>();
  return (nextHop) => {
    if (now() - readAt > ttl) {
      readAt = now();
      memo.clear();
      subnets = [];
      for (const [name, infos] of Object.entries(list())) {
        for (const i of infos ?? []) {
          if (i.cidr === null || i.internal) continue;
          const net = parsePrefix(i.cidr.replace(/%[^/]*/, ''));
          if (net !== null) subnets.push({ name, net });
        }
      }
      subnets.sort((a, b) => b.net.len - a.net.len);
    }
    if (memo.has(nextHop)) return memo.get(nextHop);
    const a = parseAddr(nextHop);
    const name = a === null ? undefined : subnets.find((s) => s.net.has(a))?.name;
    if (memo.size > 10_000) memo.clear();
    memo.set(nextHop, name);
    return name;
  };
}
