// NEXT_HOP (type 3, well-known, RFC 4271 §5.1.3). RFC 7606 §7.3: bad length or an address that can
// never be a next hop (0.0.0.0, class D/E, broadcast) → treat-as-withdraw.
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { ipv4ToUint } from '../prefix.js';
import { AttrCode, WELL_KNOWN, ipv4At, writeAttrHeader, type AttrCodec } from './common.js';

export const NEXT_HOP: AttrCodec = {
  code: AttrCode.NEXT_HOP, name: 'NEXT_HOP', flags: WELL_KNOWN, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, start, end, b) {
    if (end - start !== 4) return { subcode: UpdateSub.AttributeLengthError, reason: `NEXT_HOP length ${end - start}` };
    const first = buf[start]!;
    if ((first === 0 && buf.readUInt32BE(start) === 0) || first >= 224) {
      return { subcode: UpdateSub.InvalidNextHop, reason: `NEXT_HOP ${ipv4At(buf, start)} is not a unicast address` };
    }
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
