// A channel binds one configured peer to the RIB (BIRD's term): it owns the peer's session
// binding in the speaker, its Adj-RIB-In (adj-rib-in.ts: loop checks, import filter, limits,
// counters), its membership in the update groups (export.ts), and an explicit state that holds
// the graceful-restart timers of the receiving role (RFC 4724 §4.2: the peer's restart time,
// then the stale-path time) and this peer's part in our own restart (its first End-of-RIB).
import type { Logger } from 'pino';
import type { DownInfo, EstablishedInfo } from '../bgp/session.js';
import type { PeerHandle, SpeakerPeer } from '../bgp/speaker.js';
import type { Clock, TimerHandle } from '../bgp/timers.js';
import { CeaseSub } from '../bgp/wire/errors.js';
import { ipv4ToUint } from '../bgp/wire/prefix.js';
import { IPV4_UNICAST, IPV6_UNICAST, type PathAttrs, type UpdateMessage } from '../bgp/wire/types.js';
import type { NodeConfig, PeerConfig, PeerIntent } from '../config/types.js';
import { AdjRibIn, type ChannelStatus as ImportCounts, type ImportFilter } from './adj-rib-in.js';
import type { ExportPeer } from './export.js';
import type { Rib } from './rib.js';

/**
 * down → start: configured (the speaker has the peer). start → up: Established.
 * up → stale: lost without NOTIFICATION (or, with the RFC 8538 N bit, with one other than Hard Reset)
 * from a peer with a restart time; its routes stay, marked
 * stale, for that time. stale → stale: back with graceful restart; stale paths wait for End-of-RIB.
 * stale → up: End-of-RIB swept the last stale path, or the timer swept them while Established.
 * up/stale → flushing → start: lost otherwise, back without graceful restart, or the timer ran
 * out while down. any → flushing → down: de-configured. flushing lasts while the RIB forgets.
 */
export const ChannelState = { Down: 'down', Start: 'start', Up: 'up', Stale: 'stale', Flushing: 'flushing' } as const;
export type ChannelState = (typeof ChannelState)[keyof typeof ChannelState];

/** The speaker, as a channel uses it: binds and unbinds the peer's sessions. */
export interface SessionBinder {
  addPeer(config: SpeakerPeer): PeerHandle;
  updatePeer(config: SpeakerPeer): PeerHandle;
  /** By the peer's key (address, or address and port; bgp/address.ts peerKey). */
  removePeer(key: string): boolean;
  peer(key: string): PeerHandle | undefined;
}

/** The update groups, as a channel uses them. */
export interface ExportBinder {
  join(peer: ExportPeer): void;
  leave(id: string): void;
  refresh(id: string): void;
}

/** Where a peer's import filter comes from (policy.ts). */
export interface ImportPolicySource {
  importFilter(p: PeerConfig): ImportFilter | undefined;
  /** Calico's LOCAL_PREF → kernel priority mapping on every received set (policy.ts). */
  readonly importAttrs: (attrs: PathAttrs) => PathAttrs;
}

/** The instance as channels see it: the configuration in force (identity pinned at start). */
export interface InstanceView { readonly config: NodeConfig }

/** Our own graceful restart (restart.ts): read when each OPEN is built. */
export interface RestartView { readonly restarting: boolean }

export interface ChannelEvents {
  /** The first End-of-RIB since the channel was (re)configured: convergence may be complete. */
  endOfRib(ch: Channel): void;
  state?(ch: Channel, from: ChannelState, to: ChannelState): void;
}

export interface ChannelDeps {
  rib: Rib;
  speaker: SessionBinder;
  exporter: ExportBinder;
  policy: ImportPolicySource;
  instance: InstanceView;
  restart: RestartView;
  clock: Clock;
  log: Logger;
  events: ChannelEvents;
  /** Whether a next hop is on one of the host's connected subnets (single-hop sessions' check). */
  onConnectedSubnet?: (nextHop: string) => boolean;
}

