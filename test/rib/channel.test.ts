// The per-peer channel's state machine (down/start/up/stale/flushing) and its graceful-restart
// timers on a fake clock: the receiving role (RFC 4724 §4.2: keep a restarting peer's routes
// stale for its restart time, sweep at End-of-RIB or when the time runs out) and, in
// LocalRestart, the restarting role (Restart State until every End-of-RIB or a deadline).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { EstablishedInfo } from '../../src/bgp/session.js';
import type { PeerHandle, SpeakerPeer } from '../../src/bgp/speaker.js';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { IPV4_UNICAST, IPV6_UNICAST, type CodecContext, type OpenMessage } from '../../src/bgp/wire/types.js';
import type { Negotiated } from '../../src/bgp/wire/validate.js';
import type { NodeConfig, PeerConfig, PeerIntent } from '../../src/config/types.js';
import { Channel, ChannelState, type ChannelDeps, type ExportBinder, type SessionBinder } from '../../src/rib/channel.js';
import type { ExportPeer } from '../../src/rib/export.js';
import { Interner } from '../../src/rib/intern.js';
import { LocalRestart } from '../../src/rib/restart.js';
import { Rib } from '../../src/rib/rib.js';
import { FakeClock } from '../bgp/helpers/net-fakes.js';
import { attr, hex, ip4, updateBody } from '../fixtures/bytes.js';

const log = pino({ level: 'silent' });
const ctx: CodecContext = { fourOctetAs: true, addPathRx: new Set(), addPathTx: new Set(), extendedMessage: false, ibgp: true };
// ORIGIN IGP, empty AS_PATH (iBGP), NEXT_HOP 198.18.0.2.
const ATTRS = attr(0x40, 1, '00') + attr(0x40, 2, '') + attr(0x40, 3, ip4('198.18.0.2'));
const NET1 = '18' + '0a0001'; // 10.0.1.0/24
const NET2 = '18' + '0a0002'; // 10.0.2.0/24

const node: NodeConfig = {
  node: 'a', labels: {}, asNumber: 64512, routerId: '198.18.0.1', listenPort: 179, bindMode: 'None', logSeverityScreen: 'Info',
  nodeToNodeMeshEnabled: true, peers: [], originate: [], pools: [], prefixAdvertisements: [], ignoredInterfaces: [], notes: [],
  services: { advertise: true, clusterIPs: [], externalIPs: [], loadBalancerIPs: [] },
  ipv4Address: { address: '198.18.0.1', prefixLength: 24, subnet: '198.18.0.0/24' },
};

const peerConfig = (o: Partial<PeerConfig> = {}): PeerConfig => ({
  name: 'Mesh_198_18_0_2', kind: 'mesh', reverse: false, address: '198.18.0.2', family: 4, port: 179, asNumber: 64512,
  localAsNumber: 64512, passive: false, multihop: true, restartTime: 120, nextHopMode: 'Auto', keepOriginalNextHop: false,
  numAllowedLocalASNumbers: 0, filters: [], routeReflectorClient: false, ...o,
});

/** The session as the speaker would report it: `established` set while a session is up. */
class FakeHandle implements PeerHandle {
  established: EstablishedInfo | null = null;
  ceased: string[] = [];
  constructor(readonly address: string, readonly config: SpeakerPeer) {}
  get key(): string { return this.address; }
  send(): boolean { return true; }
  setProducer(): void {}
  wake(): void {}
  requestRouteRefresh(): boolean { return false; }
  status(): ReturnType<PeerHandle['status']> { throw new Error('not used'); }
  cease(_subcode: number, reason: string): void { this.ceased.push(reason); }
}

class FakeSpeaker implements SessionBinder {
  readonly calls: string[] = [];
  handle: FakeHandle | undefined;
  addPeer(c: SpeakerPeer): PeerHandle { this.calls.push(`add ${c.address}`); return (this.handle = new FakeHandle(c.address, c)); }
  updatePeer(c: SpeakerPeer): PeerHandle { this.calls.push(`update ${c.address}`); return (this.handle = new FakeHandle(c.address, c)); }
  removePeer(address: string): boolean { this.calls.push(`remove ${address}`); this.handle = undefined; return true; }
  peer(): PeerHandle | undefined { return this.handle; }
}

