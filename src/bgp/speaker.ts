// The BGP speaker: owns the TCP listener and the set of configured peers, dials active peers,
// hands incoming connections to the right peer (refusing unknown addresses), resolves
// connection collisions (RFC 4271 §6.8) and reports route events to one typed consumer (the RIB).
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Interner } from '../rib/intern.js';
import { CeaseSub } from './wire/errors.js';
import { ipv4ToUint } from './wire/prefix.js';
import { canonicalAddress, peerKey } from './address.js';
import { familyName, type FamilyKey, type OpenMessage, type RouteRefreshMessage, type UpdateMessage } from './wire/types.js';
import { formatIpv4 } from '../net/index.js';
import type { StateName } from './fsm/fsm.js';
import {
  Session, type CapabilityOptions, type DownInfo, type Dialer, type EstablishedInfo, type MessageProducer, type SessionCounters,
} from './session.js';
import { realClock, type Clock, type TimerHandle } from './timers.js';
import { tcpNative } from '../native/addon.js';
import { applyGtsm, dial, md5Counters, nativeListenFd } from './sockets.js';

/**
 * What the speaker needs to run sessions with one peer. The node's peer model is
 * config/types.ts PeerConfig; the channel (rib/channel.ts) maps one to the other.
 */
export interface SpeakerPeer {
  /** Peer IP address (IPv4 or IPv6). Identifies the peer: incoming connections are matched on it. */
  address: string;
  /** Remote TCP port to dial (default 179). */
  port?: number;
  peerAs: number;
  /** Our AS toward this peer when it differs from the speaker's (Calico BGPPeer localASNumber). */
  localAs?: number;
  /** Only accept connections from this peer (Calico mesh: the node with the lower IP dials). */
  passive?: boolean;
  /** Source address for the outgoing connection. */
  localAddress?: string;
  /**
   * TCP MD5 signature key (RFC 2385; Calico BGPPeer password). Set on the outgoing socket and,
   * for incoming connections, on the listening socket for this peer's address. Needs the native
   * addon (sockets.ts); without it the peer does not connect and says why.
   */
  password?: string;
  /**
   * GTSM (RFC 5082; Calico ttlSecurity): the peer is at most this many hops away. Kite sends
   * with TTL 255 and drops segments that arrive with TTL below 256 − hops. Without it sessions
   * use the kernel's default TTL (64), which serves multihop mesh peers.
   */
  ttlSecurity?: number;
  holdTime?: number;
  connectRetryTime?: number;
  capabilities?: CapabilityOptions;
  /** A single-hop session's next-hop check (SessionConfig.gatewayDirect); unset for multihop peers. */
  gatewayDirect?: (nextHop: string) => boolean;
}

export interface SpeakerOptions {
  localAs: number;
  /** BGP Identifier, dotted quad. */
  routerId: string;
  logger: Logger;
  /**
   * Listen address, or one listener per address (Calico bindMode NodeIP: the node's IPv4 and IPv6
   * addresses). Default "::", which also accepts IPv4 on a dual-stack host; falls back to 0.0.0.0.
   */
  listenAddress?: string | readonly string[];
  /** Listen port (default 179; 0 picks a free port, for tests). null: do not listen at all. */
  listenPort?: number | null;
  /** Defaults for peers that do not set their own. */
  holdTime?: number;
  connectRetryTime?: number;
  capabilities?: CapabilityOptions;
  clock?: Clock;
  random?: () => number;
  /** Attribute interner shared with the RIB (one per daemon); a private one when absent. */
  interner?: Interner;
  /** Counts messages, NOTIFICATIONs and state changes per peer (src/metrics); none when absent. */
  meter?: SpeakerMeter;
}

/** The per-peer events the metrics count: SessionMeter's, with the peer's key (address.ts peerKey), and state changes. */
export interface SpeakerMeter {
  message(peer: string, direction: 'in' | 'out', type: number, count?: number): void;
  notification(peer: string, direction: 'in' | 'out', code: number, subcode: number): void;
  stateChange(peer: string, from: StateName, to: StateName): void;
}