export interface ChannelStatus extends ImportCounts {
  state: ChannelState;
}

export class Channel {
  private stateNow: ChannelState = ChannelState.Down;
  private intent: PeerIntent;
  private adj!: AdjRibIn;
  private handle!: PeerHandle;
  /** The peer's graceful-restart time from its last OPEN (RFC 4724), 0 when it has none. */
  private peerRestartTime = 0;
  /** Runs out a restarting peer's restart time, then its stale paths' time. */
  private staleTimer: TimerHandle | null = null;
  private endOfRib = false;

  /** Binds the peer in the speaker (which dials or waits, as configured). */
  /** `key`: the peer's key (bgp/address.ts peerKey), its address unless the port is not 179. */
  constructor(readonly key: string, intent: PeerIntent, private readonly d: ChannelDeps) {
    this.intent = intent;
    this.bind(false);
  }

  get state(): ChannelState { return this.stateNow; }
  get config(): PeerConfig { return this.intent.config; }
  /** A first End-of-RIB arrived since the channel was (re)configured (the dataplane waits for it before pruning). */
  get endOfRibSeen(): boolean { return this.endOfRib; }

  status(): ChannelStatus { return { ...this.adj.status(), state: this.stateNow }; }

  /** The Adj-RIB-In as accepted (RIB path indexes). */
  receivedPaths(): number[] { return this.adj.paths(); }
  staleRoutes(): number { return this.adj.staleCount(); }

  /** A changed configuration (or password): forget the peer's routes and reset its session (Cease 6/6). */
  reconfigure(intent: PeerIntent): void {
    this.d.exporter.leave(this.key);
    this.flush();
    this.stopStaleTimer();
    this.intent = intent;
    this.bind(true);
  }

  /** De-configured: Cease/Peer De-configured, routes withdrawn. */
  close(): void {
    this.d.speaker.removePeer(this.key);
    this.d.exporter.leave(this.key);
    this.stopStaleTimer();
    this.flush();
    this.setState(ChannelState.Down);
    this.d.log.info({ peer: this.key }, 'peer removed from configuration');
  }

  /** Kite stops: timers end; routes stay where they are (the process is going). */
  stop(): void { this.stopStaleTimer(); }

  // ---- session events (routed here by channels.ts) -----------------------------------

  established(peer: PeerHandle, info: EstablishedInfo): void {
    const gr = info.negotiated.remoteGracefulRestart;
    const peerRestarts = gr !== undefined;
    const keep = this.adj.retained && peerRestarts;
    if (this.adj.retained) {
      // Keep the stale paths until End-of-RIB, bounded by the restart time once more.
      if (gr !== undefined) this.startStaleTimer(Math.max(gr.restartTime, 1));
      else this.stopStaleTimer();
    }
    this.peerRestartTime = gr?.restartTime ?? 0;
    if (!keep && this.adj.isUp) this.setState(ChannelState.Flushing);
    this.adj.up(peer.address, info.remoteOpen.bgpId, peerRestarts);
    this.setState(keep ? ChannelState.Stale : ChannelState.Up);
    const p = this.intent.config;
    const cfg = this.d.instance.config;
    this.d.exporter.join({
      id: this.key, sink: peer, ibgp: p.asNumber === p.localAsNumber, rrClient: p.routeReflectorClient,
      localAs: p.localAsNumber, nextHopMode: p.nextHopMode,
      nextHop4: p.sourceAddress && !p.sourceAddress.includes(':') ? p.sourceAddress : cfg.ipv4Address?.address ?? cfg.routerId,
      nextHop6: cfg.ipv6Address?.address,
      ctx: info.negotiated, families: info.negotiated.families, filters: p.filters,
      routerId: info.remoteOpen.bgpId, ribPeer: this.adj.ribIndex,
    });
  }

