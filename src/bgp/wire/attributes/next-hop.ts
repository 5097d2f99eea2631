// NEXT_HOP (type 3, well-known, RFC 4271 §5.1.3). RFC 7606 §7.3: bad length or an address that can
// never be a next hop (0.0.0.0, class D/E, broadcast; RFC 4271 §6.3) → treat-as-withdraw. A loopback
// next hop is wrong only off the loopback network: the session decides that (session.ts).
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { ipv4ToUint } from '../prefix.js';
import { AttrCode, WELL_KNOWN, ipv4At, writeAttrHeader, type AttrCodec } from './common.js';

/**
 * Why the IPv4 address at buf[at] can never be a next hop, or null (RFC 4271 §6.3: not a valid IP
 * host address): 0.0.0.0, 224/4 multicast, 240/4 and broadcast. BIRD treats these as withdraw;
 * used for NEXT_HOP and an IPv4 MP_REACH next hop alike.
 */
export function badIpv4NextHop(buf: Uint8Array, at: number): string | null {
  const first = buf[at]!;
  if (first === 0 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0) return 'the unspecified address';
  if (first >= 224) return 'not a unicast address';
  return null;
}

export const NEXT_HOP: AttrCodec = {
  code: AttrCode.NEXT_HOP, name: 'NEXT_HOP', flags: WELL_KNOWN, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, start, end, b) {
    if (end - start !== 4) return { subcode: UpdateSub.AttributeLengthError, reason: `NEXT_HOP length ${end - start}` };
    const why = badIpv4NextHop(buf, start);
    if (why) return { subcode: UpdateSub.InvalidNextHop, reason: `NEXT_HOP ${ipv4At(buf, start)} is ${why}` };
    b.nextHop = ipv4At(buf, start);
    return null;
  },
  encode(a, w, ctx) {
    // Only the classic IPv4 NLRI uses this attribute; MP_REACH carries its own next hop (RFC 4760 §3).
    if (!ctx.nextHop || !a.nextHop || a.nextHop.includes(':')) return;
    writeAttrHeader(w, WELL_KNOWN, AttrCode.NEXT_HOP, 4);
    w.u32(ipv4ToUint(a.nextHop));
  },
  format: (a) => a.nextHop || undefined,
};
