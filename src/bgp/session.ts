// One BGP session: binds a peer's configuration to a byte stream (a TCP socket or any Duplex),
// frames and decodes messages, feeds the pure FSM (fsm/fsm.ts) and executes its actions (dial,
// send, timers). Routes leave through a typed listener; writes respect socket backpressure.
import type { Duplex } from 'node:stream';
import {
  Framer, decodeOpen, encodeOpen, validateOpen, negotiate, decodeUpdate, decodeNotification,
  decodeRouteRefresh, encodeHardReset, encodeNotification, encodeRouteRefresh, shutdownData, KEEPALIVE,
  type AttrInterner, type Negotiated,
} from './wire/index.js';
import { CeaseSub, ErrCode, HeaderSub, OpenSub, UpdateSub, WireError } from './wire/errors.js';
import { Interner } from '../rib/intern.js';
import {
  ErrorAction, IPV4_UNICAST, IPV6_UNICAST, MsgType, familyName,
  type Capabilities, type FamilyKey, type OpenMessage, type RouteRefreshMessage, type UpdateMessage,
} from './wire/types.js';
import {
  DEFAULT_FSM_CONFIG, IDLE, step, negotiateHoldTime,
  type Action, type FsmConfig, type FsmEvent, type NotifyData, type State, type StateName, type TimerName,
} from './fsm/fsm.js';
import { keepsRoutes, sentAsHardReset } from './fsm/graceful-notification.js';
import { describeNotification } from './fsm/notification-text.js';
import { Timer, jitter, realClock, type Clock } from './timers.js';

const AS_TRANS = 23456;
/** 127/8 or ::1, as text (the form PathAttrs and sockets give addresses in). */
const isLoopback = (a: string): boolean => a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');

/** What we announce in our OPEN (RFC 5492). Defaults suit BIRD/FRR/GoBGP and Calico. */
export interface CapabilityOptions {
  /** Multiprotocol families (RFC 4760). Default IPv4 and IPv6 unicast. */
  families?: FamilyKey[];
  /** RFC 7911 ADD-PATH per family; none unless configured. */
  addPath?: { family: FamilyKey; mode: 1 | 2 | 3 }[];
  /** RFC 4724 restart time in seconds (default 120); false: do not announce graceful restart. */
  gracefulRestartTime?: number | false;
  /**
   * RFC 8538 §2: set the N bit in the graceful restart capability (default true). When the peer
   * sets it too, NOTIFICATIONs other than Cease/Hard Reset leave routes to graceful restart.
   */
  gracefulNotification?: boolean;
  /** RFC 8654 (default true). */
  extendedMessage?: boolean;
  /**
   * RFC 4724 §3: we are restarting after losing our control plane (e.g. SIGKILL) and the kernel
   * kept forwarding: set the Restart State bit and Forwarding State for every family.
   */
  restarting?: boolean | (() => boolean);
}

export interface SessionConfig {
  localAs: number;
  peerAs: number;
  /** Our BGP Identifier, unsigned 32-bit. */
  localBgpId: number;
  /** Proposed hold time, seconds: 0 or ≥ 3 (default 240, as BIRD and Calico). */
  holdTime?: number;
  /** Seconds between connection attempts (default 5). */
  connectRetryTime?: number;
  /** Only accept connections, never dial. */
  passive?: boolean;
  capabilities?: CapabilityOptions;
  /** For logs and status. */
  remoteAddress: string;
  remotePort?: number;
  /**
   * BIRD's `gateway direct`, its default for a single-hop session: whether a next hop lies on one
   * of this host's connected subnets. When set, a route whose NEXT_HOP does not is ignored
   * (treat-as-withdraw), as BIRD does (proto/bgp/packets.c bgp_apply_next_hop, GW_DIRECT:
   * neigh_find on any interface, else "Invalid NEXT_HOP attribute" and withdraw) and RFC 4271
   * §6.3 (b) asks of an eBGP peer sharing a subnet with us. Unset for multihop sessions: those
   * resolve the next hop recursively (`gateway recursive`), as every Calico session does.
   */
  gatewayDirect?: (nextHop: string) => boolean;
}

/** A dial in progress; the session cancels it when the FSM drops the connection. */
export interface PendingDial { cancel(): void }
/** Opens the outgoing TCP connection (the Speaker supplies net.connect with localAddress). */
export type Dialer = (done: (err: Error | null, socket?: Duplex) => void) => PendingDial;

/** What the session learned at OPEN time, handed to the consumer when the session comes up. */
export interface EstablishedInfo {
  negotiated: Negotiated;
  holdTime: number;
  remoteOpen: OpenMessage;
  localOpen: OpenMessage;
  /** Local/remote socket addresses when the stream is a net.Socket. */
  localAddress?: string;
  remoteAddress?: string;
  /** True when we dialled this connection. */
  outgoing: boolean;
}

/** Typed events out of a session. All are optional; the Speaker implements them. */
export interface SessionListener {
  onStateChange?(from: StateName, to: StateName, reason: string): void;
  onEstablished?(info: EstablishedInfo): void;
  /** Called synchronously; the message's buffers are only valid during the call. */
  onUpdate?(msg: UpdateMessage): void;
  onRouteRefresh?(msg: RouteRefreshMessage): void;
  /** The session left Established: the consumer must withdraw what it learned. */
  onDown?(reason: string, how?: DownInfo): void;
}