  update(msg: UpdateMessage): void {
    if (msg.endOfRib === undefined) { this.adj.update(msg); return; }
    // RFC 4724 §4.2: the peer has resent this family; what it did not resend is gone.
    const n = this.adj.retained ? this.adj.sweepStale(msg.endOfRib) : 0;
    if (this.stateNow === ChannelState.Stale && !this.adj.retained) {
      this.stopStaleTimer();
      this.setState(ChannelState.Up);
    }
    if (!this.endOfRib) { this.endOfRib = true; this.d.events.endOfRib(this); }
    this.d.log.info({ peer: this.key, family: msg.endOfRib, staleRemoved: n }, 'End-of-RIB received');
  }

  down(reason: string, how: DownInfo): void {
    this.d.exporter.leave(this.key);
    if (how.graceful && this.peerRestartTime > 0) {
      // RFC 4724 §4.2 helper: the peer may be restarting; keep its routes, marked stale. With the
      // RFC 8538 N bit on both sides this holds after a NOTIFICATION other than Hard Reset too.
      const n = this.adj.retain();
      this.d.log.info({ peer: this.key, reason, staleRoutes: n, restartTime: this.peerRestartTime },
        how.notification
          ? 'peer session reset by a NOTIFICATION other than Hard Reset, N bit on both sides: keeping its routes as stale for its restart time (RFC 8538 graceful restart)'
          : 'peer session lost without NOTIFICATION: keeping its routes as stale for its restart time (graceful restart)');
      this.startStaleTimer(this.peerRestartTime);
      this.setState(this.adj.retained ? ChannelState.Stale : ChannelState.Start);
      return;
    }
    this.stopStaleTimer();
    this.flush();
    this.setState(ChannelState.Start);
  }

  // ---- internals ----------------------------------------------------------------------

  /** A fresh Adj-RIB-In and session for the current intent; `replace`: the speaker already has the peer. */
  private bind(replace: boolean): void {
    const p = this.intent.config;
    const cfg = this.d.instance.config;
    this.peerRestartTime = 0;
    this.endOfRib = false;
    this.adj = new AdjRibIn(this.d.rib, {
      // BIRD's loop check (bgp_rx_update: as_path_contains(local_as)) uses the session's own local
      // AS only, which Calico sets from localASNumber; the node's AS on another session is no loop.
      localAs: [p.localAsNumber], allowLocalAs: p.numAllowedLocalASNumbers,
      routerId: ipv4ToUint(cfg.routerId),
      ...(cfg.routeReflectorClusterID !== undefined ? { clusterId: ipv4ToUint(cfg.routeReflectorClusterID) } : {}),
      ibgp: p.asNumber === p.localAsNumber, rrClient: p.routeReflectorClient, log: this.d.log,
      ...(p.maxPrefixes !== undefined ? { maxPrefixes: p.maxPrefixes } : {}),
      onLimit: (count, max) => this.limitExceeded(count, max),
      importAttrs: this.d.policy.importAttrs,
      ...this.importFilterOption(p),
    });
    if (this.intent.passwordProblem !== undefined) {
      this.d.log.error({ peer: p.address, secret: p.password?.secretKeyRef.name, key: p.password?.secretKeyRef.key }, this.intent.passwordProblem);
    }
    const sp = this.speakerPeer();
    this.handle = replace ? this.d.speaker.updatePeer(sp) : this.d.speaker.addPeer(sp);
    this.setState(ChannelState.Start);
    this.d.log.info({ peer: this.key, asNumber: p.asNumber, passive: p.passive, name: p.name }, replace ? 'peer reconfigured' : 'peer added');
  }

  private importFilterOption(p: PeerConfig): { importFilter?: ImportFilter } {
    const f = this.d.policy.importFilter(p);
    return f === undefined ? {} : { importFilter: f };
  }

