// Speaker tests over loopback TCP (127.0.0.x, port 0): two speakers establish, an unconfigured
// source address is refused and logged, a simultaneous dial resolves to exactly one session,
// and stop() tells the peer why with an RFC 8203 message.
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Speaker, canonicalAddress, type RouteConsumer, type PeerHandle } from '../../src/bgp/speaker.js';
import type { DownInfo, EstablishedInfo } from '../../src/bgp/session.js';
import { KEEPALIVE_HEX, ip, openMsg, parseStream } from './helpers/net-fakes.js';
import { eventually } from '../helpers/eventually.js';

interface LogLine { msg: string; [k: string]: unknown }

function logger() {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

interface Events { up: { peer: string; info: EstablishedInfo }[]; down: { peer: string; reason: string; how: DownInfo }[] }
function consumer(): RouteConsumer & Events {
  const ev: Events = { up: [], down: [] };
  return {
    ...ev,
    onEstablished: (p: PeerHandle, info: EstablishedInfo) => { ev.up.push({ peer: p.address, info }); },
    onUpdate: () => {},
    onDown: (p: PeerHandle, reason: string, how: DownInfo) => { ev.down.push({ peer: p.address, reason, how }); },
    get up() { return ev.up; },
    get down() { return ev.down; },
  };
}

const speakers: Speaker[] = [];
afterEach(async () => { await Promise.all(speakers.splice(0).map((s) => s.stop('test over'))); });

async function pair(opts: { passiveB?: boolean; gr?: false } = {}) {
  const la = logger(), lb = logger();
  const a = new Speaker({ localAs: 64512, routerId: '10.0.0.1', logger: la.log, listenAddress: '127.0.0.1', listenPort: 0, connectRetryTime: 1, ...(opts.gr === false ? { capabilities: { gracefulRestartTime: false } } : {}) });
  const b = new Speaker({ localAs: 64512, routerId: '10.0.0.2', logger: lb.log, listenAddress: '127.0.0.2', listenPort: 0, connectRetryTime: 1, ...(opts.gr === false ? { capabilities: { gracefulRestartTime: false } } : {}) });
  speakers.push(a, b);
  const ca = consumer(), cb = consumer();
  a.setConsumer(ca);
  b.setConsumer(cb);
  await a.start();
  await b.start();
  return { a, b, la, lb, ca, cb, passiveB: opts.passiveB ?? false };
}

describe('Speaker over loopback', () => {
  it('two speakers establish an iBGP session (one active, one passive)', async () => {
    const { a, b, ca, cb, la } = await pair();
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, passive: true, localAddress: '127.0.0.2' });
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' });
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    expect(a.status()[0]).toMatchObject({ address: '127.0.0.2', state: 'Established', lastError: '' });
    expect(b.status()[0]).toMatchObject({ address: '127.0.0.1', state: 'Established' });
    expect(ca.up[0]!.info.negotiated.ibgp).toBe(true);
    expect(ca.up[0]!.info.outgoing).toBe(true);
    expect(cb.up[0]!.info.outgoing).toBe(false);
    expect(ca.up[0]!.info.localAddress).toBe('127.0.0.1');
    // One JSON log line per state change, with peer address, old/new state and reason.
    const changes = la.lines.filter((l) => l.msg === 'bgp session state change');
    expect(changes.map((l) => `${String(l.from)}>${String(l.to)}`)).toEqual(['Idle>Connect', 'Connect>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established']);
    expect(changes[0]).toMatchObject({ peer: '127.0.0.2', reason: 'started' });
  });

  it('refuses and logs a connection from an address that is not a configured peer', async () => {
    const { a, la } = await pair();
    a.addPeer({ address: '127.0.0.2', port: 1, peerAs: 64512, passive: true });
    const sock = net.connect({ host: '127.0.0.1', port: a.port!, localAddress: '127.0.0.3' });
    sock.on('error', () => {});
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    await closed;
    expect(la.lines.some((l) => l.remote === '127.0.0.3' && /not a configured peer/.test(l.msg))).toBe(true);
    expect(a.status()[0]!.state).toBe('Active');
  });

  it('a simultaneous dial (collision) ends with exactly one Established session on each side', async () => {
    const { a, b, ca, cb, la, lb } = await pair();
    // Both active, added in the same tick: each dials the other at once.
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' });
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, localAddress: '127.0.0.2' });
    await eventually('both speakers Established', () => ca.up.length >= 1 && cb.up.length >= 1, 5000);
    await new Promise((r) => setTimeout(r, 1500)); // long enough for a reconnect churn to show
    expect(ca.up).toHaveLength(1);
    expect(cb.up).toHaveLength(1);
    expect(ca.down).toHaveLength(0);
    expect(cb.down).toHaveLength(0);
    expect(a.status()[0]!.state).toBe('Established');
    expect(b.status()[0]!.state).toBe('Established');
    // RFC 4271 §6.8: B has the higher BGP ID, so the connection B initiated is the one kept.
    expect(ca.up[0]!.info.outgoing).toBe(false);
    expect(cb.up[0]!.info.outgoing).toBe(true);
    const resolved = [...la.lines, ...lb.lines].filter((l) => /collision resolved/.test(l.msg));
    expect(resolved.length).toBeGreaterThan(0);
  });

  // Two Kite speakers both set the RFC 8538 N bit, so what means "forget my routes" goes as Hard Reset (§5.1).
  it('stop() sends Cease/Administrative Shutdown with the message, inside Cease/Hard Reset (RFC 8538); the peer records it and flushes', async () => {
    const { a, b, ca, cb } = await pair();
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, passive: true });
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' });
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    await a.stop('node draining');
    await eventually('B to see its session go down', () => cb.down.length === 1, 5000);
    expect(cb.down[0]!.reason).toBe('received NOTIFICATION Cease/Hard Reset (Cease/Administrative Shutdown: "node draining")');
    expect(cb.down[0]!.how).toEqual({ notification: true, graceful: false });
    expect(b.status()[0]!.lastError).toBe('received NOTIFICATION Cease/Hard Reset (Cease/Administrative Shutdown: "node draining")');
    expect(b.status()[0]!.state).not.toBe('Established');
  });

  it('stop() for a restart sends Cease/Administrative Reset with the message (RFC 8538 §4); the peer keeps our routes', async () => {
    const { a, b, ca, cb } = await pair();
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, passive: true });
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' });
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    await a.stop('upgrading', { restart: true });
    await eventually('B to see its session go down', () => cb.down.length === 1, 5000);
    expect(cb.down[0]!.reason).toBe('received NOTIFICATION Cease/Administrative Reset: "upgrading"');
    expect(cb.down[0]!.how).toEqual({ notification: true, graceful: true });
  });

  it('removing a peer sends Cease/Peer De-configured', async () => {
    const { a, b, ca, cb } = await pair();
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, passive: true });
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' });
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    expect(a.removePeer('127.0.0.2')).toBe(true);
    await eventually('B to see its session go down', () => cb.down.length === 1, 5000);
    expect(cb.down[0]!.reason).toBe('received NOTIFICATION Cease/Hard Reset (Cease/Peer De-configured)');
    expect(cb.down[0]!.how).toEqual({ notification: true, graceful: false });
    expect(ca.down).toHaveLength(1);
    expect(a.status()).toEqual([]);
  });
});

