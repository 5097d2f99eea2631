// The exporter over real Session objects (issue 16): what coalescing and table transfers must not
// break. A slow peer does not stall the others (backpressure is per session), and KEEPALIVEs keep
// flowing while a peer with a 3 s hold time is sent a million routes. Not timed: the assertions are
// about order, completeness and the hold time, never about speed.
import { afterEach, describe, expect, it } from 'vitest';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import { Session } from '../../src/bgp/session.js';
import { realClock } from '../../src/clock.js';
import { Interner } from '../../src/rib/intern.js';
import { Exporter } from '../../src/rib/export.js';
import { LOCAL_PEER, Rib } from '../../src/rib/rib.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/types.js';
import { FakeClock, KEEPALIVE_HEX, duplexPair, ip, openMsg, settle } from '../bgp/helpers/net-fakes.js';
import type { Clock } from '../../src/clock.js';

const sessions: Session[] = [];
afterEach(() => { for (const s of sessions.splice(0)) s.dispose('test over', null); });

/** A reflector-side table: `count` local /24s from 20.0.0.0 up, one attribute set. */
function table(count: number) {
  const interner = new Interner();
  const rib = new Rib(interner);
  const exporter = new Exporter(rib, interner, { routerId: ip('198.18.0.1'), log: pino({ level: 'silent' }) });
  const attrs = () => interner.internAttrs({ origin: 0, asPath: [], nextHop: '0.0.0.0', atomicAggregate: false, unknown: [] });
  const bytes = new Uint8Array(4);
  const add = (k: number) => {
    const n = (20 << 24) + k * 256;
    bytes[0] = n >>> 24; bytes[1] = (n >>> 16) & 255; bytes[2] = (n >>> 8) & 255; bytes[3] = 0;
    rib.announce(LOCAL_PEER, IPV4_UNICAST, bytes, 24, 0, attrs().id);
  };
  for (let k = 0; k < count; k++) add(k);
  return { rib, exporter, add };
}

/**
 * A peer written independently of Kite's codec: it frames what it reads by the header length,
 * counts the /24 NLRI of each UPDATE (4 octets each) and End-of-RIB, and answers KEEPALIVEs.
 */
class CountingPeer {
  prefixes = new Set<number>();
  eor = 0;
  keepalives: number[] = [];
  lastUpdateAt = 0;
  /** NLRI that were not the /24s sent (asserted once at the end: expect() per prefix is slow). */
  malformed = 0;
  private buf: Buffer = Buffer.alloc(0);
  constructor(readonly sock: Duplex, private readonly now: () => number) {
    sock.on('data', (c: Buffer) => this.onData(c));
  }
  send(b: Buffer): void { this.sock.write(b); }
  private onData(c: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    let p = 0;
    while (p + 19 <= this.buf.length) {
      const len = this.buf.readUInt16BE(p + 16);
      if (p + len > this.buf.length) break;
      const type = this.buf[p + 18]!;
      if (type === 4) this.keepalives.push(this.now());
      if (type === 2) {
        this.lastUpdateAt = this.now();
        const body = this.buf.subarray(p + 19, p + len);
        const wl = body.readUInt16BE(0);
        const al = body.readUInt16BE(2 + wl);
        const nlri = body.subarray(4 + wl + al);
        if (wl === 0 && al === 0) this.eor++;
        for (let q = 0; q < nlri.length; q += 4) {
          if (nlri[q] !== 24) this.malformed++;
          this.prefixes.add(nlri.readUIntBE(q + 1, 3));
        }
      }
      p += len;
    }
    this.buf = this.buf.subarray(p);
  }
}