  /** The speaker's view of this peer. */
  private speakerPeer(): SpeakerPeer {
    const p = this.intent.config;
    const restart = this.d.restart;
    const family = p.family === 6 ? IPV6_UNICAST : IPV4_UNICAST;
    return {
      address: p.address,
      port: p.port,
      peerAs: p.asNumber,
      localAs: p.localAsNumber,
      passive: p.passive,
      ...(p.sourceAddress !== undefined ? { localAddress: p.sourceAddress } : {}),
      ...(this.intent.password !== undefined ? { password: this.intent.password } : {}),
      ...(p.ttlSecurity !== undefined ? { ttlSecurity: p.ttlSecurity } : {}),
      // BIRD's default `gateway direct` for a single-hop session; Calico's are all `multihop` with
      // `gateway recursive` (bird.cfg.template bgp_template), so Calico peers never get it.
      ...(!p.multihop && this.d.onConnectedSubnet !== undefined ? { gatewayDirect: this.d.onConnectedSubnet } : {}),
      // Calico has no hold-time field; keepaliveTime implies hold = 3 × keepalive (RFC 4271 §10).
      ...(p.keepaliveTime !== undefined ? { holdTime: p.keepaliveTime * 3 } : {}),
      capabilities: {
        // One address family per session, the peer address's: calico-node runs two BIRDs, `bird`
        // rendered from bird.cfg with the IPv4 peers and `bird6` from bird6.cfg with the IPv6 ones
        // (confd bgp_processor.go GetBirdBGPConfig(ipVersion): peer_v4 / peer_v6, ip_addr_v4 /
        // ip_addr_v6), each announcing only its own family's Multiprotocol capability. A dual-stack
        // pair of nodes has two sessions, and IPv6 routes never ride the IPv4 one.
        families: [family],
        // Read when each OPEN is built (a function is not part of the peer's config identity).
        gracefulRestartTime: p.restartTime, restarting: () => restart.restarting,
        // ADD-PATH send/receive on every session, eBGP included: Calico's template bgp_template has
        // `add paths on;` for all peers, so a reflector carries every equal-cost path and ECMP
        // survives route reflection (RFC 7911).
        addPath: [{ family, mode: 3 }],
      },
    };
  }

  private limitExceeded(count: number, max: number): void {
    const restart = this.intent.config.maxPrefixesRestart ?? 60;
    const reason = `maximum prefixes exceeded: received ${count}, limit ${max} (annotation kite.dev/max-prefixes); restarting in ${restart} s`;
    this.d.log.warn({ peer: this.key, count, max, restartSeconds: restart }, 'peer exceeded its prefix limit: sending Cease/Maximum Number of Prefixes Reached');
    // Deferred: the session is still inside its UPDATE callback.
    setImmediate(() => this.d.speaker.peer(this.key)?.cease(CeaseSub.MaxPrefixes, reason, restart * 1000));
  }

  private startStaleTimer(seconds: number): void {
    this.stopStaleTimer();
    this.staleTimer = this.d.clock.setTimeout(() => {
      this.staleTimer = null;
      const n = this.adj.sweepStale();
      if (n > 0) this.d.log.warn({ peer: this.key, removed: n }, 'graceful restart: stale routes removed (no End-of-RIB in time)');
      if (this.d.speaker.peer(this.key)?.established) {
        if (this.stateNow === ChannelState.Stale) this.setState(ChannelState.Up);
        return;
      }
      this.flush();
      this.setState(ChannelState.Start);
    }, seconds * 1000);
  }

  private stopStaleTimer(): void {
    if (this.staleTimer !== null) this.d.clock.clearTimeout(this.staleTimer);
    this.staleTimer = null;
  }

  /** Forget what the peer sent (RFC 4271 §8, §9). */
  private flush(): void {
    if (!this.adj.isUp) return;
    this.setState(ChannelState.Flushing);
    this.adj.down();
  }

  private setState(to: ChannelState): void {
    const from = this.stateNow;
    if (from === to) return;
    this.stateNow = to;
    this.d.events.state?.(this, from, to);
  }
}
