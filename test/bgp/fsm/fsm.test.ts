// Table tests for the pure RFC 4271 §8 FSM: (state, event) → (next state, actions).
// Every state is covered with its main events; expected actions are written out literally.
import { describe, expect, it } from 'vitest';
import { step, negotiateHoldTime, type State, type FsmEvent, type Action, type FsmConfig } from '../../../src/bgp/fsm/fsm.js';

const cfg: FsmConfig = { connectRetryTime: 5, openHoldTime: 240, passive: false };
const passiveCfg: FsmConfig = { ...cfg, passive: true };

const Idle: State = { name: 'Idle' };
const Connect: State = { name: 'Connect' };
const Active: State = { name: 'Active' };
const OpenSent: State = { name: 'OpenSent' };
const OpenConfirm90: State = { name: 'OpenConfirm', holdTime: 90 };
const OpenConfirm0: State = { name: 'OpenConfirm', holdTime: 0 };
const Est90: State = { name: 'Established', holdTime: 90 };
const Est0: State = { name: 'Established', holdTime: 0 };

const stopAll: Action[] = [
  { type: 'stopTimer', timer: 'connectRetry' },
  { type: 'stopTimer', timer: 'hold' },
  { type: 'stopTimer', timer: 'keepalive' },
];
const toIdle = (opts: { notify?: [number, number]; count?: boolean; down?: boolean; data?: Buffer } = {}): Action[] => [
  ...(opts.notify
    ? [opts.data ? { type: 'sendNotification' as const, code: opts.notify[0], subcode: opts.notify[1], data: opts.data } : { type: 'sendNotification' as const, code: opts.notify[0], subcode: opts.notify[1] }]
    : []),
  ...stopAll,
  { type: 'releaseResources' },
  { type: 'dropConnection' },
  ...(opts.count ? [{ type: 'incrementConnectRetryCounter' as const }] : []),
  ...(opts.down ? [{ type: 'sessionDown' as const }] : []),
];
const openSentActions: Action[] = [
  { type: 'stopTimer', timer: 'connectRetry' },
  { type: 'sendOpen' },
  { type: 'startTimer', timer: 'hold', seconds: 240 },
];
const err = (code: number, subcode: number) => ({ code, subcode, text: `err ${code}/${subcode}` });
const shutdownMsg = Buffer.from('0b6d61696e74656e616e6365', 'hex'); // len 11 + "maintenance"

type Row = [string, State, FsmEvent, State, Action[], FsmConfig?];

