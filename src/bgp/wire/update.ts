// UPDATE decoding (RFC 4271 §4.3) with RFC 7606 revised error handling: attribute problems never throw,
// they are collected as WireErrors and `action` is the strongest one. Framing-level problems (withdrawn
// or attribute lengths past the message, unparsable NLRI, duplicate MP_*) come back with SessionReset.
import { AttrCode, AttrFlag, ipv4At, newBuilder, type AttrBuilder, type DecodeCtx } from './attributes/common.js';
import { AS_TRANS, mergeAs4Path } from './attributes/as-path.js';
import { MP_FLAGS, parseMpReach, parseMpUnreach, type MpReach } from './attributes/mp.js';
import { ATTRIBUTES } from './attributes/table.js';
import { ErrCode, UpdateSub, WireError } from './errors.js';
import type { AttrInterner, RawEntry } from './interning.js';
import { checkNlri } from './nlri.js';
import { ErrorAction, IPV4_UNICAST, MsgType, type CodecContext, type NlriView, type PathAttrs, type UpdateMessage } from './types.js';

const NO_ERRORS: readonly WireError[] = Object.freeze([]);
const P_ORIGIN = 1, P_AS_PATH = 2, P_NEXT_HOP = 4;

const fail = (subcode: number, reason: string, data: Buffer = Buffer.alloc(0)): UpdateMessage => ({
  type: MsgType.UPDATE, withdrawn: null, nlri: null, mpReach: null, mpUnreach: null, attrs: null,
  action: ErrorAction.SessionReset,
  errors: [new WireError(ErrCode.UpdateMessage, subcode, data, ErrorAction.SessionReset, reason)],
});

/**
 * Decode an UPDATE body. Never throws for malformed input: the returned message says what to do.
 * attrs is null when the UPDATE announces nothing or its action is TreatAsWithdraw or stronger.
 */
