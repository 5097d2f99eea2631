// Neighbours (ARP/NDP entries): struct ndmsg + NDA_* attributes (linux/neighbour.h). Kite writes
// permanent entries for workload MACs; RTM_NEWNEIGH with CREATE|REPLACE makes that idempotent.

import { AF, NDA, NUD, SIZE } from './constants.js';
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
