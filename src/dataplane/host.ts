// The host as the kernel last showed it: links and addresses from a dump, with the questions the
// desired-state computation asks of them (which link is the host NIC, is it up, which subnets are
// directly connected). Built fresh after every dump; never mutated.

import { parseAddr, parsePrefix, type Prefix } from '../net/index.js';
import { isVxlanDevice, type Family, type KAddress, type KLink } from './types.js';

export interface Connected {
  /** The address as configured, host bits kept ("198.18.0.1/24"); network() is the subnet. */
  prefix: Prefix;
  link: KLink;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
const isLinkLocal6 = (p: Prefix): boolean => p.addr.v6 !== undefined && p.addr.v6[0] === 0xfe && (p.addr.v6[1]! & 0xc0) === 0x80;

export class HostView {
  private readonly byName = new Map<string, KLink>();
  private readonly byIndex = new Map<number, KLink>();
  /** Addresses that count as "the host's own" for route refusal (not on tunnels or workloads). */
  readonly connected: Connected[] = [];

  constructor(
    readonly links: readonly KLink[],
    readonly addresses: readonly KAddress[],
    private readonly isWorkloadName: (name: string) => boolean,
    private readonly tunnelName: string,
    /** BGPConfiguration ignoredInterfaces: such links are not in this view at all. */
    readonly isIgnored: (name: string) => boolean = () => false,
  ) {
    for (const l of links) {
      this.byName.set(l.name, l);
      this.byIndex.set(l.index, l);
    }
    for (const a of addresses) {
      const link = this.byIndex.get(a.index);
      // Tunnel addresses (tunl0's, the VTEP /32s) are no host subnet.
      if (link === undefined || link.name === tunnelName || isVxlanDevice(link.name) || isWorkloadName(link.name)) continue;
      const prefix = parsePrefix(`${a.address}/${a.prefixLen}`);
      // fe80::/10 is on every IPv6 link and means nothing beyond it.
      if (prefix === null || isLinkLocal6(prefix)) continue;
      this.connected.push({ prefix, link });
    }
  }

  /**
   * What desired routes depend on, as one string (link index, name, up, MTU; addresses): a
   * periodic resync that finds the host unchanged recomputes no route.
   */
  get signature(): string {
    return this.links.map((l) => `${l.index}:${l.name}:${l.up ? 1 : 0}:${l.mtu}`).join(',') + '/' +
      this.addresses.map((a) => `${a.index}:${a.address}/${a.prefixLen}`).join(',');
  }

  link(name: string): KLink | undefined {
    return this.byName.get(name);
  }

  linkByIndex(index: number): KLink | undefined {
    return this.byIndex.get(index);
  }

  nameOf = (index: number): string | undefined => this.byIndex.get(index)?.name;

  isWorkloadIndex(index: number | undefined): boolean {
    if (index === undefined) return false;
    const l = this.byIndex.get(index);
    return l !== undefined && this.isWorkloadName(l.name);
  }

  /** The link holding `address` (the node's IP): the host NIC, and the address as the kernel has it. */
  holderOf(address: string): Connected | undefined {
    const ip = parseAddr(address);
    if (ip === null) return undefined;
    return this.connected.find((c) => c.prefix.addr.equals(ip));
  }

  addressesOn(index: number, family?: Family): KAddress[] {
    return this.addresses.filter((a) => a.index === index && (family === undefined || a.family === family));
  }
}
