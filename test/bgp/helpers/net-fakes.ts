// Test doubles for the session layer: a manual clock, an in-memory duplex pair with real
// backpressure, and a hand-written BGP byte builder/parser independent of the production codec.
import { Duplex } from 'node:stream';
import type { Clock } from '../../../src/bgp/timers.js';

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void { this.timers.delete(h as number); }
  now(): number { return this.t; }
  /** Advance time, firing due timers in order (timers armed by callbacks fire too if due). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

/** Let streams deliver (nextTick/setImmediate based) without touching the fake clock. */
export const settle = async (rounds = 10): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
};

/**
 * Two connected Duplex ends. A write completes only when the other side's reader has room,
 * like a socket, so write() returns false and 'drain' follows when the reader is slow.
 */
export function duplexPair(highWaterMark = 16384): [Duplex, Duplex] {
  const pending: [(() => void) | null, (() => void) | null] = [null, null];
  const ends: Duplex[] = [];
  const eof = [false, false];
  const endOther = (other: 0 | 1) => { if (!eof[other]) { eof[other] = true; ends[other]!.push(null); } };
  const make = (me: 0 | 1): Duplex => {
    const other = (1 - me) as 0 | 1;
    return new Duplex({
      readableHighWaterMark: highWaterMark,
      writableHighWaterMark: highWaterMark,
      write(chunk: Buffer, _enc, cb) {
        if (eof[other]) { cb(); return; }
        if (ends[other]!.push(chunk)) cb();
        else pending[me] = cb;
      },
      read() {
        const cb = pending[other];
        pending[other] = null;
        cb?.();
      },
      final(cb) { endOther(other); cb(); },
      destroy(err, cb) { endOther(other); cb(err); },
    });
  };
  ends.push(make(0), make(1));
  return [ends[0]!, ends[1]!];
}

// ----- independent byte builder ----------------------------------------------------------

const MARKER = 'ff'.repeat(16);
const hex2 = (n: number) => n.toString(16).padStart(4, '0');
const hex4 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** A full message: marker, 2-octet length, type, body (hex). */
export function msg(type: number, bodyHex: string): Buffer {
  const len = 19 + bodyHex.length / 2;
  return Buffer.from(MARKER + hex2(len) + type.toString(16).padStart(2, '0') + bodyHex, 'hex');
}

export const KEEPALIVE_HEX = MARKER + '0013' + '04';

/** OPEN: version, My AS, hold, BGP id, one capabilities parameter. Written field by field. */
export function openMsg(o: { version?: number; as: number; hold: number; id: number; caps?: string[]; as4?: number | null; afis?: number[] }): Buffer {
  const caps = [...(o.caps ?? [])];
  const as4 = o.as4 === undefined ? o.as : o.as4;
  if (as4 !== null) caps.push('41' + '04' + hex4(as4));     // code 65 (4-octet AS), len 4, AS
  for (const afi of o.afis ?? [1]) caps.push('01' + '04' + hex2(afi) + '00' + '01'); // code 1 (MP), len 4, AFI, res, SAFI 1 (unicast)
  const capHex = caps.join('');
  const param = capHex.length ? '02' + (capHex.length / 2).toString(16).padStart(2, '0') + capHex : '';
  const body =
    (o.version ?? 4).toString(16).padStart(2, '0') +          // version
    hex2(o.as > 0xffff ? 23456 : o.as) +                     // My AS
    hex2(o.hold) +                                           // hold time
    hex4(o.id) +                                             // BGP identifier
    (param.length / 2).toString(16).padStart(2, '0') +       // opt params length
    param;
  return msg(1, body);
}

export interface RawMsg { type: number; body: Buffer; offset: number }

/** Split received bytes into messages by the header length field (no semantic decoding). */
export function parseStream(buf: Buffer): RawMsg[] {
  const out: RawMsg[] = [];
  let p = 0;
  while (p + 19 <= buf.length) {
    const len = buf.readUInt16BE(p + 16);
    if (p + len > buf.length) break;
    out.push({ type: buf[p + 18]!, body: buf.subarray(p + 19, p + len), offset: p });
    p += len;
  }
  return out;
}

/** A raw BGP peer on one end of a duplex: records everything it receives. */
export class RawPeer {
  received = Buffer.alloc(0);
  constructor(readonly sock: Duplex, autoRead = true) {
    if (autoRead) this.resume();
  }
  resume(): void { this.sock.on('data', (c: Buffer) => { this.received = Buffer.concat([this.received, c]); }); }
  send(b: Buffer): void { this.sock.write(b); }
  messages(): RawMsg[] { return parseStream(this.received); }
  ofType(t: number): RawMsg[] { return this.messages().filter((m) => m.type === t); }
  notifications(): { code: number; subcode: number; data: Buffer }[] {
    return this.ofType(3).map((m) => ({ code: m.body[0]!, subcode: m.body[1]!, data: Buffer.from(m.body.subarray(2)) }));
  }
}

export const ip = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
