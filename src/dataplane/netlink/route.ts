// Routes: struct rtmsg + RTA_* attributes (linux/rtnetlink.h), encoded for RTM_NEWROUTE /
// RTM_DELROUTE and decoded from dumps and RTNLGRP_IPV4_ROUTE/IPV6_ROUTE events. Multipath routes
// carry RTA_MULTIPATH, a packed list of struct rtnexthop each followed by its own attributes.

import { AF, RT_SCOPE, RT_TABLE, RTA, RTAX, RTN, RTNH_F, RTPROT, SIZE } from './constants.js';
import type { IpAddr } from '../../net/index.js';
import { formatIp, ipFamily, type IpFamily } from './ip.js';
import { forEachAttr } from './reader.js';
import type { NlWriter } from './writer.js';

export const ROUTE_TYPES = {
  unspec: RTN.UNSPEC,
  unicast: RTN.UNICAST,
  local: RTN.LOCAL,
  broadcast: RTN.BROADCAST,
  anycast: RTN.ANYCAST,
  multicast: RTN.MULTICAST,
  blackhole: RTN.BLACKHOLE,
  unreachable: RTN.UNREACHABLE,
  prohibit: RTN.PROHIBIT,
  throw: RTN.THROW,
} as const;
export type RouteType = keyof typeof ROUTE_TYPES;
const ROUTE_TYPE_NAME: readonly RouteType[] = (Object.keys(ROUTE_TYPES) as RouteType[]).sort(
  (a, b) => ROUTE_TYPES[a] - ROUTE_TYPES[b],
);

export interface Nexthop {
  gateway?: string;
  oif?: number;
  onlink?: boolean;
  /** 1..256; carried as rtnh_hops = weight - 1. */
  weight?: number;
}

export interface Route {
  family: IpFamily;
  /** Network address text ("10.1.2.0", "fd00::"). */
  dst: string;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  type: RouteType;
  gateway?: string;
  oif?: number;
  onlink?: boolean;
  /** RTA_PRIORITY: the kernel's "metric". */
  metric?: number;
  /** RTAX_MTU inside RTA_METRICS. */
  mtu?: number;
  prefsrc?: string;
  multipath?: Nexthop[];
}

/** An address in a request: a value (written as is: the dataplane's routes) or text (parsed). */
export type AddrSpec = string | IpAddr;

export interface NexthopSpec extends Omit<Nexthop, 'gateway'> {
  gateway?: AddrSpec;
}

/** What a caller gives to add/replace/delete: everything but dst/dstLen has a default. */
export type RouteSpec = Partial<Omit<Route, 'dst' | 'gateway' | 'multipath'>> & {
  dst: AddrSpec;
  dstLen: number;
  gateway?: AddrSpec;
  multipath?: NexthopSpec[];
};

const familyOf = (a: AddrSpec): IpFamily => (typeof a === 'string' ? ipFamily(a) : a.family);

/** 0.0.0.0 or ::, the destination of a default route (which needs no RTA_DST). */
function isUnspecified(a: AddrSpec, family: IpFamily): boolean {
  if (typeof a === 'string') return a === (family === 4 ? '0.0.0.0' : '::');
  return a.v6 === undefined ? a.v4 === 0 : a.v6.every((b) => b === 0);
}

export type RouteOp = 'add' | 'replace' | 'delete';

const AF_OF: Record<IpFamily, number> = { 4: AF.INET, 6: AF.INET6 };

/**
 * Write struct rtmsg and attributes for a route request. Defaults follow iproute2 so `ip route`
 * and Kite install identical routes: table main, protocol boot, scope link for a unicast route
 * without gateway, universe otherwise; a delete leaves type/protocol unset and scope NOWHERE
 * (the kernel treats those as wildcards in fib_table_delete), matching only what is given.
 */
export function writeRoute(w: NlWriter, r: RouteSpec, op: RouteOp): void {
  const family = r.family ?? familyOf(r.dst);
  const maxLen = family === 4 ? 32 : 128;
  if (!Number.isInteger(r.dstLen) || r.dstLen < 0 || r.dstLen > maxLen) {
    throw new Error(`invalid prefix length ${r.dstLen} for ${r.dst}`);
  }
  const table = r.table ?? RT_TABLE.MAIN;
  const del = op === 'delete';
  const type = r.type !== undefined ? ROUTE_TYPES[r.type] : del ? RTN.UNSPEC : RTN.UNICAST;
  if (type === undefined) throw new Error(`unknown route type ${String(r.type)}`);
  const hasNexthop = r.gateway !== undefined || (r.multipath !== undefined && r.multipath.length > 0);
  const scope =
    r.scope ?? (del ? RT_SCOPE.NOWHERE : type === RTN.UNICAST && !hasNexthop ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE);
  const protocol = r.protocol ?? (del ? RTPROT.UNSPEC : RTPROT.BOOT);

  w.u8(AF_OF[family]);
  w.u8(r.dstLen);
  w.u8(0); // rtm_src_len
  w.u8(0); // rtm_tos
  w.u8(table < 256 ? table : RT_TABLE.UNSPEC); // tables >= 256 only fit RTA_TABLE
  w.u8(protocol);
  w.u8(scope);
  w.u8(type);
  w.u32(r.onlink ? RTNH_F.ONLINK : 0);

  if (r.dstLen > 0 || !isUnspecified(r.dst, family)) w.attrIp(RTA.DST, family, r.dst);
  w.attrU32(RTA.TABLE, table);
  if (r.gateway !== undefined) writeGateway(w, family, r.gateway);
  if (r.oif !== undefined) w.attrU32(RTA.OIF, r.oif);
  if (r.metric !== undefined) w.attrU32(RTA.PRIORITY, r.metric);
  if (r.prefsrc !== undefined) w.attrIp(RTA.PREFSRC, family, r.prefsrc);
  if (r.mtu !== undefined) {
    const m = w.beginAttr(RTA.METRICS);
    w.attrU32(RTAX.MTU, r.mtu);
    w.endAttr(m);
  }
  if (r.multipath !== undefined && r.multipath.length > 0) {
    const mp = w.beginAttr(RTA.MULTIPATH);
    for (const nh of r.multipath) {
      const weight = nh.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 256) throw new Error(`invalid nexthop weight ${weight}`);
      w.pad();
      const at = w.pos;
      w.u16(0); // rtnh_len, patched below
      w.u8(nh.onlink ? RTNH_F.ONLINK : 0);
      w.u8(weight - 1);
      w.i32(nh.oif ?? 0);
      if (nh.gateway !== undefined) writeGateway(w, family, nh.gateway);
      w.buf.writeUInt16LE(w.pos - at, at);
    }
    w.endAttr(mp);
  }
}