/** A hand-driven BGP client from 127.0.0.2 (as if speaker B restarted and reconnected). */
async function rawClient(port: number, caps: string[]) {
  const sock = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
  sock.on('error', () => {});
  let received = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => { received = Buffer.concat([received, c]); });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(openMsg({ as: 64512, hold: 90, id: ip('10.0.0.2'), caps }));
  sock.write(Buffer.from(KEEPALIVE_HEX, 'hex'));
  return { sock, msgs: () => parseStream(received) };
}

describe('Speaker: a new connection while Established', () => {
  it('with graceful restart (RFC 4724 §4.2) the old session is closed and the new one kept', async () => {
    const { a, b, ca, cb } = await pair();
    // A dials, B is passive: once A drops the old connection, B only waits, so the raw
    // client below is the only one that reconnects.
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, passive: true });
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' });
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    const gr = '4006' + '0078' + '00010100'; // GR capability: time 120, IPv4 unicast, F=0
    const c = await rawClient(a.port!, [gr]);
    await eventually('a second session at A', () => ca.up.length === 2, 5000);
    expect(ca.down).toHaveLength(1);
    expect(ca.down[0]!.reason).toMatch(/restarted/);
    expect(a.status()[0]!.state).toBe('Established');
    await eventually('a KEEPALIVE on the new connection', () => c.msgs().some((m) => m.type === 4), 5000);
    expect(c.msgs().filter((m) => m.type === 3)).toHaveLength(0);
    await eventually('B to see its session go down', () => cb.down.length === 1, 5000); // B saw its old connection closed
    expect(ca.up).toHaveLength(2);
    c.sock.destroy();
  });

  it('without graceful restart the new connection is closed with Cease/Connection Collision Resolution', async () => {
    const { a, b, ca, cb } = await pair({ gr: false });
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, localAddress: '127.0.0.2' });
    a.addPeer({ address: '127.0.0.2', port: b.port!, peerAs: 64512, passive: true });
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    const c = await rawClient(a.port!, []);
    await eventually('a NOTIFICATION on the new connection', () => c.msgs().some((m) => m.type === 3), 5000);
    const n = c.msgs().find((m) => m.type === 3)!;
    expect([n.body[0], n.body[1]]).toEqual([6, 7]);
    expect(ca.down).toHaveLength(0);
    expect(a.status()[0]).toMatchObject({ state: 'Established', lastError: '' });
    c.sock.destroy();
  });
});