/** How a session went down (fsm/graceful-notification.ts decides `graceful`). */
export interface DownInfo {
  /** A NOTIFICATION was sent or received as the session ended. */
  notification: boolean;
  /**
   * The peer's routes may be kept as stale: no NOTIFICATION (RFC 4724 §4.2) or, with the N bit on
   * both sides, one other than Cease/Hard Reset (RFC 8538 §4).
   */
  graceful: boolean;
}

/** Pull-style producer of bulk messages (the table transfer); null means "nothing now". */
export interface MessageProducer { pull(): Buffer | null }

export interface SessionCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  notificationsIn: number;
  notificationsOut: number;
  connectRetryCounter: number;
  establishedTransitions: number;
}

/**
 * Counts what crosses the wire, for the metrics (src/metrics): called per message with its BGP
 * type code (RFC 4271 §4.1) (`count` messages of that type at once: a slice of an export batch),
 * and once per NOTIFICATION with its code and subcode.
 */
export interface SessionMeter {
  message(direction: 'in' | 'out', type: number, count?: number): void;
  notification(direction: 'in' | 'out', code: number, subcode: number): void;
}

export interface SessionOptions {
  clock?: Clock;
  meter?: SessionMeter;
  dialer?: Dialer;
  /** Shared attribute interner (one per speaker keeps equal attribute sets shared across peers). */
  interner?: AttrInterner;
  /** Restart after a failure (AutomaticStart) after the idle hold time; default true. */
  autoRestart?: boolean;
  /** First idle hold time, seconds (default connectRetryTime); doubles per failure up to 120 s. */
  idleHoldTime?: number;
  /** RFC 4271 §6.8 hook: a valid OPEN arrived on this session; return true to dump this connection. */
  collisionCheck?: (session: Session, open: OpenMessage) => boolean;
  /** Random source for jitter (tests pin it). */
  random?: () => number;
}

const MAX_IDLE_HOLD = 120;
/** Bytes of queued UPDATEs packed into one socket write (8 full 4096-octet UPDATEs, ~500 small ones); small enough that a KEEPALIVE waits behind little. */
const COALESCE_BYTES = 32 * 1024;
const EMPTY = Buffer.alloc(0);

export function buildCapabilities(localAs: number, opts: CapabilityOptions = {}): Capabilities {
  const families = opts.families ?? [IPV4_UNICAST, IPV6_UNICAST];
  const caps: Capabilities = {
    multiprotocol: [...families],
    fourOctetAs: localAs,
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: opts.extendedMessage ?? true,
    addPath: (opts.addPath ?? []).map((a) => ({ ...a })),
    unknown: [],
  };
  const gr = opts.gracefulRestartTime ?? 120;
  if (gr !== false) {
    // RFC 4724 §3: restart state and forwarding bits clear on a fresh start.
    const restarting = typeof opts.restarting === 'function' ? opts.restarting() : opts.restarting ?? false;
    caps.gracefulRestart = {
      restartState: restarting, notification: opts.gracefulNotification ?? true, restartTime: gr,
      families: families.map((family) => ({ family, forwardingPreserved: restarting })),
    };
  }
  return caps;
}

const notifyFromError = (e: WireError): NotifyData => ({ code: e.code, subcode: e.subcode, data: e.data, text: e.message });

export class Session {
  /** NOTIFICATIONs exchanged before the current Established period (see DownInfo). */
  private notificationsAtUp = 0;
  /** A Cease/Hard Reset (RFC 8538) was sent or received since the session last came up. */
  private hardReset = false;
  /**
   * The last Established period ended with a NOTIFICATION under RFC 8538 while this process kept
   * forwarding: the next OPEN sets Forwarding State so the peer keeps our routes (RFC 8538 §4).
   */
  private forwardingKept = false;
  readonly config: Readonly<SessionConfig>;
  readonly counters: SessionCounters = {
    messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, notificationsIn: 0, notificationsOut: 0,
    connectRetryCounter: 0, establishedTransitions: 0,
  };

  private st: State = IDLE;
  private readonly fsmCfg: FsmConfig;
  private readonly holdTime: number;
  private readonly localCaps: Capabilities;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly interner: AttrInterner;
  private readonly timers: Record<TimerName, Timer>;
  private readonly idleHoldTimer: Timer;
  private idleHold: number;
  private autoRestart: boolean;
  /** Set by stop()/dispose(): no automatic restart and no incoming connections. */
  private halted = false;
  private currentReason = '';

  private socket: Duplex | null = null;
  private outgoing = false;
  private direction: 'none' | 'outgoing' | 'incoming' = 'none';
  private framer: Framer | null = null;
  private dialing: PendingDial | null = null;
  private detachSocket: (() => void) | null = null;

  private queue: FsmEvent[] = [];
  private running = false;
  private pendingUpdate: UpdateMessage | null = null;
  private pendingRefresh: RouteRefreshMessage | null = null;

