// Fixed-size attributes: MED (4, RFC 4271 §5.1.4), LOCAL_PREF (5, §5.1.5), ATOMIC_AGGREGATE (6, §5.1.6)
// and ORIGINATOR_ID (9, RFC 4456 §8). Their RFC 7606 §7 actions differ; see each entry.
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { formatIpv4 } from '../../../net/index.js';
import { AttrCode, OPT_NON_TRANSITIVE, WELL_KNOWN, writeAttrHeader, type AttrCodec } from './common.js';

const lenBad = (name: string, n: number) => ({ subcode: UpdateSub.AttributeLengthError, reason: `${name} length ${n}` });

/** RFC 7606 §7.4: malformed MED → treat-as-withdraw. */
export const MED: AttrCodec = {
  code: AttrCode.MED, name: 'MED', flags: OPT_NON_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b) {
    if (e - s !== 4) return lenBad('MED', e - s);
    b.med = buf.readUInt32BE(s);
    return null;
  },
  encode(a, w) { if (a.med !== undefined) { writeAttrHeader(w, OPT_NON_TRANSITIVE, AttrCode.MED, 4); w.u32(a.med); } },
  format: (a) => (a.med === undefined ? undefined : String(a.med)),
};

/** RFC 7606 §7.5: from an eBGP peer it is discarded; malformed from iBGP → treat-as-withdraw. */
export const LOCAL_PREF: AttrCodec = {
  code: AttrCode.LOCAL_PREF, name: 'LOCAL_PREF', flags: WELL_KNOWN, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b, ctx) {
    if (!ctx.ibgp) return null; // RFC 4271 §5.1.5: ignored when received from an external peer
    if (e - s !== 4) return lenBad('LOCAL_PREF', e - s);
    b.localPref = buf.readUInt32BE(s);
    return null;
  },
  // §5.1.5: MUST NOT be sent to external peers.
  encode(a, w, ctx) { if (a.localPref !== undefined && ctx.ibgp) { writeAttrHeader(w, WELL_KNOWN, AttrCode.LOCAL_PREF, 4); w.u32(a.localPref); } },
  format: (a) => (a.localPref === undefined ? undefined : String(a.localPref)),
};

/** RFC 7606 §7.6: bad length → attribute discard. */
export const ATOMIC_AGGREGATE: AttrCodec = {
  code: AttrCode.ATOMIC_AGGREGATE, name: 'ATOMIC_AGGREGATE', flags: WELL_KNOWN, malformed: ErrorAction.AttributeDiscard,
  decode(_buf, s, e, b) {
    if (e - s !== 0) return lenBad('ATOMIC_AGGREGATE', e - s);
    b.atomicAggregate = true;
    return null;
  },
  encode(a, w) { if (a.atomicAggregate) writeAttrHeader(w, WELL_KNOWN, AttrCode.ATOMIC_AGGREGATE, 0); },
  format: (a) => (a.atomicAggregate ? 'yes' : undefined),
};

/** RFC 7606 §7.9: from eBGP discarded; bad length → treat-as-withdraw. */
export const ORIGINATOR_ID: AttrCodec = {
  code: AttrCode.ORIGINATOR_ID, name: 'ORIGINATOR_ID', flags: OPT_NON_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b, ctx) {
    if (!ctx.ibgp) return null; // RFC 4456 attributes are meaningless across an AS boundary
    if (e - s !== 4) return lenBad('ORIGINATOR_ID', e - s);
    b.originatorId = buf.readUInt32BE(s);
    return null;
  },
  encode(a, w, ctx) {
    if (a.originatorId !== undefined && ctx.ibgp) { writeAttrHeader(w, OPT_NON_TRANSITIVE, AttrCode.ORIGINATOR_ID, 4); w.u32(a.originatorId); }
  },
  format: (a) => (a.originatorId === undefined ? undefined : formatIpv4(a.originatorId)),
};
