// AGGREGATOR (type 7, RFC 4271 §5.1.7; 2- or 4-octet AS per RFC 6793) and AS4_AGGREGATOR (type 18).
// RFC 7606 §7.7 and RFC 6793 §6: a bad length discards the attribute, the UPDATE is kept.
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { ipv4ToUint } from '../prefix.js';
import { AS_TRANS } from './as-path.js';
import { AttrCode, OPT_TRANSITIVE, ipv4At, writeAttrHeader, type AttrCodec } from './common.js';

export const AGGREGATOR: AttrCodec = {
  code: AttrCode.AGGREGATOR, name: 'AGGREGATOR', flags: OPT_TRANSITIVE, malformed: ErrorAction.AttributeDiscard,
  decode(buf, s, e, b, ctx) {
    const width = ctx.fourOctetAs ? 4 : 2;
    if (e - s !== width + 4) return { subcode: UpdateSub.AttributeLengthError, reason: `AGGREGATOR length ${e - s}` };
    b.aggregator = { asn: width === 4 ? buf.readUInt32BE(s) : buf.readUInt16BE(s), address: ipv4At(buf, s + width) };
    return null;
  },
  encode(a, w, ctx) {
    const g = a.aggregator;
    if (!g) return;
    writeAttrHeader(w, OPT_TRANSITIVE, AttrCode.AGGREGATOR, ctx.fourOctetAs ? 8 : 6);
    if (ctx.fourOctetAs) w.u32(g.asn); else w.u16(g.asn > 0xffff ? AS_TRANS : g.asn);
    w.u32(ipv4ToUint(g.address));
  },
  format: (a) => (a.aggregator ? `${a.aggregator.asn} ${a.aggregator.address}` : undefined),
};

export const AS4_AGGREGATOR: AttrCodec = {
  code: AttrCode.AS4_AGGREGATOR, name: 'AS4_AGGREGATOR', flags: OPT_TRANSITIVE, malformed: ErrorAction.AttributeDiscard,
  decode(buf, s, e, b, ctx) {
    if (ctx.fourOctetAs) return null; // RFC 6793 §4.1: ignored between NEW speakers
    if (e - s !== 8) return { subcode: UpdateSub.OptionalAttributeError, reason: `AS4_AGGREGATOR length ${e - s}` };
    b.as4Aggregator = { asn: buf.readUInt32BE(s), address: ipv4At(buf, s + 4) };
    return null;
  },
  encode(a, w, ctx) {
    const g = a.aggregator;
    if (!g || ctx.fourOctetAs || g.asn <= 0xffff) return;
    writeAttrHeader(w, OPT_TRANSITIVE, AttrCode.AS4_AGGREGATOR, 8);
    w.u32(g.asn); w.u32(ipv4ToUint(g.address));
  },
};
