// THE path attribute table: one row per type code with decode, encode, expected flags, RFC 7606 action
// and format. Adding an attribute is adding a row. MP_REACH/MP_UNREACH (mp.ts) are per-message, not here.
import type { PathAttrs } from '../types.js';
import type { BufWriter } from '../writer.js';
import { AGGREGATOR, AS4_AGGREGATOR } from './aggregator.js';
import { AS4_PATH, AS_PATH } from './as-path.js';
import { CLUSTER_LIST } from './cluster-list.js';
import { AttrCode, AttrFlag, writeAttrHeader, type AttrCodec, type EncodeCtx } from './common.js';
import { COMMUNITIES, EXT_COMMUNITIES, LARGE_COMMUNITY } from './communities.js';
import { NEXT_HOP } from './next-hop.js';
import { ATOMIC_AGGREGATE, LOCAL_PREF, MED, ORIGINATOR_ID } from './numeric.js';
import { ORIGIN } from './origin.js';

const ROWS: readonly AttrCodec[] = [
  ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES, ORIGINATOR_ID,
  CLUSTER_LIST, EXT_COMMUNITIES, AS4_PATH, AS4_AGGREGATOR, LARGE_COMMUNITY,
].sort((a, b) => a.code - b.code);

export const ATTRIBUTES: ReadonlyMap<number, AttrCodec> = new Map(ROWS.map((r) => [r.code, r]));

/**
 * Write every attribute of a (but MP_REACH/MP_UNREACH) in type-code order. Unknown optional
 * transitive attributes go out verbatim with the Partial bit set (RFC 4271 §5, §9.1.2).
 */
export function encodeAttrs(a: PathAttrs, w: BufWriter, ctx: EncodeCtx): void {
  for (const row of ROWS) row.encode(a, w, ctx);
  for (const u of a.unknown) {
    // OTC (RFC 9234) is kept with the unknown ones but recognized (checked in update.ts): no Partial bit.
    writeAttrHeader(w, u.code === AttrCode.OTC ? u.flags : u.flags | AttrFlag.Partial, u.code, u.value.length);
    w.bytes(u.value);
  }
}

/** Name → text of every attribute present, for logs and the CLI. */
export function formatAttrs(a: PathAttrs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of ROWS) {
    const t = row.format?.(a);
    if (t !== undefined && t !== '') out[row.name] = t;
  }
  if (a.nextHopLinkLocal) out['NEXT_HOP_LINK_LOCAL'] = a.nextHopLinkLocal;
  for (const u of a.unknown) out[`ATTR_${u.code}`] = u.value.toString('hex');
  return out;
}
