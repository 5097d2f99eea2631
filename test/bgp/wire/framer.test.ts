// Framer: every split of a multi-message stream yields the same messages; complete frames are not
// copied; each header error throws the RFC 4271 §6.1 code, subcode and data.
import { describe, expect, it } from 'vitest';
import { Framer } from '../../../src/bgp/wire/framer.js';
import { WireError } from '../../../src/bgp/wire/errors.js';
import { ErrorAction } from '../../../src/bgp/wire/types.js';
import { MARKER, attr, hex, ip4, msg, u16, u32, u8, updateBody } from '../../fixtures/bytes.js';

const keepalive = msg(4);
const open = msg(1,
  u8(4),            // version
  u16(65001),       // my AS
  u16(90),          // hold time
  ip4('192.0.2.1'), // BGP identifier
  u8(0),            // no optional parameters
);
const update = msg(2, updateBody('',
  attr(0x40, 1, '00') + attr(0x40, 2, '02' + '01' + u16(65001)) + attr(0x40, 3, ip4('192.0.2.1')),
  '18' + '0a0001' + '18' + '0a0002'));
const notification = msg(3, '06', '02', '05', Buffer.from('bye!!').toString('hex'));
const refresh = msg(5, u16(1), '00', '01');
const stream = Buffer.concat([open, keepalive, update, notification, refresh, keepalive]);

function collect(chunks: Buffer[], framer = new Framer()): { type: number; body: string }[] {
  const out: { type: number; body: string }[] = [];
  for (const c of chunks) framer.push(c, (type, body) => out.push({ type, body: body.toString('hex') }));
  return out;
}
const expected = collect([stream]);

function catchWire(f: () => void): WireError {
  try { f(); } catch (e) { if (e instanceof WireError) return e; throw e; }
  throw new Error('no error thrown');
}

describe('Framer', () => {
  it('frames a whole stream', () => {
    expect(expected.map((m) => m.type)).toEqual([1, 4, 2, 3, 5, 4]);
    expect(expected[0]!.body).toBe(open.subarray(19).toString('hex'));
  });

  it('gives the same messages when split at every byte offset (one and two cuts)', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(collect([stream.subarray(0, i), stream.subarray(i)])).toEqual(expected);
    }
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 5) {
        expect(collect([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])).toEqual(expected);
      }
    }
  });

  it('gives the same messages byte by byte', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    expect(collect(chunks)).toEqual(expected);
  });

  it('hands out complete frames without copying', () => {
    const f = new Framer();
    const bufs: ArrayBufferLike[] = [];
    f.push(stream, (_t, body) => bufs.push(body.buffer));
    expect(bufs.every((b) => b === stream.buffer)).toBe(true);
  });

  it('rejects a bad marker: Connection Not Synchronized', () => {
    const bad = Buffer.from(keepalive); bad[3] = 0xfe;
    const e = catchWire(() => new Framer().push(bad, () => {}));
    expect([e.code, e.subcode, e.action]).toEqual([1, 1, ErrorAction.SessionReset]);
  });

  it.each([
    ['length below 19', hex(MARKER, u16(18), '04'), 18],
    ['length above max', hex(MARKER, u16(4097), '02'), 4097],
    ['KEEPALIVE not 19', hex(MARKER, u16(20), '04', '00'), 20],
    ['OPEN below 29', hex(MARKER, u16(28), '01', '00'.repeat(9)), 28],
    ['UPDATE below 23', hex(MARKER, u16(22), '02', '000000'), 22],
    ['NOTIFICATION below 21', hex(MARKER, u16(20), '03', '06'), 20],
    ['ROUTE-REFRESH not 23', hex(MARKER, u16(24), '05', u32(0x00010001), '00'), 24],
  ])('rejects %s: Bad Message Length with the length as data', (_n, bytes, len) => {
    const e = catchWire(() => new Framer().push(bytes, () => {}));
    expect([e.code, e.subcode]).toEqual([1, 2]);
    expect(e.data.toString('hex')).toBe(u16(len));
  });

  it('rejects an unknown type: Bad Message Type with the type as data', () => {
    const e = catchWire(() => new Framer().push(hex(MARKER, u16(19), '07'), () => {}));
    expect([e.code, e.subcode, e.data.toString('hex')]).toEqual([1, 3, '07']);
  });

  it('checks a partial header as soon as it is complete', () => {
    const f = new Framer();
    f.push(hex(MARKER, u16(19)), () => {});
    const e = catchWire(() => f.push(hex('09'), () => {}));
    expect(e.subcode).toBe(3);
  });

  it('accepts 65535-byte messages after setMaxLength (RFC 8654)', () => {
    const big = msg(2, updateBody('', '', '00'.repeat(5000)));
    expect(() => new Framer().push(big, () => {})).toThrow(WireError);
    // Raised from inside the callback (as the session does on OPEN): the rest of the chunk uses it.
    const f = new Framer();
    const seen: number[] = [];
    f.push(Buffer.concat([keepalive, big.subarray(0, 100)]), (type) => { seen.push(type); f.setMaxLength(65535); });
    const got = collect([big.subarray(100, 3000), big.subarray(3000)], f);
    expect(seen).toEqual([4]);
    expect(got).toHaveLength(1);
    expect(got[0]!.body.length / 2).toBe(big.length - 19);
  });
});