  /** Bulk messages waiting for the socket; `bulkHead` is the next to write (no O(n) shift). */
  private bulk: Buffer[] = [];
  /** Parallel to bulk: how many UPDATEs each entry holds (a run of a group's batch holds several). */
  private bulkCount: number[] = [];
  private bulkHead = 0;
  /** A pump is queued for the end of the current JavaScript task (send() coalesces until then). */
  private pumpQueued = false;
  /** A message taken from the queues that did not fit the last write: it opens the next one. */
  private carry: Buffer | null = null;
  private carryCount = 1;
  private producer: MessageProducer | null = null;

  private localOpenMsg: OpenMessage | null = null;
  private remoteOpenMsg: OpenMessage | null = null;
  private negotiatedCtx: Negotiated | null = null;
  private lastErr = '';
  private establishedAt = 0;
  /** Clock ms of the last FSM state change (start: construction). */
  private changedAt: number;

  constructor(config: SessionConfig, private readonly listener: SessionListener = {}, private readonly opts: SessionOptions = {}) {
    const hold = config.holdTime ?? 240;
    if (hold !== 0 && hold < 3) throw new RangeError(`hold time ${hold}: must be 0 or at least 3 seconds (RFC 4271 §4.2)`);
    this.config = { ...config };
    this.holdTime = hold;
    this.fsmCfg = {
      ...DEFAULT_FSM_CONFIG,
      connectRetryTime: config.connectRetryTime ?? DEFAULT_FSM_CONFIG.connectRetryTime,
      passive: config.passive ?? false,
    };
    this.localCaps = buildCapabilities(config.localAs, config.capabilities);
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.interner = opts.interner ?? new Interner();
    this.autoRestart = opts.autoRestart ?? true;
    this.idleHold = opts.idleHoldTime ?? this.fsmCfg.connectRetryTime;
    this.timers = {
      connectRetry: new Timer(this.clock, () => this.dispatch({ type: 'ConnectRetryTimer_Expires' })),
      hold: new Timer(this.clock, () => this.dispatch({ type: 'HoldTimer_Expires' })),
      keepalive: new Timer(this.clock, () => this.dispatch({ type: 'KeepaliveTimer_Expires' })),
    };
    this.changedAt = this.clock.now();
    this.idleHoldTimer = new Timer(this.clock, () => {
      if (!this.halted && this.st.name === 'Idle') this.dispatch({ type: 'AutomaticStart' });
    });
  }

  // ----- public surface ------------------------------------------------------------------

  get state(): StateName { return this.st.name; }
  get lastError(): string { return this.lastErr; }
  /** Negotiated context while OpenConfirm/Established, else null. */
  get negotiated(): Negotiated | null { return this.negotiatedCtx; }
  get remoteOpen(): OpenMessage | null { return this.remoteOpenMsg; }
  /** True when the current connection was dialled by us (RFC 4271 §6.8 needs to know). */
  get initiatedLocally(): boolean { return this.outgoing; }
  /** Direction of the current (or last) connection, for logs. */
  get connection(): 'none' | 'outgoing' | 'incoming' { return this.direction; }
  /** ms since Established, 0 when not established. */
  get uptimeMs(): number { return this.st.name === 'Established' ? this.clock.now() - this.establishedAt : 0; }
  /** ms since the last FSM state change (how long the session has been in its state). */
  get sinceMs(): number { return this.clock.now() - this.changedAt; }
  /** The hold time in force: negotiated once OpenConfirm/Established, else the one we propose. */
  get holdTimeNow(): number { return this.st.name === 'OpenConfirm' || this.st.name === 'Established' ? this.st.holdTime : this.holdTime; }
  get capabilities(): Readonly<Capabilities> { return this.localCaps; }

  /**
   * What this OPEN announces: the Restart State and forwarding bits follow a live restart flag;
   * after a session reset by NOTIFICATION under RFC 8538 (this process forwarding all along) the
   * Forwarding State bits are set too, as RFC 8538 §4 asks.
   */
  private openCapabilities(): Capabilities {
    const r = this.config.capabilities?.restarting;
    const gr = this.localCaps.gracefulRestart;
    if (gr === undefined) return this.localCaps;
    const restarting = typeof r === 'function' ? r() : gr.restartState;
    const forwarding = restarting || this.forwardingKept;
    if (restarting === gr.restartState && gr.families.every((f) => f.forwardingPreserved === forwarding)) return this.localCaps;
    return { ...this.localCaps, gracefulRestart: { ...gr, restartState: restarting, families: gr.families.map((f) => ({ ...f, forwardingPreserved: forwarding })) } };
  }

  /** ManualStart (or passive start for passive peers). */
  start(): void {
    this.halted = false;
    this.dispatch({ type: 'ManualStart' });
  }

  /**
   * ManualStop: Cease/Administrative Shutdown (6/2) with an RFC 8203 message when a
   * connection is up, then no automatic restart until start() is called again.
   */
  stop(reason = 'administratively stopped'): void {
    this.halted = true;
    this.idleHoldTimer.stop();
    this.dispatch({ type: 'ManualStop', data: shutdownData(reason), text: `administratively stopped: ${reason}` });
  }

