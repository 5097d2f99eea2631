// Session tests over an in-memory duplex pair with a manual clock: OPEN exchange, hold time
// negotiation, OPEN errors on the wire (bytes checked by a hand-written parser), hold timer,
// keepalive cadence, administrative shutdown, RFC 8538 (the N bit, Hard Reset, which NOTIFICATIONs
// leave routes to graceful restart), and keepalives not starved by a bulk transfer.
import { afterEach, describe, expect, it } from 'vitest';
import { Session, type DownInfo, type SessionConfig, type SessionListener, type EstablishedInfo } from '../../src/bgp/session.js';
import type { StateName } from '../../src/bgp/fsm/fsm.js';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';
import { FakeClock, RawPeer, duplexPair, ip, msg, openMsg, settle, KEEPALIVE_HEX } from './helpers/net-fakes.js';

const A_ID = ip('10.0.0.1');
const B_ID = ip('10.0.0.2');

interface Recorder extends SessionListener {
  states: [StateName, StateName, string][];
  established: EstablishedInfo[];
  updates: UpdateMessage[];
  downs: string[];
  downInfo: DownInfo[];
}
const recorder = (): Recorder => {
  const r: Recorder = {
    states: [], established: [], updates: [], downs: [], downInfo: [],
    onStateChange: (f, t, why) => { r.states.push([f, t, why]); },
    onEstablished: (i) => { r.established.push(i); },
    onUpdate: (m) => { r.updates.push(m); },
    onDown: (why, how) => { r.downs.push(why); if (how) r.downInfo.push(how); },
  };
  return r;
};

const sessions: Session[] = [];
afterEach(() => { for (const s of sessions.splice(0)) s.dispose('test over', null); });

function mk(cfg: Partial<SessionConfig> & Pick<SessionConfig, 'localAs' | 'peerAs' | 'localBgpId'>, clock: FakeClock, rec = recorder()) {
  const s = new Session({ remoteAddress: '192.0.2.1', ...cfg }, rec, { clock, random: () => 1, autoRestart: false });
  sessions.push(s);
  return { s, rec };
}

/** Session A (AS 65001) connected to a raw peer (AS 65002, id 10.0.0.2); `localAddress` as a net.Socket would report it. */
async function withRawPeer(cfg: Partial<SessionConfig> = {}, socket: { localAddress?: string } = {}) {
  const clock = new FakeClock();
  const [sa, sb] = duplexPair();
  if (socket.localAddress !== undefined) Object.assign(sa, { localAddress: socket.localAddress });
  const { s, rec } = mk({ localAs: 65001, peerAs: 65002, localBgpId: A_ID, ...cfg }, clock);
  const raw = new RawPeer(sb);
  expect(s.accept(sa)).toBe(true);
  await settle();
  return { clock, s, rec, raw };
}

async function establishRaw(hold = 90, cfg: Partial<SessionConfig> = {}, socket: { localAddress?: string } = {}, caps: string[] = []) {
  const t = await withRawPeer(cfg, socket);
  t.raw.send(openMsg({ as: 65002, hold, id: B_ID, caps }));
  t.raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
  await settle();
  expect(t.s.state).toBe('Established');
  return t;
}

describe('Session: Restart State follows a live flag (RFC 4724 §4.1)', () => {
  /** The GR capability (code 64) of the OPEN a raw peer received: [R bit, F bit of the first family]. */
  const grBits = (open: Buffer): [boolean, boolean] => {
    const params = open.subarray(10);
    for (let i = 0; i + 1 < params.length; ) {
      const len = params[i + 1]!;
      const p = params.subarray(i + 2, i + 2 + len);
      for (let j = 0; j + 1 < p.length; ) {
        const code = p[j]!;
        const clen = p[j + 1]!;
        if (code === 64) return [(p[j + 2]! & 0x80) !== 0, clen >= 6 && (p[j + 2 + 2 + 3]! & 0x80) !== 0];
        j += 2 + clen;
      }
      i += 2 + len;
    }
    throw new Error('no graceful restart capability');
  };

  it('announces Restart State and forwarding preserved while restarting, and neither once the restart is over', async () => {
    let restarting = true;
    const { s, raw } = await withRawPeer({ capabilities: { restarting: () => restarting } });
    expect(grBits(raw.ofType(1)[0]!.body)).toEqual([true, true]);
    // The restart completes; the connection is lost and the same session takes a new one.
    restarting = false;
    raw.sock.destroy();
    await settle();
    expect(['Idle', 'Active']).toContain(s.state);
    const [sa2, sb2] = duplexPair();
    const raw2 = new RawPeer(sb2);
    expect(s.accept(sa2)).toBe(true);
    await settle();
    expect(grBits(raw2.ofType(1)[0]!.body)).toEqual([false, false]);
  });
});

