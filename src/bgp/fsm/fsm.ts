// The BGP finite state machine of RFC 4271 §8 as a pure function: (state, event, config) →
// (next state, actions, reason). No I/O and no clock: the session layer (session.ts) executes
// the actions (dial, send, arm timers) and turns socket/timer happenings into events.
//
// Optional session attributes of §8.1.1 that are not implemented (always "off"): DelayOpen,
// DampPeerOscillations, SendNOTIFICATIONwithoutOPEN, CollisionDetectEstablishedState,
// AllowAutomaticStop. PassiveTcpEstablishment is the `passive` config flag.

import { ErrCode, FsmSub, CeaseSub } from '../wire/errors.js';

export const StateName = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
} as const;
export type StateName = (typeof StateName)[keyof typeof StateName];

/** Negotiated hold time (seconds, 0 = no hold/keepalive timers) travels with the state once known. */
export type State =
  | { readonly name: 'Idle' }
  | { readonly name: 'Connect' }
  | { readonly name: 'Active' }
  | { readonly name: 'OpenSent' }
  | { readonly name: 'OpenConfirm'; readonly holdTime: number }
  | { readonly name: 'Established'; readonly holdTime: number };

export const IDLE: State = { name: 'Idle' };

/** A NOTIFICATION to send, or the error that a received message caused. */
export interface NotifyData { readonly code: number; readonly subcode: number; readonly data?: Buffer; readonly text: string }

/** RFC 4271 §8.1.2–8.1.5 events (numbers in comments), plus RouteRefresh (RFC 2918). */
export type FsmEvent =
  | { readonly type: 'ManualStart' }                                   // 1
  | { readonly type: 'ManualStop'; readonly data?: Buffer; readonly text?: string } // 2 (data: RFC 8203 message)
  | { readonly type: 'AutomaticStart' }                                // 3
  | { readonly type: 'ManualStart_with_PassiveTcpEstablishment' }      // 4
  | { readonly type: 'AutomaticStart_with_PassiveTcpEstablishment' }   // 5
  | { readonly type: 'AutomaticStop'; readonly subcode: number; readonly text: string; readonly data?: Buffer } // 8 (Cease subcode; data: RFC 9003 message)
  | { readonly type: 'ConnectRetryTimer_Expires' }                     // 9
  | { readonly type: 'HoldTimer_Expires' }                             // 10
  | { readonly type: 'KeepaliveTimer_Expires' }                        // 11
  | { readonly type: 'TcpConnection_Valid' }                           // 14
  | { readonly type: 'Tcp_CR_Acked' }                                  // 16 (our dial completed)
  | { readonly type: 'TcpConnectionConfirmed' }                        // 17 (we accepted theirs)
  | { readonly type: 'TcpConnectionFails'; readonly text: string }     // 18
  | { readonly type: 'BGPOpen'; readonly holdTime: number }            // 19 (OPEN valid; negotiated hold time)
  | { readonly type: 'BGPHeaderErr'; readonly error: NotifyData }      // 21
  | { readonly type: 'BGPOpenMsgErr'; readonly error: NotifyData }     // 22
  | { readonly type: 'OpenCollisionDump' }                             // 23
  | { readonly type: 'NotifMsgVerErr'; readonly text: string }         // 24
  | { readonly type: 'NotifMsg'; readonly text: string }               // 25
  | { readonly type: 'KeepAliveMsg' }                                  // 26
  | { readonly type: 'UpdateMsg' }                                     // 27
  | { readonly type: 'UpdateMsgErr'; readonly error: NotifyData }      // 28
  | { readonly type: 'RouteRefresh' };
export type FsmEventType = FsmEvent['type'];

export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

export type Action =
  | { readonly type: 'connect' }
  | { readonly type: 'dropConnection' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data?: Buffer }
  /** seconds: base value; the session applies RFC 4271 §10 jitter to connectRetry and keepalive. */
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  | { readonly type: 'releaseResources' }
  | { readonly type: 'incrementConnectRetryCounter' }
  | { readonly type: 'processUpdate' }
  | { readonly type: 'processRouteRefresh' }
  | { readonly type: 'sessionUp' }
  | { readonly type: 'sessionDown' };

export interface Transition { readonly next: State; readonly actions: readonly Action[]; readonly reason?: string }

export interface FsmConfig {
  /** ConnectRetryTime, seconds (RFC suggests 120; we default to 5 like BIRD's connect delay). */
  readonly connectRetryTime: number;
  /** The "large value" the HoldTimer is set to while waiting for the peer's OPEN (§8: 4 minutes). */
  readonly openHoldTime: number;
  /** Never initiate a TCP connection; only accept one (BIRD `passive on`, Calico mesh). */
  readonly passive: boolean;
}

