// RFC 8538 (Notification Message support for BGP Graceful Restart) against real FRR bgpd (8.4, as
// Debian ships it; run alone with -Z -S, its graceful restart in FRR's default helper mode). Both
// sides set the N bit. Kite stopped for a restart (SIGTERM, --on-stop restart) sends Cease/
// Administrative Reset, and FRR keeps Kite's block as stale until Kite is back and has sent
// End-of-RIB (RFC 8538 §4). Kite decommissioned (SIGUSR2) sends Cease/Hard Reset carrying
// Cease/Administrative Shutdown (RFC 8538 §3, §5.1), and FRR flushes the block at once.
// Lab 198.18.46.0/24: kite .1 AS 65000, frr .2 AS 65010.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Lab, sleep, waitFor } from './netns.js';
import { FrrPeer, waitPeerState } from './peers.js';
import { createLab, Kite } from './kite.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const BLOCK = '10.244.1.0/26';

describe('interop: RFC 8538 graceful restart with FRR', () => {
  const lab = new Lab('frgn', 46);
  let kite: Kite;
  let frr: FrrPeer;
  const K = lab.v4(1);

  beforeAll(async () => {
    const [kn, fn] = await createLab(lab, ['kite', 'frr']);
    // FRR's hold time 9 s (the launcher's default): a restart of Kite takes a few seconds, inside it.
    frr = new FrrPeer({ lab, node: fn!, asNumber: 65010, neighbors: [{ address: K, asNumber: 65000 }] });
    kite = new Kite({
      lab, node: kn!, asNumber: 65000, peers: [{ name: 'frr', address: lab.v4(2), asNumber: 65010 }], blocks: [BLOCK],
      onStop: 'restart', dataplane: 'none',
    });
    await frr.start();
    await kite.start();
  }, 90_000);

  afterAll(async () => { await lab.destroy(); }, 60_000);

  /** FRR's paths for BLOCK: present, and whether FRR marks them stale (RFC 4724 helper). */
  async function frrPath(): Promise<{ present: boolean; stale: boolean }> {
    const out = JSON.parse(await frr.vtysh(`show bgp ipv4 unicast ${BLOCK} json`)) as { paths?: Array<{ stale?: boolean }> };
    const paths = out.paths ?? [];
    return { present: paths.length > 0, stale: paths.some((p) => p.stale === true) };
  }

  /** FRR log lines written after `before` was taken. */
  const freshLog = (before: Set<string>): string[] => frr.log().split('\n').filter((l) => l !== '' && !before.has(l));

  it('both sides set the N bit (RFC 8538 §2): FRR received it from Kite, Kite negotiated it with FRR', async () => {
    await kite.waitPeerState(lab.v4(2));
    await waitPeerState(frr, K);
    await waitFor('FRR holds the block', async () => ((await frrPath()).present ? true : undefined), { timeoutMs: 30_000 });
    const n = await frr.neighborJson(K);
    expect((n['gracefulRestartInfo'] as { nBit?: boolean } | undefined)?.nBit).toBe(true);
    const d = await kite.peerDetail(lab.v4(2));
    expect(d.session.capabilities).toEqual(expect.arrayContaining(['graceful restart', 'graceful notification (RFC 8538)']));
  });

  it('SIGTERM (stop for a restart): Kite sends Cease/Administrative Reset, FRR keeps the block as stale until Kite is back (RFC 8538 §4)', async () => {
    const before = new Set(frr.log().split('\n'));
    let stop = false;
    const misses: number[] = [];
    let sawStale = false;
    let polls = 0;
    const t0 = Date.now();
    const watch = (async () => {
      while (!stop) {
        const p = await frrPath().catch(() => ({ present: false, stale: false }));
        polls++;
        if (!p.present) misses.push(Date.now() - t0);
        if (p.stale) sawStale = true;
        await sleep(100);
      }
    })();
    try {
      await kite.stop(); // SIGTERM; --on-stop restart
      const line = await waitFor('FRR to log the Cease/Administrative Reset', async () => freshLog(before).find((l) => /NOTIFICATION.*received from neighbor.*6\/4/i.test(l)),
        { timeoutMs: 15_000, describe: async () => freshLog(before).join('\n') });
      expect(line).not.toMatch(/Hard Reset/i);
      await waitFor('FRR to see the session down, the block stale', async () => ((await frr.session(K)).state !== 'Established' && (await frrPath()).stale ? true : undefined),
        { timeoutMs: 15_000, describe: async () => JSON.stringify(await frrPath()) });
      await sleep(2000); // well past any immediate flush
      expect((await frrPath()).present).toBe(true);
      await kite.start();
      await waitPeerState(frr, K, 'Established', 60_000);
      await waitFor('the block fresh again after End-of-RIB', async () => {
        const p = await frrPath();
        return p.present && !p.stale ? true : undefined;
      }, { timeoutMs: 60_000, describe: async () => JSON.stringify(await frrPath()) });
    } finally {
      stop = true;
      await watch;
    }
    expect(sawStale).toBe(true);
    expect(polls).toBeGreaterThan(10);
    expect(misses).toEqual([]);
  });

  it('SIGUSR2 (decommission): Kite sends Cease/Hard Reset carrying Administrative Shutdown, FRR flushes the block at once (RFC 8538 §3, §5.1)', async () => {
    await waitPeerState(frr, K);
    const before = new Set(frr.log().split('\n'));
    kite.signal('SIGUSR2');
    const line = await waitFor('FRR to log the Hard Reset', async () => freshLog(before).find((l) => /NOTIFICATION.*Hard Reset.*received from neighbor|NOTIFICATION.*received from neighbor.*Hard Reset/i.test(l)),
      { timeoutMs: 15_000, describe: async () => freshLog(before).join('\n') });
    expect(line).toMatch(/6\/2|Administrative Shutdown/i);
    const t0 = Date.now();
    await waitFor('FRR to drop the block', async () => ((await frrPath()).present ? undefined : true), { timeoutMs: 10_000, describe: async () => JSON.stringify(await frrPath()) });
    // At once: not after Kite's 120 s restart time, nor FRR's 360 s stale-path time.
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
