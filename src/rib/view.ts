// Read-only views of the RIB for the control API: routes in the exact JSON shape of
// `kite show routes --json`, and lookups by prefix or by covered address.
import type { PathStatus, RouteStatus } from '../api/types.js';
import { formatPrefix, parsePrefix, uintToIpv4 } from '../bgp/wire/prefix.js';
import { IPV4_UNICAST, SegType, type PathAttrs } from '../bgp/wire/types.js';
import { readU32 } from './prefix-table.js';
import { LOCAL_PEER, type Rib } from './rib.js';

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
    originatorId: a.originatorId === undefined ? null : uintToIpv4(a.originatorId),
    clusterList: (a.clusterList ?? []).map(uintToIpv4),
    peer,
    best,
  };
}

export function routeStatus(rib: Rib, slot: number): RouteStatus {
  const best = rib.best(slot);
  const paths = rib.pathsOf(slot)
    .sort((x, y) => (x === best ? -1 : y === best ? 1 : rib.pathPeer(x) - rib.pathPeer(y)))
    .map((p) => {
      const peer = rib.pathPeer(p);
      return pathStatus(rib.pathAttrs(p), peer === LOCAL_PEER ? null : rib.peer(peer)?.address ?? null, p === best);
    });
  const fam = rib.prefixes.family[slot]!;
  const why = rib.bestReason(slot);
  return { prefix: formatPrefix(fam, rib.prefixes.bytes(slot), rib.prefixes.plen[slot]!), paths, bestReason: `${why.step}: ${why.rule}` };
}

/** Every route, IPv4 first, in address order. */
export function allRoutes(rib: Rib): RouteStatus[] {
  const slots: number[] = [];
  rib.prefixes.forEach((s) => slots.push(s));
  const t = rib.prefixes;
  const key = (s: number): string => {
    const b = t.bytes(s);
    return `${t.family[s]!.toString(16)}${Buffer.from(b).toString('hex')}${t.plen[s]!.toString(16).padStart(2, '0')}`;
  };
  const keys = new Map(slots.map((s) => [s, key(s)]));
  slots.sort((a, b) => (keys.get(a)! < keys.get(b)! ? -1 : 1));
  return slots.map((s) => routeStatus(rib, s));
}

/**
 * The route for `text`: an exact prefix ("10.244.1.0/26"), or the longest prefix covering an
 * address ("10.244.1.7"). Throws on text that is neither.
 */
export function lookupRoute(rib: Rib, text: string): RouteStatus[] {
  const isAddress = !text.includes('/');
  const p = parsePrefix(isAddress ? `${text}/${text.includes(':') ? 128 : 32}` : text);
  if (!isAddress) {
    const slot = rib.prefixes.find(p.family, p.bytes, p.len);
    return slot >= 0 ? [routeStatus(rib, slot)] : [];
  }
  const bytes = Uint8Array.from(p.bytes);
  for (let len = p.len; len >= 0; len--) {
    // Clear the host bits below `len` and probe: at most 33 (or 129) hash lookups.
    if (len < p.len) bytes[len >> 3]! &= (0xff00 >> (len & 7)) & 0xff;
    const slot = p.family === IPV4_UNICAST ? rib.prefixes.find4(readU32(bytes), len) : rib.prefixes.find(p.family, bytes, len);
    if (slot >= 0) return [routeStatus(rib, slot)];
  }
  return [];
}