export const DEFAULT_FSM_CONFIG: FsmConfig = { connectRetryTime: 5, openHoldTime: 240, passive: false };

// ----- action helpers -------------------------------------------------------------------

const stop = (timer: TimerName): Action => ({ type: 'stopTimer', timer });
const start = (timer: TimerName, seconds: number): Action => ({ type: 'startTimer', timer, seconds });
const notify = (n: { code: number; subcode: number; data?: Buffer }): Action =>
  n.data && n.data.length > 0
    ? { type: 'sendNotification', code: n.code, subcode: n.subcode, data: n.data }
    : { type: 'sendNotification', code: n.code, subcode: n.subcode };
const STOP_ALL: readonly Action[] = [stop('connectRetry'), stop('hold'), stop('keepalive')];

const stay = (state: State, actions: readonly Action[] = [], reason?: string): Transition =>
  reason === undefined ? { next: state, actions } : { next: state, actions, reason };

/**
 * Every way back to Idle: optionally one NOTIFICATION, then all timers stopped, resources
 * released, the connection dropped; sessionDown when leaving Established so the RIB flushes.
 */
function toIdle(from: State, reason: string, opts: { notification?: { code: number; subcode: number; data?: Buffer }; count?: boolean } = {}): Transition {
  const actions: Action[] = [];
  if (opts.notification) actions.push(notify(opts.notification));
  actions.push(...STOP_ALL, { type: 'releaseResources' }, { type: 'dropConnection' });
  if (opts.count) actions.push({ type: 'incrementConnectRetryCounter' });
  if (from.name === 'Established') actions.push({ type: 'sessionDown' });
  return { next: IDLE, actions, reason };
}

/** TCP is up (either direction): send OPEN, arm the large hold timer (§8.2.2 Connect/Active). */
const tcpUp = (cfg: FsmConfig, how: string): Transition => ({
  next: { name: 'OpenSent' },
  actions: [stop('connectRetry'), { type: 'sendOpen' }, start('hold', cfg.openHoldTime)],
  reason: how,
});

/** Negotiated hold time 0 means neither hold nor keepalive timers run (RFC 4271 §4.2, §10). */
const keepaliveSeconds = (hold: number): number => Math.floor(hold / 3);

const fsmError = (from: State, subcode: number, ev: FsmEvent): Transition =>
  toIdle(from, `FSM error: unexpected ${ev.type} in ${from.name}`, {
    notification: { code: ErrCode.Fsm, subcode },
    count: true,
  });

const ceaseData = (ev: { data?: Buffer }) => (ev.data ? { data: ev.data } : {});

// ----- one handler per state (§8.2.2) ---------------------------------------------------

function idle(s: State, ev: FsmEvent, cfg: FsmConfig): Transition {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      if (cfg.passive) return { next: { name: 'Active' }, actions: [], reason: 'started (passive)' };
      return {
        next: { name: 'Connect' },
        actions: [start('connectRetry', cfg.connectRetryTime), { type: 'connect' }],
        reason: 'started',
      };
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      // A passive start still dials on ConnectRetry expiry unless the peer is configured passive.
      return {
        next: { name: 'Active' },
        actions: cfg.passive ? [] : [start('connectRetry', cfg.connectRetryTime)],
        reason: 'started (passive TCP establishment)',
      };
    default:
      // §8.2.2 Idle: all other events (including stops) are ignored; connections are refused.
      return stay(s);
  }
}

function connect(s: State, ev: FsmEvent, cfg: FsmConfig): Transition {
  switch (ev.type) {
    case 'ManualStart': case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment': case 'AutomaticStart_with_PassiveTcpEstablishment':
    case 'TcpConnection_Valid':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, ev.text ?? 'stopped');
    case 'AutomaticStop':
      return toIdle(s, ev.text, { count: true });
    case 'ConnectRetryTimer_Expires':
      return stay(s, [{ type: 'dropConnection' }, start('connectRetry', cfg.connectRetryTime), { type: 'connect' }], 'connect retry');
    case 'Tcp_CR_Acked':
      return tcpUp(cfg, 'connection established (outgoing)');
    case 'TcpConnectionConfirmed':
      return tcpUp(cfg, 'connection established (incoming)');
    case 'TcpConnectionFails':
      // RFC 4271 without DelayOpen goes to Idle here; like FRR and BIRD we keep listening in
      // Active and dial again when ConnectRetry expires, which avoids an Idle/restart cycle
      // for the common "connection refused while the peer boots" case.
      return { next: { name: 'Active' }, actions: [start('connectRetry', cfg.connectRetryTime)], reason: ev.text };
    default:
      return toIdle(s, `unexpected ${ev.type} in Connect`, { count: true });
  }
}