/** What the session negotiated, for `kite show peer` (null fields until Established). */
export interface PeerSessionDetail {
  /** Hold time in force (negotiated once OPEN is exchanged, else ours) and the keepalive interval, seconds. */
  holdTime: number;
  keepaliveTime: number;
  connectRetryTime: number;
  localAddress: string | null;
  remoteBgpId: string | null;
  /** Which side opened the TCP connection. */
  connection: 'none' | 'outgoing' | 'incoming';
  /** Negotiated: families ("ipv4-unicast"), four-octet AS, route refresh, ADD-PATH, extended messages, graceful restart. */
  families: string[];
  capabilities: string[];
  /** The peer's graceful-restart capability (RFC 4724) from its last OPEN, when it sent one. */
  peerRestartTime: number | null;
  peerRestarting: boolean;
}

/** Per-peer status for the control API (prefix counts come from the RIB). */
export interface PeerSessionStatus {
  address: string;
  /** The peer's key (address.ts peerKey): its address, or address and port when not 179. */
  key: string;
  port: number;
  asNumber: number;
  passive: boolean;
  state: StateName;
  lastError: string;
  uptimeMs: number;
  /** ms in the current state. */
  sinceMs: number;
  /** Held down by `kite peer disable` until enabled. */
  disabled: boolean;
  counters: SessionCounters;
  detail: PeerSessionDetail;
}

/** What the RIB composition root uses to talk to one peer. */
export interface PeerHandle {
  readonly address: string;
  /** The peer's key: its address, with the port when not 179 (address.ts peerKey). */
  readonly key: string;
  readonly config: Readonly<SpeakerPeer>;
  /** The established session's negotiated info, null when not established. */
  readonly established: EstablishedInfo | null;
  /** Queue bulk data on the established session: `messages` whole UPDATEs (default 1); false when not established. */
  send(buf: Buffer, messages?: number): boolean;
  /** Install the table-transfer producer on the established session (pulled under backpressure). */
  setProducer(p: MessageProducer | null): void;
  wake(): void;
  requestRouteRefresh(family: FamilyKey): boolean;
  status(): PeerSessionStatus;
  /**
   * Ends the session with Cease/`subcode` (e.g. 1, maximum number of prefixes reached, RFC 4486)
   * and keeps the peer down for `holdDownMs` before it starts again; `reason` becomes lastError.
   */
  cease(subcode: number, reason: string, holdDownMs: number): void;
}

