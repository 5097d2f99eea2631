// VXLAN decisions as pure plans, as Felix's vxlan_mgr.go makes them: when a pool of a family uses
// VXLAN, the family's device (vxlan.calico, vxlan-v6.calico: VNI 4096, UDP 4789, learning off,
// underlay = the NIC holding the node address) exists with the node's VTEP MAC, is up, has the
// MTU of that NIC minus the encapsulation and exactly one address, the VTEP /32 (/128); each
// remote node gets a permanent neighbour entry (VTEP -> MAC) and an FDB entry (MAC -> node
// address). Kite owns these devices whole: anything else on them goes, but only once in sync.

import type { HostView } from './host.js';
import type { DataplaneConfig, LocalVtep, RemoteVtep } from './inputs.js';
import { NUD_PERMANENT, VXLAN_DEVICE, type Family, type KAddress, type KFdb, type KLink, type KLinkCreate, type KNeighbour } from './types.js';

export { VXLAN_DEVICE, isVxlanDevice } from './types.js';
/** Felix's defaults (VXLANVNI, VXLANPort). */
export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14); IPv6 outer header is 40. */
export const VXLAN_OVERHEAD: Readonly<Record<Family, number>> = { 4: 50, 6: 70 };


export interface VxlanDeviceInput {
  family: Family;
  needed: boolean;
  vtep?: LocalVtep;
  /** The NIC holding the node address, and that address. */
  parent?: { link: KLink; address: string };
  /** Configured MTU, else NIC MTU - overhead. */
  mtu: number;
  link?: KLink;
  addresses: readonly KAddress[];
  allowRemove: boolean;
}

export interface VxlanDevicePlan {
  /** Delete the existing device first (wrong kind or parameters: it is recreated, as Felix does). */
  remove?: { index: number };
  create?: KLinkCreate;
  set?: { index: number; up?: boolean; mtu?: number };
  addAddresses: KAddress[];
  deleteAddresses: KAddress[];
  notes: string[];
}

/** The device MTU: configured, else the underlay NIC's MTU minus the encapsulation. */
export function vxlanMtu(configured: number | undefined, family: Family, host: HostView, cfg: Pick<DataplaneConfig, 'ipv4Address' | 'ipv6Address'>): number {
  if (configured !== undefined) return configured;
  const a = family === 4 ? cfg.ipv4Address : cfg.ipv6Address;
  const nic = a !== undefined ? host.holderOf(a.address) : undefined;
  return (nic?.link.mtu ?? 1500) - VXLAN_OVERHEAD[family];
}

export function planVxlanDevice(t: VxlanDeviceInput): VxlanDevicePlan {
  const name = VXLAN_DEVICE[t.family];
  const plan: VxlanDevicePlan = { addAddresses: [], deleteAddresses: [], notes: [] };
  if (!t.needed) {
    if (t.link !== undefined) {
      if (t.allowRemove) {
        plan.remove = { index: t.link.index };
        plan.notes.push(`no IPv${t.family} pool uses VXLAN: deleting ${name}`);
      } else plan.notes.push(`no IPv${t.family} pool uses VXLAN, but ${name} stays until the datastore and BGP are in sync`);
    }
    return plan;
  }
  if (t.vtep === undefined) {
    plan.notes.push(`an IPv${t.family} pool uses VXLAN but this node has no VTEP address yet: ${name} waits for it`);
    return plan;
  }
  if (t.parent === undefined) {
    plan.notes.push(`an IPv${t.family} pool uses VXLAN but no interface holds the node's IPv${t.family} address: ${name} has no underlay yet`);
    return plan;
  }
  const want: KLinkCreate = {
    name, kind: 'vxlan', mtu: t.mtu, up: true, mac: t.vtep.mac, vni: VXLAN_VNI, port: VXLAN_PORT,
    parent: t.parent.link.index, local: t.parent.address, learning: false,
  };
  if (t.link !== undefined) {
    const bad = mismatch(t.link, want);
    if (bad === undefined) return { ...plan, ...linkAndAddresses(t, t.link, name) };
    plan.remove = { index: t.link.index };
    plan.notes.push(`${name} ${bad}: recreating it`);
  } else plan.notes.push(`an IPv${t.family} pool uses VXLAN and ${name} is missing: creating it (VNI ${VXLAN_VNI}, port ${VXLAN_PORT}, dev ${t.parent.link.name}, mtu ${t.mtu})`);
  plan.create = want;
  return plan;
}