function active(s: State, ev: FsmEvent, cfg: FsmConfig): Transition {
  switch (ev.type) {
    case 'ManualStart': case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment': case 'AutomaticStart_with_PassiveTcpEstablishment':
    case 'TcpConnection_Valid':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, ev.text ?? 'stopped');
    case 'AutomaticStop':
      return toIdle(s, ev.text, { count: true });
    case 'ConnectRetryTimer_Expires':
      if (cfg.passive) return stay(s); // a passive peer never dials
      return {
        next: { name: 'Connect' },
        actions: [start('connectRetry', cfg.connectRetryTime), { type: 'connect' }],
        reason: 'connect retry',
      };
    case 'Tcp_CR_Acked':
      return tcpUp(cfg, 'connection established (outgoing)');
    case 'TcpConnectionConfirmed':
      return tcpUp(cfg, 'connection established (incoming)');
    case 'TcpConnectionFails':
      // Nothing is connected in Active in this implementation (we send OPEN as soon as TCP is
      // up); a late failure of an abandoned dial is not a reason to leave Active.
      return stay(s);
    default:
      return toIdle(s, `unexpected ${ev.type} in Active`, { count: true });
  }
}

function openSent(s: State, ev: FsmEvent, cfg: FsmConfig): Transition {
  switch (ev.type) {
    case 'ManualStart': case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment': case 'AutomaticStart_with_PassiveTcpEstablishment':
    case 'TcpConnection_Valid':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, ev.text ?? 'stopped', { notification: { code: ErrCode.Cease, subcode: CeaseSub.AdministrativeShutdown, ...ceaseData(ev) } });
    case 'AutomaticStop':
      return toIdle(s, ev.text, { notification: { code: ErrCode.Cease, subcode: ev.subcode, ...ceaseData(ev) }, count: true });
    case 'HoldTimer_Expires':
      return toIdle(s, 'hold timer expired', { notification: { code: ErrCode.HoldTimerExpired, subcode: 0 }, count: true });
    case 'TcpConnectionFails':
      // §8.2.2 OpenSent: close, restart ConnectRetry, keep listening in Active.
      return {
        next: { name: 'Active' },
        actions: [stop('hold'), stop('keepalive'), { type: 'dropConnection' }, ...(cfg.passive ? [] : [start('connectRetry', cfg.connectRetryTime)])],
        reason: ev.text,
      };
    case 'BGPOpen': {
      const actions: Action[] = [stop('connectRetry'), { type: 'sendKeepalive' }];
      if (ev.holdTime > 0) actions.push(start('keepalive', keepaliveSeconds(ev.holdTime)), start('hold', ev.holdTime));
      else actions.push(stop('hold'), stop('keepalive'));
      return { next: { name: 'OpenConfirm', holdTime: ev.holdTime }, actions, reason: 'OPEN received' };
    }
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(s, ev.error.text, { notification: ev.error, count: true });
    case 'OpenCollisionDump':
      return toIdle(s, 'connection collision resolution', { notification: { code: ErrCode.Cease, subcode: CeaseSub.ConnectionCollision }, count: true });
    case 'NotifMsgVerErr':
      return toIdle(s, ev.text);
    case 'NotifMsg':
      return toIdle(s, ev.text, { count: true });
    default:
      // Events 9, 11, 26–28 and ROUTE-REFRESH: RFC 6608 FSM error, unexpected message in OpenSent.
      return fsmError(s, FsmSub.UnexpectedInOpenSent, ev);
  }
}

