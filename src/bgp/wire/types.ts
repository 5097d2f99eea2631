// Message and attribute types shared by the wire codec and its users (session, RIB, API).
// The codec (src/bgp/wire/*) is pure: bytes in, these values out, and back. No I/O here.
import type { Family } from '../../net/index.js';
import { ErrorAction, type WireError } from './errors.js';

export const MsgType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

export const Afi = { IPv4: 1, IPv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;
/** A family key: afi << 8 | safi (IPv4 unicast = 0x101, IPv6 unicast = 0x201). */
export type FamilyKey = number;
export const familyKey = (afi: number, safi: number): FamilyKey => (afi << 8) | safi;
export const IPV4_UNICAST: FamilyKey = 0x101;
export const IPV6_UNICAST: FamilyKey = 0x201;

/** The one AFI ↔ address-family mapping (RFC 4760 AFI 1 IPv4, 2 IPv6); undefined for other AFIs. */
export const familyOfKey = (key: FamilyKey): Family | undefined => ((key >> 8) === Afi.IPv4 ? 4 : (key >> 8) === Afi.IPv6 ? 6 : undefined);
/** The unicast family key of an address family: what the RIB and dataplane routes are keyed by on the wire. */
export const unicastKey = (f: Family): FamilyKey => (f === 4 ? IPV4_UNICAST : IPV6_UNICAST);
/** A family key as people write it, for logs and NOTIFICATION texts. */
export const familyName = (k: FamilyKey): string =>
  k === IPV4_UNICAST ? 'IPv4 unicast' : k === IPV6_UNICAST ? 'IPv6 unicast' : `AFI ${k >> 8} SAFI ${k & 0xff}`;

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** RFC 4271 §4.3 AS_PATH segment types, plus RFC 5065 confederation segments. */
export const SegType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;
export interface AsPathSegment { readonly type: number; readonly asns: readonly number[] }

/** RFC 5492 capabilities, decoded. Unknown capabilities are kept raw. */
export interface Capabilities {
  /** Multiprotocol (RFC 4760): family keys announced. */
  multiprotocol: FamilyKey[];
  /** RFC 6793: our/their 4-octet AS number, when announced. */
  fourOctetAs?: number;
  routeRefresh: boolean;          // RFC 2918 (code 2)
  enhancedRouteRefresh: boolean;  // RFC 7313 (code 70)
  extendedMessage: boolean;       // RFC 8654 (code 6)
  /** RFC 4724 graceful restart (code 64). */
  gracefulRestart?: { restartState: boolean; notification: boolean; restartTime: number; families: { family: FamilyKey; forwardingPreserved: boolean }[] };
  /** RFC 7911 ADD-PATH (code 69): per family, 1 receive, 2 send, 3 both. */
  addPath: { family: FamilyKey; mode: 1 | 2 | 3 }[];
  unknown: { code: number; value: Buffer }[];
}

export interface OpenMessage {
  type: 1;
  version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS 23456 when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  bgpId: number;
  capabilities: Capabilities;
}

export interface NotificationMessage {
  type: 3;
  code: number;
  subcode: number;
  data: Buffer;
  /** RFC 8203/9003 shutdown communication, when code 6 subcode 2 or 4 carries one (inside a Hard Reset too). */
  shutdownMessage?: string;
  /** RFC 8538 §3: a Cease/Hard Reset (6/9) carries the NOTIFICATION it stands for in its data. */
  hardReset?: { code: number; subcode: number; data: Buffer };
}

export interface KeepaliveMessage { type: 4 }

export interface RouteRefreshMessage {
  type: 5;
  afi: number;
  safi: number;
  /** RFC 7313: 0 normal request, 1 BoRR, 2 EoRR. */
  subtype: number;
}

/**
 * A run of NLRI as it sits in the message: no object per prefix. Iterate with
 * forEachPrefix(view, cb) from nlri.ts.
 */
export interface NlriView {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  readonly family: FamilyKey;
  readonly addPath: boolean;
}

/** Decoded, interned path attributes (everything but MP_REACH/MP_UNREACH NLRI). */
export interface PathAttrs {
  /** Interning id: equal attribute sets from the same Interner share the object and id. */
  readonly id: number;
  readonly origin: number;
  /** Merged AS_PATH (AS4_PATH already folded in per RFC 6793 §4.2.3), in 4-octet ASNs. */
  readonly asPath: readonly AsPathSegment[];
  /** IPv4 NEXT_HOP (attr 3) or the MP_REACH next hop, as text ("" when none). */
  readonly nextHop: string;
  /** RFC 2545: an IPv6 link-local next hop carried after the global one. */
  readonly nextHopLinkLocal?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate: boolean;
  readonly aggregator?: { asn: number; address: string };
  readonly communities?: readonly number[];
  readonly extCommunities?: readonly bigint[];
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
  readonly originatorId?: number;
  readonly clusterList?: readonly number[];
  /** Unknown optional transitive attributes, passed on with the Partial bit set. */
  readonly unknown: readonly { flags: number; code: number; value: Buffer }[];
  /**
   * Local, never on the wire: the kernel route priority (metric) a BGPFilter import rule set with
   * setPriority (Calico's krt_metric). Part of the interning key, so it never merges sets.
   */
  readonly kernelPriority?: number;
}

export interface UpdateMessage {
  type: 2;
  /** IPv4 withdrawn routes (the classic field). */
  withdrawn: NlriView | null;
  /** IPv4 NLRI (the classic field). */
  nlri: NlriView | null;
  /** MP_REACH_NLRI NLRI; next hop is in attrs.nextHop. */
  mpReach: NlriView | null;
  mpUnreach: NlriView | null;
  /** null when the UPDATE carries no path attributes (pure withdraw or End-of-RIB). */
  attrs: PathAttrs | null;
  /**
   * The attributes of the classic NLRI when the UPDATE also carries MP_REACH_NLRI: the same set
   * with the NEXT_HOP attribute's address (RFC 4760 §3: NEXT_HOP goes with the NLRI field, the
   * MP_REACH_NLRI next hop with its own NLRI), where attrs has MP_REACH_NLRI's. Absent otherwise.
   */
  classicAttrs?: PathAttrs;
  /** RFC 4724 End-of-RIB marker for this family, when the UPDATE is one. */
  endOfRib?: FamilyKey;
  /** RFC 7606: strongest action required by the errors found (None when clean). */
  action: ErrorAction;
  errors: readonly WireError[];
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

// RFC 7606 actions are defined with the errors that carry them (errors.ts imports nothing back).
export { ErrorAction };

/** Session context the decoder needs (negotiated once the OPENs are exchanged). */
export interface CodecContext {
  /** Both sides announced 4-octet AS (RFC 6793). */
  fourOctetAs: boolean;
  /** Families for which we receive ADD-PATH path identifiers. */
  addPathRx: ReadonlySet<FamilyKey>;
  /** Families for which we send path identifiers. */
  addPathTx: ReadonlySet<FamilyKey>;
  /** RFC 8654 negotiated: 65535-byte messages. */
  extendedMessage: boolean;
  /** The session is iBGP (affects LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST handling, RFC 7606 §7). */
  ibgp: boolean;
  /**
   * The families both sides announced, when known: MP_REACH/MP_UNREACH_NLRI of any other family
   * are ignored unread, as for a family Kite does not speak (RFC 4760 §8 with RFC 5492).
   */
  families?: readonly FamilyKey[];
}
