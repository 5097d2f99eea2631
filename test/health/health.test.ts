// Readiness and liveness verdicts. Readiness pins calico-node's `-bird-ready`
// (projectcalico/calico node/pkg/health/health.go, checkBIRDReady): no peers is ready; within
// the start-up threshold (30 s, `-threshold-time`) every peer must be Established and no
// graceful restart in progress; later one Established peer is enough. Kite adds the datastore.
import { describe, expect, it } from 'vitest';
import { liveness, readiness, type HealthInputs } from '../../src/health/health.js';

const base: HealthInputs = {
  now: 1_000_000, startedAt: 1_000_000 - 5_000, started: true, datastore: 'in-sync', datastoreActivity: 1_000_000,
  peers: [{ address: '10.0.0.2', state: 'Established' }, { address: '10.0.0.3', state: 'Established' }],
  restarting: false, dataplaneBusySince: null,
};

describe('readiness (calico-node -bird-ready)', () => {
  it('starting: not ready until the daemon has started', () => {
    expect(readiness({ ...base, started: false })).toEqual({ ok: false, reasons: ['starting'] });
  });

  it('waits for the datastore to be in sync', () => {
    expect(readiness({ ...base, datastore: 'resyncing' }).reasons).toEqual(['datastore not in sync (resyncing)']);
    expect(readiness({ ...base, datastore: 'waiting' }).ok).toBe(false);
  });

  it('in sync with every peer Established: ready; no peers at all: ready', () => {
    expect(readiness(base)).toEqual({ ok: true, reasons: [] });
    expect(readiness({ ...base, peers: [] })).toEqual({ ok: true, reasons: [] });
  });

  it('a peer down during start-up: not ready, naming it as calico-node does', () => {
    const v = readiness({ ...base, peers: [{ address: '10.0.0.2', state: 'Established' }, { address: '10.0.0.3', state: 'Active' }] });
    expect(v).toEqual({ ok: false, reasons: ['BGP not established with 10.0.0.3'] });
  });

  it('graceful restart in progress during start-up: not ready', () => {
    expect(readiness({ ...base, restarting: true })).toEqual({ ok: false, reasons: ['graceful restart in progress'] });
  });

  it('after start-up: one Established peer is enough, none is not ready', () => {
    const later = { ...base, startedAt: base.now - 31_000 };
    expect(readiness({ ...later, peers: [{ address: '10.0.0.2', state: 'Established' }, { address: '10.0.0.3', state: 'Idle' }] }).ok).toBe(true);
    expect(readiness({ ...later, peers: [{ address: '10.0.0.2', state: 'Connect' }, { address: '10.0.0.3', state: 'Idle' }] }))
      .toEqual({ ok: false, reasons: ['BGP not established with 10.0.0.2,10.0.0.3'] });
    expect(readiness({ ...later, restarting: true }).ok).toBe(true);
    expect(readiness({ ...base, readyThresholdMs: 1000, peers: [{ address: '10.0.0.2', state: 'Established' }, { address: '10.0.0.3', state: 'Idle' }] }).ok).toBe(true);
  });
});

describe('liveness', () => {
  it('live while the datastore is in sync or still reporting, and the dataplane applies finish', () => {
    expect(liveness(base)).toEqual({ ok: true, reasons: [] });
    expect(liveness({ ...base, datastore: 'waiting', datastoreActivity: base.now - 60_000 }).ok).toBe(true);
    expect(liveness({ ...base, datastoreActivity: base.now - 600_000 }).ok).toBe(true); // in sync, quiet: fine
  });

  it('not live when the datastore watch or a dataplane apply is stuck', () => {
    expect(liveness({ ...base, datastore: 'waiting', datastoreActivity: base.now - 121_000 }).reasons)
      .toEqual(['datastore watch stuck: waiting with no activity for 121 s']);
    expect(liveness({ ...base, dataplaneBusySince: base.now - 130_000 }).reasons).toEqual(['dataplane stuck: one apply running for 130 s']);
    expect(liveness({ ...base, dataplaneBusySince: base.now - 1_000 }).ok).toBe(true);
  });
});
