// The interop scenario run against each reference daemon (bird/frr/gobgp.test.ts call this with a
// distinct lab subnet so the files can run in parallel). Topology on one bridge:
//   kite  198.18.x.1  AS 65000       ebgp 198.18.x.2  AS 4200000001 (4-octet)   ibgp 198.18.x.3 AS 65000
// Kite peers with ebgp over IPv4 and over IPv6 (fd00:198:18:x::/64), and with ibgp over IPv4.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, sleep } from './netns.js';
import { makePeer, waitPeerNoRoute, waitPeerRoute, waitPeerState, type PeerDaemon, type PeerKind } from './peers.js';
import { createLab, Kite } from './kite.js';

export const KITE_AS = 65000;
export const EBGP_AS = 4200000001;

export const BLOCK_A = '10.244.1.0/26';
export const BLOCK_B = '10.244.1.64/26';
export const BLOCK_V6 = 'fd00:10:244::/122';
export const EBGP_V4 = '10.1.0.0/24';
export const EBGP_V4_LATE = '10.1.1.0/24';
export const EBGP_V6 = 'fd00:1::/64';
export const IBGP_V4 = '10.3.0.0/24';

// Proposed by the frozen-peer side; Kite (240 s by default) negotiates the smaller value (RFC 4271 §4.2).
const EBGP_HOLD = 6;

/** BIRD "Received: Administrative shutdown", FRR "%NOTIFICATION: received from neighbor ... 6/2
 * (Cease/Administrative Shutdown)", GoBGP "notification-received code 6(cease) subcode 2(administrative shutdown)". */
export const CEASE_RECEIVED = /received.*admin\w* shut ?down/i;

