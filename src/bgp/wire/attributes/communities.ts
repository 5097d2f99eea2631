// COMMUNITIES (type 8, RFC 1997), EXTENDED COMMUNITIES (16, RFC 4360), LARGE_COMMUNITY (32, RFC 8092).
// RFC 7606 §7.8, §7.14 and RFC 8092 §6: a length that is not a non-zero multiple → treat-as-withdraw.
import { ErrorAction } from '../types.js';
import { UpdateSub } from '../errors.js';
import { AttrCode, OPT_TRANSITIVE, writeAttrHeader, type AttrCodec } from './common.js';

const lenBad = (name: string, n: number) => ({ subcode: UpdateSub.OptionalAttributeError, reason: `${name} length ${n}` });

export const COMMUNITIES: AttrCodec = {
  code: AttrCode.COMMUNITIES, name: 'COMMUNITIES', flags: OPT_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b) {
    if (e === s || (e - s) % 4 !== 0) return lenBad('COMMUNITIES', e - s);
    const out: number[] = [];
    for (let p = s; p < e; p += 4) out.push(buf.readUInt32BE(p));
    b.communities = out;
    return null;
  },
  encode(a, w) {
    const c = a.communities;
    if (!c || c.length === 0) return;
    writeAttrHeader(w, OPT_TRANSITIVE, AttrCode.COMMUNITIES, c.length * 4);
    for (const x of c) w.u32(x);
  },
  format: (a) => a.communities?.map((c) => `${c >>> 16}:${c & 0xffff}`).join(' '),
};

/** RFC 4360 §2: the T bit (0x40 of the type's high octet) clear means transitive across ASes. */
export const isTransitiveExt = (c: bigint): boolean => ((c >> 56n) & 0x40n) === 0n;

export const EXT_COMMUNITIES: AttrCodec = {
  code: AttrCode.EXT_COMMUNITIES, name: 'EXTENDED_COMMUNITIES', flags: OPT_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b) {
    if (e === s || (e - s) % 8 !== 0) return lenBad('EXTENDED_COMMUNITIES', e - s);
    const out: bigint[] = [];
    for (let p = s; p < e; p += 8) out.push(buf.readBigUInt64BE(p));
    b.extCommunities = out;
    return null;
  },
  encode(a, w, ctx) {
    const c = a.extCommunities;
    if (!c || c.length === 0) return;
    // RFC 4360 §6 (and §2: the T bit, 0x40 in the type's high octet): a non-transitive extended
    // community is not passed to an eBGP peer. BIRD and FRR strip them the same way.
    let n = c.length;
    if (!ctx.ibgp) for (const x of c) if (!isTransitiveExt(x)) n--;
    if (n === 0) return;
    writeAttrHeader(w, OPT_TRANSITIVE, AttrCode.EXT_COMMUNITIES, n * 8);
    for (const x of c) if (ctx.ibgp || isTransitiveExt(x)) w.u64(x);
  },
  format: (a) => a.extCommunities?.map((c) => `0x${c.toString(16).padStart(16, '0')}`).join(' '),
};

export const LARGE_COMMUNITY: AttrCodec = {
  code: AttrCode.LARGE_COMMUNITY, name: 'LARGE_COMMUNITY', flags: OPT_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b) {
    if (e === s || (e - s) % 12 !== 0) return lenBad('LARGE_COMMUNITY', e - s);
    const out: (readonly [number, number, number])[] = [];
    for (let p = s; p < e; p += 12) out.push([buf.readUInt32BE(p), buf.readUInt32BE(p + 4), buf.readUInt32BE(p + 8)] as const);
    b.largeCommunities = out;
    return null;
  },
  encode(a, w) {
    const c = a.largeCommunities;
    if (!c || c.length === 0) return;
    writeAttrHeader(w, OPT_TRANSITIVE, AttrCode.LARGE_COMMUNITY, c.length * 12);
    for (const x of c) { w.u32(x[0]); w.u32(x[1]); w.u32(x[2]); }
  },
  format: (a) => a.largeCommunities?.map((c) => c.join(':')).join(' '),
};
