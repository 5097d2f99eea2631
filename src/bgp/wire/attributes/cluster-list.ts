// CLUSTER_LIST (type 10, RFC 4456 §8). RFC 7606 §7.10: discarded from eBGP; a length that is not a
// non-zero multiple of 4 → treat-as-withdraw.
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { formatIpv4 } from '../../../net/index.js';
import { AttrCode, OPT_NON_TRANSITIVE, writeAttrHeader, type AttrCodec } from './common.js';

export const CLUSTER_LIST: AttrCodec = {
  code: AttrCode.CLUSTER_LIST, name: 'CLUSTER_LIST', flags: OPT_NON_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b, ctx) {
    if (!ctx.ibgp) return null;
    if (e === s || (e - s) % 4 !== 0) return { subcode: UpdateSub.AttributeLengthError, reason: `CLUSTER_LIST length ${e - s}` };
    const out: number[] = [];
    for (let p = s; p < e; p += 4) out.push(buf.readUInt32BE(p));
    b.clusterList = out;
    return null;
  },
  encode(a, w, ctx) {
    const c = a.clusterList;
    if (!c || c.length === 0 || !ctx.ibgp) return;
    writeAttrHeader(w, OPT_NON_TRANSITIVE, AttrCode.CLUSTER_LIST, c.length * 4);
    for (const x of c) w.u32(x);
  },
  format: (a) => a.clusterList?.map(formatIpv4).join(' '),
};
