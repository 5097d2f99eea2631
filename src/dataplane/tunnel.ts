// tunl0 decisions as a pure plan: when some IPv4 pool uses IPIP, tunl0 exists, is up, has the
// tunnel MTU (host MTU - 20: the outer IPv4 header, RFC 2003 §3) and exactly one address, the
// node's ipv4IPIPTunnelAddr/32; when no pool uses IPIP its addresses go (after in-sync), but the
// device stays: the ipip module owns the fallback tunl0 and the kernel refuses to delete it.

import type { HostView } from './host.js';
import type { DataplaneConfig } from './inputs.js';
import type { KAddress, KLink } from './types.js';

/** IPv4 header that IPIP puts in front of every packet (RFC 2003 §3). */
const IPIP_OVERHEAD = 20;
/** The tunnel MTU when the host NIC is unknown: a 1500-byte underlay. */
const DEFAULT_TUNNEL_MTU = 1500 - IPIP_OVERHEAD;

/**
 * The MTU of tunl0 and of every route through it: as configured, else the MTU of the host NIC
 * (the link holding the node's IPv4 address) minus the outer header. One formula for both, so
 * the device and its routes never disagree.
 */
export function tunnelMtu(configured: number | undefined, host: HostView, cfg: Pick<DataplaneConfig, 'ipv4Address'>): number {
  if (configured !== undefined) return configured;
  const nic = cfg.ipv4Address !== undefined ? host.holderOf(cfg.ipv4Address.address) : undefined;
  return nic !== undefined ? nic.link.mtu - IPIP_OVERHEAD : DEFAULT_TUNNEL_MTU;
}

export interface TunnelInput {
  name: string;
  needed: boolean;
  /** ipv4IPIPTunnelAddr, when the node has one. */
  address?: string;
  mtu: number;
  link?: KLink;
  /** IPv4 addresses currently on the tunnel link. */
  addresses: readonly KAddress[];
  /** Removing addresses is pruning: only once datastore and BGP are in sync. */
  allowRemove: boolean;
}

export interface TunnelPlan {
  create?: { name: string; kind: 'ipip'; mtu: number; up: true };
  set?: { index: number; up?: boolean; mtu?: number };
  addAddresses: KAddress[];
  deleteAddresses: KAddress[];
  /** What was decided and why, one line each (only decisions that lead to a change, or a problem). */
  notes: string[];
}

export function planTunnel(t: TunnelInput): TunnelPlan {
  const plan: TunnelPlan = { addAddresses: [], deleteAddresses: [], notes: [] };
  if (!t.needed) {
    if (t.link !== undefined && t.addresses.length > 0) {
      if (t.allowRemove) {
        plan.deleteAddresses.push(...t.addresses);
        plan.notes.push(`no IPv4 pool uses IPIP: removing ${t.addresses.map((a) => `${a.address}/${a.prefixLen}`).join(', ')} from ${t.name}`);
      } else {
        plan.notes.push(`no IPv4 pool uses IPIP, but ${t.name}'s addresses stay until the datastore and BGP are in sync`);
      }
    }
    return plan;
  }
  if (t.link === undefined) {
    plan.create = { name: t.name, kind: 'ipip', mtu: t.mtu, up: true };
    plan.notes.push(`an IPv4 pool uses IPIP and ${t.name} is missing: creating it (mtu ${t.mtu})`);
    // Addresses follow once the kernel has given the link an index (next plan).
    return plan;
  }
  const set: { index: number; up?: boolean; mtu?: number } = { index: t.link.index };
  if (!t.link.up) set.up = true;
  if (t.link.mtu !== t.mtu) set.mtu = t.mtu;
  if (set.up !== undefined || set.mtu !== undefined) {
    plan.set = set;
    plan.notes.push(`${t.name}:${set.up ? ' set up' : ''}${set.mtu !== undefined ? ` mtu ${t.link.mtu} -> ${set.mtu}` : ''}`);
  }
  const want = t.address;
  const have = t.addresses.find((a) => a.address === want && a.prefixLen === 32);
  if (want === undefined) plan.notes.push(`the node has no ipv4IPIPTunnelAddr: ${t.name} gets no address`);
  else if (have === undefined) plan.addAddresses.push({ family: 4, index: t.link.index, address: want, prefixLen: 32 });
  // Any other address on the tunnel is wrong: Calico's tunl0 carries only the tunnel address.
  const extra = t.addresses.filter((a) => a !== have);
  if (extra.length > 0) {
    if (t.allowRemove) plan.deleteAddresses.push(...extra);
    else plan.notes.push(`${t.name} has other addresses (${extra.map((a) => `${a.address}/${a.prefixLen}`).join(', ')}); removed once in sync`);
  }
  return plan;
}
