// Calico's route priority in LOCAL_PREF (issue 11 item 2): the mapping both ways as confd's
// filters compute it (bgp_processor.go; confd/tests compiled_templates bgpfilter/peer_type/bird.cfg
// and node_mesh/priority1/bird.cfg), and BIRD's preference 200 as a decision step.
import { describe, expect, it } from 'vitest';
import { STEPS, decide, type Candidate } from '../../src/rib/decision.js';
import { elevated, localPrefFor, priorityFromLocalPref } from '../../src/rib/priority.js';
import { Origin, type PathAttrs } from '../../src/bgp/wire/types.js';

const attrs = (o: Partial<PathAttrs> = {}): PathAttrs => ({ id: 1, origin: Origin.IGP, asPath: [], nextHop: '198.18.0.2', atomicAggregate: false, unknown: [], ...o });
const cand = (a: Partial<PathAttrs>, peerBgpId = 2): Candidate => ({ attrs: attrs(a), local: false, ibgp: true, peerBgpId, peerAddress: `198.18.0.${peerBgpId}` });

describe('LOCAL_PREF as Calico route priority', () => {
  it('export: bgp_local_pref = 2147483647 − krt_metric, krt_metric 1024 when unset', () => {
    expect(localPrefFor(undefined)).toBe(2147482623);
    expect(localPrefFor(100)).toBe(2147483547);
    expect(localPrefFor(5000)).toBe(2147478647);
  });
  it('import: krt_metric = 2147483647 − bgp_local_pref; the normal 1024 leaves the kernel default', () => {
    expect(priorityFromLocalPref(2147482623)).toBeUndefined();
    expect(priorityFromLocalPref(2147483547)).toBe(100);
    // A non-Calico iBGP peer's LOCAL_PREF 100 is, to Calico, a very low priority (a high metric).
    expect(priorityFromLocalPref(100)).toBe(2147483547);
    expect(priorityFromLocalPref(4294967295)).toBe(0);
  });
  it('round trip: what a node receives it sends on unchanged', () => {
    for (const lp of [100, 2147482623, 2147483000, 2147483647]) expect(localPrefFor(priorityFromLocalPref(lp))).toBe(lp);
  });
  it('LOCAL_PREF above 2147482623 (metric below 1024) is BIRD preference 200, decided before LOCAL_PREF', () => {
    expect(elevated(priorityFromLocalPref(2147482624))).toBe(true);
    expect(elevated(priorityFromLocalPref(2147482623))).toBe(false);
    // A setPriority of 100 on a path with a lower LOCAL_PREF still wins on preference, as in BIRD.
    const [order, step] = decide(cand({ localPref: 100, kernelPriority: 100 }, 3), cand({ localPref: 2147482623 }, 2), { alwaysCompareMed: false });
    expect(order).toBeLessThan(0);
    expect(STEPS[step]!.name).toBe('preference');
  });
});