  /**
   * Stop for good without Administrative Shutdown semantics: Cease with `subcode` when OPEN has
   * been sent (e.g. 6/3 peer de-configured), or silently drop (`subcode` null, RFC 4724 §4.2).
   * `data`: the Cease's data (an RFC 9003 communication).
   */
  dispose(reason: string, subcode: number | null, data?: Buffer): void {
    this.halted = true;
    this.autoRestart = false;
    this.idleHoldTimer.stop();
    if (subcode === null) {
      if (this.st.name !== 'Idle') this.dispatch({ type: 'TcpConnectionFails', text: reason });
      if (this.st.name !== 'Idle') this.dispatch({ type: 'ManualStop', text: reason });
    } else {
      this.dispatch({ type: 'AutomaticStop', subcode, text: reason, ...(data !== undefined ? { data } : {}) });
    }
  }

  /**
   * Stop for a restart of this process: the peer should keep our routes. With the N bit on both
   * sides, Cease/Administrative Reset (6/4, not wrapped in Hard Reset) with `reason` as the RFC 9003
   * communication, which RFC 8538 §4 makes a graceful restart; otherwise the connection is dropped
   * without a NOTIFICATION (RFC 4724 §4.2). Either way no automatic restart follows.
   */
  stopForRestart(reason: string): void {
    const st = this.st.name;
    if (this.negotiatedCtx?.gracefulNotification && (st === 'OpenConfirm' || st === 'Established')) {
      this.dispose(`stopped for a restart: ${reason}`, CeaseSub.AdministrativeReset, shutdownData(reason));
      return;
    }
    this.dispose(reason, null);
  }

  setAutoRestart(on: boolean): void { this.autoRestart = on; }

  /**
   * An incoming TCP connection for this peer. Taken when the session has no connection of its
   * own in progress (Idle waiting to restart, or Active); otherwise false and the caller runs
   * collision detection with a second session (RFC 4271 §6.8).
   */
  accept(socket: Duplex): boolean {
    if (this.halted) return false;
    if (this.st.name === 'Idle') {
      this.idleHoldTimer.stop();
      this.dispatch({ type: 'AutomaticStart_with_PassiveTcpEstablishment' });
    }
    if (this.st.name !== 'Active') return false;
    this.attach(socket, false);
    this.dispatch({ type: 'TcpConnectionConfirmed' });
    return true;
  }

  /** RFC 4271 §6.8: the Speaker decided this connection loses a collision. */
  collisionDump(): void { this.dispatch({ type: 'OpenCollisionDump' }); }