describe('Session: OPEN exchange between two sessions', () => {
  it('reaches Established on both sides and negotiates capabilities', async () => {
    const clock = new FakeClock();
    const [sa, sb] = duplexPair();
    const a = mk({ localAs: 65001, peerAs: 4200000001, localBgpId: A_ID }, clock);
    const b = mk({ localAs: 4200000001, peerAs: 65001, localBgpId: B_ID, holdTime: 90 }, clock);
    expect(a.s.accept(sa)).toBe(true);
    expect(b.s.accept(sb)).toBe(true);
    await settle();
    expect(a.s.state).toBe('Established');
    expect(b.s.state).toBe('Established');
    expect(a.rec.states.map(([f, t]) => `${f}>${t}`)).toEqual(['Idle>Active', 'Active>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established']);
    const info = a.rec.established[0]!;
    expect(info.holdTime).toBe(90);
    expect(info.remoteOpen.bgpId).toBe(B_ID);
    expect(info.remoteOpen.myAs).toBe(23456); // AS_TRANS in the 2-octet field (RFC 6793)
    expect(info.negotiated.fourOctetAs).toBe(true);
    expect(info.negotiated.families).toEqual([0x101, 0x201]);
    expect(info.negotiated.routeRefresh).toBe(true);
    expect(info.negotiated.enhancedRouteRefresh).toBe(true);
    expect(info.negotiated.extendedMessage).toBe(true);
    expect(info.negotiated.gracefulRestart).toBe(true);
    expect(info.negotiated.remoteGracefulRestart?.restartTime).toBe(120);
    expect(info.negotiated.ibgp).toBe(false);
  });

  it('sends an OPEN with our capabilities (checked field by field)', async () => {
    const { raw } = await withRawPeer();
    const open = raw.ofType(1)[0]!.body;
    expect(open[0]).toBe(4);                          // version
    expect(open.readUInt16BE(1)).toBe(65001);         // My AS
    expect(open.readUInt16BE(3)).toBe(240);           // hold time default 240 (BIRD/Calico)
    expect(open.readUInt32BE(5)).toBe(A_ID);          // BGP id
    const caps = open.subarray(10).toString('hex');
    expect(caps).toContain('0104000100010104000200010'.slice(0, 24)); // MP IPv4 unicast then IPv6 unicast
    expect(caps).toContain('010400020001');           // MP IPv6 unicast
    expect(caps).toContain('0200');                   // route refresh
    expect(caps).toContain('4600');                   // enhanced route refresh (70)
    expect(caps).toContain('0600');                   // extended message
    expect(caps).toContain('4104' + '0000fde9');      // 4-octet AS 65001
    expect(caps).toContain('400a' + '4078' + '00010100' + '00020100'); // GR: N bit (RFC 8538), time 120, v4 + v6, F=0
    expect(caps).not.toContain('45');                 // no ADD-PATH unless configured... (code 69 = 0x45)
  });
});

describe('Session: hold time negotiation', () => {
  it('peer proposes 0: no keepalives, no hold timer', async () => {
    const { s, raw, clock } = await establishRaw(0);
    const before = raw.ofType(4).length;
    clock.advance(3600_000);
    await settle();
    expect(s.state).toBe('Established');
    expect(raw.ofType(4).length).toBe(before);
  });

  it('peer proposes 3: hold 3, keepalive every second', async () => {
    const { s, rec, raw, clock } = await establishRaw(3);
    expect(rec.established[0]!.holdTime).toBe(3);
    const before = raw.ofType(4).length;
    clock.advance(1000);
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    clock.advance(1000);
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(raw.ofType(4).length).toBe(before + 2);
    expect(s.state).toBe('Established');
  });

  it.each([1, 2])('peer proposes %i: NOTIFICATION 2/6 Unacceptable Hold Time', async (hold) => {
    const { s, raw } = await withRawPeer();
    raw.send(openMsg({ as: 65002, hold, id: B_ID }));
    await settle();
    expect(raw.notifications()).toEqual([{ code: 2, subcode: 6, data: Buffer.alloc(0) }]);
    expect(s.state).toBe('Idle');
    expect(s.lastError).toMatch(/hold time/);
  });

  it('rejects a configured hold time of 1 or 2', () => {
    expect(() => new Session({ localAs: 1, peerAs: 2, localBgpId: 1, holdTime: 2, remoteAddress: 'x' })).toThrow(RangeError);
  });
});

