// Shared shapes for the path attribute table: flags, codes, the mutable builder the decoders fill,
// and the header writer. One file per attribute (or small group) plugs into table.ts.
import type { AsPathSegment, ErrorAction, PathAttrs } from '../types.js';
import type { BufWriter } from '../writer.js';

/** RFC 4271 §4.3 attribute flag bits. */
export const AttrFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;
/** Well-known mandatory/discretionary and optional attributes: the (Optional|Transitive) bits they must carry. */
export const WELL_KNOWN = AttrFlag.Transitive;
export const OPT_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
export const OPT_NON_TRANSITIVE = AttrFlag.Optional;

export const AttrCode = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7,
  COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH_NLRI: 14, MP_UNREACH_NLRI: 15,
  EXT_COMMUNITIES: 16, AS4_PATH: 17, AS4_AGGREGATOR: 18, LARGE_COMMUNITY: 32, OTC: 35,
} as const;

/** What decoders fill; turned into a frozen PathAttrs by the interner. */
export interface AttrBuilder {
  origin?: number;
  asPath?: AsPathSegment[];
  nextHop?: string;
  nextHopLinkLocal?: string;
  med?: number;
  localPref?: number;
  atomicAggregate: boolean;
  aggregator?: { asn: number; address: string };
  communities?: number[];
  extCommunities?: bigint[];
  largeCommunities?: (readonly [number, number, number])[];
  originatorId?: number;
  clusterList?: number[];
  unknown: { flags: number; code: number; value: Buffer }[];
  /** RFC 6793 §4.2.3 inputs, merged after all attributes are read. */
  as4Path?: AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
}

export const newBuilder = (): AttrBuilder => ({ atomicAggregate: false, unknown: [] });

export interface DecodeCtx { readonly fourOctetAs: boolean; readonly ibgp: boolean }
export interface EncodeCtx { readonly fourOctetAs: boolean; readonly ibgp: boolean; readonly nextHop: boolean }

/** A malformed attribute: NOTIFICATION subcode (RFC 4271 §6.3) and a reason for the log. */
export interface Bad { readonly subcode: number; readonly reason: string }

export interface AttrCodec {
  readonly code: number;
  readonly name: string;
  /** Required Optional|Transitive bits (RFC 4271 §4.3, §5). */
  readonly flags: number;
  /** RFC 7606 §7 action when this attribute is malformed (also used for flag errors, §3(c)). */
  readonly malformed: ErrorAction;
  /** Read value buf[start..end) into b. Returns null when fine (including a silent discard). */
  decode(buf: Buffer, start: number, end: number, b: AttrBuilder, ctx: DecodeCtx): Bad | null;
  /** Write the whole attribute (header and value) when a carries it. */
  encode(a: PathAttrs, w: BufWriter, ctx: EncodeCtx): void;
  /** Text for logs and the CLI, when present. */
  format?(a: PathAttrs): string | undefined;
}

/** Write flags, code and length, choosing the extended length form only when needed (§4.3). */
export function writeAttrHeader(w: BufWriter, flags: number, code: number, len: number): void {
  if (len > 255) { w.u8((flags | AttrFlag.ExtendedLength) & 0xf0); w.u8(code); w.u16(len); }
  else { w.u8(flags & ~AttrFlag.ExtendedLength & 0xf0); w.u8(code); w.u8(len); }
}

export const ipv4At = (buf: Uint8Array, p: number): string => `${buf[p]}.${buf[p + 1]}.${buf[p + 2]}.${buf[p + 3]}`;
