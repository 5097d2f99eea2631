// Self-test of the interop harness without Kite: the reference daemons peer with each other
// (FRR, GoBGP and BIRD with BIRD; FRR with GoBGP) so a failing Kite test points at Kite, not at the lab.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, must, waitFor } from './netns.js';
import { CEASE_RECEIVED } from './suite.js';
import { analyzePcap, Capture } from './pcap.js';

// BIRD sends Cease/Administrative Shutdown on SIGTERM, GoBGP Cease/Peer De-configured; the
// receiving side's log line is what the Kite suites look for (CEASE_RECEIVED).
const CEASE_ANY = /received.*(admin\w* shut ?down|de-?configured)/i;
import { makePeer, waitPeerState, waitPeerRoute, waitPeerNoRoute, type PeerDaemon, type PeerKind } from './peers.js';
import { requireInteropPrereqs } from './prereqs.js';

const pairs: Array<[PeerKind, PeerKind, number]> = [
  ['frr', 'bird', 0],
  ['gobgp', 'bird', 1],
  ['bird', 'bird', 2],
  ['frr', 'gobgp', 3],
];

describe.each(pairs)('harness: %s <-> %s', (a, b, i) => {
  const lab = new Lab(`h${i}`, 250 + i);
  let pa: PeerDaemon;
  let pb: PeerDaemon;

  beforeAll(async () => {
    await requireInteropPrereqs();
    await lab.create();
    const na = await lab.addNode('a', 1);
    const nb = await lab.addNode('b', 2);
    pa = makePeer(a, {
      lab, node: na, asNumber: 4200000001,
      neighbors: [{ address: nb.ipv4, asNumber: 65002 }, { address: nb.ipv6, asNumber: 65002 }],
      announce: ['10.1.0.0/24', 'fd00:1::/64'],
    });
    pb = makePeer(b, {
      lab, node: nb, asNumber: 65002,
      neighbors: [{ address: na.ipv4, asNumber: 4200000001 }, { address: na.ipv6, asNumber: 4200000001 }],
      announce: ['10.2.0.0/24', 'fd00:2::/64'],
    });
    await Promise.all([pa.start(), pb.start()]);
  }, 60_000);

  afterAll(async () => {
    await lab.destroy();
  }, 30_000);

  it('establishes IPv4 and IPv6 sessions and exchanges routes', async () => {
    const na = lab.node('a');
    const nb = lab.node('b');
    await waitPeerState(pa, nb.ipv4);
    await waitPeerState(pb, na.ipv4);
    await waitPeerState(pa, nb.ipv6);
    await waitPeerState(pb, na.ipv6);
    const r = await waitPeerRoute(pb, '10.1.0.0/24');
    expect(r).toEqual({ prefix: '10.1.0.0/24', nextHop: na.ipv4, asPath: [4200000001], origin: 'igp' });
    const r2 = await waitPeerRoute(pa, '10.2.0.0/24');
    expect(r2).toEqual({ prefix: '10.2.0.0/24', nextHop: nb.ipv4, asPath: [65002], origin: 'igp' });
    const r6 = await waitPeerRoute(pb, 'fd00:1::/64');
    expect(r6).toMatchObject({ nextHop: na.ipv6, asPath: [4200000001], origin: 'igp' });
    const r62 = await waitPeerRoute(pa, 'fd00:2::/64');
    expect(r62).toMatchObject({ nextHop: nb.ipv6, asPath: [65002], origin: 'igp' });
  }, 90_000);

  it('propagates runtime withdraw and announce', async () => {
    await pa.withdraw('10.1.0.0/24');
    await waitPeerNoRoute(pb, '10.1.0.0/24');
    await pa.announce('10.1.1.0/24');
    await waitPeerRoute(pb, '10.1.1.0/24');
  }, 60_000);

  it('sees the neighbour restart and re-establish', async () => {
    const na = lab.node('a');
    await pb.restart();
    await waitPeerState(pb, na.ipv4);
    await waitPeerRoute(pb, '10.1.1.0/24');
  }, 60_000);

  it('logs the Cease the neighbour sends when it stops', async () => {
    const nb = lab.node('b');
    await waitPeerState(pa, nb.ipv4);
    const before = new Set(pa.log().split('\n'));
    await pb.stop();
    await waitFor(`${a} to log the Cease`, async () => pa.log().split('\n').some((l) => !before.has(l) && (b === 'bird' ? CEASE_RECEIVED : CEASE_ANY).test(l)) || undefined, {
      timeoutMs: 15_000,
      describe: async () => pa.log().split('\n').filter((l) => !before.has(l)).join('\n'),
    });
  }, 30_000);
});

describe('harness: tshark capture and BGP dissector checks (BIRD <-> FRR)', () => {
  const lab = new Lab('hcap', 249);

  afterAll(async () => {
    await lab.destroy();
  }, 30_000);

  it('decodes a clean BIRD <-> FRR exchange with every message type and no expert problems', async () => {
    await requireInteropPrereqs();
    await lab.create();
    const na = await lab.addNode('a', 1);
    const nb = await lab.addNode('b', 2);
    const cap = new Capture(lab, na);
    await cap.start();
    const pa = makePeer('bird', { lab, node: na, asNumber: 65001, neighbors: [{ address: nb.ipv4, asNumber: 65002, holdTime: 3 }, { address: nb.ipv6, asNumber: 65002, holdTime: 3 }], announce: ['10.1.0.0/24', 'fd00:1::/64'] });
    const pb = makePeer('frr', { lab, node: nb, asNumber: 65002, neighbors: [{ address: na.ipv4, asNumber: 65001, holdTime: 3 }, { address: na.ipv6, asNumber: 65001, holdTime: 3 }], announce: ['10.2.0.0/24'] });
    await Promise.all([pa.start(), pb.start()]);
    await waitPeerRoute(pb, '10.1.0.0/24');
    await waitPeerRoute(pb, 'fd00:1::/64');
    await pa.withdraw('10.1.0.0/24');
    await waitPeerNoRoute(pb, '10.1.0.0/24');
    await new Promise((r) => setTimeout(r, 2500));
    await pa.stop();
    await cap.stop();
    const rep = await analyzePcap(cap.file);
    expect(rep.malformed).toEqual([]);
    expect(rep.expertProblems).toEqual([]);
    expect([...(rep.typesBySource.get(na.ipv4) ?? [])].sort()).toEqual([1, 2, 3, 4]);
    expect(rep.verbose).toMatch(/MP_REACH_NLRI/);
  }, 60_000);
});

describe('harness: the pcap analyzer can fail', () => {
  it('flags a hand-built UPDATE whose attribute length overruns the message', async () => {
    await requireInteropPrereqs();
    const dir = mkdtempSync(join(tmpdir(), 'kt-pcap-'));
    try {
      const hex = [
        'ff'.repeat(16), // marker
        '00 19', // length 25
        '02', // type UPDATE
        '00 00', // withdrawn routes length 0
        'ff ff', // total path attribute length 65535: overruns the 4 bytes that follow
        '40 01', // ORIGIN flags/type, truncated
      ].join(' ').replace(/(\w\w)(?=\w)/g, '$1 ');
      writeFileSync(join(dir, 'bad.txt'), `0000 ${hex}\n`);
      await must('text2pcap', ['-q', '-T', '1000,179', join(dir, 'bad.txt'), join(dir, 'bad.pcap')]);
      const rep = await analyzePcap(join(dir, 'bad.pcap'));
      expect(rep.malformed.length).toBeGreaterThan(0);
      expect(rep.expertProblems.join('\n')).toMatch(/Malformed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