describe('Session: OPEN validation errors on the wire', () => {
  it('bad peer AS → 2/2', async () => {
    const { s, raw, rec } = await withRawPeer();
    raw.send(openMsg({ as: 65099, hold: 90, id: B_ID }));
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[2, 2]]);
    expect(s.state).toBe('Idle');
    expect(rec.established).toHaveLength(0);
  });

  it('bad peer AS in the 4-octet capability → 2/2', async () => {
    const { raw } = await withRawPeer({ peerAs: 4200000001 });
    raw.send(openMsg({ as: 4200000002, hold: 90, id: B_ID }));
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[2, 2]]);
  });

  it('4-octet peer AS accepted via the capability (My AS = AS_TRANS)', async () => {
    const { s, raw } = await withRawPeer({ peerAs: 4200000001 });
    raw.send(openMsg({ as: 4200000001, hold: 90, id: B_ID }));
    await settle();
    expect(s.state).toBe('OpenConfirm');
  });

  it('BGP identifier 0 → 2/3', async () => {
    const { raw } = await withRawPeer();
    raw.send(openMsg({ as: 65002, hold: 90, id: 0 }));
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[2, 3]]);
  });

  it('BGP identifier 255.255.255.255 is accepted (RFC 6286 §2.1: any non-zero value)', async () => {
    // Issue 11: Kite sent 2/3 here; BIRD and FRR accept it.
    const { s, raw } = await withRawPeer();
    raw.send(openMsg({ as: 65002, hold: 90, id: 0xffffffff }));
    await settle();
    expect(raw.notifications()).toEqual([]);
    expect(s.state).toBe('OpenConfirm');
  });

  it('no address family in common → 2/7 Unsupported Capability, data = the MP capability we need (RFC 5492 §3, RFC 4760 §8)', async () => {
    // Issue 11: an OPEN advertising only IPv6 unicast reached Established on an IPv4-only session
    // (and Kite took IPv4 routes from it); BIRD and FRR answer 2/7.
    const { s, raw, rec } = await withRawPeer({ capabilities: { families: [0x101] } });
    raw.send(openMsg({ as: 65002, hold: 90, id: B_ID, afis: [2] }));
    await settle();
    const n = raw.notifications();
    expect(n.map((x) => [x.code, x.subcode])).toEqual([[2, 7]]);
    expect(n[0]!.data.toString('hex')).toBe('01' + '04' + '0001' + '00' + '01'); // MP: AFI 1, SAFI 1
    expect(s.state).toBe('Idle');
    expect(rec.established).toHaveLength(0);
  });

  it('iBGP peer with our own BGP identifier → 2/3', async () => {
    const { raw } = await withRawPeer({ peerAs: 65001 });
    raw.send(openMsg({ as: 65001, hold: 90, id: A_ID }));
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[2, 3]]);
  });

  it('version 3 → 2/1 with data = highest supported version (0x0004)', async () => {
    const { raw } = await withRawPeer();
    raw.send(openMsg({ version: 3, as: 65002, hold: 90, id: B_ID }));
    await settle();
    expect(raw.notifications()).toEqual([{ code: 2, subcode: 1, data: Buffer.from('0004', 'hex') }]);
  });

  it('bad marker → 1/1 Connection Not Synchronized', async () => {
    const { raw, s } = await withRawPeer();
    const bad = openMsg({ as: 65002, hold: 90, id: B_ID });
    bad[3] = 0;
    raw.send(bad);
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[1, 1]]);
    expect(s.state).toBe('Idle');
  });

  it('KEEPALIVE before OPEN → FSM error 5/1 (RFC 6608)', async () => {
    const { raw } = await withRawPeer();
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[5, 1]]);
  });
});

describe('Session: timers', () => {
  it('hold timer expiry sends NOTIFICATION 4/0 and reports "hold timer expired"', async () => {
    const { s, raw, rec, clock } = await establishRaw(9);
    clock.advance(8999);
    await settle();
    expect(s.state).toBe('Established');
    clock.advance(1);
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[4, 0]]);
    expect(s.state).toBe('Idle');
    expect(s.lastError).toBe('hold timer expired');
    expect(rec.downs).toEqual(['hold timer expired']);
  });

  it('the hold timer restarts on each KEEPALIVE received', async () => {
    const { s, raw, clock } = await establishRaw(9);
    for (let i = 0; i < 5; i++) {
      clock.advance(8000);
      raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
      await settle();
    }
    expect(s.state).toBe('Established');
  });

  it('sends a KEEPALIVE every hold/3 seconds', async () => {
    const { raw, clock } = await establishRaw(90);
    const base = raw.ofType(4).length; // the one answering the OPEN
    expect(base).toBe(1);
    clock.advance(29_999);
    await settle();
    expect(raw.ofType(4).length).toBe(1);
    clock.advance(1);
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(raw.ofType(4).length).toBe(2);
    clock.advance(30_000);
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(raw.ofType(4).length).toBe(3);
  });

  it('OpenSent waits 240 s for the OPEN, then 4/0', async () => {
    const { s, raw, clock } = await withRawPeer();
    clock.advance(239_000);
    await settle();
    expect(s.state).toBe('OpenSent');
    clock.advance(1000);
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[4, 0]]);
  });
});

describe('Session: shutdown and NOTIFICATIONs', () => {
  it('stop() sends Cease/Administrative Shutdown with the RFC 8203 message; the peer records it', async () => {
    const clock = new FakeClock();
    const [sa, sb] = duplexPair();
    const a = mk({ localAs: 65001, peerAs: 65002, localBgpId: A_ID }, clock);
    // b does not set the RFC 8538 N bit, so a sends the plain Cease (RFC 8538 §3: no Hard Reset to it).
    const b = mk({ localAs: 65002, peerAs: 65001, localBgpId: B_ID, capabilities: { gracefulNotification: false } }, clock);
    const tap: Buffer[] = [];
    sb.on('data', (c: Buffer) => tap.push(c));
    a.s.accept(sa);
    b.s.accept(sb);
    await settle();
    expect(b.s.state).toBe('Established');
    a.s.stop('maintenance');
    await settle();
    const notif = Buffer.concat(tap).subarray(-33);
    // marker, length 33, type 3, code 6, subcode 2, len 11, "maintenance"
    expect(notif.toString('hex')).toBe('ff'.repeat(16) + '0021' + '03' + '06' + '02' + '0b' + Buffer.from('maintenance').toString('hex'));
    expect(b.s.state).toBe('Idle');
    expect(b.s.lastError).toBe('received NOTIFICATION Cease/Administrative Shutdown: "maintenance"');
    expect(b.rec.downs).toEqual(['received NOTIFICATION Cease/Administrative Shutdown: "maintenance"']);
    expect(a.s.state).toBe('Idle');
  });

  it('a received NOTIFICATION is recorded as readable text', async () => {
    const { s, raw } = await establishRaw(90);
    raw.send(msg(3, '06' + '04'));
    await settle();
    expect(s.state).toBe('Idle');
    expect(s.lastError).toBe('received NOTIFICATION Cease/Administrative Reset');
  });
});