class FakeExporter implements ExportBinder {
  readonly members = new Set<string>();
  join(p: ExportPeer): void { this.members.add(p.id); }
  leave(id: string): void { this.members.delete(id); }
  refresh(): void {}
}

/** A negotiated session; `restartTime`: the peer's graceful-restart capability, absent when undefined. */
function info(restartTime?: number): EstablishedInfo {
  const negotiated: Negotiated = { ...ctx, families: [IPV4_UNICAST], routeRefresh: true, enhancedRouteRefresh: false, gracefulRestart: restartTime !== undefined, gracefulNotification: false,
    ...(restartTime !== undefined ? { remoteGracefulRestart: { restartState: false, notification: false, restartTime, families: [] } } : {}) };
  const open: OpenMessage = { type: 1, version: 4, myAs: 64512, holdTime: 90, bgpId: 0xc6120002,
    capabilities: { multiprotocol: [], routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false, fourOctetAs: 64512, addPath: [], unknown: [] } };
  return { negotiated, holdTime: 90, remoteOpen: open, localOpen: open, outgoing: true };
}

function setup(intent: PeerIntent = { config: peerConfig(), password: undefined }, more: Partial<ChannelDeps> = {}) {
  const interner = new Interner();
  const rib = new Rib(interner);
  const clock = new FakeClock();
  const speaker = new FakeSpeaker();
  const exporter = new FakeExporter();
  const states: string[] = [];
  let endOfRibs = 0;
  const restart = { restarting: false };
  const deps: ChannelDeps = {
    rib, speaker, exporter, clock, log, restart,
    policy: { importFilter: () => undefined, importAttrs: (a) => a }, instance: { config: node },
    events: { endOfRib: () => { endOfRibs++; }, state: (_ch, _from, to) => { states.push(to); } },
    ...more,
  };
  const ch = new Channel('198.18.0.2', intent, deps);
  const announce = (...nlri: string[]) => ch.update(decodeUpdate(hex(updateBody('', ATTRS, nlri.join(''))), ctx, interner));
  const endOfRib = () => ch.update(decodeUpdate(hex('0000', '0000'), ctx, interner));
  const up = (restartTime?: number) => {
    const h = speaker.handle!;
    h.established = info(restartTime);
    ch.established(h, h.established);
  };
  const lose = (notification: boolean) => { speaker.handle!.established = null; ch.down('lost', { notification, graceful: !notification }); };
  const accepted = () => ch.status().prefixesAccepted;
  return { ch, rib, clock, speaker, exporter, states, restart, announce, endOfRib, up, lose, accepted, endOfRibs: () => endOfRibs };
}

