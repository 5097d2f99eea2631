// The BGP decision process (RFC 4271 §9.1.2.2, RFC 4456 §9) as an ordered list of named
// comparators. Each step returns <0 when path a is preferred, >0 when b is, 0 to go on;
// the RIB asks which step decided, so `kite show routes` can say why a path won.
import { SegType, type PathAttrs } from '../bgp/wire/types.js';
import { elevated } from './priority.js';
import { parseAddr } from '../net/index.js';

export interface Candidate {
  attrs: PathAttrs;
  /** Locally originated (not learned from a peer). */
  local: boolean;
  /** Learned over iBGP. */
  ibgp: boolean;
  /** The peer's BGP Identifier (uint32); 0 for local routes. */
  peerBgpId: number;
  /** The peer's address as comparable text ("" for local routes). */
  peerAddress: string;
}

export interface DecisionOptions {
  /** Compare MED between paths from different neighbouring ASes (BIRD `med metric`, Cisco always-compare-med). */
  alwaysCompareMed: boolean;
}

export interface Step {
  readonly name: string;
  /** Where the rule comes from, shown to operators. */
  readonly rule: string;
  readonly compare: (a: Candidate, b: Candidate, o: DecisionOptions) => number;
}

/** AS_PATH length for §9.1.2.2 a: an AS_SET counts as one; confederation segments do not count (RFC 5065 §5.3). */
export function asPathLength(a: PathAttrs): number {
  let n = 0;
  for (const seg of a.asPath) {
    if (seg.type === SegType.AS_SEQUENCE) n += seg.asns.length;
    else if (seg.type === SegType.AS_SET) n += 1;
  }
  return n;
}

/** The neighbouring AS for MED comparison: the first AS of the first AS_SEQUENCE (0 = none, a local or iBGP-internal route). */
export function neighbourAs(a: PathAttrs): number {
  for (const seg of a.asPath) {
    if (seg.type === SegType.AS_SEQUENCE && seg.asns.length > 0) return seg.asns[0]!;
    if (seg.type === SegType.AS_SET) return 0;
  }
  return 0;
}

const DEFAULT_LOCAL_PREF = 100;
const cmpNum = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0);

export const STEPS: readonly Step[] = [
  {
    name: 'local-origin',
    rule: 'locally originated routes are preferred (as BIRD, FRR weight 32768)',
    compare: (a, b) => cmpNum(a.local ? 0 : 1, b.local ? 0 : 1),
  },
  {
    // Calico's import filter sets BIRD `preference = 200` on a route whose kernel priority is
    // below the normal 1024 (LOCAL_PREF above 2147482623, or a BGPFilter setPriority); other BGP
    // routes have 100, and BIRD compares preference before any BGP attribute.
    name: 'preference',
    rule: 'Calico: BIRD preference 200 for an elevated-priority route (kernel metric below 1024), 100 otherwise',
    compare: (a, b) => cmpNum(elevated(a.attrs.kernelPriority) ? 0 : 1, elevated(b.attrs.kernelPriority) ? 0 : 1),
  },
  {
    name: 'local-pref',
    rule: 'RFC 4271 §9.1.1: highest LOCAL_PREF (eBGP-learned paths count as 100)',
    compare: (a, b) => cmpNum(b.attrs.localPref ?? DEFAULT_LOCAL_PREF, a.attrs.localPref ?? DEFAULT_LOCAL_PREF),
  },
  {
    name: 'as-path-length',
    rule: 'RFC 4271 §9.1.2.2 a: shortest AS_PATH (an AS_SET counts as one)',
    compare: (a, b) => cmpNum(asPathLength(a.attrs), asPathLength(b.attrs)),
  },
  {
    name: 'origin',
    rule: 'RFC 4271 §9.1.2.2 b: lowest ORIGIN (IGP < EGP < INCOMPLETE)',
    compare: (a, b) => cmpNum(a.attrs.origin, b.attrs.origin),
  },
  {
    name: 'med',
    rule: 'RFC 4271 §9.1.2.2 c: lowest MED among paths from the same neighbouring AS (missing MED = 0)',
    compare: (a, b, o) => {
      if (!o.alwaysCompareMed && neighbourAs(a.attrs) !== neighbourAs(b.attrs)) return 0;
      return cmpNum(a.attrs.med ?? 0, b.attrs.med ?? 0);
    },
  },
  {
    name: 'ebgp-over-ibgp',
    rule: 'RFC 4271 §9.1.2.2 d: paths learned over eBGP over those learned over iBGP',
    compare: (a, b) => cmpNum(a.ibgp ? 1 : 0, b.ibgp ? 1 : 0),
  },
  {
    name: 'router-id',
    rule: 'RFC 4271 §9.1.2.2 f with RFC 4456 §9: lowest BGP Identifier, ORIGINATOR_ID in place of it when present',
    compare: (a, b) => cmpNum(a.attrs.originatorId ?? a.peerBgpId, b.attrs.originatorId ?? b.peerBgpId),
  },
  {
    name: 'cluster-list-length',
    rule: 'RFC 4456 §9: shortest CLUSTER_LIST',
    compare: (a, b) => cmpNum(a.attrs.clusterList?.length ?? 0, b.attrs.clusterList?.length ?? 0),
  },
  {
    name: 'peer-address',
    rule: 'RFC 4271 §9.1.2.2 g: lowest peer address',
    compare: (a, b) => comparePeerAddress(a.peerAddress, b.peerAddress),
  },
];

/** Index of the first step at or after which paths are no longer equal-cost (multipath stops before router-id). */
export const MULTIPATH_STEPS = STEPS.findIndex((s) => s.name === 'router-id');

/**
 * Compares two peer addresses numerically, IPv4 before IPv6 (RFC 4271 §9.1.2.2 g; BIRD compares
 * the addresses, not their text: fd00::9 is below fd00::10). Text that is no address (never from a
 * socket) sorts after every address, by text, so the order stays total.
 */
export function comparePeerAddress(x: string, y: string): number {
  if (x === y) return 0;
  const ax = parseAddr(x), ay = parseAddr(y);
  if (ax && ay) return ax.compare(ay);
  if (ax || ay) return ax ? -1 : 1;
  return x < y ? -1 : 1;
}

/** Runs the steps: returns [order, index of the deciding step] (order <0: a wins, >0: b wins, 0: equal). */
export function decide(a: Candidate, b: Candidate, o: DecisionOptions): [number, number] {
  for (let i = 0; i < STEPS.length; i++) {
    const c = STEPS[i]!.compare(a, b, o);
    if (c !== 0) return [c, i];
  }
  return [0, STEPS.length];
}