describe('Session: NOTIFICATIONs and graceful restart (RFC 8538)', () => {
  /** The raw peer's graceful restart capability (code 64, length 6): flags+time, then IPv4 unicast with F set. */
  const grCap = (nBit: boolean) => '40' + '06' + (nBit ? '4078' : '0078') + '0001' + '01' + '80';
  const withN = () => establishRaw(90, {}, {}, [grCap(true)]);
  const withoutN = () => establishRaw(90, {}, {}, [grCap(false)]);
  /** The NOTIFICATION messages the raw peer received, as hex bodies. */
  const notes = (raw: RawPeer) => raw.ofType(3).map((m) => m.body.toString('hex'));
  const text = (t: string) => Buffer.from(t).toString('hex');

  it('§2: the N bit is negotiated only when both OPENs carry it', async () => {
    expect((await withN()).rec.established[0]!.negotiated.gracefulNotification).toBe(true);
    expect((await withoutN()).rec.established[0]!.negotiated.gracefulNotification).toBe(false);
  });

  it('§3, §5.1: with the N bit, stop() sends Cease/Hard Reset carrying Cease/Administrative Shutdown; the routes go', async () => {
    const { s, raw, rec } = await withN();
    s.stop('bye');
    await settle();
    expect(notes(raw)).toEqual(['06' + '09' + '06' + '02' + '03' + text('bye')]);
    expect(rec.downInfo).toEqual([{ notification: true, graceful: false }]);
  });

  it('§3: without the N bit from the peer, stop() sends the plain Cease/Administrative Shutdown', async () => {
    const { s, raw, rec } = await withoutN();
    s.stop('bye');
    await settle();
    expect(notes(raw)).toEqual(['06' + '02' + '03' + text('bye')]);
    expect(rec.downInfo).toEqual([{ notification: true, graceful: false }]);
  });

  it('§4: with the N bit, a received NOTIFICATION other than Hard Reset leaves the routes to graceful restart', async () => {
    const { s, raw, rec } = await withN();
    raw.send(msg(3, '06' + '04')); // Cease/Administrative Reset
    await settle();
    expect(s.state).toBe('Idle');
    expect(rec.downInfo).toEqual([{ notification: true, graceful: true }]);
  });

  it('§4: without the N bit, the same NOTIFICATION flushes (RFC 4724 §4.2)', async () => {
    const { raw, rec } = await withoutN();
    raw.send(msg(3, '06' + '04'));
    await settle();
    expect(rec.downInfo).toEqual([{ notification: true, graceful: false }]);
  });

  it('§4: with the N bit, a received Cease/Hard Reset flushes at once and reads as the NOTIFICATION it carries', async () => {
    const { s, raw, rec } = await withN();
    raw.send(msg(3, '06' + '09' + '06' + '03')); // Hard Reset (Peer De-configured)
    await settle();
    expect(rec.downInfo).toEqual([{ notification: true, graceful: false }]);
    expect(s.lastError).toBe('received NOTIFICATION Cease/Hard Reset (Cease/Peer De-configured)');
  });

  it('§3: a Hard Reset with no inner NOTIFICATION flushes too', async () => {
    const { raw, rec } = await withN();
    raw.send(msg(3, '06' + '09'));
    await settle();
    expect(rec.downInfo).toEqual([{ notification: true, graceful: false }]);
  });

  it('§4: with the N bit, hold-timer expiry sends 4/0 (never a Hard Reset) and keeps the routes', async () => {
    const { raw, rec, clock } = await withN();
    clock.advance(90_000);
    await settle();
    expect(notes(raw)).toEqual(['0400']);
    expect(rec.downInfo).toEqual([{ notification: true, graceful: true }]);
  });

  it('§4: with the N bit, a NOTIFICATION we send for a malformed UPDATE keeps the routes too', async () => {
    const { raw, rec } = await withN();
    raw.send(msg(2, 'ffff' + '0000')); // withdrawn routes length past the message: 3/1, a session reset (RFC 7606 §5.3)
    await settle();
    expect(notes(raw).map((n) => n.slice(0, 4))).toEqual(['0301']);
    expect(rec.downInfo).toEqual([{ notification: true, graceful: true }]);
  });

  it('stopForRestart: with the N bit, Cease/Administrative Reset with the RFC 9003 reason, not wrapped; graceful on both sides', async () => {
    const { s, raw, rec } = await withN();
    s.stopForRestart('upgrade');
    await settle();
    expect(notes(raw)).toEqual(['06' + '04' + '07' + text('upgrade')]);
    expect(rec.downInfo).toEqual([{ notification: true, graceful: true }]);
    expect(s.state).toBe('Idle');
  });

  it('stopForRestart: without the N bit, the connection closes with no NOTIFICATION (RFC 4724 §4.2)', async () => {
    const { s, raw, rec } = await withoutN();
    s.stopForRestart('upgrade');
    await settle();
    expect(notes(raw)).toEqual([]);
    expect(rec.downInfo).toEqual([{ notification: false, graceful: true }]);
    expect(s.state).toBe('Idle');
  });

  it('§4: after a graceful NOTIFICATION the next OPEN sets Forwarding State (the process kept forwarding)', async () => {
    const { s, raw } = await withN();
    raw.send(msg(3, '06' + '04'));
    await settle();
    const [sa2, sb2] = duplexPair();
    const raw2 = new RawPeer(sb2);
    expect(s.accept(sa2)).toBe(true);
    await settle();
    const caps = raw2.ofType(1)[0]!.body.subarray(10).toString('hex');
    expect(caps).toContain('400a' + '4078' + '00010180' + '00020180'); // R=0, N, 120 s; F=1 for v4 and v6
  });
});

