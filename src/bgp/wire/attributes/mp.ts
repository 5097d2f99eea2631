// MP_REACH_NLRI (14) and MP_UNREACH_NLRI (15), RFC 4760 §3-4, IPv6 next hops per RFC 2545 §3.
// Errors here disable the AFI/SAFI when it can be read, else reset the session (RFC 7606 §7.11, §5.3).
import { ErrorAction, IPV4_UNICAST, IPV6_UNICAST, familyKey, type CodecContext, type FamilyKey, type NlriView } from '../types.js';
import { ErrCode, UpdateSub, WireError } from '../errors.js';
import { checkNlri, maxBitsForFamily } from '../nlri.js';
import { formatIpv6 } from '../../../net/index.js';
import { ipv4At } from './common.js';
import { badIpv4NextHop } from './next-hop.js';

export const MP_FLAGS = 0x80; // optional, non-transitive

export interface MpReach {
  view: NlriView;
  nextHop: string;
  nextHopLinkLocal?: string;
  /** The AFI, SAFI, next hop length and next hop bytes (part of the interning key). */
  nhStart: number;
  nhEnd: number;
  /**
   * Why the (global) next hop can never be one, when it cannot: RFC 4760 §3 makes it the next hop
   * of RFC 4271 §6.3, which must be a valid host address. The announced NLRI are treated as
   * withdrawn (as BIRD does; RFC 7606 §7.3 by analogy), the session stays up.
   */
  badNextHop?: string;
}

/** As badIpv4NextHop, for the 16 bytes of an IPv6 global next hop (RFC 4291 §2.5.2, §2.7). */
function badIpv6NextHop(buf: Uint8Array, at: number): string | null {
  if (buf[at] === 0xff) return 'a multicast address';
  for (let i = 0; i < 16; i++) if (buf[at + i] !== 0) return null;
  return 'the unspecified address';
}

const SUPPORTED = new Set<FamilyKey>([IPV4_UNICAST, IPV6_UNICAST]);
const speaks = (family: FamilyKey, ctx: CodecContext): boolean =>
  SUPPORTED.has(family) && (ctx.families === undefined || ctx.families.includes(family));

function mpError(family: FamilyKey | null, attr: Buffer, reason: string): WireError {
  return new WireError(ErrCode.UpdateMessage, UpdateSub.OptionalAttributeError, Buffer.from(attr),
    family === null ? ErrorAction.SessionReset : ErrorAction.AfiSafiDisable, reason);
}

/**
 * Parse an MP_REACH_NLRI value buf[s..e). `attr` is the whole attribute (for NOTIFICATION data).
 * Returns null for a family we do not speak (RFC 4760 §7 leaves those to be ignored).
 */
export function parseMpReach(buf: Buffer, s: number, e: number, attr: Buffer, ctx: CodecContext): MpReach | WireError | null {
  if (e - s < 5) return mpError(e - s >= 3 ? familyKey(buf.readUInt16BE(s), buf[s + 2]!) : null, attr, 'MP_REACH_NLRI too short');
  const family = familyKey(buf.readUInt16BE(s), buf[s + 2]!);
  // Not ours, or not negotiated: ignored unread. BIRD 2.0.12 and FRR 8.4.4 do not reset over a
  // malformed MP_REACH_NLRI of a family the session does not carry (issue 11, differential check).
  if (!speaks(family, ctx)) return null;
  const nhLen = buf[s + 3]!;
  const nh = s + 4;
  if (nh + nhLen + 1 > e) return mpError(family, attr, `MP_REACH_NLRI next hop length ${nhLen} runs past the attribute`);
  let nextHop: string, ll: string | undefined, bad: string | null;
  if (family === IPV4_UNICAST) {
    if (nhLen !== 4) return mpError(family, attr, `IPv4 next hop length ${nhLen}`);
    nextHop = ipv4At(buf, nh);
    bad = badIpv4NextHop(buf, nh);
  } else {
    // RFC 2545 §3: 16 octets global, or 32 octets global + link-local.
    if (nhLen !== 16 && nhLen !== 32) return mpError(family, attr, `IPv6 next hop length ${nhLen}`);
    nextHop = formatIpv6(buf, nh);
    if (nhLen === 32) ll = formatIpv6(buf, nh + 16);
    bad = badIpv6NextHop(buf, nh);
  }
  const ns = nh + nhLen + 1; // skip the reserved octet (RFC 4760 §3)
  const addPath = ctx.addPathRx.has(family);
  const why = checkNlri(buf, ns, e, maxBitsForFamily(family), addPath);
  if (why) return mpError(family, attr, `MP_REACH_NLRI: ${why}`);
  const out: MpReach = { view: { buf, start: ns, end: e, family, addPath }, nextHop, nhStart: s, nhEnd: nh + nhLen };
  if (ll !== undefined) out.nextHopLinkLocal = ll;
  if (bad !== null) out.badNextHop = `MP_REACH_NLRI next hop ${nextHop} is ${bad}`;
  return out;
}

export function parseMpUnreach(buf: Buffer, s: number, e: number, attr: Buffer, ctx: CodecContext): NlriView | WireError | null {
  if (e - s < 3) return mpError(null, attr, 'MP_UNREACH_NLRI too short');
  const family = familyKey(buf.readUInt16BE(s), buf[s + 2]!);
  if (!speaks(family, ctx)) return null;
  const addPath = ctx.addPathRx.has(family);
  const why = checkNlri(buf, s + 3, e, maxBitsForFamily(family), addPath);
  if (why) return mpError(family, attr, `MP_UNREACH_NLRI: ${why}`);
  return { buf, start: s + 3, end: e, family, addPath };
}
