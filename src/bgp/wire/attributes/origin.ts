// ORIGIN (type 1, well-known mandatory, RFC 4271 §5.1.1). RFC 7606 §7.1: malformed → treat-as-withdraw.
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { AttrCode, WELL_KNOWN, writeAttrHeader, type AttrCodec } from './common.js';

const NAMES = ['IGP', 'EGP', 'incomplete'];

export const ORIGIN: AttrCodec = {
  code: AttrCode.ORIGIN, name: 'ORIGIN', flags: WELL_KNOWN, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, start, end, b) {
    if (end - start !== 1) return { subcode: UpdateSub.AttributeLengthError, reason: `ORIGIN length ${end - start}` };
    const v = buf[start]!;
    if (v > 2) return { subcode: UpdateSub.InvalidOrigin, reason: `ORIGIN value ${v}` };
    b.origin = v;
    return null;
  },
  encode(a, w) { writeAttrHeader(w, WELL_KNOWN, AttrCode.ORIGIN, 1); w.u8(a.origin); },
  format: (a) => NAMES[a.origin] ?? String(a.origin),
};