describe('Session: UPDATE handling', () => {
  // ORIGIN IGP, AS_PATH [65002], NEXT_HOP 192.0.2.2, NLRI 10.1.0.0/16 — written field by field.
  const updateHex =
    '0000' +                                   // withdrawn routes length
    '0014' +                                   // total path attribute length (20)
    '40' + '01' + '01' + '00' +                // ORIGIN: flags T, type 1, len 1, IGP
    '40' + '02' + '06' + '02' + '01' + '0000fdea' + // AS_PATH: AS_SEQUENCE, 1 AS, 65002 (4-octet)
    '40' + '03' + '04' + 'c0000202' +          // NEXT_HOP 192.0.2.2
    '10' + '0a01';                             // NLRI 10.1.0.0/16

  it('delivers an UPDATE to the consumer synchronously', async () => {
    const { s, raw, rec } = await establishRaw(90);
    raw.send(msg(2, updateHex));
    await settle();
    expect(s.state).toBe('Established');
    expect(rec.updates).toHaveLength(1);
    const u = rec.updates[0]!;
    expect(u.attrs?.nextHop).toBe('192.0.2.2');
    expect(u.nlri?.end! - u.nlri?.start!).toBe(3);
  });

  it('RFC 7606 treat-as-withdraw: a bad ORIGIN turns the announcement into a withdrawal', async () => {
    const { s, raw, rec } = await establishRaw(90);
    raw.send(msg(2, updateHex.replace('40010100', '40010105'))); // ORIGIN value 5 (invalid)
    await settle();
    expect(s.state).toBe('Established');
    expect(raw.notifications()).toHaveLength(0);
    expect(rec.updates).toHaveLength(1);
    const u = rec.updates[0]!;
    expect(u.attrs).toBeNull();
    expect(u.nlri).toBeNull();
    expect(u.withdrawn?.family).toBe(0x101);
    expect(u.withdrawn!.buf.subarray(u.withdrawn!.start, u.withdrawn!.end).toString('hex')).toBe('100a01');
  });

  it('RFC 4760 §8: IPv4 NLRI from a peer that negotiated only IPv6 unicast are ignored', async () => {
    // Issue 11: Kite took IPv4 routes from such a peer; BIRD and FRR do not exchange the family.
    const t = await withRawPeer();
    t.raw.send(openMsg({ as: 65002, hold: 90, id: B_ID, afis: [2] }));
    t.raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(t.s.state).toBe('Established');
    expect(t.s.negotiated?.families).toEqual([0x201]);
    t.raw.send(msg(2, '0003' + '100a02' + updateHex.slice(4))); // also withdraws 10.2.0.0/16
    await settle();
    expect(t.s.state).toBe('Established');
    expect(t.raw.notifications()).toHaveLength(0);
    expect(t.rec.updates.map((u) => [u.nlri, u.withdrawn, u.attrs])).toEqual([[null, null, null]]);
  });

  it('RFC 4271 §6.3 (a): a NEXT_HOP that is our own address is ignored, no NOTIFICATION', async () => {
    // Issue 11 ("BIRD alone does it here"): the route is treated as withdrawn, the session stays.
    const { s, rec, raw } = await establishRaw(90, {}, { localAddress: '192.0.2.2' });
    raw.send(msg(2, updateHex)); // NEXT_HOP 192.0.2.2: ours
    await settle();
    expect(s.state).toBe('Established');
    expect(raw.notifications()).toHaveLength(0);
    expect(rec.updates).toHaveLength(1);
    expect(rec.updates[0]!.attrs).toBeNull();
    expect(rec.updates[0]!.withdrawn!.buf.subarray(rec.updates[0]!.withdrawn!.start, rec.updates[0]!.withdrawn!.end).toString('hex')).toBe('100a01');
    raw.send(msg(2, updateHex.replace('c0000202', 'c0000203'))); // another address: accepted
    await settle();
    expect(rec.updates[1]!.attrs?.nextHop).toBe('192.0.2.3');
    // Issue 11: Kite accepted an eBGP NEXT_HOP of 127.0.0.1. RFC 4271 §6.3: no valid host address to
    // forward to from another host (RFC 1122 §3.2.1.3); BIRD treats it as withdraw, FRR resets (3/8).
    raw.send(msg(2, updateHex.replace('c0000202', '7f000001')));
    await settle();
    expect(s.state).toBe('Established');
    expect(raw.notifications()).toHaveLength(0);
    expect(rec.updates[2]!.attrs).toBeNull();
    expect(rec.updates[2]!.errors.map((e) => e.message).join()).toMatch(/NEXT_HOP 127\.0\.0\.1 is a loopback address/);
  });

  // Issue 11, the differential check (npm run check:differential): an UPDATE with classic NLRI and
  // NEXT_HOP plus MP_REACH_NLRI for IPv6 crashed Kite (the IPv4 routes took the IPv6 next hop and
  // shared one attribute set with the IPv6 routes; the export packed an IPv6 prefix as IPv4 and threw).
  // RFC 4760 §3: NEXT_HOP belongs to the NLRI field, the MP_REACH_NLRI next hop to its own NLRI.
  // BIRD 2.0.12 and FRR 8.4.4 take both sets of routes, each with its own next hop.
  it('RFC 4760 §3: classic NLRI keep NEXT_HOP beside an IPv6 MP_REACH_NLRI; each set is delivered with its own next hop', async () => {
    const t = await withRawPeer();
    t.raw.send(openMsg({ as: 65002, hold: 90, id: B_ID, afis: [1, 2] }));
    t.raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    const mp =
      '80' + '0e' + '1c' +                       // MP_REACH_NLRI: flags O, type 14, len 28
      '0002' + '01' + '10' +                     // AFI IPv6, SAFI unicast, next hop length 16
      '20010db8000000000000000000000003' +       // next hop 2001:db8::3
      '00' +                                     // reserved
      '30' + '20010db80001';                     // 2001:db8:1::/48
    const body = '0000' + (20 + 31).toString(16).padStart(4, '0') + updateHex.slice(8, 8 + 40) + mp + updateHex.slice(48);
    t.raw.send(msg(2, body));
    await settle();
    expect(t.s.state).toBe('Established');
    expect(t.raw.notifications()).toHaveLength(0);
    expect(t.rec.updates).toHaveLength(2);
    const [classic, v6] = t.rec.updates;
    expect(classic!.nlri).not.toBeNull();
    expect(classic!.mpReach).toBeNull();
    expect(classic!.attrs?.nextHop).toBe('192.0.2.2');
    expect(v6!.nlri).toBeNull();
    expect(v6!.mpReach?.family).toBe(0x201);
    expect(v6!.attrs?.nextHop).toBe('2001:db8::3');
    expect(classic!.attrs!.asPath).toEqual(v6!.attrs!.asPath);
  });

  it('a loopback NEXT_HOP stands on a session that itself runs over loopback (peers on one host)', async () => {
    const { rec, raw } = await establishRaw(90, { remoteAddress: '127.0.0.2' }, { localAddress: '127.0.0.1' });
    raw.send(msg(2, updateHex.replace('c0000202', '7f000002')));
    await settle();
    expect(rec.updates[0]!.attrs?.nextHop).toBe('127.0.0.2');
  });

  // RFC 4271 §6.3 (b): from an eBGP peer sharing a subnet with us, a NEXT_HOP outside it is
  // semantically incorrect. BIRD checks it only in `gateway direct` mode, its default for a
  // single-hop session (proto/bgp/packets.c bgp_apply_next_hop: neigh_find on any interface, else
  // "Invalid NEXT_HOP attribute" and withdraw); FRR's connected check is for single-hop eBGP too.
  // Calico's sessions are all `multihop; gateway recursive;` (bird.cfg.template bgp_template), so
  // calico-node accepts such a route and resolves its next hop through the routing table: Kite
  // checks only sessions configured single-hop (gatewayDirect), never a Calico peer.
  it('RFC 4271 §6.3 (b): on a single-hop session a NEXT_HOP on no connected subnet is ignored', async () => {
    const onLink = (nh: string): boolean => nh.startsWith('192.0.2.');
    const { s, rec, raw } = await establishRaw(90, { gatewayDirect: onLink }, { localAddress: '192.0.2.1' });
    raw.send(msg(2, updateHex)); // NEXT_HOP 192.0.2.2: on the shared subnet
    await settle();
    expect(rec.updates[0]!.attrs?.nextHop).toBe('192.0.2.2');
    raw.send(msg(2, updateHex.replace('c0000202', 'cb007109'))); // 203.0.113.9: behind a gateway
    await settle();
    expect(s.state).toBe('Established');
    expect(raw.notifications()).toHaveLength(0);
    expect(rec.updates[1]!.attrs).toBeNull();
    expect(rec.updates[1]!.withdrawn).not.toBeNull();
    expect(rec.updates[1]!.errors.map((e) => e.message).join()).toMatch(/NEXT_HOP 203\.0\.113\.9 is on no connected subnet of this host, and the session is single-hop \(RFC 4271 §6\.3 \(b\)\): route ignored/);
  });

  it('a multihop session (every Calico peer) keeps a NEXT_HOP behind a gateway', async () => {
    const { rec, raw } = await establishRaw(90, {}, { localAddress: '192.0.2.1' });
    raw.send(msg(2, updateHex.replace('c0000202', 'cb007109')));
    await settle();
    expect(rec.updates[0]!.attrs?.nextHop).toBe('203.0.113.9');
  });

  it('RFC 7606 attribute discard: a malformed ATOMIC_AGGREGATE is dropped, the route delivered', async () => {
    const { s, raw, rec } = await establishRaw(90);
    // ... plus ATOMIC_AGGREGATE with length 1 (must be 0): flags T, type 6, len 1, value 00
    const hex = '0000' + '0018' + updateHex.slice(8, 8 + 40) + '40060100' + updateHex.slice(48);
    raw.send(msg(2, hex));
    await settle();
    expect(s.state).toBe('Established');
    expect(raw.notifications()).toHaveLength(0);
    expect(rec.updates).toHaveLength(1);
    expect(rec.updates[0]!.attrs?.nextHop).toBe('192.0.2.2');
    expect(rec.updates[0]!.attrs?.atomicAggregate).toBe(false);
    expect(rec.updates[0]!.nlri).not.toBeNull();
  });

  it('an UPDATE whose attributes overrun the message resets the session with 3/x', async () => {
    const { s, raw, rec } = await establishRaw(90);
    raw.send(msg(2, '0000' + '00ff' + '40010100'));
    await settle();
    const n = raw.notifications();
    expect(n).toHaveLength(1);
    expect(n[0]!.code).toBe(3);
    expect(s.state).toBe('Idle');
    expect(rec.downs).toHaveLength(1);
  });

  it('an UPDATE before Established → FSM error 5/2 in OpenConfirm', async () => {
    const { raw } = await withRawPeer();
    raw.send(openMsg({ as: 65002, hold: 90, id: B_ID }));
    raw.send(msg(2, updateHex));
    await settle();
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[5, 2]]);
  });
});

