// TCP MD5 (RFC 2385) and GTSM (RFC 5082) against real peers: Calico's BGPPeer password (a
// secretKeyRef, here a v1 Secret in the file datastore) and ttlSecurity. Kite peers with BIRD and
// FRR using both; a wrong password and a peer without GTSM must not come up, and Kite must say why.
// The capture, decoded by tshark, shows the MD5 option on Kite's segments and TTL 255.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab } from './netns.js';
import { makePeer, waitPeerRoute, waitPeerState, sleep, type PeerDaemon } from './peers.js';
import { createLab, Kite } from './kite.js';
import { Capture } from './pcap.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
const execFileP = promisify(execFile);

const KITE_AS = 65000;
const PEER_AS = 65100;
const BLOCK = '10.244.7.0/26';
const PASSWORD = 'Kite-md5_s3cret'; // FRR's password is one WORD: no spaces

describe('TCP MD5 and GTSM with BIRD and FRR', () => {
  const lab = new Lab('md5', 42);
  let kite: Kite;
  let bird: PeerDaemon;
  let frr: PeerDaemon;
  let wrong: PeerDaemon;
  let noGtsm: PeerDaemon;
  let cap: Capture;
  const K = lab.v4(1);
  const B = lab.v4(2);
  const F = lab.v4(3);
  const W = lab.v4(4);
  const G = lab.v4(5);

  beforeAll(async () => {
    const [kn, bn, fn, wn, gn] = await createLab(lab, ['kite', 'bird', 'frr', 'wrong', 'nogtsm']);
    cap = new Capture(lab, kn, 'md5');
    await cap.start();
    const me = { address: K, asNumber: KITE_AS };
    bird = makePeer('bird', { lab, node: bn, asNumber: PEER_AS, neighbors: [{ ...me, password: PASSWORD, ttlSecurity: 1 }] });
    frr = makePeer('frr', { lab, node: fn, asNumber: PEER_AS, neighbors: [{ ...me, password: PASSWORD, ttlSecurity: 1 }] });
    wrong = makePeer('bird', { lab, node: wn, asNumber: PEER_AS, neighbors: [{ ...me, password: 'not the same' }] });
    noGtsm = makePeer('bird', { lab, node: gn, asNumber: PEER_AS, neighbors: [{ ...me }] });
    kite = new Kite({
      lab, node: kn, asNumber: KITE_AS,
      peers: [
        { name: 'bird', address: B, asNumber: PEER_AS, password: PASSWORD, ttlSecurity: 1 },
        { name: 'frr', address: F, asNumber: PEER_AS, password: PASSWORD, ttlSecurity: 1 },
        { name: 'wrong', address: W, asNumber: PEER_AS, password: PASSWORD },
        { name: 'nogtsm', address: G, asNumber: PEER_AS, ttlSecurity: 1 },
      ],
      blocks: [BLOCK],
    });
    await Promise.all([bird.start(), frr.start(), wrong.start(), noGtsm.start()]);
    await kite.start();
  }, 120_000);

  afterAll(async () => {
    await cap?.stop().catch(() => undefined);
    await lab.destroy();
  }, 60_000);

  it('with the same password and GTSM on both sides, sessions with BIRD and FRR reach Established and carry routes', async () => {
    await kite.waitPeerState(B);
    await kite.waitPeerState(F);
    await waitPeerState(bird, K);
    await waitPeerState(frr, K);
    expect(await waitPeerRoute(bird, BLOCK)).toMatchObject({ prefix: BLOCK, nextHop: K, asPath: [KITE_AS] });
    expect(await waitPeerRoute(frr, BLOCK)).toMatchObject({ prefix: BLOCK, nextHop: K, asPath: [KITE_AS] });
  });

  it('a peer with a different password never comes up, and Kite says to check the password', async () => {
    await sleep(6000); // several connect attempts both ways
    const p = await kite.peer(W);
    expect(p?.state).not.toBe('Established');
    const w = await kite.waitPeer(W, 'an MD5 hint in lastError', (x) => /TCP MD5/.test(x.lastError), 20_000);
    expect(w.lastError).toMatch(/same password/);
    expect(w.lastError).toMatch(/TCPMD5(Failure|NotFound)=\d+/);
  });

  it('a peer that does not use GTSM (TTL 64) is not accepted by a Kite session with ttlSecurity', async () => {
    await sleep(3000);
    expect((await kite.peer(G))?.state).not.toBe('Established');
    expect((await kite.peer(B))?.state).toBe('Established'); // while the GTSM peers are fine
  });

  it('on the wire (tshark): Kite signs its segments (TCP option 19) and sends with TTL 255 to GTSM peers', async () => {
    await cap.stop();
    const { stdout } = await execFileP('tshark', ['-r', cap.file, '-Y', `ip.src == ${K} && tcp.port == 179`, '-T', 'fields',
      '-e', 'ip.dst', '-e', 'ip.ttl', '-e', 'tcp.option_kind', '-e', 'tcp.len', '-e', 'tcp.flags.syn'], { maxBuffer: 64 << 20 });
    const rows = stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
    // Segments with data (BGP messages) or SYN come from Kite's own sockets. Bare ACKs and RSTs
    // for connections Kite already closed (TIME_WAIT, a peer retrying into a dropped socket)
    // come from the kernel's control socket with the system TTL: not Kite's to set.
    const fromKite = (r: string[]): boolean => Number(r[3] ?? 0) > 0 || r[4] === '1' || r[4] === 'True';
    const to = (dst: string) => rows.filter((r) => r[0] === dst && fromKite(r));
    expect(to(B).length).toBeGreaterThan(3);
    // Every segment Kite sent to BIRD carries the MD5 signature option (kind 19) and TTL 255.
    for (const r of to(B)) {
      expect(r[2]!.split(','), r.join(' ')).toContain('19');
      expect(r[1], r.join(' ')).toBe('255');
    }
    // To the password-only peer: signed, default TTL. To the GTSM-only peer: TTL 255, unsigned.
    for (const r of to(W)) expect(r[2]!.split(','), r.join(' ')).toContain('19');
    for (const r of to(G)) {
      expect(r[1], r.join(' ')).toBe('255');
      expect((r[2] ?? '').split(','), r.join(' ')).not.toContain('19');
    }
    expect(to(W).length).toBeGreaterThan(0);
    expect(to(G).length).toBeGreaterThan(0);
  });
});
