// Each step of the decision process, in order: a pair of paths that differ only in what the
// step looks at must be decided by exactly that step, in the right direction.
import { describe, expect, it } from 'vitest';
import { STEPS, asPathLength, comparePeerAddress, decide, type Candidate } from '../../src/rib/decision.js';
import { SegType, type PathAttrs } from '../../src/bgp/wire/types.js';

const attrs = (o: Partial<PathAttrs> = {}): PathAttrs => ({
  id: 0, origin: 0, nextHop: '198.18.0.9', atomicAggregate: false, unknown: [],
  asPath: [{ type: SegType.AS_SEQUENCE, asns: [65001] }], ...o,
});
const cand = (o: Partial<Candidate> = {}, a: Partial<PathAttrs> = {}): Candidate => ({
  attrs: attrs(a), local: false, ibgp: false, peerBgpId: 0x0a000001, peerAddress: '198.18.0.9', ...o,
});
const opts = { alwaysCompareMed: false };

function decidedBy(winner: Candidate, loser: Candidate): string {
  const [c, i] = decide(winner, loser, opts);
  const [c2, i2] = decide(loser, winner, opts);
  expect(c).toBeLessThan(0);
  expect(c2).toBeGreaterThan(0);
  expect(i2).toBe(i);
  return STEPS[i]!.name;
}

describe('decision process', () => {
  it('local routes first', () => expect(decidedBy(cand({ local: true }, { asPath: [] }), cand({}, { localPref: 500 }))).toBe('local-origin'));
  it('highest LOCAL_PREF, absent counting as 100', () => {
    expect(decidedBy(cand({}, { localPref: 200 }), cand({}, { localPref: 100, asPath: [] }))).toBe('local-pref');
    expect(decidedBy(cand({}, { localPref: 101 }), cand({}, {}))).toBe('local-pref');
  });
  it('shortest AS_PATH, an AS_SET counting as one', () => {
    const set = [{ type: SegType.AS_SEQUENCE, asns: [65001] }, { type: SegType.AS_SET, asns: [1, 2, 3, 4] }];
    const seq3 = [{ type: SegType.AS_SEQUENCE, asns: [65001, 2, 3] }];
    expect(asPathLength(attrs({ asPath: set }))).toBe(2);
    expect(decidedBy(cand({}, { asPath: set }), cand({}, { asPath: seq3, origin: 0 }))).toBe('as-path-length');
    const confed = [{ type: SegType.AS_CONFED_SEQUENCE, asns: [1, 2, 3] }, { type: SegType.AS_SEQUENCE, asns: [65001] }];
    expect(asPathLength(attrs({ asPath: confed }))).toBe(1);
  });
  it('lowest ORIGIN', () => expect(decidedBy(cand({}, { origin: 0 }), cand({}, { origin: 2, med: 0 }))).toBe('origin'));
  it('lowest MED from the same neighbouring AS only', () => {
    expect(decidedBy(cand({}, { med: 10 }), cand({ ibgp: false, peerBgpId: 1 }, { med: 20 }))).toBe('med');
    // Different neighbour AS: MED is skipped and a later step (router ID) decides.
    const other = [{ type: SegType.AS_SEQUENCE, asns: [65002] }];
    expect(decidedBy(cand({ peerBgpId: 1 }, { med: 20, asPath: other }), cand({ peerBgpId: 2 }, { med: 10 }))).toBe('router-id');
    expect(decide(cand({ peerBgpId: 2 }, { med: 10 }), cand({ peerBgpId: 1 }, { med: 20, asPath: other }), { alwaysCompareMed: true })[0]).toBeLessThan(0);
  });
  it('eBGP over iBGP', () => expect(decidedBy(cand({ ibgp: false, peerBgpId: 9 }), cand({ ibgp: true, peerBgpId: 1 }))).toBe('ebgp-over-ibgp'));
  it('lowest router ID, ORIGINATOR_ID standing in for it (RFC 4456 §9)', () => {
    expect(decidedBy(cand({ peerBgpId: 1 }), cand({ peerBgpId: 2 }))).toBe('router-id');
    expect(decidedBy(cand({ peerBgpId: 9 }, { originatorId: 1 }), cand({ peerBgpId: 2 }))).toBe('router-id');
  });
  it('shortest CLUSTER_LIST', () => expect(decidedBy(cand({}, { originatorId: 5, clusterList: [1] }), cand({}, { originatorId: 5, clusterList: [1, 2] }))).toBe('cluster-list-length'));
  it('lowest peer address, numerically', () => {
    expect(comparePeerAddress('198.18.0.9', '198.18.0.10')).toBeLessThan(0);
    // IPv6 too: as numbers, not text (fd00::9 < fd00::10, though '9' > '1' as text); IPv4 first.
    expect(comparePeerAddress('fd00::9', 'fd00::10')).toBeLessThan(0);
    expect(comparePeerAddress('fd00::a', 'fd00::9')).toBeGreaterThan(0);
    expect(comparePeerAddress('198.18.0.10', 'fd00::1')).toBeLessThan(0);
    expect(comparePeerAddress('fd00::1', 'fd00:0::1')).toBe(0);
    expect(decidedBy(cand({ peerAddress: '198.18.0.9' }), cand({ peerAddress: '198.18.0.10' }))).toBe('peer-address');
  });
  it('identical paths are equal', () => expect(decide(cand(), cand(), opts)).toEqual([0, STEPS.length]));
});