describe('Session: backpressure', () => {
  it('a large bulk transfer does not delay KEEPALIVE', async () => {
    const clock = new FakeClock();
    const [sa, sb] = duplexPair(16384);
    const { s } = mk({ localAs: 65001, peerAs: 65002, localBgpId: A_ID }, clock);
    const raw = new RawPeer(sb, false);
    s.accept(sa);
    raw.send(openMsg({ as: 65002, hold: 90, id: B_ID }));
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    // Read the handshake, then stop reading: the peer is slow.
    const head: Buffer[] = [];
    const onData = (c: Buffer) => head.push(c);
    sb.on('data', onData);
    await settle();
    expect(s.state).toBe('Established');
    sb.off('data', onData);
    sb.pause();

    const body = Buffer.alloc(4096 - 19, 0xab);
    const update = msg(2, body.toString('hex'));
    const total = 2000; // 8 MB
    let pulled = 0;
    s.setProducer({ pull: () => (pulled < total ? (pulled++, update) : null) });
    await settle();
    const pulledBeforeKeepalive = pulled;
    expect(pulledBeforeKeepalive).toBeLessThan(20); // the producer is not drained into memory

    clock.advance(30_000); // keepalive timer (hold 90 / 3)
    await settle();
    sb.resume();
    const rest: Buffer[] = [];
    sb.on('data', (c: Buffer) => rest.push(c));
    for (let i = 0; i < 400 && pulled < total; i++) await settle(2);
    await settle();
    const stream = Buffer.concat(rest);
    const msgs = (await import('./helpers/net-fakes.js')).parseStream(stream);
    const firstKeepalive = msgs.findIndex((m) => m.type === 4);
    expect(firstKeepalive).toBeGreaterThanOrEqual(0);
    // At most the bulk already handed to the socket before the timer fired precedes it.
    expect(firstKeepalive).toBeLessThanOrEqual(pulledBeforeKeepalive);
    expect(msgs[firstKeepalive]!.offset).toBeLessThan(64 * 1024);
    // And the transfer then completes.
    expect(pulled).toBe(total);
    expect(msgs.filter((m) => m.type === 2).length).toBe(total);
  });
});

