// Links: struct ifinfomsg + IFLA_* attributes (linux/if_link.h) for RTM_NEWLINK/SETLINK/DELLINK
// and link dumps/events. Creating the IPIP device uses IFLA_LINKINFO { IFLA_INFO_KIND "ipip",
// IFLA_INFO_DATA { IFLA_IPTUN_* } } exactly as `ip link add tunl0 type ipip` does; the VXLAN
// device IFLA_INFO_DATA { IFLA_VXLAN_* } as `ip link add vxlan.calico type vxlan id 4096 dstport
// 4789 dev <nic> local <ip> nolearning` does.

import { AF, IFF, IFLA, IFLA_INFO, IFLA_IPTUN, IFLA_VXLAN, OPERSTATE_NAME, SIZE } from './constants.js';
import { formatIp, formatMac, ipFamily, parseMac } from './ip.js';
import { forEachAttr, readString } from './reader.js';
import type { NlWriter } from './writer.js';

export interface Link {
  index: number;
  name: string;
  /** IFF_* flags as the kernel reports them. */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_LOWER_UP: carrier present. */
  lowerUp: boolean;
  mtu: number;
  operstate: string;
  /** ARPHRD_* type (1 ethernet, 768 ipip, 772 loopback). */
  linkType: number;
  mac?: string;
  /** IFLA_INFO_KIND ("veth", "ipip", "bridge"...), absent for physical devices. */
  kind?: string;
  master?: number;
  /** IFLA_LINK: the peer/parent interface index (veth peer, tunnel underlay). */
  parent?: number;
  /** For ipip links: IFLA_IPTUN_LOCAL / REMOTE. */
  tunnel?: { local?: string; remote?: string };
  /** For vxlan links: VNI, UDP port, underlay device and source address. */
  vxlan?: VxlanInfo;
}

export interface VxlanInfo {
  vni: number;
  port?: number;
  /** IFLA_VXLAN_LINK: the underlay device's index. */
  parent?: number;
  /** IFLA_VXLAN_LOCAL / LOCAL6: the source address of encapsulated packets. */
  local?: string;
  learning?: boolean;
}

/** Change an existing link: identify it by index (or by name when index is 0). */
export interface LinkSet {
  index?: number;
  name?: string;
  up?: boolean;
  mtu?: number;
  /** Rename (needs index). */
  newName?: string;
}

/** Create a link: ipip (tunl0) or vxlan (vxlan.calico, vxlan-v6.calico). */
export type LinkCreate = IpipCreate | VxlanCreate;

export interface VxlanCreate {
  name: string;
  kind: 'vxlan';
  mtu?: number;
  up?: boolean;
  /** The device MAC (IFLA_ADDRESS); the kernel picks a random one when absent. */
  mac?: string;
  vni: number;
  port: number;
  /** Underlay device index (IFLA_VXLAN_LINK). */
  parent?: number;
  /** Source address of the outer header (LOCAL for IPv4, LOCAL6 for IPv6). */
  local?: string;
  /** MAC learning; off as Felix has it (the FDB is programmed, never learned). */
  learning?: boolean;
}

export interface IpipCreate {
  name: string;
  kind: 'ipip';
  mtu?: number;
  up?: boolean;
  local?: string;
  remote?: string;
  ttl?: number;
  /** IFLA_IPTUN_PMTUDISC, default on (as iproute2). */
  pmtudisc?: boolean;
}

function writeIfinfo(w: NlWriter, index: number, flags: number, change: number): void {
  w.u8(AF.UNSPEC);
  w.u8(0);
  w.u16(0); // ifi_type
  w.i32(index);
  w.u32(flags);
  w.u32(change);
}

export function writeLinkSet(w: NlWriter, s: LinkSet): void {
  const index = s.index ?? 0;
  if (index === 0 && s.name === undefined) throw new Error('link change needs an index or a name');
  // ifi_change masks which flag bits the kernel applies (do_setlink → dev_change_flags).
  writeIfinfo(w, index, s.up ? IFF.UP : 0, s.up !== undefined ? IFF.UP : 0);
  if (index === 0 && s.name !== undefined) w.attrString(IFLA.IFNAME, s.name);
  else if (s.newName !== undefined) w.attrString(IFLA.IFNAME, s.newName);
  if (s.mtu !== undefined) w.attrU32(IFLA.MTU, s.mtu);
}

export function writeLinkCreate(w: NlWriter, c: LinkCreate): void {
  writeIfinfo(w, 0, c.up ? IFF.UP : 0, c.up ? IFF.UP : 0);
  w.attrString(IFLA.IFNAME, c.name);
  if (c.mtu !== undefined) w.attrU32(IFLA.MTU, c.mtu);
  if (c.kind === 'vxlan') {
    writeVxlan(w, c);
    return;
  }
  const info = w.beginAttr(IFLA.LINKINFO);
  w.attrString(IFLA_INFO.KIND, c.kind);
  const data = w.beginAttr(IFLA_INFO.DATA);
  if (c.local !== undefined) w.attrIp(IFLA_IPTUN.LOCAL, 4, c.local);
  if (c.remote !== undefined) w.attrIp(IFLA_IPTUN.REMOTE, 4, c.remote);
  if (c.ttl !== undefined) w.attrU8(IFLA_IPTUN.TTL, c.ttl);
  w.attrU8(IFLA_IPTUN.PMTUDISC, c.pmtudisc === false ? 0 : 1);
  w.endAttr(data);
  w.endAttr(info);
}

