// The narrow interfaces between the dataplane core and the outside world: kernel objects as the
// core sees them, the kernel operations it needs, /proc/sys writes, the clock and the log.
// Every side effect goes through one of these so tests drive the core with recording fakes.
// The shapes are structurally compatible with src/dataplane/netlink (kernel.ts adapts).

import type { IpAddr } from '../net/index.js';

export type Family = 4 | 6;

/** rtm_type names, as the netlink binding spells them. */
export type RouteType =
  | 'unspec' | 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

/** RT_SCOPE_* (linux/rtnetlink.h). */
export const Scope = { Universe: 0, Link: 253, Host: 254 } as const;

/** RT_TABLE_MAIN: Kite programs the main table unless told otherwise. */
export const MAIN_TABLE = 254;

/** Felix's VXLAN devices per family (vxlan.ts keeps them; host.ts leaves their addresses out of the host's). */
export const VXLAN_DEVICE: Readonly<Record<Family, string>> = { 4: 'vxlan.calico', 6: 'vxlan-v6.calico' };
export const isVxlanDevice = (name: string): boolean => name === VXLAN_DEVICE[4] || name === VXLAN_DEVICE[6];

/** NUD_PERMANENT (linux/neighbour.h): a static neighbour entry the kernel never expires. */
export const NUD_PERMANENT = 0x80;

export interface KNexthop {
  gateway?: IpAddr;
  oif?: number;
  onlink?: boolean;
  /** 1..256, default 1. */
  weight?: number;
}

/** A kernel route as dumped or as requested. */
export interface KRoute {
  family: Family;
  /** Network address (10.244.1.0, fd00::): a value, written to netlink without text. */
  dst: IpAddr;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  type: RouteType;
  gateway?: IpAddr;
  oif?: number;
  onlink?: boolean;
  /** RTA_PRIORITY. The kernel omits 0 for IPv4 and uses 1024 for IPv6 routes given none. */
  metric?: number;
  mtu?: number;
  multipath?: KNexthop[];
}

/**
 * What a delete names: the kernel key plus the protocol the route had when we saw it, so a route
 * someone replaced under us in the meantime (another protocol) does not match and survives
 * (fib_table_delete and ip6_route_del both skip routes whose protocol differs).
 */
export interface RouteDelete {
  family: Family;
  dst: IpAddr;
  dstLen: number;
  table: number;
  protocol: number;
  type: RouteType;
  metric?: number;
}

export interface KLink {
  index: number;
  name: string;
  /** IFF_UP. */
  up: boolean;
  mtu: number;
  /** IFLA_INFO_KIND ("ipip", "veth"…). */
  kind?: string;
  /** Hardware address ("66:3e:…"), for devices that have one. */
  mac?: string;
  /** For vxlan devices: what the kernel says they were created with. */
  vxlan?: { vni: number; port?: number; parent?: number; local?: string; learning?: boolean };
}

/** A link to create: tunl0 (ipip) or a VXLAN device. */
export type KLinkCreate =
  | { name: string; kind: 'ipip'; mtu?: number; up?: boolean }
  | { name: string; kind: 'vxlan'; mtu?: number; up?: boolean; mac?: string; vni: number; port: number; parent?: number; local?: string; learning?: boolean };

/** An FDB entry on a vxlan device: frames for `mac` are sent to the underlay address `dst`. */
export interface KFdb {
  index: number;
  mac: string;
  dst?: string;
  /** NUD_* bits. */
  state: number;
}

export interface KAddress {
  family: Family;
  index: number;
  address: string;
  prefixLen: number;
}

export interface KNeighbour {
  family: Family;
  index: number;
  address: string;
  lladdr?: string;
  /** NUD_* bits. */
  state: number;
}

export type OpResult = { ok: true } | { ok: false; errno: number; code: string; message: string };

/** The kernel operations the dataplane needs; the netlink `Netlink` client provides all of them. */
export interface KernelOps {
  dumpRoutes(filter: { table: number }): Promise<KRoute[]>;
  addRoutes(routes: readonly KRoute[]): Promise<OpResult[]>;
  replaceRoutes(routes: readonly KRoute[]): Promise<OpResult[]>;
  deleteRoutes(routes: readonly RouteDelete[]): Promise<OpResult[]>;
  dumpLinks(): Promise<KLink[]>;
  createLinks(links: readonly KLinkCreate[]): Promise<OpResult[]>;
  deleteLinks(links: readonly { index: number }[]): Promise<OpResult[]>;
  setLinks(sets: readonly { index: number; up?: boolean; mtu?: number }[]): Promise<OpResult[]>;
  dumpAddresses(): Promise<KAddress[]>;
  addAddresses(addrs: readonly KAddress[]): Promise<OpResult[]>;
  deleteAddresses(addrs: readonly KAddress[]): Promise<OpResult[]>;
  dumpNeighbours(): Promise<KNeighbour[]>;
  setNeighbours(ns: readonly KNeighbour[]): Promise<OpResult[]>;
  deleteNeighbours(ns: readonly KNeighbour[]): Promise<OpResult[]>;
  dumpFdb(filter: { index: number }): Promise<KFdb[]>;
  setFdb(fs: readonly KFdb[]): Promise<OpResult[]>;
  deleteFdb(fs: readonly KFdb[]): Promise<OpResult[]>;
}

/** Writes under /proc/sys; `path` uses '/' separators ("net/ipv4/conf/cali12/proxy_arp"). */
export interface Sysctl {
  write(path: string, value: string): Promise<void>;
}

export type { Clock, TimerHandle } from '../clock.js';

/** The pino subset the dataplane logs through. */
export interface DpLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
