// The control API's routes, mapped from the RIB's typed views (src/rib/view.ts) into the exact
// JSON shape of `kite show routes --json`: all routes, or the one for a prefix or address.
import { SegType, unicastKey, type PathAttrs } from '../bgp/wire/types.js';
import { formatIpv4, mustParsePrefix } from '../net/index.js';
import { LOCAL_PEER, type Rib } from '../rib/rib.js';
import { longestMatch, pathsBestFirst, sortedSlots } from '../rib/view.js';
import type { PathStatus, RouteStatus } from './types.js';

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function pathStatus(a: PathAttrs, peer: string | null, best: boolean): PathStatus {
  const asPath: number[] = [];
  for (const seg of a.asPath) if (seg.type === SegType.AS_SEQUENCE || seg.type === SegType.AS_SET) asPath.push(...seg.asns);
  return {
    nextHop: a.nextHop,
    asPath,
    origin: ORIGINS[a.origin] ?? 'incomplete',
    localPref: a.localPref ?? null,
    med: a.med ?? null,
    communities: (a.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`),
    largeCommunities: (a.largeCommunities ?? []).map(([g, l1, l2]) => `${g}:${l1}:${l2}`),
    originatorId: a.originatorId === undefined ? null : formatIpv4(a.originatorId),
    clusterList: (a.clusterList ?? []).map(formatIpv4),
    peer,
    best,
  };
}

export function routeStatus(rib: Rib, slot: number): RouteStatus {
  const best = rib.best(slot);
  const paths = pathsBestFirst(rib, slot).map((p) => {
    const peer = rib.pathPeer(p);
    return pathStatus(rib.pathAttrs(p), peer === LOCAL_PEER ? null : rib.peer(peer)?.address ?? null, p === best);
  });
  const why = rib.bestReason(slot);
  return { prefix: rib.prefixes.text(slot), paths, bestReason: `${why.step}: ${why.rule}` };
}

/** Every route, IPv4 first, in address order. */
export function allRoutes(rib: Rib): RouteStatus[] {
  return sortedSlots(rib).map((s) => routeStatus(rib, s));
}

/**
 * The route for `text`: an exact prefix ("10.244.1.0/26"), or the longest prefix covering an
 * address ("10.244.1.7"). Throws on text that is neither.
 */
export function lookupRoute(rib: Rib, text: string): RouteStatus[] {
  const isAddress = !text.includes('/');
  const p = mustParsePrefix(isAddress ? `${text}/${text.includes(':') ? 128 : 32}` : text, { hostBits: 'reject' });
  const slot = isAddress ? longestMatch(rib, unicastKey(p.family), p.addr.toBytes(), p.len) : rib.prefixes.findPrefix(p);
  return slot >= 0 ? [routeStatus(rib, slot)] : [];
}
