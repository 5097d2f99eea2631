// Types shared by the export and import policies: what a route and a peer look like to policy,
// what a decision says, and which part of the datastore's BGPFilter (src/datastore/bgpfilter.ts)
// policy compiles.
import type { AsPathSegment } from '../bgp/wire/types.js';
import type { Family } from '../net/index.js';
import type { BGPFilter as BGPFilterResource } from '../datastore/resources.js';

/** Where a route came from, in BIRD's terms (`source`): static, kernel (`RTS_INHERIT`) or BGP. */
export const RouteSource = {
  /** An affine block of this node, originated from a blackhole route (BIRD protocol static). */
  LocalBlock: 'local-block',
  /** Another locally originated route: service CIDRs, service /32s, static routes. */
  LocalStatic: 'local-static',
  /** Learned from the kernel (workload /32s on cali*, tunnel routes); carries `interface`. */
  Kernel: 'kernel',
  /** Learned from a BGP peer (BIRD `source = RTS_BGP`). */
  Peer: 'peer',
} as const;
export type RouteSource = (typeof RouteSource)[keyof typeof RouteSource];

export const PeerType = { EBGP: 'eBGP', IBGP: 'iBGP' } as const;
export type PeerType = (typeof PeerType)[keyof typeof PeerType];

/**
 * The attributes policy reads. A decoded PathAttrs satisfies this; local routes may leave it out
 * (an empty AS path, no communities).
 */
export interface PolicyAttrs {
  readonly asPath: readonly AsPathSegment[];
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
  readonly localPref?: number;
}

export interface RouteInfo {
  /** Address family (a BGP route's AFI/SAFI key maps to it through familyOfKey). */
  family: Family;
  /** Prefix bytes, host bits zero; may be shorter than the address (bytes past the end read as 0). */
  bytes: Uint8Array;
  /** Prefix length. */
  len: number;
  attrs?: PolicyAttrs;
  source: RouteSource;
  /** For peer routes: the kind of session it was learned on. */
  fromPeerType?: PeerType;
  /** For kernel routes: the outgoing interface (cali1234, tunl0, vxlan.calico). */
  interface?: string;
  /**
   * Kernel route priority (BIRD krt_metric) when known. BGPFilter `priority` matches against it;
   * routes without one count as Calico's normal route priority, 1024.
   */
  priority?: number;
}

export interface PeerInfo {
  /** Same AS on both ends (Calico's `is_same_as`): BGPFilter peerType iBGP, and the iBGP-only rules. */
  ibgp: boolean;
  /** Peer address, for reasons and logs. */
  address: string;
  /** BGPFilter names in the order the BGPPeer lists them. */
  filters: readonly string[];
}

/** Decisions may be shared between calls (precomputed per rule): treat them as read-only. */
export interface Rejected { readonly accept: false; readonly reason: string }
export interface Accepted {
  readonly accept: true;
  /** Why, in words ("own block 10.0.0.0/26", "BGPFilter \"f\" exportV4 rule 1 (Accept)"). */
  readonly reason: string;
  /** Standard communities to add (RFC 1997 values, high 16 bits ASN), in order, no duplicates. */
  communities?: readonly number[];
  /** Large communities to add (RFC 8092), in order, no duplicates. */
  largeCommunities?: readonly (readonly [number, number, number])[];
  /** ASNs to put in front of the AS path, leftmost first (as written in prependASPath.prefix). */
  prependAs?: readonly number[];
  /** Priority set by a setPriority operation (BIRD krt_metric). */
  priority?: number;
}
export type Decision = Rejected | Accepted;

/**
 * A BGPFilter as the datastore parsed and validated it: policy reads only its name and rules, so a
 * resource fits, and so does `{ metadata: { name }, spec }`.
 */
export type BGPFilter = Pick<BGPFilterResource, 'spec'> & { readonly metadata: { readonly name: string } };