export function decodeUpdate(body: Buffer, ctx: CodecContext, interner: AttrInterner): UpdateMessage {
  const n = body.length;
  if (n < 4) return fail(UpdateSub.MalformedAttributeList, `UPDATE body of ${n} bytes`);
  const wlen = body.readUInt16BE(0);
  // RFC 7606 §5.3 / RFC 4271 §6.3: lengths that do not fit the message → Malformed Attribute List, reset.
  if (4 + wlen > n) return fail(UpdateSub.MalformedAttributeList, `withdrawn routes length ${wlen} exceeds the message`);
  const alen = body.readUInt16BE(2 + wlen);
  const aStart = 4 + wlen, aEnd = aStart + alen;
  if (aEnd > n) return fail(UpdateSub.MalformedAttributeList, `total path attribute length ${alen} exceeds the message`);

  const addPath4 = ctx.addPathRx.has(IPV4_UNICAST);
  // RFC 7606 §5.3: NLRI that cannot be parsed leave nothing to withdraw safely → session reset.
  let why = checkNlri(body, 2, 2 + wlen, 32, addPath4);
  if (why) return fail(UpdateSub.InvalidNetworkField, `withdrawn routes: ${why}`);
  why = checkNlri(body, aEnd, n, 32, addPath4);
  if (why) return fail(UpdateSub.InvalidNetworkField, `NLRI: ${why}`);
  const withdrawn: NlriView | null = wlen ? { buf: body, start: 2, end: 2 + wlen, family: IPV4_UNICAST, addPath: addPath4 } : null;
  const nlri: NlriView | null = aEnd < n ? { buf: body, start: aEnd, end: n, family: IPV4_UNICAST, addPath: addPath4 } : null;
  if (alen === 0) {
    // RFC 4724 §2: an UPDATE with nothing in it is the IPv4 unicast End-of-RIB.
    const m: UpdateMessage = { type: MsgType.UPDATE, withdrawn, nlri, mpReach: null, mpUnreach: null, attrs: null, action: ErrorAction.None, errors: NO_ERRORS };
    if (nlri) {
      m.action = ErrorAction.TreatAsWithdraw; // §3(d): NLRI without ORIGIN/AS_PATH/NEXT_HOP
      m.errors = [missing(AttrCode.ORIGIN), missing(AttrCode.AS_PATH), missing(AttrCode.NEXT_HOP)];
    } else if (!withdrawn) m.endOfRib = IPV4_UNICAST;
    return m;
  }

  // Pass 1: walk attribute headers only; find MP_REACH/MP_UNREACH and where the section stops parsing.
  let errors: WireError[] | null = null;
  let action: ErrorAction = ErrorAction.None;
  const add = (e: WireError) => { (errors ??= []).push(e); if (e.action > action) action = e.action; };
  let reachAt = -1, reachVs = 0, reachEnd = 0, unreachAt = -1, unreachVs = 0, unreachEnd = 0, nextHopAt = -1;
  let stop = aEnd; // where a length overrun cut the section (RFC 7606 §4)
  for (let p = aStart; p < aEnd;) {
    const flags = body[p]!;
    const hl = flags & AttrFlag.ExtendedLength ? 4 : 3;
    if (p + hl > aEnd) { stop = p; break; }
    const len = hl === 4 ? body.readUInt16BE(p + 2) : body[p + 2]!;
    const code = body[p + 1]!;
    if (p + hl + len > aEnd) { stop = p; break; }
    if (code === AttrCode.NEXT_HOP && len === 4 && nextHopAt < 0) nextHopAt = p + hl;
    if (code === AttrCode.MP_REACH_NLRI || code === AttrCode.MP_UNREACH_NLRI) {
      // RFC 7606 §3(g): a repeated MP_REACH or MP_UNREACH is a Malformed Attribute List, reset.
      if ((code === AttrCode.MP_REACH_NLRI ? reachAt : unreachAt) >= 0) {
        return fail(UpdateSub.MalformedAttributeList, `duplicate attribute ${code}`);
      }
      if (code === AttrCode.MP_REACH_NLRI) { reachAt = p; reachVs = p + hl; reachEnd = p + hl + len; }
      else { unreachAt = p; unreachVs = p + hl; unreachEnd = p + hl + len; }
    }
    p += hl + len;
  }

  // MP attributes are per message (their NLRI differ), so they are always parsed.
  let mpReach: MpReach | null = null, mpUnreach: NlriView | null = null;
  if (reachAt >= 0) {
    const attr = body.subarray(reachAt, reachEnd);
    const r = (body[reachAt]! & 0xc0) !== MP_FLAGS
      ? flagError(attr, reachEnd - reachVs >= 3 ? ErrorAction.AfiSafiDisable : ErrorAction.SessionReset)
      : parseMpReach(body, reachVs, reachEnd, attr, ctx);
    if (r instanceof WireError) add(r);
    else if (r) {
      mpReach = r;
      if (r.badNextHop !== undefined) add(new WireError(ErrCode.UpdateMessage, UpdateSub.InvalidNextHop, Buffer.from(attr), ErrorAction.TreatAsWithdraw, r.badNextHop));
    }
  }
  if (unreachAt >= 0) {
    const attr = body.subarray(unreachAt, unreachEnd);
    const r = (body[unreachAt]! & 0xc0) !== MP_FLAGS
      ? flagError(attr, unreachEnd - unreachVs >= 3 ? ErrorAction.AfiSafiDisable : ErrorAction.SessionReset)
      : parseMpUnreach(body, unreachVs, unreachEnd, attr, ctx);
    if (r instanceof WireError) add(r); else mpUnreach = r;
  }
  if (stop < aEnd) {
    // RFC 7606 §4: rely on the total length to find the NLRI and treat-as-withdraw; but when no MP
    // attribute was found and the classic fields are empty, the NLRI may sit in the unread part → reset.
    const blind = reachAt < 0 && unreachAt < 0 && !nlri && !withdrawn;
    add(new WireError(ErrCode.UpdateMessage, UpdateSub.MalformedAttributeList, Buffer.alloc(0),
      blind ? ErrorAction.SessionReset : ErrorAction.TreatAsWithdraw, 'attribute length runs past the path attributes'));
  }

  // Pass 2: the other attributes, via the raw-bytes cache (same bytes + same session flags → same result).
  let raw: RawEntry | undefined;
  let key: string | null = null;
  if (stop === aEnd && (reachAt < 0 || mpReach)) {
    key = rawKey(body, aStart, aEnd, reachAt, reachEnd, unreachAt, unreachEnd, mpReach, ctx);
    raw = interner.rawGet(key);
  }
  if (!raw) {
    raw = decodeAttrs(body, aStart, stop, ctx, mpReach, interner);
    if (key !== null) interner.rawSet(key, raw);
  }
  for (const e of raw.errors) add(e);

  // RFC 7606 §3(d): missing well-known mandatory attributes matter only when something is announced.
  const announces = nlri !== null || (mpReach !== null && mpReach.view.end > mpReach.view.start);
  if (announces) {
    if (!(raw.present & P_ORIGIN)) add(missing(AttrCode.ORIGIN));
    if (!(raw.present & P_AS_PATH)) add(missing(AttrCode.AS_PATH));
    if (nlri && !(raw.present & P_NEXT_HOP)) add(missing(AttrCode.NEXT_HOP));
  }
  // RFC 7606 §5.2: path attributes (other than MP_UNREACH_NLRI) with no reachable NLRI is no
  // well-defined UPDATE, so when one of them is malformed we cannot trust that the NLRI were found
  // and parsed right: treat-as-withdraw becomes session reset. BIRD (3/1) and FRR do the same.
  // (`add` assigns both in a closure, which TypeScript's narrowing does not see.)
  if (nlri === null && reachAt < 0 && (action as ErrorAction) === ErrorAction.TreatAsWithdraw && !(unreachAt === aStart && unreachEnd === aEnd)) {
    errors = ((errors as WireError[] | null) ?? []).map((e) => e.action === ErrorAction.TreatAsWithdraw
      ? new WireError(e.code, e.subcode, e.data, ErrorAction.SessionReset, `${e.message} in an UPDATE with no reachable NLRI (RFC 7606 §5.2)`)
      : e);
    action = ErrorAction.SessionReset;
  }
  const m: UpdateMessage = {
    type: MsgType.UPDATE, withdrawn, nlri, mpReach: mpReach ? mpReach.view : null, mpUnreach,
    attrs: announces && action < ErrorAction.TreatAsWithdraw ? raw.attrs : null,
    action, errors: errors ?? NO_ERRORS,
  };
  // RFC 4760 §3: an UPDATE may announce classic NLRI (with NEXT_HOP) and MP_REACH_NLRI together;
  // each set of NLRI has its own next hop, so the classic ones get the set with NEXT_HOP's address.
  // (Before, they took the MP next hop: an IPv4 route with an IPv6 next hop, sharing its attribute
  // set with the IPv6 routes, which crashed the export when both went out in one group.)
  if (m.attrs && nlri && mpReach && nextHopAt >= 0) {
    const { id: _id, nextHopLinkLocal: _ll, ...rest } = m.attrs;
    m.classicAttrs = interner.internAttrs({ ...rest, nextHop: ipv4At(body, nextHopAt) });
  }
  // RFC 4724 §2: End-of-RIB for other families is an UPDATE holding only an empty MP_UNREACH_NLRI.
  if (mpUnreach && !withdrawn && !nlri && unreachAt === aStart && unreachEnd === aEnd && mpUnreach.end === mpUnreach.start) {
    m.endOfRib = mpUnreach.family;
  }
  return m;
}