const rows: Row[] = [
  // ---- Idle
  ['Idle ManualStart dials', Idle, { type: 'ManualStart' }, Connect,
    [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }]],
  ['Idle AutomaticStart dials', Idle, { type: 'AutomaticStart' }, Connect,
    [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }]],
  ['Idle ManualStart passive peer waits', Idle, { type: 'ManualStart' }, Active, [], passiveCfg],
  ['Idle ManualStart_with_Passive', Idle, { type: 'ManualStart_with_PassiveTcpEstablishment' }, Active,
    [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }]],
  ['Idle ManualStart_with_Passive, passive peer: no timer', Idle, { type: 'ManualStart_with_PassiveTcpEstablishment' }, Active, [], passiveCfg],
  ['Idle ManualStop ignored', Idle, { type: 'ManualStop' }, Idle, []],
  ['Idle KeepAliveMsg ignored', Idle, { type: 'KeepAliveMsg' }, Idle, []],
  ['Idle HoldTimer ignored', Idle, { type: 'HoldTimer_Expires' }, Idle, []],
  // ---- Connect
  ['Connect ManualStart ignored', Connect, { type: 'ManualStart' }, Connect, []],
  ['Connect ManualStop', Connect, { type: 'ManualStop' }, Idle, toIdle()],
  ['Connect ConnectRetry expires: redial', Connect, { type: 'ConnectRetryTimer_Expires' }, Connect,
    [{ type: 'dropConnection' }, { type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }]],
  ['Connect Tcp_CR_Acked sends OPEN', Connect, { type: 'Tcp_CR_Acked' }, OpenSent, openSentActions],
  ['Connect TcpConnectionConfirmed sends OPEN', Connect, { type: 'TcpConnectionConfirmed' }, OpenSent, openSentActions],
  ['Connect TcpConnectionFails → Active', Connect, { type: 'TcpConnectionFails', text: 'ECONNREFUSED' }, Active,
    [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }]],
  ['Connect KeepAliveMsg → Idle', Connect, { type: 'KeepAliveMsg' }, Idle, toIdle({ count: true })],
  ['Connect HoldTimer → Idle', Connect, { type: 'HoldTimer_Expires' }, Idle, toIdle({ count: true })],
  // ---- Active
  ['Active ManualStart ignored', Active, { type: 'ManualStart' }, Active, []],
  ['Active ManualStop', Active, { type: 'ManualStop' }, Idle, toIdle()],
  ['Active ConnectRetry expires → Connect', Active, { type: 'ConnectRetryTimer_Expires' }, Connect,
    [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }]],
  ['Active ConnectRetry, passive peer never dials', Active, { type: 'ConnectRetryTimer_Expires' }, Active, [], passiveCfg],
  ['Active TcpConnectionConfirmed sends OPEN', Active, { type: 'TcpConnectionConfirmed' }, OpenSent, openSentActions],
  ['Active Tcp_CR_Acked sends OPEN', Active, { type: 'Tcp_CR_Acked' }, OpenSent, openSentActions],
  ['Active NotifMsg → Idle', Active, { type: 'NotifMsg', text: 'x' }, Idle, toIdle({ count: true })],
  ['Active UpdateMsg → Idle', Active, { type: 'UpdateMsg' }, Idle, toIdle({ count: true })],
  // ---- OpenSent
  ['OpenSent ManualStop sends Cease/AdminShutdown', OpenSent, { type: 'ManualStop' }, Idle, toIdle({ notify: [6, 2] })],
  ['OpenSent ManualStop carries the RFC 8203 message', OpenSent, { type: 'ManualStop', data: shutdownMsg }, Idle, toIdle({ notify: [6, 2], data: shutdownMsg })],
  ['OpenSent AutomaticStop sends Cease/subcode', OpenSent, { type: 'AutomaticStop', subcode: 3, text: 'peer deconfigured' }, Idle, toIdle({ notify: [6, 3], count: true })],
  ['OpenSent HoldTimer → 4/0', OpenSent, { type: 'HoldTimer_Expires' }, Idle, toIdle({ notify: [4, 0], count: true })],
  ['OpenSent TcpConnectionFails → Active', OpenSent, { type: 'TcpConnectionFails', text: 'reset' }, Active,
    [{ type: 'stopTimer', timer: 'hold' }, { type: 'stopTimer', timer: 'keepalive' }, { type: 'dropConnection' }, { type: 'startTimer', timer: 'connectRetry', seconds: 5 }]],
  ['OpenSent BGPOpen hold 90 → OpenConfirm, keepalive 30', OpenSent, { type: 'BGPOpen', holdTime: 90 }, OpenConfirm90,
    [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: 30 }, { type: 'startTimer', timer: 'hold', seconds: 90 }]],
  ['OpenSent BGPOpen hold 3 → keepalive 1', OpenSent, { type: 'BGPOpen', holdTime: 3 }, { name: 'OpenConfirm', holdTime: 3 },
    [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: 1 }, { type: 'startTimer', timer: 'hold', seconds: 3 }]],
  ['OpenSent BGPOpen hold 0 → no timers', OpenSent, { type: 'BGPOpen', holdTime: 0 }, OpenConfirm0,
    [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendKeepalive' }, { type: 'stopTimer', timer: 'hold' }, { type: 'stopTimer', timer: 'keepalive' }]],
  ['OpenSent BGPOpenMsgErr sends its NOTIFICATION', OpenSent, { type: 'BGPOpenMsgErr', error: err(2, 2) }, Idle, toIdle({ notify: [2, 2], count: true })],
  ['OpenSent BGPHeaderErr sends its NOTIFICATION', OpenSent, { type: 'BGPHeaderErr', error: err(1, 2) }, Idle, toIdle({ notify: [1, 2], count: true })],
  ['OpenSent collision dump → 6/7', OpenSent, { type: 'OpenCollisionDump' }, Idle, toIdle({ notify: [6, 7], count: true })],
  ['OpenSent NotifMsgVerErr → Idle, no count', OpenSent, { type: 'NotifMsgVerErr', text: 'v' }, Idle, toIdle()],
  ['OpenSent NotifMsg → Idle', OpenSent, { type: 'NotifMsg', text: 'n' }, Idle, toIdle({ count: true })],
  ['OpenSent KeepAliveMsg → FSM error 5/1', OpenSent, { type: 'KeepAliveMsg' }, Idle, toIdle({ notify: [5, 1], count: true })],
  ['OpenSent UpdateMsg → FSM error 5/1', OpenSent, { type: 'UpdateMsg' }, Idle, toIdle({ notify: [5, 1], count: true })],
  // ---- OpenConfirm
  ['OpenConfirm KeepAliveMsg → Established', OpenConfirm90, { type: 'KeepAliveMsg' }, Est90,
    [{ type: 'startTimer', timer: 'hold', seconds: 90 }, { type: 'sessionUp' }]],
  ['OpenConfirm KeepAliveMsg hold 0 → Established, no hold timer', OpenConfirm0, { type: 'KeepAliveMsg' }, Est0, [{ type: 'sessionUp' }]],
  ['OpenConfirm KeepaliveTimer sends KEEPALIVE', OpenConfirm90, { type: 'KeepaliveTimer_Expires' }, OpenConfirm90,
    [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: 30 }]],
  ['OpenConfirm HoldTimer → 4/0', OpenConfirm90, { type: 'HoldTimer_Expires' }, Idle, toIdle({ notify: [4, 0], count: true })],
  ['OpenConfirm ManualStop → 6/2', OpenConfirm90, { type: 'ManualStop' }, Idle, toIdle({ notify: [6, 2] })],
  ['OpenConfirm collision dump → 6/7', OpenConfirm90, { type: 'OpenCollisionDump' }, Idle, toIdle({ notify: [6, 7], count: true })],
  ['OpenConfirm TcpConnectionFails → Idle', OpenConfirm90, { type: 'TcpConnectionFails', text: 'x' }, Idle, toIdle({ count: true })],
  ['OpenConfirm NotifMsg → Idle', OpenConfirm90, { type: 'NotifMsg', text: 'x' }, Idle, toIdle({ count: true })],
  ['OpenConfirm second OPEN → FSM error 5/2', OpenConfirm90, { type: 'BGPOpen', holdTime: 90 }, Idle, toIdle({ notify: [5, 2], count: true })],
  ['OpenConfirm UpdateMsg → FSM error 5/2', OpenConfirm90, { type: 'UpdateMsg' }, Idle, toIdle({ notify: [5, 2], count: true })],
  // ---- Established
  ['Established KeepAliveMsg restarts hold', Est90, { type: 'KeepAliveMsg' }, Est90, [{ type: 'startTimer', timer: 'hold', seconds: 90 }]],
  ['Established KeepAliveMsg, hold 0', Est0, { type: 'KeepAliveMsg' }, Est0, []],
  ['Established UpdateMsg processes, restarts hold', Est90, { type: 'UpdateMsg' }, Est90,
    [{ type: 'processUpdate' }, { type: 'startTimer', timer: 'hold', seconds: 90 }]],
  ['Established RouteRefresh processes', Est90, { type: 'RouteRefresh' }, Est90,
    [{ type: 'processRouteRefresh' }, { type: 'startTimer', timer: 'hold', seconds: 90 }]],
  ['Established KeepaliveTimer sends KEEPALIVE', Est90, { type: 'KeepaliveTimer_Expires' }, Est90,
    [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: 30 }]],
  ['Established KeepaliveTimer, hold 0: nothing', Est0, { type: 'KeepaliveTimer_Expires' }, Est0, []],
  ['Established HoldTimer → 4/0, down', Est90, { type: 'HoldTimer_Expires' }, Idle, toIdle({ notify: [4, 0], count: true, down: true })],
  ['Established ManualStop → 6/2 with message, down', Est90, { type: 'ManualStop', data: shutdownMsg }, Idle, toIdle({ notify: [6, 2], data: shutdownMsg, down: true })],
  // A restart stop with the RFC 8538 N bit: Cease/Administrative Reset carrying the RFC 9003 message.
  ['Established AutomaticStop 6/4 with message, down', Est90, { type: 'AutomaticStop', subcode: 4, text: 'restart', data: shutdownMsg }, Idle, toIdle({ notify: [6, 4], data: shutdownMsg, count: true, down: true })],
  ['Established UpdateMsgErr → 3/x, down', Est90, { type: 'UpdateMsgErr', error: err(3, 1) }, Idle, toIdle({ notify: [3, 1], count: true, down: true })],
  ['Established NotifMsg → Idle, down', Est90, { type: 'NotifMsg', text: 'x' }, Idle, toIdle({ count: true, down: true })],
  ['Established TcpConnectionFails → Idle, down', Est90, { type: 'TcpConnectionFails', text: 'x' }, Idle, toIdle({ count: true, down: true })],
  ['Established OPEN → FSM error 5/3', Est90, { type: 'BGPOpen', holdTime: 90 }, Idle, toIdle({ notify: [5, 3], count: true, down: true })],
  ['Established ConnectRetry → FSM error 5/3', Est90, { type: 'ConnectRetryTimer_Expires' }, Idle, toIdle({ notify: [5, 3], count: true, down: true })],
  ['Established collision dump → 6/7', Est90, { type: 'OpenCollisionDump' }, Idle, toIdle({ notify: [6, 7], count: true, down: true })],
];