describe('Channel: session binding', () => {
  it('binds the peer in the speaker as configured, and reads our Restart State when each OPEN is built', () => {
    const t = setup({ config: peerConfig({ keepaliveTime: 10, ttlSecurity: 1, sourceAddress: '198.18.0.1' }), password: 's3cret' });
    expect(t.ch.state).toBe(ChannelState.Start);
    expect(t.speaker.calls).toEqual(['add 198.18.0.2']);
    const sp = t.speaker.handle!.config;
    expect(sp).toMatchObject({ address: '198.18.0.2', peerAs: 64512, localAs: 64512, holdTime: 30, password: 's3cret', ttlSecurity: 1, localAddress: '198.18.0.1' });
    expect(sp.capabilities?.gracefulRestartTime).toBe(120);
    const restarting = sp.capabilities?.restarting;
    expect(typeof restarting === 'function' && restarting()).toBe(false);
    t.restart.restarting = true;
    expect(typeof restarting === 'function' && restarting()).toBe(true);
  });

  // calico-node runs one BIRD per family, each session in its peer's family (bird.cfg / bird6.cfg).
  it('offers only the peer address\'s family, with ADD-PATH for it', () => {
    const v4 = setup().speaker.handle!.config.capabilities;
    expect([v4?.families, v4?.addPath]).toEqual([[IPV4_UNICAST], [{ family: IPV4_UNICAST, mode: 3 }]]);
    const v6 = setup({ config: peerConfig({ address: 'fd00::2', family: 6 }), password: undefined }).speaker.handle!.config.capabilities;
    expect([v6?.families, v6?.addPath]).toEqual([[IPV6_UNICAST], [{ family: IPV6_UNICAST, mode: 3 }]]);
  });

  // BIRD's `gateway direct` is for single-hop sessions; Calico's are all multihop (session.test.ts).
  it('only a single-hop peer gets the connected-subnet next-hop check', () => {
    const onConnectedSubnet = (): boolean => true;
    expect(setup(undefined, { onConnectedSubnet }).speaker.handle!.config.gatewayDirect).toBeUndefined();
    const direct = setup({ config: peerConfig({ multihop: false }), password: undefined }, { onConnectedSubnet });
    expect(direct.speaker.handle!.config.gatewayDirect).toBe(onConnectedSubnet);
  });

  it('joins the update groups when Established and leaves them when the session goes', () => {
    const t = setup();
    t.up();
    expect(t.ch.state).toBe(ChannelState.Up);
    expect([...t.exporter.members]).toEqual(['198.18.0.2']);
    t.lose(true);
    expect([...t.exporter.members]).toEqual([]);
  });

  it('reconfigure resets the session and forgets routes and End-of-RIB; close de-configures', () => {
    const t = setup();
    t.up();
    t.announce(NET1);
    t.endOfRib();
    expect(t.ch.endOfRibSeen).toBe(true);
    t.ch.reconfigure({ config: peerConfig({ asNumber: 64513 }), password: undefined });
    expect(t.speaker.calls).toEqual(['add 198.18.0.2', 'update 198.18.0.2']);
    expect(t.ch.state).toBe(ChannelState.Start);
    expect(t.ch.endOfRibSeen).toBe(false);
    expect(t.rib.countIPv4).toBe(0);
    t.up();
    t.announce(NET1);
    t.ch.close();
    expect(t.speaker.calls.at(-1)).toBe('remove 198.18.0.2');
    expect(t.ch.state).toBe(ChannelState.Down);
    expect(t.rib.countIPv4).toBe(0);
    expect(t.states).toEqual(['start', 'up', 'flushing', 'start', 'up', 'flushing', 'down']);
  });

  it('tells the instance about the first End-of-RIB only', () => {
    const t = setup();
    t.up();
    t.endOfRib();
    t.endOfRib();
    expect(t.endOfRibs()).toBe(1);
  });
});

