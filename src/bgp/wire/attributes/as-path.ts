// AS_PATH (type 2, RFC 4271 §5.1.2, RFC 5065 confederation segments) and AS4_PATH (type 17, RFC 6793).
// Paths are kept in 4-octet ASNs; a 2-octet session gets AS_TRANS + AS4_PATH, merged back per RFC 6793 §4.2.3.
import { ErrorAction, SegType, type AsPathSegment, type PathAttrs } from '../types.js';
import { UpdateSub } from '../errors.js';
import { AttrCode, OPT_TRANSITIVE, WELL_KNOWN, writeAttrHeader, type AttrCodec, type Bad } from './common.js';

export const AS_TRANS = 23456;
const isConfed = (t: number) => t === SegType.AS_CONFED_SEQUENCE || t === SegType.AS_CONFED_SET;

/** Parse segments of `width`-octet ASNs. Returns a reason string on malformation (RFC 7606 §7.2). */
export function decodeSegments(buf: Buffer, start: number, end: number, width: 2 | 4, out: AsPathSegment[]): string | null {
  let p = start;
  while (p < end) {
    if (p + 2 > end) return 'truncated segment header';
    const type = buf[p]!, n = buf[p + 1]!;
    if (type < 1 || type > 4) return `unknown segment type ${type}`;
    if (n === 0) return 'empty segment';
    p += 2;
    if (p + n * width > end) return 'segment runs past the attribute';
    const asns: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++, p += width) asns[i] = width === 4 ? buf.readUInt32BE(p) : buf.readUInt16BE(p);
    out.push({ type, asns });
  }
  return null;
}

/** Bytes needed for segments at a given ASN width, splitting segments over 255 ASNs. */
function segmentsLength(segs: readonly AsPathSegment[], width: number, skipConfed: boolean): number {
  let n = 0;
  for (const s of segs) {
    if (skipConfed && isConfed(s.type)) continue;
    n += Math.ceil(s.asns.length / 255) * 2 + s.asns.length * width;
  }
  return n;
}

function writeSegments(w: Parameters<AttrCodec['encode']>[1], segs: readonly AsPathSegment[], width: 2 | 4, skipConfed: boolean): void {
  for (const s of segs) {
    if (skipConfed && isConfed(s.type)) continue;
    for (let i = 0; i < s.asns.length; i += 255) {
      const chunk = Math.min(255, s.asns.length - i);
      w.u8(s.type); w.u8(chunk);
      for (let j = i; j < i + chunk; j++) {
        const asn = s.asns[j]!;
        if (width === 4) w.u32(asn); else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

const needsAs4 = (a: PathAttrs) => a.asPath.some((s) => s.asns.some((x) => x > 0xffff));

export const AS_PATH: AttrCodec = {
  code: AttrCode.AS_PATH, name: 'AS_PATH', flags: WELL_KNOWN, malformed: ErrorAction.TreatAsWithdraw,
  decode(buf, s, e, b, ctx): Bad | null {
    const segs: AsPathSegment[] = [];
    const why = decodeSegments(buf, s, e, ctx.fourOctetAs ? 4 : 2, segs);
    if (why) return { subcode: UpdateSub.MalformedAsPath, reason: `AS_PATH: ${why}` };
    // RFC 5065 §5 with RFC 7606 §7.2: confederation segments from a peer outside our confederation
    // make a malformed AS_PATH → treat-as-withdraw. Kite is in no confederation, so every peer,
    // iBGP included, is outside one (BIRD treats the iBGP case the same way).
    if (segs.some((x) => isConfed(x.type))) return { subcode: UpdateSub.MalformedAsPath, reason: `AS_PATH: confederation segment from ${ctx.ibgp ? 'an iBGP peer, but no confederation is configured' : 'an external peer'}` };
    b.asPath = segs;
    return null;
  },
  encode(a, w, ctx) {
    const width = ctx.fourOctetAs ? 4 : 2;
    // RFC 5065 §5: confederation segments never leave towards a peer outside the confederation.
    const skipConfed = !ctx.ibgp;
    writeAttrHeader(w, WELL_KNOWN, AttrCode.AS_PATH, segmentsLength(a.asPath, width, skipConfed));
    writeSegments(w, a.asPath, width, skipConfed);
  },
  format: (a) => formatAsPath(a.asPath),
};

export const AS4_PATH: AttrCodec = {
  code: AttrCode.AS4_PATH, name: 'AS4_PATH', flags: OPT_TRANSITIVE, malformed: ErrorAction.AttributeDiscard,
  decode(buf, s, e, b, ctx) {
    if (ctx.fourOctetAs) return null; // RFC 6793 §4.1: a NEW speaker ignores AS4_PATH from a NEW speaker
    const segs: AsPathSegment[] = [];
    const why = decodeSegments(buf, s, e, 4, segs);
    // RFC 6793 §6 / RFC 7606 §7.2: a malformed AS4_PATH is discarded, the UPDATE is kept.
    if (why) return { subcode: UpdateSub.OptionalAttributeError, reason: `AS4_PATH: ${why}` };
    b.as4Path = segs.filter((x) => !isConfed(x.type)); // §6: confederation segments in AS4_PATH are dropped
    return null;
  },
  encode(a, w, ctx) {
    if (ctx.fourOctetAs || !needsAs4(a)) return;
    writeAttrHeader(w, OPT_TRANSITIVE, AttrCode.AS4_PATH, segmentsLength(a.asPath, 4, true));
    writeSegments(w, a.asPath, 4, true);
  },
};

/** RFC 4271 §9.1.2.2 a) path length: a set counts 1, confederation segments 0 (RFC 5065 §5.3). */
export function pathLength(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) n += s.type === SegType.AS_SEQUENCE ? s.asns.length : s.type === SegType.AS_SET ? 1 : 0;
  return n;
}

/**
 * RFC 6793 §4.2.3: keep the leading (len(AS_PATH) - len(AS4_PATH)) ASes of AS_PATH and append
 * AS4_PATH; if AS4_PATH is longer, it is ignored.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4: readonly AsPathSegment[]): AsPathSegment[] {
  let keep = pathLength(asPath) - pathLength(as4);
  if (keep < 0) return asPath.slice();
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (isConfed(s.type)) { out.push(s); continue; }
    if (keep <= 0) continue;
    if (s.type === SegType.AS_SET) { out.push(s); keep -= 1; continue; }
    const take = Math.min(keep, s.asns.length);
    out.push({ type: s.type, asns: s.asns.slice(0, take) });
    keep -= take;
  }
  // Join the kept AS_SEQUENCE piece with the AS4_PATH sequence that continues it: one path, one segment.
  const last = out[out.length - 1];
  const first = as4[0];
  let rest = as4;
  if (last && first && last.type === SegType.AS_SEQUENCE && first.type === SegType.AS_SEQUENCE && last.asns.length + first.asns.length <= 255) {
    out[out.length - 1] = { type: SegType.AS_SEQUENCE, asns: [...last.asns, ...first.asns] };
    rest = as4.slice(1);
  }
  for (const s of rest) out.push(s);
  return out;
}

export function formatAsPath(segs: readonly AsPathSegment[]): string {
  return segs.map((s) => {
    const body = s.asns.join(' ');
    switch (s.type) {
      case SegType.AS_SET: return `{${body}}`;
      case SegType.AS_CONFED_SEQUENCE: return `(${body})`;
      case SegType.AS_CONFED_SET: return `[${body}]`;
      default: return body;
    }
  }).join(' ');
}