/** What differs between the device and what Kite creates, in words (undefined: nothing that needs a new device). */
function mismatch(l: KLink, want: Extract<KLinkCreate, { kind: 'vxlan' }>): string | undefined {
  if (l.kind !== 'vxlan') return `is a ${l.kind ?? 'non-vxlan'} device`;
  const v = l.vxlan;
  if (v === undefined) return undefined;
  if (v.vni !== want.vni) return `has VNI ${v.vni}, not ${want.vni}`;
  if (v.port !== undefined && v.port !== want.port) return `has port ${v.port}, not ${want.port}`;
  if (v.parent !== undefined && v.parent !== want.parent) return `is on another underlay device (#${v.parent})`;
  if (v.local !== undefined && v.local !== want.local) return `has source address ${v.local}, not ${want.local}`;
  if (l.mac !== undefined && want.mac !== undefined && l.mac.toLowerCase() !== want.mac.toLowerCase()) return `has MAC ${l.mac}, not ${want.mac}`;
  return undefined;
}

function linkAndAddresses(t: VxlanDeviceInput, link: KLink, name: string): Pick<VxlanDevicePlan, 'set' | 'addAddresses' | 'deleteAddresses' | 'notes'> {
  const out: Pick<VxlanDevicePlan, 'set' | 'addAddresses' | 'deleteAddresses' | 'notes'> = { addAddresses: [], deleteAddresses: [], notes: [] };
  const set: { index: number; up?: boolean; mtu?: number } = { index: link.index };
  if (!link.up) set.up = true;
  if (link.mtu !== t.mtu) set.mtu = t.mtu;
  if (set.up !== undefined || set.mtu !== undefined) {
    out.set = set;
    out.notes.push(`${name}:${set.up ? ' set up' : ''}${set.mtu !== undefined ? ` mtu ${link.mtu} -> ${set.mtu}` : ''}`);
  }
  const len = t.family === 4 ? 32 : 128;
  const vtep = t.vtep!.address;
  const have = t.addresses.find((a) => a.address === vtep && a.prefixLen === len);
  if (have === undefined) out.addAddresses.push({ family: t.family, index: link.index, address: vtep, prefixLen: len });
  const extra = t.addresses.filter((a) => a !== have);
  if (extra.length > 0) {
    if (t.allowRemove) out.deleteAddresses.push(...extra);
    else out.notes.push(`${name} has other addresses (${extra.map((a) => `${a.address}/${a.prefixLen}`).join(', ')}); removed once in sync`);
  }
  return out;
}

export interface VxlanEntriesPlan {
  setNeighbours: KNeighbour[];
  deleteNeighbours: KNeighbour[];
  setFdb: KFdb[];
  deleteFdb: KFdb[];
}

/**
 * Neighbour and FDB entries on one vxlan device: one of each per remote VTEP of the family (the
 * calc layer leaves this node's own VTEP out). Entries that differ are replaced; entries nobody wants go once in sync.
 */
export function planVxlanEntries(o: {
  family: Family; index: number; vteps: readonly RemoteVtep[];
  neighbours: readonly KNeighbour[]; fdb: readonly KFdb[]; allowRemove: boolean;
}): VxlanEntriesPlan {
  const plan: VxlanEntriesPlan = { setNeighbours: [], deleteNeighbours: [], setFdb: [], deleteFdb: [] };
  const wantN = new Map<string, KNeighbour>();
  const wantF = new Map<string, KFdb>();
  for (const v of o.vteps) {
    if (v.family !== o.family) continue;
    const mac = v.mac.toLowerCase();
    wantN.set(v.address, { family: o.family, index: o.index, address: v.address, lladdr: mac, state: NUD_PERMANENT });
    wantF.set(mac, { index: o.index, mac, dst: v.nodeAddress, state: NUD_PERMANENT });
  }
  const haveN = new Map(o.neighbours.filter((n) => n.index === o.index && n.family === o.family).map((n) => [n.address, n]));
  for (const [addr, n] of wantN) {
    const h = haveN.get(addr);
    if (h === undefined || h.lladdr?.toLowerCase() !== n.lladdr || (h.state & NUD_PERMANENT) === 0) plan.setNeighbours.push(n);
  }
  if (o.allowRemove) for (const [addr, h] of haveN) if (!wantN.has(addr)) plan.deleteNeighbours.push(h);
  const haveF = new Map(o.fdb.filter((f) => f.index === o.index).map((f) => [f.mac.toLowerCase(), f]));
  for (const [mac, f] of wantF) {
    const h = haveF.get(mac);
    if (h === undefined || h.dst !== f.dst || (h.state & NUD_PERMANENT) === 0) plan.setFdb.push(f);
  }
  // Only entries with a destination: the kernel's own entries (none with learning off) stay.
  if (o.allowRemove) for (const [mac, h] of haveF) if (!wantF.has(mac) && h.dst !== undefined) plan.deleteFdb.push(h);
  return plan;
}
