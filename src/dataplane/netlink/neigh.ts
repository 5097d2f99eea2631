// Neighbours (ARP/NDP entries): struct ndmsg + NDA_* attributes (linux/neighbour.h). Kite writes
// permanent entries for workload MACs and remote VTEPs; RTM_NEWNEIGH with CREATE|REPLACE makes
// that idempotent. FDB entries are the same message in family AF_BRIDGE with NTF_SELF (the vxlan
// device's own table), as `bridge fdb replace <mac> dev vxlan.calico dst <node IP> self permanent`.

import { AF, NDA, NTF, NUD, SIZE } from './constants.js';
import { formatIp, formatMac, ipFamily, parseMac, type IpFamily } from './ip.js';
import { forEachAttr } from './reader.js';
import type { NlWriter } from './writer.js';

export interface Neighbour {
  family: IpFamily;
  index: number;
  address: string;
  lladdr?: string;
  /** NUD_* bits; NUD.PERMANENT (0x80) for static entries. */
  state: number;
  flags: number;
}

export type NeighbourSpec = Partial<Neighbour> & { index: number; address: string };

export function writeNeighbour(w: NlWriter, n: NeighbourSpec): void {
  const family = n.family ?? ipFamily(n.address);
  w.u8(family === 4 ? AF.INET : AF.INET6);
  w.u8(0);
  w.u16(0);
  w.i32(n.index);
  w.u16(n.state ?? NUD.PERMANENT);
  w.u8(n.flags ?? 0);
  w.u8(0); // ndm_type
  w.attrIp(NDA.DST, family, n.address);
  if (n.lladdr !== undefined) w.attrBytes(NDA.LLADDR, parseMac(n.lladdr));
}

export function readNeighbour(buf: Buffer, body: number, end: number): Neighbour | undefined {
  if (body + SIZE.NDMSG > end) return undefined;
  const af = buf[body]!;
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const n: Neighbour = {
    family: af === AF.INET ? 4 : 6,
    index: buf.readInt32LE(body + 4),
    state: buf.readUInt16LE(body + 8),
    flags: buf[body + 10]!,
    address: '',
  };
  forEachAttr(buf, body + SIZE.NDMSG, end, (type, at, len) => {
    if (type === NDA.DST) n.address = formatIp(buf, at, len);
    else if (type === NDA.LLADDR) n.lladdr = formatMac(buf, at, len);
  });
  return n;
}

export function describeNeighbour(n: NeighbourSpec): string {
  return `neighbour ${n.address}${n.lladdr ? ' lladdr ' + n.lladdr : ''} on link #${n.index}`;
}

/** A forwarding-database entry on a vxlan device: frames for `mac` go to the underlay address `dst`. */
export interface FdbEntry {
  index: number;
  mac: string;
  /** The remote node's underlay address (absent on entries the kernel keeps for itself). */
  dst?: string;
  state: number;
  flags: number;
}

export type FdbSpec = Partial<FdbEntry> & { index: number; mac: string };

export function writeFdb(w: NlWriter, f: FdbSpec): void {
  w.u8(AF.BRIDGE);
  w.u8(0);
  w.u16(0);
  w.i32(f.index);
  w.u16(f.state ?? NUD.PERMANENT);
  w.u8(f.flags ?? NTF.SELF);
  w.u8(0);
  w.attrBytes(NDA.LLADDR, parseMac(f.mac));
  if (f.dst !== undefined) w.attrIp(NDA.DST, ipFamily(f.dst), f.dst);
}

export function readFdb(buf: Buffer, body: number, end: number): FdbEntry | undefined {
  if (body + SIZE.NDMSG > end || buf[body] !== AF.BRIDGE) return undefined;
  const f: FdbEntry = { index: buf.readInt32LE(body + 4), state: buf.readUInt16LE(body + 8), flags: buf[body + 10]!, mac: '' };
  forEachAttr(buf, body + SIZE.NDMSG, end, (type, at, len) => {
    if (type === NDA.DST && (len === 4 || len === 16)) f.dst = formatIp(buf, at, len);
    else if (type === NDA.LLADDR && len === 6) f.mac = formatMac(buf, at, len);
  });
  return f;
}

export function describeFdb(f: FdbSpec): string {
  return `fdb ${f.mac}${f.dst ? ' dst ' + f.dst : ''} on link #${f.index}`;
}
