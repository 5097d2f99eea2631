// Metrics, peer views and peer actions of real in-process daemons on loopback: /metrics parsed
// with a Prometheus text-format parser agrees with the control API (`kite show`), a reset counts
// a NOTIFICATION (Cease/Administrative Reset, RFC 4486 6/4) on both sides, a disabled peer stays
// down until enabled, and the per-peer Adj-RIBs match what the other side holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Daemon } from '../src/daemon.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually, eventuallyAsync } from './helpers/eventually.js';
import { scrape } from './helpers/scrape.js';

const world = new DaemonDir('metrics');
const port = testPort(22100, 400);
const A = '127.0.0.81', B = '127.0.0.82';

world.write(clusterYaml({
  bgp: { asNumber: 64512, listenPort: port },
  nodes: [{ name: 'a', ipv4: `${A}/8`, blocks: ['10.244.1.0/26'] }, { name: 'b', ipv4: `${B}/8`, blocks: ['10.244.2.0/26', '10.244.3.0/26'] }],
  pools: [{ name: 'pods', cidr: '10.244.0.0/16', blockSize: 26 }],
}));

let a: Daemon;
let b: Daemon;
let metricsUrl: string;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}
const sock = (d: string): string[] => ['--socket', `${world.dir}/${d}.sock`];
// The peer label is the peer's key: its address, with the port when not 179 (these daemons listen on `port`).
const peerLabels = { peer: `${B}:${port}`, peer_type: 'node-to-node mesh', peer_as: '64512' };

beforeAll(async () => {
  a = await world.start('a', A, { httpAddress: '127.0.0.1', httpPort: 0 });
  b = await world.start('b', B);
  metricsUrl = `http://127.0.0.1:${a.http.address!.port}/metrics`;
  await eventually('mesh up with routes', () => a.peers()[0]?.state === 'Established' && a.summary().ribIPv4 === 3 && b.summary().ribIPv4 === 3);
});

afterAll(() => world.close());