describe('Channel: graceful restart, receiving speaker (RFC 4724 §4.2)', () => {
  it('a session lost with a NOTIFICATION flushes at once', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1, NET2);
    t.lose(true);
    expect(t.ch.state).toBe(ChannelState.Start);
    expect(t.rib.countIPv4).toBe(0);
    expect(t.states).toEqual(['start', 'up', 'flushing', 'start']);
  });

  it('a peer without graceful restart is flushed even when the session just drops', () => {
    const t = setup();
    t.up();
    t.announce(NET1);
    t.lose(false);
    expect(t.ch.state).toBe(ChannelState.Start);
    expect(t.rib.countIPv4).toBe(0);
  });

  it('keeps a restarting peer\'s routes stale for its restart time, then flushes them', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1, NET2);
    t.lose(false);
    expect(t.ch.state).toBe(ChannelState.Stale);
    t.clock.advance(119_999);
    expect(t.rib.countIPv4).toBe(2);
    expect(t.ch.state).toBe(ChannelState.Stale);
    t.clock.advance(1);
    expect(t.rib.countIPv4).toBe(0);
    expect(t.ch.state).toBe(ChannelState.Start);
    expect(t.states).toEqual(['start', 'up', 'stale', 'flushing', 'start']);
  });

  // RFC 8538 §4: the session decides (fsm/graceful-notification.ts); a NOTIFICATION that leaves the routes to graceful restart keeps them here.
  it('a session reset by a NOTIFICATION under RFC 8538 keeps the routes stale like a drop; one that flushes does not', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1);
    t.speaker.handle!.established = null;
    t.ch.down('received NOTIFICATION Cease/Administrative Reset', { notification: true, graceful: true });
    expect(t.ch.state).toBe(ChannelState.Stale);
    expect(t.rib.countIPv4).toBe(1);
    t.up(120);
    t.speaker.handle!.established = null;
    t.ch.down('received NOTIFICATION Cease/Hard Reset (Cease/Administrative Shutdown)', { notification: true, graceful: false });
    expect(t.ch.state).toBe(ChannelState.Start);
    expect(t.rib.countIPv4).toBe(0);
  });

  it('back with graceful restart: stale paths wait for End-of-RIB, which sweeps what was not resent', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1, NET2);
    t.lose(false);
    t.clock.advance(60_000);
    t.up(5); // the peer's new restart time bounds the wait for its End-of-RIB
    expect(t.ch.state).toBe(ChannelState.Stale);
    t.announce(NET1);
    expect(t.rib.countIPv4).toBe(2); // 10.0.2.0/24 still there, stale
    t.endOfRib();
    expect(t.rib.countIPv4).toBe(1);
    expect(t.ch.state).toBe(ChannelState.Up);
    t.clock.advance(10_000); // the stale timer was stopped with the sweep
    expect(t.rib.countIPv4).toBe(1);
    expect(t.ch.state).toBe(ChannelState.Up);
    expect(t.states).toEqual(['start', 'up', 'stale', 'up']);
  });

  it('back with graceful restart but no End-of-RIB in time: the stale paths go, the session stays', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1, NET2);
    t.lose(false);
    t.up(5);
    t.announce(NET2);
    t.clock.advance(4_999);
    expect(t.rib.countIPv4).toBe(2);
    t.clock.advance(1);
    expect(t.rib.countIPv4).toBe(1);
    expect(t.accepted()).toBe(1);
    expect(t.ch.state).toBe(ChannelState.Up);
  });

  it('back without graceful restart: the kept routes are flushed before the new session imports', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1, NET2);
    t.lose(false);
    t.up();
    expect(t.rib.countIPv4).toBe(0);
    expect(t.ch.state).toBe(ChannelState.Up);
    expect(t.states).toEqual(['start', 'up', 'stale', 'flushing', 'up']);
    t.clock.advance(200_000); // no stale timer left behind
    expect(t.ch.state).toBe(ChannelState.Up);
  });

  it('de-configuring a stale peer stops its timer and withdraws its routes', () => {
    const t = setup();
    t.up(120);
    t.announce(NET1);
    t.lose(false);
    t.ch.close();
    expect(t.rib.countIPv4).toBe(0);
    t.clock.advance(200_000);
    expect(t.ch.state).toBe(ChannelState.Down);
  });
});

describe('LocalRestart: graceful restart, restarting speaker (RFC 4724 §4.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kite-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('announces Restart State only after an unclean exit, until done or the deadline', () => {
    const marker = join(dir, 'kite-a.running');
    const clock = new FakeClock();
    const clean = new LocalRestart({ marker, clock, log });
    expect(clean.restarting).toBe(false);
    clean.arm();
    expect(existsSync(marker)).toBe(true);
    // The process dies here without disarming: the next run restarts gracefully.
    const next = new LocalRestart({ marker, clock, log });
    expect(next.restarting).toBe(true);
    next.startDeadline(30_000);
    clock.advance(29_999);
    expect(next.restarting).toBe(true);
    clock.advance(1);
    expect(next.restarting).toBe(false);
    next.disarm();
    expect(existsSync(marker)).toBe(false);
  });

  it('ends at every peer\'s End-of-RIB, and the deadline then does nothing', () => {
    const marker = join(dir, 'kite-b.running');
    writeFileSync(marker, '1\n');
    const clock = new FakeClock();
    const r = new LocalRestart({ marker, clock, log });
    r.startDeadline(30_000);
    r.done('End-of-RIB received from every peer');
    expect(r.restarting).toBe(false);
    clock.advance(60_000);
    expect(r.restarting).toBe(false);
  });
});