export const PEER_ACTIONS = ['reset', 'disable', 'enable', 'refresh'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

/** Route events, per peer, for the RIB. onUpdate is synchronous; message buffers die after it. */
export interface RouteConsumer {
  onEstablished(peer: PeerHandle, info: EstablishedInfo): void;
  onUpdate(peer: PeerHandle, msg: UpdateMessage): void;
  onRouteRefresh?(peer: PeerHandle, msg: RouteRefreshMessage): void;
  onDown(peer: PeerHandle, reason: string, how: DownInfo): void;
}

export { canonicalAddress };

interface SpeakerCore {
  readonly opts: SpeakerOptions;
  readonly bgpId: number;
  readonly log: Logger;
  readonly interner: Interner;
  readonly clock: Clock;
  consumer: RouteConsumer | null;
  /** Addresses held down by `kite peer disable`: kept here so a reconfigured peer stays down too. */
  readonly disabled: Set<string>;
}

/** Negotiated capability names, for `kite show peer` (the words BIRD's `show protocols all` uses, roughly). */
function capabilityNames(info: EstablishedInfo | null): string[] {
  if (info === null) return [];
  const n = info.negotiated;
  const out: string[] = [];
  if (n.fourOctetAs) out.push('4-octet AS');
  if (n.routeRefresh) out.push('route refresh');
  if (n.enhancedRouteRefresh) out.push('enhanced route refresh');
  if (n.extendedMessage) out.push('extended message');
  if (n.gracefulRestart) out.push('graceful restart');
  if (n.gracefulNotification) out.push('graceful notification (RFC 8538)');
  const fam = (f: FamilyKey): string => familyName(f);
  if (n.addPathRx.size) out.push(`ADD-PATH receive (${[...n.addPathRx].map(fam).join(', ')})`);
  if (n.addPathTx.size) out.push(`ADD-PATH send (${[...n.addPathTx].map(fam).join(', ')})`);
  return out;
}

/** How long `kite peer reset` keeps the peer down before it connects again. */
const RESET_HOLD_MS = 2000;

/** One configured peer: a primary session, plus a second one while a collision is resolved. */
class Peer implements PeerHandle {
  readonly address: string;
  readonly key: string;
  primary: Session;
  secondary: Session | null = null;
  private info: EstablishedInfo | null = null;
  private lastErr = '';
  private removed = false;
  /** Clock ms until which the peer is held down after cease(); its connections are refused. */
  private holdDownUntil = 0;
  private holdDownTimer: TimerHandle | null = null;

  constructor(private readonly core: SpeakerCore, readonly config: Readonly<SpeakerPeer>) {
    this.address = canonicalAddress(config.address);
    this.key = peerKey(config.address, config.port ?? 179);
    this.primary = this.makeSession(true);
  }

  get established(): EstablishedInfo | null { return this.info; }
  private get live(): Session | null {
    if (this.primary.state === 'Established') return this.primary;
    return this.secondary?.state === 'Established' ? this.secondary : null;
  }

  send(buf: Buffer, messages = 1): boolean { return this.live?.send(buf, messages) ?? false; }
  setProducer(p: MessageProducer | null): void { this.live?.setProducer(p); }
  wake(): void { this.live?.wake(); }
  requestRouteRefresh(family: FamilyKey): boolean { return this.live?.requestRouteRefresh(family) ?? false; }

  status(): PeerSessionStatus {
    const s = this.live ?? this.primary;
    return {
      address: this.address,
      key: this.key,
      port: this.config.port ?? 179,
      asNumber: this.config.peerAs,
      passive: this.config.passive ?? false,
      state: s.state,
      lastError: this.lastErr || this.md5Hint(s.state),
      uptimeMs: s.uptimeMs,
      sinceMs: s.sinceMs,
      disabled: this.core.disabled.has(this.key),
      counters: { ...s.counters },
      detail: this.detail(s),
    };
  }

  private detail(s: Session): PeerSessionDetail {
    const info = this.info;
    const gr = info?.negotiated.remoteGracefulRestart;
    const hold = s.holdTimeNow;
    return {
      holdTime: hold,
      keepaliveTime: Math.floor(hold / 3),
      connectRetryTime: this.config.connectRetryTime ?? this.core.opts.connectRetryTime ?? 5,
      localAddress: info?.localAddress ?? null,
      remoteBgpId: info === null ? null : formatIpv4(info.remoteOpen.bgpId >>> 0),
      connection: s.connection,
      families: info?.negotiated.families.map((f) => familyName(f)) ?? [],
      capabilities: capabilityNames(info),
      peerRestartTime: gr?.restartTime ?? null,
      peerRestarting: gr?.restartState ?? false,
    };
  }

  start(): void { if (!this.core.disabled.has(this.key)) this.primary.start(); }

  /**
   * `kite peer disable` (birdc disable): Cease/Administrative Shutdown (RFC 4486 6/2, with the
   * RFC 8203 message) and no restart, no accepted connection, until enable().
   */
  disable(reason: string): void {
    this.core.disabled.add(this.key);
    this.cancelHoldDown();
    this.secondary?.stop(reason);
    this.secondary = null;
    this.primary.stop(reason);
    this.lastErr = `disabled: ${reason}`;
  }

  /** `kite peer enable`: the session starts again (dials, or waits when passive). */
  enable(): void {
    if (!this.core.disabled.delete(this.key)) return;
    this.lastErr = '';
    if (!this.removed) this.primary.start();
  }

  /**
   * `kite peer reset` (birdc restart): Cease/Administrative Reset (6/4), then back up after
   * RESET_HOLD_MS. Not at once: a peer that does graceful restart takes a new connection while
   * its session is up for a restart of ours (RFC 4724 §4.2) and drops the old one unread, so an
   * immediate reconnect could overtake the NOTIFICATION (FRR then logs "NSF peer closed the
   * session" and keeps our routes as stale). BIRD waits its start delay for the same reason.
   */
  reset(reason: string): void {
    if (this.core.disabled.has(this.key)) return;
    this.cease(CeaseSub.AdministrativeReset, reason, RESET_HOLD_MS);
  }

  /**
   * A session with a TCP MD5 key that never gets a TCP connection is, most often, a password
   * mismatch: the kernel drops segments whose signature is missing or wrong without a word.
   * Say so, with the kernel's counters for this network namespace.
   */
  private md5Hint(state: StateName): string {
    if (!this.config.password || (state !== 'Connect' && state !== 'Active')) return '';
    const c = md5Counters();
    const counts = c === null ? '' : ` Kernel TCP MD5 counters here: ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')} (TCPMD5Failure: wrong signature; TCPMD5NotFound: unsigned segment from a peer with a key; TCPMD5Unexpected: signed segment where no key is set).`;
    return `no TCP connection yet with TCP MD5 configured: if the peer is reachable, check that both sides use the same password (segments with a missing or wrong signature are dropped silently).${counts}`;
  }

  cease(subcode: number, reason: string, holdDownMs: number): void {
    this.secondary?.dispose(reason, subcode);
    this.primary.dispose(reason, subcode);
    this.primary.setAutoRestart(true);
    this.lastErr = reason;
    const clock = this.core.clock;
    this.holdDownUntil = clock.now() + holdDownMs;
    if (this.holdDownTimer !== null) clock.clearTimeout(this.holdDownTimer);
    this.holdDownTimer = clock.setTimeout(() => { this.holdDownTimer = null; if (!this.removed) this.primary.start(); }, holdDownMs);
  }

  stop(reason: string): void {
    this.removed = true;
    this.cancelHoldDown();
    this.secondary?.stop(reason);
    this.primary.stop(reason);
  }

  /**
   * Stop for a restart, so that a peer that negotiated graceful restart keeps our routes as stale
   * until we are back: Cease/Administrative Reset when both sides set the RFC 8538 N bit (RFC 8538
   * §4), else the connection dropped without a NOTIFICATION (RFC 4724 §4.2).
   */
  halt(reason: string): void {
    this.removed = true;
    this.cancelHoldDown();
    this.secondary?.stopForRestart(reason);
    this.primary.stopForRestart(reason);
  }

  remove(reason: string, subcode: number): void {
    this.removed = true;
    this.cancelHoldDown();
    this.secondary?.dispose(reason, subcode);
    this.primary.dispose(reason, subcode);
  }

  private cancelHoldDown(): void {
    if (this.holdDownTimer !== null) this.core.clock.clearTimeout(this.holdDownTimer);
    this.holdDownTimer = null;
  }

  /** An incoming connection from this peer's address. */
  incoming(socket: Duplex): void {
    if (this.removed) { socket.destroy(); return; }
    if (this.core.disabled.has(this.key)) {
      this.core.log.info({ peer: this.address }, 'refused connection: peer is disabled (kite peer enable brings it back)');
      socket.destroy();
      return;
    }
    const now = this.core.clock.now();
    if (now < this.holdDownUntil) {
      this.core.log.info({ peer: this.address, seconds: Math.ceil((this.holdDownUntil - now) / 1000) }, 'refused connection: peer is held down (prefix limit exceeded, or reset)');
      socket.destroy();
      return;
    }
    const p = this.primary.state;
    if ((p === 'Idle' || p === 'Active') && this.primary.accept(socket)) return;
    if (this.secondary) {
      // A third connection while two are being resolved: refuse it; the peer retries.
      this.core.log.info({ peer: this.address }, 'refused extra connection during collision resolution');
      socket.destroy();
      return;
    }
    const s = this.makeSession(false);
    this.secondary = s;
    if (!s.accept(socket)) { this.secondary = null; socket.destroy(); }
  }

  private makeSession(primary: boolean): Session {
    const o = this.core.opts;
    const c = this.config;
    const port = c.port ?? 179;
    const dialer: Dialer = (done) => {
      let sock: net.Socket;
      try {
        sock = dial(c.address, port, c.localAddress, c); // its password and ttlSecurity
      } catch (e) {
        // The options cannot be honoured (no addon, bad key): fail this attempt, never connect without them.
        queueMicrotask(() => done(e instanceof Error ? e : new Error(String(e))));
        return { cancel: () => {} };
      }
      let settled = false;
      const onErr = (e: Error) => { if (settled) return; settled = true; sock.destroy(); done(e); };
      sock.once('error', onErr);
      sock.once('connect', () => {
        if (settled) return;
        settled = true;
        sock.off('error', onErr);
        sock.setNoDelay(true); // KEEPALIVEs must not wait behind Nagle
        done(null, sock);
      });
      return { cancel: () => { if (!settled) { settled = true; sock.destroy(); } } };
    };
    const sessionConfig = {
      localAs: c.localAs ?? o.localAs,
      peerAs: c.peerAs,
      localBgpId: this.core.bgpId,
      holdTime: c.holdTime ?? o.holdTime ?? 240,
      connectRetryTime: c.connectRetryTime ?? o.connectRetryTime ?? 5,
      passive: c.passive ?? false,
      remoteAddress: this.address,
      remotePort: port,
      ...(c.capabilities ?? o.capabilities ? { capabilities: c.capabilities ?? o.capabilities } : {}),
      ...(c.gatewayDirect !== undefined ? { gatewayDirect: c.gatewayDirect } : {}),
    };
    const m = this.core.opts.meter;
    const key = this.key;
    const meter = m === undefined ? undefined : {
      message: (dir: 'in' | 'out', type: number, count?: number) => m.message(key, dir, type, count),
      notification: (dir: 'in' | 'out', code: number, subcode: number) => m.notification(key, dir, code, subcode),
    };
    const session: Session = new Session(sessionConfig, {
      onStateChange: (from, to, reason) => this.onStateChange(session, from, to, reason),
      onEstablished: (info) => this.onEstablished(session, info),
      onUpdate: (msg) => { if (session === this.live) this.core.consumer?.onUpdate(this, msg); },
      onRouteRefresh: (msg) => { if (session === this.live) this.core.consumer?.onRouteRefresh?.(this, msg); },
      onDown: (reason, how) => {
        if (this.info === null) return;
        this.info = null;
        this.core.consumer?.onDown(this, reason, how ?? { notification: true, graceful: false });
      },
    }, {
      clock: this.core.clock,
      dialer,
      interner: this.core.interner,
      autoRestart: primary,
      collisionCheck: (s, open) => this.collision(s, open),
      ...(o.random ? { random: o.random } : {}),
      ...(meter ? { meter } : {}),
    });
    return session;
  }

  private onStateChange(s: Session, from: StateName, to: StateName, reason: string): void {
    this.core.log.info({
      peer: this.address, port: this.config.port ?? 179, from, to, reason,
      connection: s.connection, role: s === this.primary ? 'primary' : 'secondary',
    }, 'bgp session state change');
    // The peer's state is its live session's (or the primary's): a second connection's steps are not the peer's.
    if (s === this.primary || to === 'Established') this.core.opts.meter?.stateChange(this.key, from, to);
    // lastError describes the peer: a second connection failing while another one is
    // Established (e.g. a refused collision) is logged but does not overwrite it.
    const otherUp = this.live !== null && this.live !== s;
    if (to === 'Established') this.lastErr = '';
    else if (!otherUp && (to === 'Idle' || (to === 'Active' && from !== 'Idle'))) this.lastErr = reason;
    if (s === this.secondary && (to === 'Idle' || (to === 'Active' && from !== 'Idle'))) {
      // A second connection is one-shot: once it is lost it must not linger in Active and dial.
      this.secondary = null;
      s.dispose('second connection lost', null);
    }
  }

  private onEstablished(s: Session, info: EstablishedInfo): void {
    if (s === this.secondary) this.promote(s, 'superseded by the incoming connection');
    this.info = info;
    this.core.consumer?.onEstablished(this, info);
  }

  /** The secondary session becomes the peer's session; the old primary is dropped without NOTIFICATION. */
  private promote(s: Session, reason: string): void {
    const old = this.primary;
    this.primary = s;
    this.secondary = null;
    s.setAutoRestart(!this.removed);
    old.dispose(reason, null);
  }

  /**
   * RFC 4271 §6.8, run when a valid OPEN arrives on `s`. Returns true when `s` must be dumped
   * (Cease/Connection Collision Resolution, 6/7), after possibly dumping the other connection.
   */
  private collision(s: Session, open: OpenMessage): boolean {
    const other = s === this.primary ? this.secondary : this.primary;
    if (!other) return false;
    const os = other.state;
    if (os === 'Idle' || os === 'Connect' || os === 'Active') return false;
    if (os === 'Established') {
      // RFC 4724 §4.2: with graceful restart, an OPEN on a new connection means the peer
      // restarted: close the old session (its routes go stale in the RIB) and continue the new one.
      if (other.negotiated?.gracefulRestart) {
        if (other === this.primary) this.promote(s, 'peer restarted (new connection while established, RFC 4724 §4.2)');
        else other.dispose('peer restarted', null);
        return false;
      }
      return true; // §6.8: a collision with an Established session closes the new connection
    }
    // OpenSent/OpenConfirm: keep the connection initiated by the speaker with the higher BGP
    // Identifier; equal identifiers (possible for eBGP, RFC 6286 §2.3) are ordered by AS number.
    const local = this.core.bgpId >>> 0, remote = open.bgpId >>> 0;
    const localAs = this.config.localAs ?? this.core.opts.localAs;
    const localWins = local > remote || (local === remote && localAs > this.config.peerAs);
    const keepS = s.initiatedLocally === localWins;
    this.core.log.info({ peer: this.address, localId: local, remoteId: remote, kept: keepS === s.initiatedLocally ? 'outgoing' : 'incoming' },
      'connection collision resolved (RFC 4271 §6.8)');
    if (!keepS) return true;
    other.collisionDump();
    if (other === this.primary) this.promote(s, 'connection collision resolution');
    return false;
  }
}

export class Speaker {
  private readonly core: SpeakerCore;
  private readonly peers = new Map<string, Peer>();
  private servers: net.Server[] = [];
  /** The listening sockets' fds when created natively (per-peer MD5 keys go on each). */
  private listenFds: number[] = [];
  private stopped = false;

  constructor(opts: SpeakerOptions) {
    this.core = {
      opts,
      bgpId: ipv4ToUint(opts.routerId),
      log: opts.logger,
      interner: opts.interner ?? new Interner(),
      clock: opts.clock ?? realClock,
      consumer: null,
      disabled: new Set(),
    };
  }

  /** The RIB plugs in here (one consumer). */
  setConsumer(c: RouteConsumer | null): void { this.core.consumer = c; }

  /** Start listening (unless listenPort is null) and start every configured peer. */
  async start(): Promise<void> {
    const port = this.core.opts.listenPort === undefined ? 179 : this.core.opts.listenPort;
    if (port !== null) {
      const a = this.core.opts.listenAddress;
      const list: (string | undefined)[] = a === undefined ? [undefined] : typeof a === 'string' ? [a] : [...a];
      for (const host of list) this.servers.push(await this.listen(host, port));
    }
    for (const p of this.peers.values()) p.start();
  }

  /** The bound listen port (useful with port 0). */
  get port(): number | null {
    const a = this.servers[0]?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  private listen(address: string | undefined, port: number): Promise<net.Server> {
    const attempt = (host: string) => new Promise<net.Server>((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (sock) => this.onConnection(sock));
      srv.once('error', reject);
      // Natively created when the addon is there, so TCP MD5 keys can be set on it per peer.
      let fd: number | null;
      try {
        fd = nativeListenFd(host, port, (f) => {
          for (const p of this.peers.values()) if (p.config.password) this.setListenKey(p.address, p.config.password, f);
          this.setListenTtl(f);
        });
      } catch (e) {
        reject(e);
        return;
      }
      if (fd !== null) this.listenFds.push(fd);
      srv.listen(fd !== null ? { fd } : { host, port, ipv6Only: false }, () => {
        srv.off('error', reject);
        srv.on('error', (e) => this.core.log.error({ err: e }, 'bgp listener error'));
        this.core.log.info({ address: host, port: (srv.address() as net.AddressInfo).port }, 'bgp listening');
        resolve(srv);
      });
    });
    if (address !== undefined) return attempt(address);
    // Dual stack by default; a host without IPv6 gets an IPv4-only listener.
    return attempt('::').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EAFNOSUPPORT' || e.code === 'EADDRNOTAVAIL') return attempt('0.0.0.0');
      throw e;
    });
  }

  private onConnection(sock: net.Socket): void {
    const remote = sock.remoteAddress ? canonicalAddress(sock.remoteAddress) : '';
    const peer = this.incomingPeer(remote, sock.remotePort);
    if (!peer || this.stopped) {
      if (peer === null) {
        this.core.log.warn({ remote, remotePort: sock.remotePort },
          'refused BGP connection: several peers share this address on different ports and the connection\'s source port names none of them (Kite dials each of them instead)');
      } else {
        this.core.log.warn({ remote, remotePort: sock.remotePort }, 'refused BGP connection from an address that is not a configured peer');
      }
      sock.destroy();
      return;
    }
    sock.on('error', () => {}); // errors before the session attaches its own handler
    if ((peer.config.ttlSecurity ?? 0) > 0) {
      try {
        applyGtsm(sock, peer.config.ttlSecurity!);
      } catch (e) {
        this.core.log.error({ peer: remote, err: (e as Error).message }, 'cannot apply GTSM (ttlSecurity) to an incoming connection; refused');
        sock.destroy();
        return;
      }
    }
    peer.incoming(sock);
  }

  /**
   * The peer an incoming connection from `remote` belongs to: the one peer at that address, or,
   * when several share it on different ports, the one whose port is the connection's source port
   * (a speaker that binds its listening port for outgoing connections too). undefined: no peer
   * there; null: ambiguous, refused, since handing it to the wrong peer would end that peer's
   * session (Kite then dials each of them, and every BGPPeer session is active on Kite's side).
   */
  private incomingPeer(remote: string, remotePort: number | undefined): Peer | null | undefined {
    const at = [...this.peers.values()].filter((p) => p.address === remote);
    if (at.length <= 1) return at[0];
    return at.find((p) => (p.config.port ?? 179) === remotePort) ?? null;
  }

  /** A configured peer by key, or by any spelling of its address (the first of several on different ports). */
  private lookup(id: string): Peer | undefined {
    const c = canonicalAddress(id);
    return this.peers.get(id) ?? this.peers.get(c) ?? [...this.peers.values()].find((p) => p.address === c);
  }

  /** The MD5 key the listening socket holds for an address: the password of a peer there, if any. */
  private listenPasswordFor(address: string): string | undefined {
    return [...this.peers.values()].find((p) => p.address === address && p.config.password)?.config.password;
  }

  /** Add a peer (starts it when the speaker is running). Throws when the address and port are already configured. */
  addPeer(config: SpeakerPeer): PeerHandle {
    const key = peerKey(config.address, config.port ?? 179);
    if (this.peers.has(key)) throw new Error(`peer ${key} is already configured`);
    const p = new Peer(this.core, { ...config });
    this.peers.set(key, p);
    if (this.servers.length > 0) {
      if (config.password) this.setListenKey(p.address, config.password);
      this.setListenTtl();
    }
    if (this.servers.length > 0 || this.core.opts.listenPort === null) {
      if (!this.stopped) p.start();
    }
    return p;
  }

  /** Remove a peer: Cease/Peer De-configured (6/3) when a connection is up. */
  removePeer(id: string): boolean {
    const p = this.lookup(id);
    if (!p) return false;
    this.peers.delete(p.key);
    this.core.disabled.delete(p.key); // a peer configured again later starts enabled
    p.remove('peer de-configured', CeaseSub.PeerDeconfigured);
    if (p.config.password) this.setListenKey(p.address, this.listenPasswordFor(p.address));
    this.setListenTtl();
    return true;
  }

  /**
   * Replace a peer's configuration: the session resets (Cease/Other Configuration Change, 6/6).
   * Callers decide what changed (the calc pipeline's peer deltas); the speaker does not compare.
   */
  updatePeer(config: SpeakerPeer): PeerHandle {
    const key = peerKey(config.address, config.port ?? 179);
    const p = this.peers.get(key);
    if (p) {
      this.peers.delete(key);
      p.remove('peer configuration changed', CeaseSub.OtherConfigurationChange);
      if (p.config.password && !config.password) this.setListenKey(p.address, this.listenPasswordFor(p.address));
    }
    return this.addPeer(config);
  }

  /**
   * GTSM peers check the TTL of our SYN-ACK, which the kernel sends before Kite sees the
   * connection: while any peer has ttlSecurity the listening socket sends with TTL 255 (harmless
   * to other peers; accepted sockets then get their own minimum TTL per peer).
   */
  private setListenTtl(fd?: number): void {
    if (fd === undefined) { for (const f of this.listenFds) this.setListenTtl(f); return; }
    const n = tcpNative();
    if (n === null) return;
    const gtsm = [...this.peers.values()].some((p) => (p.config.ttlSecurity ?? 0) > 0);
    try {
      n.tcpSetTtl(fd, gtsm ? 255 : -1, -1);
    } catch (e) {
      this.core.log.error({ err: (e as Error).message }, 'cannot set the TTL of the listening socket (GTSM)');
    }
  }

  /** Set (or with no password, remove) the peer's TCP MD5 key on the listening socket. */
  private setListenKey(address: string, password: string | undefined, fd?: number): void {
    if (fd === undefined && this.servers.length === 0) return; // not listening (yet): applied when it does
    if (fd === undefined && this.listenFds.length > 0) { for (const f of this.listenFds) this.setListenKey(address, password, f); return; }
    const n = tcpNative();
    if (fd === undefined || n === null) {
      if (password) this.core.log.error({ peer: address }, 'TCP MD5 password configured but the listener has no native socket (addon missing): incoming connections from this peer will fail');
      return;
    }
    try {
      n.tcpSetMd5(fd, address, password ?? '');
    } catch (e) {
      this.core.log.error({ peer: address, err: (e as Error).message }, 'cannot set the TCP MD5 key on the listening socket');
    }
  }

  /** A configured peer by key (address, or address:port when not 179) or by address. */
  peer(id: string): PeerHandle | undefined { return this.lookup(id); }

  /**
   * The operator's actions on one peer (`kite peer ...`). Returns false when the address is not
   * a configured peer. `refresh` asks the peer to resend its routes (ROUTE-REFRESH, RFC 2918) for
   * every negotiated family; it is false too when the session is not Established or the peer
   * did not announce route refresh.
   */
  peerAction(address: string, action: PeerAction, reason: string): boolean {
    const p = this.lookup(address);
    if (p === undefined) return false;
    switch (action) {
      case 'disable': p.disable(reason); return true;
      case 'enable': p.enable(); return true;
      case 'reset': p.reset(reason); return true;
      case 'refresh': {
        const fams = p.established?.negotiated.families ?? [];
        return fams.length > 0 && fams.map((f) => p.requestRouteRefresh(f)).every(Boolean);
      }
    }
  }
  peerList(): PeerHandle[] { return [...this.peers.values()]; }
  status(): PeerSessionStatus[] { return this.peerList().map((p) => p.status()); }

  /**
   * Shut down: Cease/Administrative Shutdown (6/2) with the RFC 8203 `reason` to every peer
   * with a connection up, as Hard Reset where both sides set the RFC 8538 N bit (with `restart`,
   * Cease/Administrative Reset to those peers and silently dropped connections to the others, so
   * they keep our routes: RFC 4724 §4.2, RFC 8538 §4; halt()), then close the listener. Resolves when the listener is closed
   * (or after a few seconds if a peer does not close its side).
   */
  async stop(reason = 'shutdown', how: { restart?: boolean } = {}): Promise<void> {
    this.stopped = true;
    // A restart leaves peers holding our routes (graceful restart); a shutdown tells them to drop them.
    for (const p of this.peers.values()) if (how.restart === true) p.halt(reason); else p.stop(reason);
    const servers = this.servers;
    this.servers = [];
    this.listenFds = []; // closed with the servers
    const clock = this.core.clock;
    await Promise.all(servers.map((srv) => new Promise<void>((resolve) => {
      const t = clock.setTimeout(resolve, 3000);
      srv.close(() => { clock.clearTimeout(t); resolve(); });
    })));
  }
}