/** A session of the exporter's side (AS 65001, hold `hold`) to a CountingPeer (AS 65002), joined to `exporter` once up. */
async function connect(exporter: Exporter, id: string, clock: Clock, hold: number, now: () => number, before?: (sb: Duplex, peer: CountingPeer) => void) {
  const [sa, sb] = duplexPair();
  const peer = new CountingPeer(sb, now);
  before?.(sb, peer);
  const states: string[] = [];
  const s: Session = new Session({ remoteAddress: id, localAs: 65001, peerAs: 65002, localBgpId: ip('198.18.0.1'), holdTime: hold }, {
    onStateChange: (_f, t) => { states.push(t); },
    onEstablished: (info) => exporter.join({
      id, sink: { send: (b) => s.send(b), setProducer: (p) => s.setProducer(p) }, ibgp: false, rrClient: false, localAs: 65001,
      nextHopMode: 'Auto', nextHop4: '198.18.0.1', ctx: info.negotiated, families: info.negotiated.families, routerId: info.remoteOpen.bgpId,
    }),
    onDown: () => exporter.leave(id),
  }, { clock, autoRestart: false });
  sessions.push(s);
  s.accept(sa);
  peer.send(openMsg({ as: 65002, hold, id: ip(id) }));
  peer.send(Buffer.from(KEEPALIVE_HEX, 'hex'));
  await settle();
  expect(s.state).toBe('Established');
  return { s, peer, sb, states };
}

describe('exporter over sessions: backpressure and keepalives (issue 16)', () => {
  it('a slow peer does not stall the others; it gets the whole table and every later change once it reads', async () => {
    const clock = new FakeClock();
    const t = table(50_000);
    const fast = await connect(t.exporter, '198.18.0.2', clock, 90, () => 0);
    // The slow peer does not read: its session's writes back up from the start.
    const slow = await connect(t.exporter, '198.18.0.3', clock, 90, () => 0, (sb) => sb.pause());
    t.exporter.refresh('198.18.0.3'); // a second table transfer queued behind the first
    for (let i = 0; i < 200 && (fast.peer.prefixes.size < 50_000 || fast.peer.eor < 1); i++) await settle(2);
    expect(fast.peer.prefixes.size).toBe(50_000);
    expect(fast.peer.eor).toBe(1);
    // Later changes reach the fast peer while the slow one is still blocked.
    for (let k = 50_000; k < 50_010; k++) t.add(k);
    t.exporter.flush();
    await settle(20);
    expect(fast.peer.prefixes.size).toBe(50_010);
    expect(slow.peer.prefixes.size).toBeLessThan(50_000);
    slow.sb.resume();
    for (let i = 0; i < 200 && slow.peer.prefixes.size < 50_010; i++) await settle(2);
    expect(slow.peer.prefixes.size).toBe(50_010);
    expect(slow.peer.eor).toBeGreaterThanOrEqual(1);
    expect(slow.s.state).toBe('Established');
  });

  it('a peer with a 3 s hold time reading slowly survives a 1,000,000-route table transfer: KEEPALIVEs keep flowing', async () => {
    const t = table(1_000_000);
    const now = () => performance.now();
    // The peer answers with its own KEEPALIVEs every second and reads in bursts: 512 KiB, then
    // a 400 ms pause, so the transfer spans several hold times.
    let read = 0;
    let ka: ReturnType<typeof setInterval> | undefined;
    const start = now();
    const c = await connect(t.exporter, '198.18.0.2', realClock, 3, now, (sb, peer) => {
      ka = setInterval(() => peer.send(Buffer.from(KEEPALIVE_HEX, 'hex')), 1000);
      sb.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read < 512 * 1024) return;
        read = 0;
        sb.pause();
        setTimeout(() => sb.resume(), 400);
      });
    });
    try {
      while (c.peer.eor < 1 && c.s.state === 'Established' && now() - start < 120_000) await new Promise((r) => setTimeout(r, 50));
    } finally {
      clearInterval(ka);
    }
    expect(c.s.lastError).toBe('');
    expect(c.states).not.toContain('Idle');
    expect(c.s.state).toBe('Established');
    expect(c.peer.prefixes.size).toBe(1_000_000);
    expect(c.peer.eor).toBe(1);
    expect(c.peer.malformed).toBe(0);
    const elapsed = now() - start;
    expect(elapsed).toBeGreaterThan(3000); // the transfer did outlast the hold time
    // RFC 4271 §4.4: the peer's hold timer (3 s) never ran out: KEEPALIVEs arrived throughout.
    const times = [start, ...c.peer.keepalives.filter((x) => x >= start)];
    const gaps = times.slice(1).map((x, k) => x - times[k]!);
    expect(Math.max(...gaps, c.peer.lastUpdateAt - times.at(-1)!)).toBeLessThan(3000);
  }, 180_000);
});
