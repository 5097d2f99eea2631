// Graceful restart (RFC 4724) through a Calico mesh: three Kite nodes in a full mesh plus a BIRD
// peer with `graceful restart on`. One Kite is SIGKILLed (no NOTIFICATION: its TCP sessions just
// close) and started again; its peers, Kite and BIRD, must keep its block the whole time — the
// tables are polled every 50 ms from the kill until after the restarted node's End-of-RIB.
// Lab 198.18.64.0/24: k1 .1, k2 .2, k3 .3, bird .4.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab, sleep, waitFor } from '../interop/netns.js';
import { waitPeerState } from '../interop/peers.js';
import { createLab } from '../interop/kite.js';
import { CALICO_AS, ClusterKite, clusterKites, destroyLab, RrBirdPeer, startAll, type ClusterSpec } from './cluster.js';

vi.setConfig({ testTimeout: 150_000, hookTimeout: 180_000 });

interface Watch {
  name: string;
  polls: number;
  /** Milliseconds since the kill at which the route was missing (or the poll failed). */
  misses: Array<{ at: number; what: string }>;
}

describe('interop: graceful restart of a Kite node in a mesh with a BIRD helper', () => {
  const lab = new Lab('gr', 64);
  const ip = (i: number): string => lab.v4(i);
  const BLOCKS = ['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26'];
  const VICTIM_BLOCK = BLOCKS[1]!;
  let kites: ClusterKite[] = [];
  let bird: RrBirdPeer;

  beforeAll(async () => {
    await createLab(lab, ['k1', 'k2', 'k3', 'bird']);
    const cluster: ClusterSpec = {
      asNumber: CALICO_AS,
      mesh: true,
      nodes: [1, 2, 3].map((i) => ({ name: `k${i}`, lab: lab.node(`k${i}`), blocks: [BLOCKS[i - 1]!] })),
      peers: [{ name: 'bird', peerIP: ip(4), asNumber: CALICO_AS }],
    };
    kites = clusterKites(lab, cluster);
    bird = new RrBirdPeer(
      // Hold time 9 s (BirdPeer default): the restart below is well inside it, so only the
      // session close — not a hold-timer expiry — tells BIRD that Kite went away.
      { lab, node: lab.node('bird'), asNumber: CALICO_AS, neighbors: [1, 2, 3].map((i) => ({ address: ip(i), asNumber: CALICO_AS })) },
      { gracefulRestart: true, restartTime: 120 },
    );
    await bird.start();
    await startAll(kites);
  }, 180_000);

  afterAll(() => destroyLab(lab, kites), 60_000);

  const endOfRibFrom = (k: ClusterKite, peer: string): number =>
    k.log().split('\n').filter((l) => l.includes('"End-of-RIB received"') && l.includes(`"peer":"${peer}"`)).length;

  it('sessions are up and every peer holds the victim\'s block', async () => {
    for (const [i, k] of kites.entries()) {
      for (let j = 1; j <= 4; j++) if (j !== i + 1) await k.waitPeerState(ip(j));
    }
    for (let i = 1; i <= 3; i++) await waitPeerState(bird, ip(i));
    await kites[0]!.waitReceived(VICTIM_BLOCK, (p) => p.some((x) => x.peer === ip(2)), 'from k2');
    await kites[2]!.waitReceived(VICTIM_BLOCK, (p) => p.some((x) => x.peer === ip(2)), 'from k2');
    await waitFor('BIRD to hold the victim block', async () => ((await bird.paths(VICTIM_BLOCK)).length ? true : undefined), { timeoutMs: 30_000 });
  });

  it('SIGKILL and restart of k2: its block never disappears at k1, k3 or BIRD, and k2 restarts gracefully', async () => {
    const [k1, k2, k3] = kites as [ClusterKite, ClusterKite, ClusterKite];
    const eorBefore = [endOfRibFrom(k1, ip(2)), endOfRibFrom(k3, ip(2))];
    const watches: Watch[] = [{ name: 'k1', polls: 0, misses: [] }, { name: 'k3', polls: 0, misses: [] }, { name: 'bird', polls: 0, misses: [] }];
    let t0 = Date.now();
    let stop = false;
    const probes: Array<() => Promise<boolean>> = [
      async () => (await k1.fastRoutes(VICTIM_BLOCK)).some((r) => r.prefix === VICTIM_BLOCK && r.paths.some((p) => p.peer === ip(2))),
      async () => (await k3.fastRoutes(VICTIM_BLOCK)).some((r) => r.prefix === VICTIM_BLOCK && r.paths.some((p) => p.peer === ip(2))),
      async () => (await bird.paths(VICTIM_BLOCK)).some((p) => p.from === ip(2)),
    ];
    const loops = watches.map(async (w, i) => {
      while (!stop) {
        const started = Date.now();
        try {
          if (!(await probes[i]!())) w.misses.push({ at: started - t0, what: 'route missing' });
        } catch (e) {
          w.misses.push({ at: started - t0, what: `poll failed: ${(e as Error).message}` });
        }
        w.polls++;
        await sleep(Math.max(0, 50 - (Date.now() - started)));
      }
    });
    try {
      await sleep(300); // a few polls with everything up
      t0 = Date.now();
      k2.signal('SIGKILL');
      await k2.process?.wait();
      // Both Kite peers saw the session close without NOTIFICATION and went into helper mode.
      for (const k of [k1, k3]) {
        await waitFor(`${k.nodeName} to keep k2's routes as stale`, async () =>
          (k.log().includes('keeping its routes as stale') ? true : undefined), { timeoutMs: 15_000 });
      }
      await sleep(2000); // k2 stays dead for a while: long enough for any withdrawal to propagate
      const downMs = Date.now() - t0;
      await k2.start(); // same socket directory: the marker of the killed run is still there
      expect(k2.log()).toMatch(/announcing graceful restart/);
      for (const j of [1, 3, 4]) await k2.waitPeerState(ip(j));
      await waitPeerState(bird, ip(2));
      // The restarted node's End-of-RIB ends the helpers' stale period (RFC 4724 §4.2).
      await waitFor('End-of-RIB from the restarted k2 at k1 and k3', async () =>
        (endOfRibFrom(k1, ip(2)) > eorBefore[0]! && endOfRibFrom(k3, ip(2)) > eorBefore[1]! ? true : undefined), { timeoutMs: 30_000 });
      await sleep(2000); // and nothing is swept afterwards: the route was re-announced
      stop = true;
      await Promise.all(loops);
      for (const w of watches) {
        expect(w.misses, `${w.name}: misses (ms after the kill) while k2 was down ${downMs} ms`).toEqual([]);
        expect(w.polls, `${w.name} polls`).toBeGreaterThan(40);
      }
      // BIRD agrees the session is a restarted one, not a new peer that flushed.
      expect(bird.log()).not.toMatch(/n1: .*Received: .*Cease/i);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
  });

  it('after the restart the route is fresh everywhere (not left stale to be swept later)', async () => {
    const [k1] = kites as [ClusterKite];
    const swept = k1.log().split('\n').filter((l) => l.includes('stale routes removed'));
    expect(swept).toEqual([]);
    const r = await k1.waitReceived(VICTIM_BLOCK, (p) => p.some((x) => x.peer === ip(2)), 'from k2');
    expect(r.find((x) => x.peer === ip(2))).toMatchObject({ nextHop: ip(2), asPath: [] });
  });
});