describe('FSM transition table (RFC 4271 §8.2.2)', () => {
  it.each(rows)('%s', (_name, from, ev, next, actions, c) => {
    const t = step(from, ev, c ?? cfg);
    expect(t.next).toEqual(next);
    expect(t.actions).toEqual(actions);
  });

  it('every state handles every event without throwing and stops all timers on the way to Idle', () => {
    const states: State[] = [Idle, Connect, Active, OpenSent, OpenConfirm90, Est90];
    const events: FsmEvent[] = [
      { type: 'ManualStart' }, { type: 'ManualStop' }, { type: 'AutomaticStart' },
      { type: 'ManualStart_with_PassiveTcpEstablishment' }, { type: 'AutomaticStart_with_PassiveTcpEstablishment' },
      { type: 'AutomaticStop', subcode: 3, text: 'x' }, { type: 'ConnectRetryTimer_Expires' }, { type: 'HoldTimer_Expires' },
      { type: 'KeepaliveTimer_Expires' }, { type: 'TcpConnection_Valid' }, { type: 'Tcp_CR_Acked' },
      { type: 'TcpConnectionConfirmed' }, { type: 'TcpConnectionFails', text: 'x' }, { type: 'BGPOpen', holdTime: 9 },
      { type: 'BGPHeaderErr', error: err(1, 1) }, { type: 'BGPOpenMsgErr', error: err(2, 1) }, { type: 'OpenCollisionDump' },
      { type: 'NotifMsgVerErr', text: 'x' }, { type: 'NotifMsg', text: 'x' }, { type: 'KeepAliveMsg' }, { type: 'UpdateMsg' },
      { type: 'UpdateMsgErr', error: err(3, 1) }, { type: 'RouteRefresh' },
    ];
    for (const s of states) {
      for (const e of events) {
        const t = step(s, e, cfg);
        if (t.next.name === 'Idle' && s.name !== 'Idle') {
          for (const timer of ['connectRetry', 'hold', 'keepalive'] as const) {
            expect(t.actions).toContainEqual({ type: 'stopTimer', timer });
          }
          expect(t.actions).toContainEqual({ type: 'dropConnection' });
          expect(t.actions.some((a) => a.type === 'sessionDown')).toBe(s.name === 'Established');
          expect(t.reason).toBeTruthy();
        }
        expect(t.actions.some((a) => a.type === 'sessionUp')).toBe(s.name === 'OpenConfirm' && e.type === 'KeepAliveMsg');
      }
    }
  });

  it('reports the reason: hold timer and notification text', () => {
    expect(step(Est90, { type: 'HoldTimer_Expires' }, cfg).reason).toBe('hold timer expired');
    expect(step(Est90, { type: 'NotifMsg', text: 'received NOTIFICATION Cease' }, cfg).reason).toBe('received NOTIFICATION Cease');
  });
});

describe('hold time negotiation (RFC 4271 §4.2)', () => {
  it.each([
    [240, 90, 90], [90, 240, 90], [240, 0, 0], [0, 240, 0], [240, 3, 3], [3, 240, 3],
  ])('local %i remote %i → %i', (l, r, h) => expect(negotiateHoldTime(l, r)).toBe(h));
  it.each([1, 2])('remote %i is unacceptable', (r) => expect(negotiateHoldTime(240, r)).toBeNull());
});