function openConfirm(s: Extract<State, { name: 'OpenConfirm' }>, ev: FsmEvent): Transition {
  switch (ev.type) {
    case 'ManualStart': case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment': case 'AutomaticStart_with_PassiveTcpEstablishment':
    case 'TcpConnection_Valid':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, ev.text ?? 'stopped', { notification: { code: ErrCode.Cease, subcode: CeaseSub.AdministrativeShutdown, ...ceaseData(ev) } });
    case 'AutomaticStop':
      return toIdle(s, ev.text, { notification: { code: ErrCode.Cease, subcode: ev.subcode, ...ceaseData(ev) }, count: true });
    case 'HoldTimer_Expires':
      return toIdle(s, 'hold timer expired', { notification: { code: ErrCode.HoldTimerExpired, subcode: 0 }, count: true });
    case 'KeepaliveTimer_Expires':
      return stay(s, [{ type: 'sendKeepalive' }, start('keepalive', keepaliveSeconds(s.holdTime))]);
    case 'TcpConnectionFails':
      return toIdle(s, ev.text, { count: true });
    case 'NotifMsgVerErr':
      return toIdle(s, ev.text);
    case 'NotifMsg':
      return toIdle(s, ev.text, { count: true });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(s, ev.error.text, { notification: ev.error, count: true });
    case 'OpenCollisionDump':
      return toIdle(s, 'connection collision resolution', { notification: { code: ErrCode.Cease, subcode: CeaseSub.ConnectionCollision }, count: true });
    case 'KeepAliveMsg': {
      const actions: Action[] = [];
      if (s.holdTime > 0) actions.push(start('hold', s.holdTime));
      actions.push({ type: 'sessionUp' });
      return { next: { name: 'Established', holdTime: s.holdTime }, actions, reason: 'KEEPALIVE received' };
    }
    default:
      return fsmError(s, FsmSub.UnexpectedInOpenConfirm, ev);
  }
}

function established(s: Extract<State, { name: 'Established' }>, ev: FsmEvent): Transition {
  // Any message from the peer proves liveness (§4.4); restart the hold timer when one runs.
  const restartHold: readonly Action[] = s.holdTime > 0 ? [start('hold', s.holdTime)] : [];
  switch (ev.type) {
    case 'ManualStart': case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment': case 'AutomaticStart_with_PassiveTcpEstablishment':
    case 'TcpConnection_Valid':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, ev.text ?? 'stopped', { notification: { code: ErrCode.Cease, subcode: CeaseSub.AdministrativeShutdown, ...ceaseData(ev) } });
    case 'AutomaticStop':
      return toIdle(s, ev.text, { notification: { code: ErrCode.Cease, subcode: ev.subcode, ...ceaseData(ev) }, count: true });
    case 'HoldTimer_Expires':
      return toIdle(s, 'hold timer expired', { notification: { code: ErrCode.HoldTimerExpired, subcode: 0 }, count: true });
    case 'KeepaliveTimer_Expires':
      return stay(s, s.holdTime > 0 ? [{ type: 'sendKeepalive' }, start('keepalive', keepaliveSeconds(s.holdTime))] : []);
    case 'OpenCollisionDump':
      return toIdle(s, 'connection collision resolution', { notification: { code: ErrCode.Cease, subcode: CeaseSub.ConnectionCollision }, count: true });
    case 'TcpConnectionFails':
      return toIdle(s, ev.text, { count: true });
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      return toIdle(s, ev.text, { count: true });
    case 'KeepAliveMsg':
      return stay(s, restartHold);
    case 'UpdateMsg':
      return stay(s, [{ type: 'processUpdate' }, ...restartHold]);
    case 'RouteRefresh':
      return stay(s, [{ type: 'processRouteRefresh' }, ...restartHold]);
    case 'UpdateMsgErr':
    case 'BGPHeaderErr':
      // §6.1/§6.3: the error's own code (RFC 4271 lists header errors under "other events"
      // with an FSM error, but §6.1's Message Header Error is what peers expect to see).
      return toIdle(s, ev.error.text, { notification: ev.error, count: true });
    default:
      // ConnectRetryTimer_Expires, BGPOpen, BGPOpenMsgErr, Tcp_CR_Acked, TcpConnectionConfirmed.
      return fsmError(s, FsmSub.UnexpectedInEstablished, ev);
  }
}

/** The FSM: one call per event. Pure; never throws. */
export function step(state: State, event: FsmEvent, cfg: FsmConfig = DEFAULT_FSM_CONFIG): Transition {
  switch (state.name) {
    case 'Idle': return idle(state, event, cfg);
    case 'Connect': return connect(state, event, cfg);
    case 'Active': return active(state, event, cfg);
    case 'OpenSent': return openSent(state, event, cfg);
    case 'OpenConfirm': return openConfirm(state, event);
    case 'Established': return established(state, event);
  }
}

/**
 * RFC 4271 §4.2 / §6.2: the hold time the session runs with is the smaller of ours and
 * theirs; a proposed value of 1 or 2 seconds is unacceptable (NOTIFICATION 2/6).
 * Returns null when the peer's value is unacceptable.
 */
export function negotiateHoldTime(local: number, remote: number): number | null {
  if (remote === 1 || remote === 2) return null;
  return Math.min(local, remote);
}
