// Kite's BGP on the wire, judged by Wireshark's dissector: capture Kite's side of IPv4 and IPv6
// sessions with a BIRD peer (OPEN, UPDATEs both ways incl. MP_REACH, KEEPALIVEs, withdrawals, and
// the Cease NOTIFICATION on SIGTERM), then require no malformed packets and no expert warnings.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab } from './netns.js';
import { makePeer, waitPeerRoute, waitPeerState, type PeerDaemon } from './peers.js';
import { createLab, Kite } from './kite.js';
import { analyzePcap, BGP_TYPE, Capture, type PcapReport } from './pcap.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

describe('tshark decodes Kite cleanly', () => {
  const lab = new Lab('tsh', 40);
  let kite: Kite;
  let bird: PeerDaemon;
  let cap: Capture;
  let report: PcapReport;
  const K = { v4: lab.v4(1), v6: lab.v6(1) };
  const P = { v4: lab.v4(2), v6: lab.v6(2) };

  beforeAll(async () => {
    const [kn, pn] = await createLab(lab, ['kite', 'bird']);
    cap = new Capture(lab, kn);
    await cap.start();
    bird = makePeer('bird', {
      lab, node: pn, asNumber: 65001,
      neighbors: [{ address: K.v4, asNumber: 65000, holdTime: 6 }, { address: K.v6, asNumber: 65000, holdTime: 6 }],
      announce: ['10.1.0.0/24', '10.1.1.0/24', 'fd00:1::/64'],
    });
    kite = new Kite({
      lab, node: kn, asNumber: 65000,
      peers: [{ name: 'bird-v4', address: P.v4, asNumber: 65001 }, { name: 'bird-v6', address: P.v6, asNumber: 65001 }],
      blocks: ['10.244.1.0/26', 'fd00:10:244::/122'],
    });
    await bird.start();
    await kite.start();
    try {
      await kite.waitPeerState(P.v4);
      await kite.waitPeerState(P.v6);
      await waitPeerRoute(bird, '10.244.1.0/26');
      await waitPeerRoute(bird, 'fd00:10:244::/122');
      await kite.waitRoute('fd00:1::/64');
      await bird.withdraw('10.1.1.0/24');
      await kite.waitNoRoute('10.1.1.0/24');
      // Two keepalive intervals (hold 6 s → keepalive 2 s) so Kite's KEEPALIVEs are in the capture.
      await new Promise((r) => setTimeout(r, 4500));
      await waitPeerState(bird, K.v4);
      await kite.stop(); // SIGTERM: Cease NOTIFICATION to both sessions
    } finally {
      await cap.stop();
    }
    report = await analyzePcap(cap.file);
  });

  afterAll(async () => {
    await lab.destroy();
  }, 60_000);

  it('has no malformed packets and no BGP expert errors or warnings', () => {
    expect(report.messages).toBeGreaterThan(5);
    expect(report.malformed).toEqual([]);
    expect(report.expertProblems).toEqual([]);
  });

  it('decodes OPEN, UPDATE, KEEPALIVE and NOTIFICATION sent by Kite over IPv4', () => {
    const types = [...(report.typesBySource.get(K.v4) ?? [])].sort();
    expect(types).toEqual([BGP_TYPE.OPEN, BGP_TYPE.UPDATE, BGP_TYPE.NOTIFICATION, BGP_TYPE.KEEPALIVE].sort());
  });

  it("decodes Kite's IPv6 session including MP_REACH_NLRI for its block", () => {
    const types = report.typesBySource.get(K.v6) ?? new Set<number>();
    expect(types.has(BGP_TYPE.OPEN)).toBe(true);
    expect(types.has(BGP_TYPE.UPDATE)).toBe(true);
    expect(report.verbose).toMatch(/MP_REACH_NLRI/);
    expect(report.verbose).toMatch(/fd00:10:244::\/122/);
    expect(report.verbose).toMatch(/Administratively shutdown|Administrative shutdown/i);
  });
});