describe('Session: export batches are coalesced (issue 16)', () => {
  it('UPDATEs queued in one task leave in a few writes, in order, each one counted', async () => {
    const clock = new FakeClock();
    const [sa, sb] = duplexPair();
    const { s } = mk({ localAs: 65001, peerAs: 65002, localBgpId: A_ID }, clock);
    const raw = new RawPeer(sb);
    // Writes handed to the transport: an uncorked write() or an uncork() (one writev on a socket).
    let writes = 0;
    const write = sa.write.bind(sa) as (b: Buffer) => boolean;
    const uncork = sa.uncork.bind(sa);
    (sa as unknown as { write: (b: Buffer) => boolean }).write = (b: Buffer) => { if (sa.writableCorked === 0) writes++; return write(b); };
    sa.uncork = () => { writes++; uncork(); };
    s.accept(sa);
    raw.send(openMsg({ as: 65002, hold: 90, id: B_ID }));
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(s.state).toBe('Established');
    const before = { writes, out: s.counters.updatesOut, messages: raw.messages().length };
    // 1,000 small UPDATEs (a reflector's batch: one /26 per attribute set), each one distinct.
    const total = 1000;
    let bytes = 0;
    for (let k = 0; k < total; k++) {
      const m = msg(2, '0000' + '0000' + '1a0a' + (k >> 8).toString(16).padStart(2, '0') + (k & 255).toString(16).padStart(2, '0') + '00');
      bytes += m.length;
      expect(s.send(m)).toBe(true);
    }
    expect(writes).toBe(before.writes); // nothing written until the task that queued them ends
    await settle(50);
    const got = raw.messages().slice(before.messages).filter((m) => m.type === 2);
    expect(got.length).toBe(total);
    got.forEach((m, k) => expect(m.body.readUInt16BE(6)).toBe(k)); // the order they were queued in
    expect(s.counters.updatesOut - before.out).toBe(total);
    expect(writes - before.writes).toBeLessThanOrEqual(Math.ceil(bytes / (32 * 1024)) + 1);
  });

  // An export group hands each member slices of its batch (src/rib/export.ts emit): one buffer
  // holding several whole UPDATEs, with their number, so the counters still count UPDATEs.
  it('a buffer of several UPDATEs is written as it is and counted as that many', async () => {
    const clock = new FakeClock();
    const [sa, sb] = duplexPair();
    const { s } = mk({ localAs: 65001, peerAs: 65002, localBgpId: A_ID }, clock);
    const raw = new RawPeer(sb);
    s.accept(sa);
    raw.send(openMsg({ as: 65002, hold: 90, id: B_ID }));
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    const before = { out: s.counters.updatesOut, messages: raw.messages().length };
    const one = (k: number) => msg(2, '0000' + '0000' + '1a0a' + (k >> 8).toString(16).padStart(2, '0') + (k & 255).toString(16).padStart(2, '0') + '00');
    expect(s.send(Buffer.concat([one(0), one(1), one(2)]), 3)).toBe(true);
    expect(s.send(one(3))).toBe(true);
    expect(s.send(Buffer.concat([one(4), one(5)]), 2)).toBe(true);
    await settle(50);
    const got = raw.messages().slice(before.messages).filter((m) => m.type === 2);
    expect(got.map((m) => m.body.readUInt16BE(6))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.counters.updatesOut - before.out).toBe(6);
  });
});