const missing = (code: number) => new WireError(ErrCode.UpdateMessage, UpdateSub.MissingWellKnown, Buffer.of(code),
  ErrorAction.TreatAsWithdraw, `missing well-known attribute ${code}`);

const flagError = (attr: Buffer, action: ErrorAction) => new WireError(ErrCode.UpdateMessage, UpdateSub.AttributeFlagsError,
  Buffer.from(attr), action, `attribute ${attr[1]} flags 0x${attr[0]!.toString(16)}`);

/**
 * The cache key: session flags, the MP_REACH next hop part (AFI, SAFI, length, next hop), then every
 * other attribute's bytes. MP NLRI and MP_UNREACH are left out: they differ per message.
 */
function rawKey(body: Buffer, s: number, e: number, reachAt: number, reachEnd: number, unreachAt: number, unreachEnd: number,
  mp: MpReach | null, ctx: CodecContext): string {
  let key = String.fromCharCode((ctx.fourOctetAs ? 1 : 0) | (ctx.ibgp ? 2 : 0));
  key += mp ? String.fromCharCode(mp.nhEnd - mp.nhStart) + body.toString('latin1', mp.nhStart, mp.nhEnd) : '\0';
  if (reachAt < 0 && unreachAt < 0) return key + body.toString('latin1', s, e);
  const cuts = [[reachAt, reachEnd], [unreachAt, unreachEnd]].filter((c) => c[0]! >= 0).sort((a, b) => a[0]! - b[0]!);
  let p = s;
  for (const [a, b] of cuts) { key += body.toString('latin1', p, a); p = b!; }
  return key + body.toString('latin1', p, e);
}

