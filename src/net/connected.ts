// Which host interface reaches a next hop directly: the interface whose address's subnet holds
// it. BIRD gives a BGP route the interface of its resolved next hop (`ifname`), which Calico's
// BGPFilter `interface` rules match; this answers the same for next hops on a connected subnet.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { parsePrefix, type Prefix } from './prefix.js';
import { tableResolver } from './table-resolver.js';

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
  return tableResolver({
    ttlMs: o.ttlMs ?? 5000,
    now: o.now ?? Date.now,
    read: () => {
      const subnets: { name: string; net: Prefix }[] = [];
      for (const [name, infos] of Object.entries(list())) {
        for (const i of infos ?? []) {
          if (i.cidr === null || i.internal) continue;
          const net = parsePrefix(i.cidr.replace(/%[^/]*/, ''));
          if (net !== null) subnets.push({ name, net });
        }
      }
      return subnets.sort((a, b) => b.net.len - a.net.len);
    },
  });
}