function writeVxlan(w: NlWriter, c: VxlanCreate): void {
  if (c.mac !== undefined) w.attrBytes(IFLA.ADDRESS, parseMac(c.mac));
  const info = w.beginAttr(IFLA.LINKINFO);
  w.attrString(IFLA_INFO.KIND, 'vxlan');
  const data = w.beginAttr(IFLA_INFO.DATA);
  w.attrU32(IFLA_VXLAN.ID, c.vni);
  if (c.parent !== undefined) w.attrU32(IFLA_VXLAN.LINK, c.parent);
  if (c.local !== undefined) {
    const fam = ipFamily(c.local);
    w.attrIp(fam === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, fam, c.local);
  }
  w.attrU8(IFLA_VXLAN.LEARNING, c.learning === true ? 1 : 0);
  // The UDP port is in network byte order (nla_get_be16 in vxlan_nl2conf).
  w.attrBytes(IFLA_VXLAN.PORT, Uint8Array.of((c.port >> 8) & 0xff, c.port & 0xff));
  w.endAttr(data);
  w.endAttr(info);
}

/** RTM_DELLINK / RTM_GETLINK by index or name. */
export function writeLinkRef(w: NlWriter, ref: { index?: number; name?: string }): void {
  writeIfinfo(w, ref.index ?? 0, 0, 0);
  if (!ref.index && ref.name !== undefined) w.attrString(IFLA.IFNAME, ref.name);
}

export function readLink(buf: Buffer, body: number, end: number): Link | undefined {
  if (body + SIZE.IFINFOMSG > end) return undefined;
  const flags = buf.readUInt32LE(body + 8);
  const link: Link = {
    index: buf.readInt32LE(body + 4),
    name: '',
    flags,
    up: (flags & IFF.UP) !== 0,
    lowerUp: (flags & IFF.LOWER_UP) !== 0,
    mtu: 0,
    operstate: 'unknown',
    linkType: buf.readUInt16LE(body + 2),
  };
  forEachAttr(buf, body + SIZE.IFINFOMSG, end, (type, at, len) => {
    switch (type) {
      case IFLA.IFNAME:
        link.name = readString(buf, at, len);
        break;
      case IFLA.MTU:
        if (len >= 4) link.mtu = buf.readUInt32LE(at);
        break;
      case IFLA.ADDRESS:
        link.mac = len === 6 ? formatMac(buf, at, len) : formatIp(buf, at, len);
        break;
      case IFLA.OPERSTATE:
        if (len >= 1) link.operstate = OPERSTATE_NAME[buf[at]!] ?? String(buf[at]);
        break;
      case IFLA.MASTER:
        if (len >= 4) link.master = buf.readUInt32LE(at);
        break;
      case IFLA.LINK:
        if (len >= 4) link.parent = buf.readUInt32LE(at);
        break;
      case IFLA.LINKINFO:
        forEachAttr(buf, at, at + len, (it, iat, ilen) => {
          if (it === IFLA_INFO.KIND) link.kind = readString(buf, iat, ilen);
          else if (it === IFLA_INFO.DATA) readTunnel(buf, iat, iat + ilen, link);
        });
        break;
    }
  });
  return link;
}

function readTunnel(buf: Buffer, off: number, end: number, link: Link): void {
  // IFLA_INFO_DATA's layout depends on the kind; it comes after KIND in kernel dumps, but
  // decode the IPIP fields only once we know this is an ipip link.
  const t: { local?: string; remote?: string } = {};
  forEachAttr(buf, off, end, (type, at, len) => {
    if (len !== 4) return;
    if (type === IFLA_IPTUN.LOCAL) t.local = formatIp(buf, at, 4);
    else if (type === IFLA_IPTUN.REMOTE) t.remote = formatIp(buf, at, 4);
  });
  if (link.kind === 'ipip') link.tunnel = t;
  else if (link.kind === 'vxlan') link.vxlan = readVxlan(buf, off, end);
}

function readVxlan(buf: Buffer, off: number, end: number): VxlanInfo {
  const v: VxlanInfo = { vni: 0 };
  forEachAttr(buf, off, end, (type, at, len) => {
    if (type === IFLA_VXLAN.ID && len >= 4) v.vni = buf.readUInt32LE(at);
    else if (type === IFLA_VXLAN.PORT && len >= 2) v.port = buf.readUInt16BE(at);
    else if (type === IFLA_VXLAN.LINK && len >= 4) v.parent = buf.readUInt32LE(at);
    else if ((type === IFLA_VXLAN.LOCAL && len === 4) || (type === IFLA_VXLAN.LOCAL6 && len === 16)) v.local = formatIp(buf, at, len);
    else if (type === IFLA_VXLAN.LEARNING && len >= 1) v.learning = buf[at] !== 0;
  });
  return v;
}

export function describeLink(s: { index?: number; name?: string; newName?: string }): string {
  return s.name !== undefined ? `link ${s.name}` : `link #${s.index}`;
}