describe('/metrics on a running daemon', () => {
  it('agrees with kite show: session up, per-family prefixes, RIB sizes, message counts', async () => {
    const m = await scrape(metricsUrl);
    const [p] = a.peers();
    expect(p).toMatchObject({ address: B, peerType: 'node-to-node mesh', prefixesAccepted: 2, prefixesAdvertised: 1 });
    expect(m.value('kite_bgp_session_up', peerLabels)).toBe(1);
    expect(m.value('kite_bgp_session_state', { ...peerLabels, state: 'Established' })).toBe(1);
    expect(m.value('kite_bgp_session_state', peerLabels)).toBe(1); // one state set at a time
    expect(m.value('kite_bgp_prefixes_accepted', { ...peerLabels, family: 'ipv4' })).toBe(p!.prefixesAccepted);
    expect(m.value('kite_bgp_prefixes_received', { ...peerLabels, family: 'ipv4' })).toBe(p!.prefixesReceived);
    expect(m.value('kite_bgp_prefixes_advertised', { ...peerLabels, family: 'ipv4' })).toBe(p!.prefixesAdvertised);
    expect(m.value('kite_bgp_prefixes_accepted', { ...peerLabels, family: 'ipv6' })).toBe(0);
    expect(m.value('kite_rib_prefixes', { family: 'ipv4' })).toBe(a.summary().ribIPv4);
    expect(m.value('kite_bgp_session_established_transitions_total', peerLabels)).toBe(1);
    expect(m.value('kite_bgp_messages_received_total', { ...peerLabels, type: 'open' })).toBe(1);
    expect(m.value('kite_bgp_messages_sent_total', { ...peerLabels, type: 'update' })).toBeGreaterThanOrEqual(1);
    expect(m.value('kite_bgp_messages_received_total', { ...peerLabels, type: 'update' })).toBeGreaterThanOrEqual(1);
    expect(m.value('kite_datastore_sync_state', { state: 'in-sync' })).toBe(1);
    expect(m.value('kite_rib_best_path_changes_total')).toBeGreaterThanOrEqual(3);
    // Never per prefix: no label carries a prefix.
    for (const f of m.families) for (const s of f.metrics) expect(Object.values(s.labels ?? {}).some((v) => v.includes('/'))).toBe(false);
    // The process's default metrics are served too (Felix exports the same families).
    expect(m.family('process_cpu_seconds_total').type).toBe('COUNTER');
    expect(m.family('nodejs_eventloop_lag_seconds').type).toBe('GAUGE');
  });

  it('kite show peers prints the type, since and info; kite show peer the session in full', async () => {
    const peers = await cli('show', 'peers', ...sock('a'));
    expect(peers.code).toBe(0);
    expect(peers.out).toMatch(/^Peer\s+Type\s+AS\s+State\s+Since\s+Rcvd\s+Accepted\s+Adv\s+Info$/m);
    expect(peers.out).toMatch(new RegExp(`^${B.replace(/\./g, '\\.')}\\s+node-to-node mesh\\s+64512\\s+Established\\s+\\d+s\\s+2\\s+2\\s+1\\s+Established$`, 'm'));
    const one = await cli('show', 'peer', B, '--json', ...sock('a'));
    const d = JSON.parse(one.out);
    expect(d).toMatchObject({ address: B, state: 'Established', channelState: 'up', session: { holdTime: 240, keepaliveTime: 80, remoteRouterId: B } });
    expect(d.session.families).toEqual(['IPv4 unicast', 'IPv6 unicast'].filter((f) => d.session.families.includes(f)));
    expect(d.session.capabilities).toContain('route refresh');
    expect(d.gracefulRestart).toMatchObject({ localRestartTime: 120, peerRestartTime: 120 });
    const text = await cli('show', 'peer', B, ...sock('a'));
    expect(text.out).toContain(`Peer ${B} (Mesh_127_0_0_82), node-to-node mesh, AS 64512`);
    const none = await cli('show', 'peer', '192.0.2.1', ...sock('a'));
    expect(none.code).toBe(1);
    expect(none.err).toContain('192.0.2.1 is not a configured peer');
  });

  it('routes received from a peer are what it advertises, with the attributes as sent', async () => {
    const rx = JSON.parse((await cli('show', 'routes', 'received', B, '--json', ...sock('a'))).out) as { prefix: string; path: { nextHop: string } }[];
    const tx = JSON.parse((await cli('show', 'routes', 'advertised', A, '--json', ...sock('b'))).out) as { prefix: string; path: { nextHop: string } }[];
    expect(rx.map((r) => r.prefix)).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
    expect(tx.map((r) => r.prefix)).toEqual(rx.map((r) => r.prefix));
    expect(tx.map((r) => r.path.nextHop)).toEqual([B, B]);
    const table = await cli('show', 'routes', 'advertised', B, ...sock('a'));
    expect(table.out).toMatch(/^\*\s+10\.244\.1\.0\/26\s+\d+\s+127\.0\.0\.81\s+-\s+i\s+\d+/m);
  });

  it('kite show config names where each item came from', async () => {
    const c = JSON.parse((await cli('show', 'config', '--json', ...sock('a'))).out);
    expect(c.asNumber).toEqual({ value: 64512, source: 'BGPConfiguration default spec.asNumber' });
    expect(c.routerId.source).toMatch(/^Node a spec\.bgp\.ipv4Address/);
    expect(c.peers).toEqual([{ name: 'Mesh_127_0_0_82', address: B, asNumber: 64512, peerType: 'node-to-node mesh', source: 'node-to-node mesh with Node b (BGPConfiguration nodeToNodeMeshEnabled)' }]);
    expect(c.originated).toEqual([{ prefix: '10.244.1.0/26', source: 'IPAM block affine to a, IPPool pods' }]);
  });

  it('reset counts a Cease/Administrative Reset on both sides and the session comes back', async () => {
    const before = await scrape(metricsUrl);
    const r = await cli('peer', 'reset', B, ...sock('a'));
    expect(r).toMatchObject({ code: 0, out: `${B} reset: Cease/Administrative Reset sent; the session starts again\n` });
    await eventuallyAsync('flap counted and back up', async () => {
      const m = await scrape(metricsUrl);
      return m.value('kite_bgp_session_flaps_total', peerLabels) === before.value('kite_bgp_session_flaps_total', peerLabels) + 1
        && m.value('kite_bgp_session_up', peerLabels) === 1;
    });
    const m = await scrape(metricsUrl);
    expect(m.value('kite_bgp_notifications_sent_total', { ...peerLabels, code: '6', subcode: '4' })).toBe(1);
    expect(m.value('kite_bgp_session_established_transitions_total', peerLabels)).toBe(2);
    expect(b.peers()[0]!.lastError).toBe('');
    await eventually('routes back', () => a.summary().ribIPv4 === 3);
  });

  it('disable holds the peer down (the other side sees Cease/Administrative Shutdown); enable brings it back', async () => {
    const r = await cli('peer', 'disable', B, '--reason', 'maintenance', ...sock('a'));
    expect(r.code).toBe(0);
    await eventually('b sees the shutdown', () => b.peers()[0]!.state !== 'Established' && /Administrative Shutdown/.test(b.peers()[0]!.lastError));
    expect(b.peers()[0]!.lastError).toContain('maintenance');
    // b keeps trying to connect; a refuses while disabled.
    await new Promise((ok) => setTimeout(ok, 1500));
    expect(a.peers()[0]).toMatchObject({ state: 'Idle', disabled: true });
    const m = await scrape(metricsUrl);
    expect(m.value('kite_bgp_session_disabled', peerLabels)).toBe(1);
    expect(m.value('kite_bgp_notifications_sent_total', { ...peerLabels, code: '6', subcode: '2' })).toBe(1);
    expect((await cli('show', 'peers', ...sock('a'))).out).toMatch(new RegExp(`^${B.replace(/\./g, '\\.')}\\s+node-to-node mesh\\s+64512\\s+disabled\\s+.*disabled: maintenance$`, 'm'));
    expect((await cli('peer', 'enable', B, ...sock('a'))).out).toBe(`${B} enabled: the session starts again\n`);
    await eventually('back up', () => a.peers()[0]?.state === 'Established' && a.summary().ribIPv4 === 3, 20_000);
    expect((await scrape(metricsUrl)).value('kite_bgp_session_disabled', peerLabels)).toBe(0);
  });

  it('refresh asks the peer to resend (ROUTE-REFRESH counted on both sides)', async () => {
    const r = await cli('peer', 'refresh', B, ...sock('a'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^${B.replace(/\./g, '\\.')}: ROUTE-REFRESH sent for IPv4 unicast`));
    await eventuallyAsync('counted', async () => (await scrape(metricsUrl)).value('kite_bgp_messages_sent_total', { ...peerLabels, type: 'route-refresh' }) >= 1);
    const usage = await cli('peer', 'bounce', B);
    expect(usage.code).toBe(2);
  });
});