describe('Session: dialling and automatic restart', () => {
  it('retries a refused connection every ConnectRetry seconds and restarts after a failure', async () => {
    const clock = new FakeClock();
    let dials = 0;
    let refuse = true;
    let raw: RawPeer | null = null;
    const rec = recorder();
    const s = new Session({ localAs: 65001, peerAs: 65002, localBgpId: A_ID, remoteAddress: '192.0.2.1', connectRetryTime: 5 }, rec, {
      clock, random: () => 1,
      dialer: (done) => {
        dials++;
        queueMicrotask(() => {
          if (refuse) { done(new Error('connect ECONNREFUSED')); return; }
          const [sa, sb] = duplexPair();
          raw = new RawPeer(sb);
          done(null, sa);
        });
        return { cancel: () => {} };
      },
    });
    sessions.push(s);
    s.start();
    await settle();
    expect(dials).toBe(1);
    expect(s.state).toBe('Active');
    expect(s.lastError).toBe('connect failed: connect ECONNREFUSED');
    clock.advance(4999);
    await settle();
    expect(dials).toBe(1);
    refuse = false;
    clock.advance(1);
    await settle();
    expect(dials).toBe(2);
    expect(s.state).toBe('OpenSent');
    expect(s.initiatedLocally).toBe(true);
    raw!.send(openMsg({ as: 65002, hold: 3, id: B_ID }));
    raw!.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    expect(s.state).toBe('Established');
    clock.advance(3000); // hold expires
    await settle();
    expect(s.state).toBe('Idle');
    expect(rec.downs).toEqual(['hold timer expired']);
    clock.advance(5000); // idle hold (= ConnectRetry) then AutomaticStart
    await settle();
    expect(dials).toBe(3);
    expect(s.state).toBe('OpenSent');
  });

  it('a passive session never dials', async () => {
    const clock = new FakeClock();
    let dials = 0;
    const s = new Session({ localAs: 65001, peerAs: 65002, localBgpId: A_ID, remoteAddress: '192.0.2.1', passive: true }, {}, {
      clock, dialer: () => { dials++; return { cancel: () => {} }; },
    });
    sessions.push(s);
    s.start();
    clock.advance(600_000);
    await settle();
    expect(s.state).toBe('Active');
    expect(dials).toBe(0);
  });

  it('refuses incoming connections after stop()', async () => {
    const clock = new FakeClock();
    const s = new Session({ localAs: 65001, peerAs: 65002, localBgpId: A_ID, remoteAddress: '192.0.2.1', passive: true }, {}, { clock });
    sessions.push(s);
    s.start();
    s.stop('bye');
    const [sa] = duplexPair();
    expect(s.accept(sa)).toBe(false);
    expect(s.state).toBe('Idle');
  });
});

describe('Session: consumer failures', () => {
  it('a throwing onUpdate resets only this session (Cease/Out of Resources) and records why', async () => {
    const clock = new FakeClock();
    const [sa, sb] = duplexPair();
    const rec = recorder();
    rec.onUpdate = () => { throw new Error('rib exploded'); };
    const { s } = mk({ localAs: 65001, peerAs: 65002, localBgpId: A_ID }, clock, rec);
    const raw = new RawPeer(sb);
    s.accept(sa);
    raw.send(openMsg({ as: 65002, hold: 90, id: B_ID }));
    raw.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
    await settle();
    raw.send(msg(2, '0000' + '0000' + '180a0101')); // withdraw-free, no attrs, NLRI 10.1.1.0/24 → treat-as-withdraw
    await settle();
    expect(s.state).toBe('Idle');
    expect(s.lastError).toBe('internal error: rib exploded');
    expect(raw.notifications().map((n) => [n.code, n.subcode])).toEqual([[6, 8]]);
  });
});