/** RTA_GATEWAY in the route's family; an IPv6 next hop for an IPv4 route (RFC 5549) needs RTA_VIA. */
function writeGateway(w: NlWriter, family: IpFamily, gw: AddrSpec): void {
  const gwFamily = familyOf(gw);
  if (gwFamily === family) {
    w.attrIp(RTA.GATEWAY, family, gw);
    return;
  }
  const a = w.beginAttr(RTA.VIA);
  w.u16(AF_OF[gwFamily]);
  w.ipRaw(gwFamily, gw);
  w.endAttr(a);
}

/** Decode an RTM_NEWROUTE/RTM_DELROUTE body; undefined for families other than IPv4/IPv6. */
export function readRoute(buf: Buffer, body: number, end: number): Route | undefined {
  if (body + SIZE.RTMSG > end) return undefined;
  const af = buf[body]!;
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const family: IpFamily = af === AF.INET ? 4 : 6;
  const alen = family === 4 ? 4 : 16;
  const flags = buf.readUInt32LE(body + 8);
  const route: Route = {
    family,
    dst: family === 4 ? '0.0.0.0' : '::',
    dstLen: buf[body + 1]!,
    table: buf[body + 4]!,
    protocol: buf[body + 5]!,
    scope: buf[body + 6]!,
    type: ROUTE_TYPE_NAME[buf[body + 7]!] ?? 'unspec',
  };
  if (flags & RTNH_F.ONLINK) route.onlink = true;
  forEachAttr(buf, body + SIZE.RTMSG, end, (type, at, len) => {
    switch (type) {
      case RTA.DST:
        if (len === alen) route.dst = formatIp(buf, at, len);
        break;
      case RTA.TABLE:
        if (len >= 4) route.table = buf.readUInt32LE(at);
        break;
      case RTA.GATEWAY:
        route.gateway = formatIp(buf, at, len);
        break;
      case RTA.VIA:
        if (len >= 2) route.gateway = formatIp(buf, at + 2, len - 2);
        break;
      case RTA.OIF:
        if (len >= 4) route.oif = buf.readUInt32LE(at);
        break;
      case RTA.PRIORITY:
        if (len >= 4) route.metric = buf.readUInt32LE(at);
        break;
      case RTA.PREFSRC:
        route.prefsrc = formatIp(buf, at, len);
        break;
      case RTA.METRICS:
        forEachAttr(buf, at, at + len, (mt, mat, mlen) => {
          if (mt === RTAX.MTU && mlen >= 4) route.mtu = buf.readUInt32LE(mat);
        });
        break;
      case RTA.MULTIPATH:
        route.multipath = readNexthops(buf, at, at + len);
        break;
    }
  });
  return route;
}

function readNexthops(buf: Buffer, off: number, end: number): Nexthop[] {
  const out: Nexthop[] = [];
  let p = off;
  while (p + SIZE.RTNEXTHOP <= end) {
    const len = buf.readUInt16LE(p);
    if (len < SIZE.RTNEXTHOP || p + len > end) break;
    const nh: Nexthop = { oif: buf.readInt32LE(p + 4), weight: buf[p + 3]! + 1 };
    if (buf[p + 2]! & RTNH_F.ONLINK) nh.onlink = true;
    forEachAttr(buf, p + SIZE.RTNEXTHOP, p + len, (type, at, alen) => {
      if (type === RTA.GATEWAY) nh.gateway = formatIp(buf, at, alen);
      else if (type === RTA.VIA && alen >= 2) nh.gateway = formatIp(buf, at + 2, alen - 2);
    });
    out.push(nh);
    p += (len + 3) & ~3;
  }
  return out;
}

/** "10.0.0.0/24 via 198.18.0.2 table 254": names a route in errors and logs. */
export function describeRoute(r: RouteSpec): string {
  let s = `${r.type && r.type !== 'unicast' ? r.type + ' ' : ''}${r.dst}/${r.dstLen}`;
  if (r.gateway !== undefined) s += ` via ${r.gateway}`;
  if (r.multipath?.length) s += ` nexthops ${r.multipath.map((n) => n.gateway ?? `if${n.oif}`).join(',')}`;
  if (r.oif !== undefined) s += ` oif ${r.oif}`;
  if (r.onlink) s += ' onlink';
  s += ` table ${r.table ?? RT_TABLE.MAIN}`;
  if (r.protocol !== undefined) s += ` proto ${r.protocol}`;
  if (r.metric !== undefined) s += ` metric ${r.metric}`;
  return s;
}