  /**
   * Queue one bulk message (UPDATE). Returns false when the session cannot send (not
   * Established). Bulk data waits behind socket backpressure; KEEPALIVE/NOTIFICATION do not.
   * Messages queued in one JavaScript task (an export batch) leave together at its end, packed
   * into writes of up to COALESCE_BYTES: one write() per peer per batch instead of one per UPDATE.
   * `buf` may hold several whole UPDATEs (`messages`): an export group's batch, sliced per member.
   */
  send(buf: Buffer, messages = 1): boolean {
    if (this.st.name !== 'Established' || !this.socket) return false;
    this.bulk.push(buf);
    this.bulkCount.push(messages);
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => { this.pumpQueued = false; this.pump(); });
    }
    return true;
  }

  /** Install the table-transfer producer; it is pulled only while the socket accepts data. */
  setProducer(p: MessageProducer | null): void {
    this.producer = p;
    this.pump();
  }

  /** Tell the session the producer has new messages. */
  wake(): void { this.pump(); }

  /** Send ROUTE-REFRESH (RFC 2918 §3) for a family when the peer supports it. */
  requestRouteRefresh(family: FamilyKey, subtype = 0): boolean {
    if (this.st.name !== 'Established' || !this.negotiatedCtx?.routeRefresh || !this.socket) return false;
    this.writeUrgent(encodeRouteRefresh(family >> 8, family & 255, subtype));
    return true;
  }

  // ----- FSM plumbing --------------------------------------------------------------------

  /** Events raised while actions execute are queued and run in order (no re-entrancy). */
  private dispatch(ev: FsmEvent): void {
    this.queue.push(ev);
    if (this.running) return;
    this.running = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) this.apply(e);
    } catch (err) {
      this.queue = []; // a throwing consumer must not leave half a batch behind
      throw err;
    } finally {
      this.running = false;
    }
  }

  private apply(ev: FsmEvent): void {
    const from = this.st;
    const t = step(from, ev, this.fsmCfg);
    this.st = t.next;
    const reason = t.reason ?? ev.type;
    this.currentReason = reason;
    if (from.name !== t.next.name) {
      this.changedAt = this.clock.now();
      // A way down (to Idle, or back to Active after a failure) records why; coming up clears it.
      if (t.next.name === 'Idle' || (t.next.name === 'Active' && from.name !== 'Idle')) this.lastErr = reason;
      if (t.next.name === 'Established') this.lastErr = '';
    }
    for (const a of t.actions) this.execute(a);
    if (from.name !== t.next.name) {
      this.listener.onStateChange?.(from.name, t.next.name, reason);
      if (t.next.name === 'Idle') this.afterIdle(from.name);
    }
  }

  private afterIdle(from: StateName): void {
    this.negotiatedCtx = null;
    this.remoteOpenMsg = null;
    if (this.halted || !this.autoRestart) return;
    // Idle hold with exponential backoff (RFC 4271 §8.1.1 IdleHoldTimer, DampPeerOscillations in spirit).
    this.idleHoldTimer.start(jitter(this.idleHold * 1000, this.random));
    if (from !== 'Established') this.idleHold = Math.min(this.idleHold * 2, MAX_IDLE_HOLD);
  }

  private execute(a: Action): void {
    switch (a.type) {
      case 'connect': return this.dial();
      case 'dropConnection': return this.drop();
      case 'sendOpen': return this.sendOpen();
      case 'sendKeepalive': return this.writeUrgent(KEEPALIVE);
      case 'sendNotification': {
        this.counters.notificationsOut++;
        // RFC 8538 §5.1: once both sides set the N bit, a Cease that means "forget my routes"
        // travels as Hard Reset carrying it; to a peer without the N bit a Hard Reset is never sent (§3).
        const wrap = this.negotiatedCtx?.gracefulNotification === true && sentAsHardReset(a.code, a.subcode) && a.subcode !== CeaseSub.HardReset;
        if (wrap || (a.code === ErrCode.Cease && a.subcode === CeaseSub.HardReset)) this.hardReset = true;
        // Counted by what it says (the inner NOTIFICATION of a Hard Reset), as FRR records it.
        this.opts.meter?.notification('out', a.code, a.subcode);
        return this.writeUrgent(wrap ? encodeHardReset(a.code, a.subcode, a.data) : encodeNotification(a.code, a.subcode, a.data));
      }
      case 'startTimer': {
        const ms = a.seconds * 1000;
        // RFC 4271 §10: jitter ConnectRetry and Keepalive, never the hold timer.
        this.timers[a.timer].start(a.timer === 'hold' ? ms : jitter(ms, this.random));
        return;
      }
      case 'stopTimer': return this.timers[a.timer].stop();
      case 'releaseResources':
        this.bulk = [];
        this.pendingUpdate = null;
        return;
      case 'incrementConnectRetryCounter': this.counters.connectRetryCounter++; return;
      case 'processUpdate': {
        const m = this.pendingUpdate;
        this.pendingUpdate = null;
        if (m) this.deliverUpdate(m);
        return;
      }
      case 'processRouteRefresh': {
        const m = this.pendingRefresh;
        this.pendingRefresh = null;
        if (m) this.listener.onRouteRefresh?.(m);
        return;
      }
      case 'sessionUp': return this.sessionUp();
      case 'sessionDown': {
        this.producer = null;
        const c = this.counters;
        const notification = c.notificationsIn + c.notificationsOut > this.notificationsAtUp;
        const nBit = this.negotiatedCtx?.gracefulNotification === true;
        const graceful = keepsRoutes({ notification, nBit, hardReset: this.hardReset });
        // This process keeps forwarding: say so in the next OPEN when the peer keeps our routes.
        this.forwardingKept = notification && graceful;
        this.listener.onDown?.(this.currentReason, { notification, graceful });
        return;
      }
    }
  }

  private sessionUp(): void {
    const remoteOpen = this.remoteOpenMsg, negotiated = this.negotiatedCtx, localOpen = this.localOpenMsg;
    if (!remoteOpen || !negotiated || !localOpen || this.st.name !== 'Established') return;
    this.counters.establishedTransitions++;
    this.notificationsAtUp = this.counters.notificationsIn + this.counters.notificationsOut;
    this.hardReset = false;
    this.forwardingKept = false;
    this.establishedAt = this.clock.now();
    this.idleHold = this.opts.idleHoldTime ?? this.fsmCfg.connectRetryTime;
    const sock = this.socket as (Duplex & { localAddress?: string; remoteAddress?: string }) | null;
    const info: EstablishedInfo = { negotiated, holdTime: this.st.holdTime, remoteOpen, localOpen, outgoing: this.outgoing };
    if (sock?.localAddress) info.localAddress = sock.localAddress;
    if (sock?.remoteAddress) info.remoteAddress = sock.remoteAddress;
    this.listener.onEstablished?.(info);
  }

  // ----- connection handling -------------------------------------------------------------

  private dial(): void {
    const dialer = this.opts.dialer;
    this.dialing?.cancel();
    if (!dialer) {
      // No way to dial (tests, or a pure-listener setup): behave like a refused connection.
      queueMicrotask(() => { if (this.st.name === 'Connect' && !this.socket) this.dispatch({ type: 'TcpConnectionFails', text: 'no dialer' }); });
      return;
    }
    const pending: { d: PendingDial | null } = { d: null };
    pending.d = dialer((err, socket) => {
      if (this.dialing !== pending.d) { socket?.destroy(); return; } // cancelled or superseded
      this.dialing = null;
      if (err || !socket) {
        this.dispatch({ type: 'TcpConnectionFails', text: `connect failed: ${err?.message ?? 'no socket'}` });
        return;
      }
      if (this.st.name !== 'Connect' && this.st.name !== 'Active') { socket.destroy(); return; }
      this.attach(socket, true);
      this.dispatch({ type: 'Tcp_CR_Acked' });
    });
    this.dialing = pending.d;
  }

  private attach(socket: Duplex, outgoing: boolean): void {
    this.drop();
    this.socket = socket;
    this.outgoing = outgoing;
    this.direction = outgoing ? 'outgoing' : 'incoming';
    this.framer = new Framer(4096);
    const framer = this.framer;
    const onData = (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        framer.push(chunk, (type, body) => { if (this.socket === socket) this.onMessage(type, body); });
      } catch (e) {
        if (this.socket !== socket) return;
        if (e instanceof WireError) this.dispatch({ type: 'BGPHeaderErr', error: notifyFromError(e) });
        // A bug in a consumer (or here) must not take the daemon down from a socket callback:
        // reset this one session, say why in lastError, and let it restart.
        else this.dispatch({ type: 'AutomaticStop', subcode: CeaseSub.OutOfResources, text: `internal error: ${e instanceof Error ? e.message : String(e)}` });
      }
    };
    const onClose = (text: string) => () => { if (this.socket === socket) this.dispatch({ type: 'TcpConnectionFails', text }); };
    const onEnd = onClose('connection closed by peer');
    const onError = (e: Error) => { if (this.socket === socket) this.dispatch({ type: 'TcpConnectionFails', text: `connection error: ${e.message}` }); };
    const onDrain = () => { if (this.socket === socket) this.pump(); };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.on('drain', onDrain);
    this.detachSocket = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.off('drain', onDrain);
      socket.on('error', () => {}); // late errors (EPIPE after our FIN) must not crash the process
    };
  }

  /** dropConnection: flush what we queued urgently (the NOTIFICATION), FIN, then destroy. */
  private drop(): void {
    if (this.dialing) { this.dialing.cancel(); this.dialing = null; }
    const s = this.socket;
    if (!s) return;
    this.detachSocket?.();
    this.detachSocket = null;
    this.socket = null;
    this.framer = null;
    this.bulk = [];
    this.bulkCount = [];
    this.bulkHead = 0;
    this.carry = null;
    this.producer = null;
    s.end();
    // A peer that stops reading would keep the socket half-open forever.
    const t = this.clock.setTimeout(() => s.destroy(), 2000);
    s.once('close', () => this.clock.clearTimeout(t));
  }

  private sendOpen(): void {
    const bgpIdOk = this.config.localBgpId >>> 0;
    const open: OpenMessage = {
      type: MsgType.OPEN, version: 4,
      myAs: this.config.localAs > 0xffff ? AS_TRANS : this.config.localAs,
      holdTime: this.holdTime, bgpId: bgpIdOk, capabilities: this.openCapabilities(),
    };
    this.localOpenMsg = open;
    this.writeUrgent(encodeOpen(open));
  }

  /** Control messages go straight to the socket: at most one high-water mark of bulk is ahead. */
  private writeUrgent(buf: Buffer): void {
    if (!this.socket) return;
    this.counters.messagesOut++;
    this.opts.meter?.message('out', buf[18] ?? 0); // the type octet follows the 16-octet marker and length
    this.socket.write(buf);
  }

  /**
   * Move bulk data to the socket while it is not asking us to wait (write() → false → 'drain').
   * Consecutive messages go out in one corked write (one writev) of at most COALESCE_BYTES (or one
   * larger message), so a KEEPALIVE written meanwhile waits behind at most one chunk plus the socket's
   * high-water mark, and a slow peer holds only its own queue (the others' sockets drain apart).
   * The producer (a table transfer) goes first and the queue after it: the queue holds the changes
   * made since the transfer began, in order, so the peer ends with the current table.
   */
  private pump(): void {
    const s = this.socket;
    if (!s || this.st.name !== 'Established') return;
    const meter = this.opts.meter;
    while (!s.writableNeedDrain) {
      let first: Buffer | null = null;
      let parts: Buffer[] | null = null;
      let size = 0;
      while (size < COALESCE_BYTES) {
        let b = this.carry;
        let n = this.carryCount;
        this.carry = null;
        if (!b && this.producer) { b = this.producer.pull(); n = 1; }
        if (!b && this.bulkHead < this.bulk.length) {
          b = this.bulk[this.bulkHead]!;
          n = this.bulkCount[this.bulkHead]!;
          this.bulk[this.bulkHead++] = EMPTY;
        }
        if (!b) break;
        if (size > 0 && size + b.length > COALESCE_BYTES) { this.carry = b; this.carryCount = n; break; } // the next write's first
        this.counters.messagesOut += n;
        this.counters.updatesOut += n;
        meter?.message('out', MsgType.UPDATE, n);
        if (first === null) first = b;
        else (parts ??= [first]).push(b);
        size += b.length;
      }
      if (this.bulkHead === this.bulk.length) { this.bulk = []; this.bulkCount = []; this.bulkHead = 0; }
      if (first === null) return;
      if (parts === null) {
        if (!s.write(first)) return;
        continue;
      }
      // Corked, the messages leave in one writev(): one system call, and no copy of the group's
      // shared encodings per member (Buffer.concat would make one per peer).
      s.cork();
      for (const b of parts) s.write(b);
      s.uncork();
      if (s.writableNeedDrain) return;
    }
  }

  // ----- received messages ---------------------------------------------------------------

  private onMessage(type: number, body: Buffer): void {
    this.counters.messagesIn++;
    this.opts.meter?.message('in', type);
    switch (type) {
      case MsgType.OPEN: return this.onOpen(body);
      case MsgType.KEEPALIVE: return this.dispatch({ type: 'KeepAliveMsg' });
      case MsgType.UPDATE: return this.onUpdateMsg(body);
      case MsgType.NOTIFICATION: return this.onNotification(body);
      case MsgType.ROUTE_REFRESH: return this.onRouteRefreshMsg(body);
      default:
        // The framer rejects unknown types; keep the FSM total anyway (§6.1 Bad Message Type).
        return this.dispatch({ type: 'BGPHeaderErr', error: { code: ErrCode.MessageHeader, subcode: HeaderSub.BadMessageType, data: Buffer.of(type), text: `bad message type ${type}` } });
    }
  }

  private onOpen(body: Buffer): void {
    if (this.st.name !== 'OpenSent') {
      this.dispatch({ type: 'BGPOpen', holdTime: 0 }); // FSM error in any other state
      return;
    }
    let open: OpenMessage;
    try {
      open = decodeOpen(body);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.dispatch({ type: e.code === ErrCode.MessageHeader ? 'BGPHeaderErr' : 'BGPOpenMsgErr', error: notifyFromError(e) });
      return;
    }
    const ibgp = this.config.localAs === this.config.peerAs;
    const err = validateOpen(open, { peerAs: this.config.peerAs, localBgpId: this.config.localBgpId, ibgp });
    if (err) { this.dispatch({ type: 'BGPOpenMsgErr', error: notifyFromError(err) }); return; }
    const hold = negotiateHoldTime(this.holdTime, open.holdTime);
    if (hold === null) {
      this.dispatch({ type: 'BGPOpenMsgErr', error: { code: ErrCode.OpenMessage, subcode: OpenSub.UnacceptableHoldTime, text: `unacceptable hold time ${open.holdTime}` } });
      return;
    }
    const negotiated = negotiate(this.localCaps, open.capabilities, ibgp);
    if (negotiated.families.length === 0) {
      // RFC 4760 §8 / RFC 5492 §3: only families both sides advertise are exchanged; with none in
      // common the session has nothing to carry. BIRD and FRR refuse it the same way (2/7), the data
      // being the Multiprotocol capabilities we would have needed.
      const ours = this.localCaps.multiprotocol.length ? this.localCaps.multiprotocol : [IPV4_UNICAST];
      const data = Buffer.concat(ours.map((f) => Buffer.of(1, 4, f >> 16 & 0xff, f >> 8 & 0xff, 0, f & 0xff)));
      this.dispatch({ type: 'BGPOpenMsgErr', error: { code: ErrCode.OpenMessage, subcode: OpenSub.UnsupportedCapability, data, text: `no address family in common (we offer ${ours.map(familyName).join(', ')}; the peer offers ${open.capabilities.multiprotocol.map(familyName).join(', ') || 'IPv4 unicast only'})` } });
      return;
    }
    this.remoteOpenMsg = open;
    this.negotiatedCtx = negotiated;
    if (this.opts.collisionCheck?.(this, open)) {
      this.dispatch({ type: 'OpenCollisionDump' });
      return;
    }
    // RFC 8654 §4: larger messages only once both sides announced the capability.
    if (negotiated.extendedMessage) this.framer?.setMaxLength(65535);
    this.dispatch({ type: 'BGPOpen', holdTime: hold });
  }

  private onUpdateMsg(body: Buffer): void {
    const ctx = this.negotiatedCtx;
    if (this.st.name !== 'Established' || !ctx) { this.dispatch({ type: 'UpdateMsg' }); return; }
    this.counters.updatesIn++;
    let msg: UpdateMessage;
    try {
      msg = decodeUpdate(body, ctx, this.interner);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.dispatch({ type: 'UpdateMsgErr', error: notifyFromError(e) });
      return;
    }
    if (msg.action >= ErrorAction.AfiSafiDisable) {
      // RFC 7606 §2: session reset. AFI/SAFI disable (RFC 4760 §7) is also handled as a reset:
      // simpler, and it is what a peer that sends malformed MP attributes needs to see.
      const e = msg.errors.find((x) => x.action >= ErrorAction.AfiSafiDisable) ?? msg.errors[0];
      const error: NotifyData = e ? notifyFromError(e) : { code: ErrCode.UpdateMessage, subcode: 1, text: 'malformed UPDATE' };
      this.dispatch({ type: 'UpdateMsgErr', error });
      return;
    }
    this.pendingUpdate = this.sessionChecks(msg, ctx);
    this.dispatch({ type: 'UpdateMsg' });
    this.pendingUpdate = null;
  }

  /**
   * What an UPDATE means on this session, which the codec cannot know:
   * - RFC 4760 §8 with RFC 5492: a family both sides did not advertise is not exchanged, so its
   *   NLRI and withdrawals are ignored (BIRD and FRR ignore them too; IPv4 in the classic fields
   *   counts only when IPv4 unicast was negotiated).
   * - RFC 4271 §6.3 (a): a NEXT_HOP that is our own address is semantically incorrect: the error is
   *   logged and the route ignored (treat-as-withdraw), no NOTIFICATION (as BIRD does).
   * - RFC 4271 §6.3: a loopback NEXT_HOP (127/8, ::1) is no valid host address to forward to from
   *   another host (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3); treated the same way, unless the session
   *   itself runs over loopback (peers on one host, as Kite's own daemon tests run).
   * - RFC 4271 §6.3 (b), on a single-hop session only (config.gatewayDirect): a NEXT_HOP on none
   *   of this host's connected subnets; treated the same way, as BIRD's `gateway direct` does.
   */
  private sessionChecks(msg: UpdateMessage, ctx: Negotiated): UpdateMessage {
    const fams = ctx.families;
    let m = msg;
    if (!fams.includes(IPV4_UNICAST) && (m.nlri || m.withdrawn)) m = { ...m, nlri: null, withdrawn: null };
    if (m.mpReach && !fams.includes(m.mpReach.family)) m = { ...m, mpReach: null };
    if (m.mpUnreach && !fams.includes(m.mpUnreach.family)) m = { ...m, mpUnreach: null };
    if (m.endOfRib !== undefined && !fams.includes(m.endOfRib)) { m = { ...m }; delete m.endOfRib; }
    if (m !== msg && !m.nlri && !m.mpReach && m.attrs) m = { ...m, attrs: null };
    // Classic NLRI and MP_REACH_NLRI together (RFC 4760 §3): what is left of them keeps its own next hop.
    if (m.classicAttrs && !(m.nlri && m.mpReach)) {
      const { classicAttrs, ...rest } = m;
      m = m.nlri ? { ...rest, attrs: classicAttrs } : rest;
    }
    for (const nh of [m.attrs?.nextHop, m.classicAttrs?.nextHop]) {
      if (!nh || m.action >= ErrorAction.TreatAsWithdraw) continue;
      const own = this.ownAddress();
      const direct = this.config.gatewayDirect;
      const why = nh === own ? "is this speaker's own address (RFC 4271 §6.3 (a))"
        : isLoopback(nh) && !isLoopback(own ?? this.config.remoteAddress) ? 'is a loopback address, on a session that is not (RFC 4271 §6.3)'
          : direct !== undefined && !direct(nh) ? 'is on no connected subnet of this host, and the session is single-hop (RFC 4271 §6.3 (b))' : null;
      if (why !== null) {
        const e = new WireError(ErrCode.UpdateMessage, UpdateSub.InvalidNextHop, Buffer.alloc(0), ErrorAction.TreatAsWithdraw,
          `NEXT_HOP ${nh} ${why}: route ignored`);
        const { classicAttrs: _c, ...rest } = m;
        m = { ...rest, attrs: null, action: ErrorAction.TreatAsWithdraw, errors: [...m.errors, e] };
      }
    }
    return m;
  }

  /** The session's local address, as PathAttrs carry addresses (IPv4-mapped IPv6 unwrapped). */
  private ownAddress(): string | undefined {
    const a = (this.socket as (Duplex & { localAddress?: string }) | null)?.localAddress;
    return a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
  }

  private deliverUpdate(msg: UpdateMessage): void {
    const l = this.listener.onUpdate;
    if (!l) return;
    if (msg.action !== ErrorAction.TreatAsWithdraw && msg.classicAttrs) {
      // RFC 4760 §3: the classic NLRI with NEXT_HOP's set (and the withdrawals), then MP_REACH_NLRI's.
      const { classicAttrs, ...rest } = msg;
      l.call(this.listener, { ...rest, mpReach: null, attrs: classicAttrs });
      const mp: UpdateMessage = { ...rest, withdrawn: null, mpUnreach: null, nlri: null };
      delete mp.endOfRib;
      l.call(this.listener, mp);
      return;
    }
    if (msg.action !== ErrorAction.TreatAsWithdraw) { l.call(this.listener, msg); return; }
    // RFC 7606 §2 treat-as-withdraw: the UPDATE's withdrawals stay withdrawals, and its
    // announcements are handed on as withdrawals too, without attributes.
    if (msg.withdrawn || msg.mpUnreach) {
      l.call(this.listener, { ...msg, nlri: null, mpReach: null, attrs: null });
    }
    if (msg.nlri || msg.mpReach) {
      l.call(this.listener, { ...msg, withdrawn: msg.nlri, mpUnreach: msg.mpReach, nlri: null, mpReach: null, attrs: null });
    }
  }

  private onNotification(body: Buffer): void {
    this.counters.notificationsIn++;
    let text: string;
    let verErr = false;
    try {
      const n = decodeNotification(body);
      this.opts.meter?.notification('in', n.hardReset?.code ?? n.code, n.hardReset?.subcode ?? n.subcode);
      if (n.code === ErrCode.Cease && n.subcode === CeaseSub.HardReset) this.hardReset = true;
      text = describeNotification('received', n.code, n.subcode, n.data, n.shutdownMessage);
      verErr = n.code === ErrCode.OpenMessage && n.subcode === OpenSub.UnsupportedVersion;
    } catch {
      this.opts.meter?.notification('in', body[0] ?? 0, body[1] ?? 0);
      if (body[0] === ErrCode.Cease && body[1] === CeaseSub.HardReset) this.hardReset = true;
      text = 'received malformed NOTIFICATION';
    }
    this.dispatch(verErr ? { type: 'NotifMsgVerErr', text } : { type: 'NotifMsg', text });
  }

  private onRouteRefreshMsg(body: Buffer): void {
    try {
      const m = decodeRouteRefresh(body);
      this.pendingRefresh = m;
      this.dispatch({ type: 'RouteRefresh' });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      // RFC 7313 §5: a malformed ROUTE-REFRESH gets NOTIFICATION 7/1 — an UPDATE-class reset here.
      this.dispatch({ type: 'UpdateMsgErr', error: notifyFromError(e) });
    } finally {
      this.pendingRefresh = null;
    }
  }
}