/** Full decode of every non-MP attribute in body[s..e) through the attribute table. */
function decodeAttrs(body: Buffer, s: number, e: number, ctx: DecodeCtx, mp: MpReach | null, interner: AttrInterner): RawEntry {
  const b: AttrBuilder = newBuilder();
  const seen = new Uint8Array(256);
  let errors: WireError[] | null = null;
  let action: ErrorAction = ErrorAction.None;
  const add = (err: WireError) => { (errors ??= []).push(err); if (err.action > action) action = err.action; };
  for (let p = s; p < e;) {
    const flags = body[p]!, code = body[p + 1]!;
    const hl = flags & AttrFlag.ExtendedLength ? 4 : 3;
    const len = hl === 4 ? body.readUInt16BE(p + 2) : body[p + 2]!;
    const vs = p + hl, ve = vs + len, at = p;
    p = ve;
    if (code === AttrCode.MP_REACH_NLRI || code === AttrCode.MP_UNREACH_NLRI) continue;
    const attrBytes = () => Buffer.from(body.subarray(at, ve));
    if (seen[code]) {
      // RFC 7606 §3(g): later copies of a repeated attribute are discarded.
      add(new WireError(ErrCode.UpdateMessage, UpdateSub.MalformedAttributeList, attrBytes(), ErrorAction.AttributeDiscard, `duplicate attribute ${code}`));
      continue;
    }
    seen[code] = 1;
    if (code === AttrCode.OTC) {
      // RFC 9234 §5: Only to Customer, optional transitive, 4 octets; otherwise malformed and
      // treat-as-withdraw (BIRD 2.0.12 and FRR 8.4.4 do so; issue 11's differential check). Kite has
      // no BGP Roles, so a good one is passed on unchanged: recognized, hence no Partial bit.
      if (len !== 4 || (flags & 0xc0) !== (AttrFlag.Optional | AttrFlag.Transitive)) {
        add(new WireError(ErrCode.UpdateMessage, len !== 4 ? UpdateSub.AttributeLengthError : UpdateSub.AttributeFlagsError, attrBytes(),
          ErrorAction.TreatAsWithdraw, `OTC length ${len} flags 0x${flags.toString(16)}`));
      } else b.unknown.push({ flags: flags & 0xe0, code, value: Buffer.from(body.subarray(vs, ve)) });
      continue;
    }
    const codec = ATTRIBUTES.get(code);
    if (!codec) {
      if (!(flags & AttrFlag.Optional)) {
        // RFC 4271 §6.3 (kept by RFC 7606): an unrecognized well-known attribute resets the session.
        add(new WireError(ErrCode.UpdateMessage, UpdateSub.UnrecognizedWellKnown, attrBytes(), ErrorAction.SessionReset, `unrecognized well-known attribute ${code}`));
      } else if (flags & AttrFlag.Transitive) {
        b.unknown.push({ flags: flags & 0xe0, code, value: Buffer.from(body.subarray(vs, ve)) }); // §5: passed on
      } // optional non-transitive: quietly ignored (RFC 4271 §5)
      continue;
    }
    if ((flags & 0xc0) !== codec.flags) {
      // RFC 7606 §3(c): O/T bits in conflict → malformed and treat-as-withdraw, unless the attribute's
      // own action is stronger: the attribute discard of §7.6, §7.7 and RFC 6793 §6 is for bad
      // lengths and values, not flags (as BIRD 2.0.12 does; issue 11's differential check).
      const act = codec.malformed > ErrorAction.TreatAsWithdraw ? codec.malformed : ErrorAction.TreatAsWithdraw;
      add(new WireError(ErrCode.UpdateMessage, UpdateSub.AttributeFlagsError, attrBytes(), act, `${codec.name} flags 0x${flags.toString(16)}`));
      continue;
    }
    const bad = codec.decode(body, vs, ve, b, ctx);
    if (bad) add(new WireError(ErrCode.UpdateMessage, bad.subcode, attrBytes(), codec.malformed, bad.reason));
  }
  // RFC 6793 §4.2.3: fold AS4_AGGREGATOR / AS4_PATH into the 2-octet attributes.
  if (!ctx.fourOctetAs) {
    let useAs4Path = true;
    if (b.aggregator && b.as4Aggregator) {
      if (b.aggregator.asn !== AS_TRANS) useAs4Path = false; // §4.2.3: ignore both AS4 attributes
      else b.aggregator = b.as4Aggregator;
    }
    if (useAs4Path && b.as4Path && b.asPath) b.asPath = mergeAs4Path(b.asPath, b.as4Path);
  }
  if (mp) {
    b.nextHop = mp.nextHop;
    if (mp.nextHopLinkLocal !== undefined) b.nextHopLinkLocal = mp.nextHopLinkLocal;
  }
  const present = (seen[AttrCode.ORIGIN] ? P_ORIGIN : 0) | (seen[AttrCode.AS_PATH] ? P_AS_PATH : 0) | (seen[AttrCode.NEXT_HOP] ? P_NEXT_HOP : 0);
  let attrs: PathAttrs | null = null;
  if (action < ErrorAction.TreatAsWithdraw && b.origin !== undefined && b.asPath !== undefined) attrs = interner.internAttrs(toInput(b));
  return { attrs, errors: errors ?? NO_ERRORS, action, present };
}

function toInput(b: AttrBuilder): Omit<PathAttrs, 'id'> {
  const o: { -readonly [K in keyof Omit<PathAttrs, 'id'>]: PathAttrs[K] } = {
    origin: b.origin!, asPath: b.asPath!, nextHop: b.nextHop ?? '', atomicAggregate: b.atomicAggregate, unknown: b.unknown,
  };
  if (b.nextHopLinkLocal !== undefined) o.nextHopLinkLocal = b.nextHopLinkLocal;
  if (b.med !== undefined) o.med = b.med;
  if (b.localPref !== undefined) o.localPref = b.localPref;
  if (b.aggregator) o.aggregator = b.aggregator;
  if (b.communities) o.communities = b.communities;
  if (b.extCommunities) o.extCommunities = b.extCommunities;
  if (b.largeCommunities) o.largeCommunities = b.largeCommunities;
  if (b.originatorId !== undefined) o.originatorId = b.originatorId;
  if (b.clusterList) o.clusterList = b.clusterList;
  return o;
}