export function defineInteropSuite(kind: PeerKind, subnet: number): void {
  describe(`interop: Kite <-> ${kind}`, () => {
    const lab = new Lab(kind.slice(0, 4), subnet);
    let kite: Kite;
    let ebgp: PeerDaemon;
    let ibgp: PeerDaemon;
    const K = { v4: lab.v4(1), v6: lab.v6(1) };
    const E = { v4: lab.v4(2), v6: lab.v6(2) };
    const I = { v4: lab.v4(3) };

    const dump = async (): Promise<string> =>
      [`--- ${kind} ebgp log tail ---`, ebgp.log().split('\n').slice(-25).join('\n'), '--- kite log tail ---', kite.log().split('\n').slice(-25).join('\n')].join('\n');

    beforeAll(async () => {
      const [kn, en, inn] = await createLab(lab, ['kite', 'ebgp', 'ibgp']);
      ebgp = makePeer(kind, {
        lab, node: en, asNumber: EBGP_AS,
        neighbors: [{ address: K.v4, asNumber: KITE_AS, holdTime: EBGP_HOLD }, { address: K.v6, asNumber: KITE_AS, holdTime: EBGP_HOLD }],
        announce: [EBGP_V4, EBGP_V6],
      });
      ibgp = makePeer(kind, { lab, node: inn, asNumber: KITE_AS, neighbors: [{ address: K.v4, asNumber: KITE_AS }], announce: [IBGP_V4] });
      kite = new Kite({
        lab, node: kn, asNumber: KITE_AS,
        peers: [
          { name: `${kind}-ebgp-v4`, address: E.v4, asNumber: EBGP_AS },
          { name: `${kind}-ebgp-v6`, address: E.v6, asNumber: EBGP_AS },
          { name: `${kind}-ibgp-v4`, address: I.v4, asNumber: KITE_AS },
        ],
        blocks: [BLOCK_A, BLOCK_B, BLOCK_V6],
      });
      await Promise.all([ebgp.start(), ibgp.start()]);
      await kite.start();
    }, 90_000);

    afterAll(async () => {
      await lab.destroy();
    }, 60_000);

    it('eBGP (4-octet AS) and iBGP sessions reach Established on both sides', async () => {
      await kite.waitPeerState(E.v4);
      await kite.waitPeerState(I.v4);
      await kite.waitPeerState(E.v6);
      await waitPeerState(ebgp, K.v4);
      await waitPeerState(ibgp, K.v4);
      await waitPeerState(ebgp, K.v6);
      const p = await kite.peer(E.v4);
      expect(p?.asNumber).toBe(EBGP_AS);
    });

    it("Kite's blocks reach the eBGP peer with next hop self, Kite's AS prepended, origin IGP", async () => {
      for (const b of [BLOCK_A, BLOCK_B]) {
        const r = await waitPeerRoute(ebgp, b);
        expect(r).toEqual({ prefix: b, nextHop: K.v4, asPath: [KITE_AS], origin: 'igp' });
      }
    });

    it("Kite's blocks reach the iBGP peer with an empty AS path and Kite's next hop", async () => {
      const r = await waitPeerRoute(ibgp, BLOCK_A);
      expect(r).toEqual({ prefix: BLOCK_A, nextHop: K.v4, asPath: [], origin: 'igp' });
    });

    it("the peers' routes are in Kite's Loc-RIB with their attributes", async () => {
      const e = await kite.waitRoute(EBGP_V4);
      const ep = e.paths.find((p) => p.peer === E.v4);
      expect(ep, JSON.stringify(e)).toBeDefined();
      expect(ep).toMatchObject({ nextHop: E.v4, asPath: [EBGP_AS], origin: 'igp' });
      const i = await kite.waitRoute(IBGP_V4);
      const ip = i.paths.find((p) => p.peer === I.v4);
      expect(ip).toMatchObject({ nextHop: I.v4, asPath: [], origin: 'igp' });
      const s = await kite.summary();
      expect(s.ribIPv4).toBeGreaterThanOrEqual(2);
    });

    it('Kite exports nothing outside its pools (CALICO.md: only pool, service and static routes leave a node)', async () => {
      await kite.waitRoute(EBGP_V4);
      await kite.waitRoute(IBGP_V4);
      await sleep(1500); // an export would have gone out by now
      const atE = (await ebgp.rib('ipv4')).map((r) => r.prefix);
      const atI = (await ibgp.rib('ipv4')).map((r) => r.prefix);
      expect(atE).not.toContain(IBGP_V4);
      expect(atE).not.toContain(EBGP_V4);
      expect(atI).not.toContain(EBGP_V4);
    });

    it('IPv6 unicast over MP-BGP: Kite block to the peer with an IPv6 next hop, peer route into Kite', async () => {
      const r = await waitPeerRoute(ebgp, BLOCK_V6);
      expect(r).toEqual({ prefix: BLOCK_V6, nextHop: K.v6, asPath: [KITE_AS], origin: 'igp' });
      const k = await kite.waitRoute(EBGP_V6);
      const kp = k.paths.find((p) => p.peer === E.v6);
      expect(kp, JSON.stringify(k)).toBeDefined();
      expect(kp?.nextHop).toBe(E.v6);
      expect(kp?.asPath).toEqual([EBGP_AS]);
      expect((await kite.summary()).ribIPv6).toBeGreaterThanOrEqual(1);
    });

    it("the peer's withdrawal and new announcement propagate into Kite", async () => {
      await ebgp.withdraw(EBGP_V4);
      await kite.waitNoRoute(EBGP_V4);
      await ebgp.announce(EBGP_V4_LATE);
      await kite.waitRoute(EBGP_V4_LATE, (r) => r.paths.some((p) => p.peer === E.v4));
    });

    it("a block removed from and re-added to Kite's watched config file propagates live, sessions stay up", async () => {
      const before = await kite.peer(E.v4);
      kite.setBlocksLive([BLOCK_A, BLOCK_V6]);
      await waitPeerNoRoute(ebgp, BLOCK_B);
      await waitPeerNoRoute(ibgp, BLOCK_B);
      expect((await waitPeerRoute(ebgp, BLOCK_A)).nextHop).toBe(K.v4);
      kite.setBlocksLive([BLOCK_A, BLOCK_B, BLOCK_V6]);
      await waitPeerRoute(ebgp, BLOCK_B, (r) => r.nextHop === K.v4 && r.asPath.length === 1);
      const after = await kite.peer(E.v4);
      // A reload, not a reset: still Established and no new error recorded.
      expect(after?.state).toBe('Established');
      expect(after?.lastError).toBe(before?.lastError);
      expect((await ebgp.session(K.v4)).state).toBe('Established');
    });

    it("a block removed from Kite's config is withdrawn at the peer (config rewritten, Kite restarted)", async () => {
      await kite.setBlocks([BLOCK_A, BLOCK_V6]);
      await kite.waitPeerState(E.v4);
      await waitPeerNoRoute(ebgp, BLOCK_B, 45_000);
      await waitPeerRoute(ebgp, BLOCK_A, (r) => r.nextHop === K.v4);
      await waitPeerRoute(ibgp, BLOCK_A);
    });

    it('Kite reconnects after the peer restarts and relearns its routes', async () => {
      await ebgp.restart();
      await kite.waitPeerState(E.v4, 'Established', 60_000);
      await waitPeerState(ebgp, K.v4);
      await kite.waitRoute(EBGP_V4_LATE, (r) => r.paths.some((p) => p.peer === E.v4));
      await waitPeerRoute(ebgp, BLOCK_A);
    });

    it('a frozen peer (SIGSTOP) is detected by hold-timer expiry', async () => {
      await kite.waitPeerState(E.v4);
      ebgp.freeze();
      const started = Date.now();
      try {
        const p = await kite.waitPeer(E.v4, 'lastError says hold timer expired', (x) => x.state !== 'Established' && /hold timer expired/i.test(x.lastError), 30_000);
        expect(p.lastError).toMatch(/hold timer expired/i);
        // Negotiated hold time is the peer's 6 s; allow scheduling slack but not Kite's 240 s.
        expect(Date.now() - started).toBeLessThan(20_000);
      } finally {
        ebgp.thaw();
      }
      await kite.waitPeerState(E.v4, 'Established', 60_000);
    });

    it("Kite's decommission stop (SIGTERM with --on-stop decommission) reaches the peer as Cease / Administrative Shutdown", async () => {
      await waitPeerState(ebgp, K.v4);
      const before = new Set(ebgp.log().split('\n'));
      await kite.stop();
      const line = await waitForCease(ebgp, before);
      expect(line).toMatch(CEASE_RECEIVED);
    });

    async function waitForCease(peer: PeerDaemon, before: Set<string>): Promise<string> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        // Only log lines written after Kite was stopped count: earlier restarts also sent Ceases.
        const fresh = peer.log().split('\n').filter((l) => !before.has(l));
        const hit = fresh.find((l) => CEASE_RECEIVED.test(l));
        if (hit) return hit;
        if (Date.now() > deadline) {
          throw new Error(`${kind} did not log a received Cease/Administrative Shutdown from Kite; new log lines:\n${fresh.join('\n')}\n${await dump()}`);
        }
        await sleep(300);
      }
    }
  });
}
