// Numbers of the rtnetlink protocol (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
// linux/if_addr.h, linux/neighbour.h, linux/if_tunnel.h). Kernel ABI: these never change.
// Named `as const` objects so the codec tables and error messages can use the names.

export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10, PACKET: 17 } as const;

/** nlmsghdr types below 16 are netlink control messages (linux/netlink.h). */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** nlmsghdr flags (linux/netlink.h). GET requests use ROOT/MATCH; NEW requests REPLACE/EXCL/CREATE/APPEND. */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  /** On an NLMSG_ERROR: the echoed request was cut to its header (NETLINK_CAP_ACK). */
  CAPPED: 0x100,
  /** On an NLMSG_ERROR: extended-ACK attributes follow (NETLINK_EXT_ACK). */
  ACK_TLVS: 0x200,
} as const;

/** Extended-ACK attributes after an NLMSG_ERROR (linux/netlink.h, enum nlmsgerr_attrs). */
export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
} as const;

export const RTM_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]),
);

/** Route attributes (linux/rtnetlink.h, enum rtattr_type_t). */
export const RTA = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  FLOW: 11,
  CACHEINFO: 12,
  TABLE: 15,
  MARK: 16,
  VIA: 18,
  PREF: 20,
  EXPIRES: 23,
  NH_ID: 30,
} as const;

/** Route metrics nested in RTA_METRICS (linux/rtnetlink.h, RTAX_*). */
export const RTAX = { LOCK: 1, MTU: 2, WINDOW: 3, ADVMSS: 8, HOPLIMIT: 10, INITCWND: 11 } as const;

/** rtm_type (linux/rtnetlink.h, RTN_*). */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;

/** rtm_protocol (linux/rtnetlink.h RTPROT_*, values above 4 are "who installed it" tags). */
export const RTPROT = {
  UNSPEC: 0,
  REDIRECT: 1,
  KERNEL: 2,
  BOOT: 3,
  STATIC: 4,
  RA: 9,
  DHCP: 16,
  BIRD: 12,
} as const;

/** rtm_scope (linux/rtnetlink.h, enum rt_scope_t). */
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** rtm_flags and rtnh_flags (linux/rtnetlink.h, RTNH_F_*). */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16, UNRESOLVED: 32, TRAP: 64 } as const;

/** Link attributes (linux/if_link.h, IFLA_*). */
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  TXQLEN: 13,
  OPERSTATE: 16,
  LINKMODE: 17,
  LINKINFO: 18,
  IFALIAS: 20,
  EXT_MASK: 29,
  CARRIER: 33,
} as const;

/** Nested in IFLA_LINKINFO (linux/if_link.h, IFLA_INFO_*). */
export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4 } as const;

/** Nested in IFLA_INFO_DATA for ipip/sit (linux/if_tunnel.h, IFLA_IPTUN_*). */
export const IFLA_IPTUN = { LINK: 1, LOCAL: 2, REMOTE: 3, TTL: 4, TOS: 5, PMTUDISC: 10 } as const;

/** Nested in IFLA_INFO_DATA for vxlan (linux/if_link.h, IFLA_VXLAN_*); PORT is big-endian. */
export const IFLA_VXLAN = { ID: 1, LINK: 3, LOCAL: 4, TTL: 5, LEARNING: 7, PORT: 15, LOCAL6: 17 } as const;

/** Interface flags (linux/if.h, IFF_*). */
export const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, LOWER_UP: 0x10000 } as const;

/** IFLA_OPERSTATE values (RFC 2863 ifOperStatus, linux/if.h IF_OPER_*). */
export const OPERSTATE_NAME = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

/** Address attributes (linux/if_addr.h, IFA_*). */
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, CACHEINFO: 6, FLAGS: 8 } as const;

/** Address flags (linux/if_addr.h, IFA_F_*). */
export const IFA_F = { SECONDARY: 0x1, NODAD: 0x2, DADFAILED: 0x8, PERMANENT: 0x80, NOPREFIXROUTE: 0x200 } as const;

/** Neighbour attributes (linux/neighbour.h, NDA_*). */
export const NDA = { DST: 1, LLADDR: 2, CACHEINFO: 3, PROBES: 4 } as const;

/** Neighbour states (linux/neighbour.h, NUD_*). */
export const NUD = {
  INCOMPLETE: 0x1,
  REACHABLE: 0x2,
  STALE: 0x4,
  DELAY: 0x8,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;

export const NTF = { USE: 0x1, SELF: 0x2, MASTER: 0x4, PROXY: 0x8, ROUTER: 0x80 } as const;

/** Multicast groups for monitoring (linux/rtnetlink.h, enum rtnetlink_groups). */
export const RTNLGRP = {
  link: 1,
  neigh: 3,
  'ipv4-addr': 5,
  'ipv4-route': 7,
  'ipv6-addr': 9,
  'ipv6-route': 11,
} as const;
export type MonitorGroup = keyof typeof RTNLGRP;

/** Fixed header sizes (struct nlmsghdr, rtmsg, ifinfomsg, ifaddrmsg, ndmsg, rtnexthop). */
export const SIZE = { NLMSGHDR: 16, RTMSG: 12, IFINFOMSG: 16, IFADDRMSG: 8, NDMSG: 12, RTNEXTHOP: 8, RTATTR: 4 } as const;