describe('Speaker: configuration', () => {
  // Whether a peer's configuration changed is decided upstream (the calc pipeline's peer
  // deltas): updatePeer always replaces the session, so the speaker does not compare configs.
  it('updatePeer replaces the session; addPeer refuses a configured address', async () => {
    const { a, b, ca, cb } = await pair();
    const cfg = { address: '127.0.0.2', port: b.port!, peerAs: 64512, localAddress: '127.0.0.1' };
    b.addPeer({ address: '127.0.0.1', port: a.port!, peerAs: 64512, passive: true });
    const h = a.addPeer(cfg);
    await eventually('both speakers Established', () => ca.up.length === 1 && cb.up.length === 1, 5000);
    expect(() => a.addPeer(cfg)).toThrow(/already configured/);
    expect(a.updatePeer({ ...cfg })).not.toBe(h);
    await eventually('the session replaced', () => ca.down.length === 1 && ca.up.length === 2, 5000);
    expect(ca.down[0]!.reason).toMatch(/configuration changed/);
  });

  it('peers over IPv6 loopback', async () => {
    const l1 = logger(), l2 = logger();
    const a = new Speaker({ localAs: 65001, routerId: '10.0.0.1', logger: l1.log, listenAddress: '::1', listenPort: 0 });
    const b = new Speaker({ localAs: 65002, routerId: '10.0.0.2', logger: l2.log, listenAddress: '::1', listenPort: 0 });
    speakers.push(a, b);
    const ca = consumer();
    a.setConsumer(ca);
    await a.start();
    await b.start();
    a.addPeer({ address: '0:0:0:0:0:0:0:1', port: b.port!, peerAs: 65002 });
    b.addPeer({ address: '::1', port: a.port!, peerAs: 65001, passive: true });
    await eventually('A Established', () => ca.up.length === 1, 5000);
    expect(a.status()[0]).toMatchObject({ address: '::1', state: 'Established' });
    expect(ca.up[0]!.info.negotiated.ibgp).toBe(false);
  });
});

describe('canonicalAddress', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['10.0.0.1', '10.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ])('%s → %s', (a, b) => expect(canonicalAddress(a)).toBe(b));
});
