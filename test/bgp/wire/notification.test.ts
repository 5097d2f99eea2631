// NOTIFICATION, shutdown communication (RFC 8203/9003), Hard Reset (RFC 8538 §3), KEEPALIVE and
// ROUTE-REFRESH: parse / encode / mirror.
import { describe, expect, it } from 'vitest';
import {
  KEEPALIVE, decodeNotification, decodeRouteRefresh, encodeHardReset, encodeNotification, encodeRouteRefresh, encodeShutdownNotification,
  shutdownData,
} from '../../../src/bgp/wire/notification.js';
import { describeNotification } from '../../../src/bgp/fsm/notification-text.js';
import { decodeMessage } from '../../../src/bgp/wire/message.js';
import { Interner } from '../../../src/rib/intern.js';
import { WireError } from '../../../src/bgp/wire/errors.js';
import { MARKER, hex, msg, u16, u8 } from '../../fixtures/bytes.js';

const ctx = { fourOctetAs: true, addPathRx: new Set<number>(), addPathTx: new Set<number>(), extendedMessage: false, ibgp: false };

describe('KEEPALIVE', () => {
  it('is the 19-byte header', () => { expect(KEEPALIVE.toString('hex')).toBe(hex(MARKER, u16(19), '04').toString('hex')); });
  it('decodes', () => { expect(decodeMessage(4, Buffer.alloc(0), ctx, new Interner())).toEqual({ type: 4 }); });
  it('decodeMessage rejects an unknown type with Bad Message Type', () => {
    expect(() => decodeMessage(9, Buffer.alloc(0), ctx, new Interner())).toThrow(expect.objectContaining({ code: 1, subcode: 3 }));
  });
});

describe('NOTIFICATION', () => {
  const bytes = msg(3, u8(3), u8(11), 'aabb'); // UPDATE error / Malformed AS_PATH, data aabb
  it('parses', () => { expect(decodeNotification(bytes.subarray(19))).toEqual({ type: 3, code: 3, subcode: 11, data: hex('aabb') }); });
  it('encodes', () => { expect(encodeNotification(3, 11, hex('aabb'))).toEqual(bytes); });
  it('mirrors without data', () => {
    expect(decodeNotification(encodeNotification(6, 7).subarray(19))).toEqual({ type: 3, code: 6, subcode: 7, data: Buffer.alloc(0) });
  });
  it('carries a shutdown communication (Cease/2) as length + UTF-8', () => {
    const text = 'maintenance ✓';
    const utf8 = Buffer.from(text, 'utf8');
    const b = msg(3, u8(6), u8(2), u8(utf8.length), utf8.toString('hex'));
    expect(encodeShutdownNotification(2, text)).toEqual(b);
    expect(decodeNotification(b.subarray(19)).shutdownMessage).toBe(text);
  });
  it('cuts a long shutdown communication at 255 bytes on a character boundary', () => {
    const m = decodeNotification(encodeShutdownNotification(4, 'é'.repeat(200)).subarray(19));
    expect(m.data[0]).toBe(254);
    expect(m.shutdownMessage).toBe('é'.repeat(127));
  });
  it('ignores a shutdown length past the data', () => {
    expect(decodeNotification(hex('0602', '09', '41')).shutdownMessage).toBeUndefined();
  });
});

describe('Cease/Hard Reset (RFC 8538 §3)', () => {
  // Cease (6) / Hard Reset (9), data: the inner NOTIFICATION's code 6, subcode 2, then its data
  // (RFC 9003: length 3, "bye").
  const bytes = msg(3, u8(6), u8(9), u8(6), u8(2), u8(3), Buffer.from('bye').toString('hex'));
  it('encodes the inner code, subcode and data as the data', () => {
    expect(encodeHardReset(6, 2, shutdownData('bye'))).toEqual(bytes);
  });
  it('parses the inner NOTIFICATION and its shutdown communication', () => {
    const m = decodeNotification(bytes.subarray(19));
    expect(m).toMatchObject({ code: 6, subcode: 9, shutdownMessage: 'bye' });
    expect(m.hardReset).toEqual({ code: 6, subcode: 2, data: hex('03', Buffer.from('bye').toString('hex')) });
  });
  it('a Hard Reset without an inner NOTIFICATION is still one (no inner decoded)', () => {
    const m = decodeNotification(hex('0609'));
    expect([m.code, m.subcode, m.hardReset]).toEqual([6, 9, undefined]);
  });
  it('reads as the NOTIFICATION it stands for', () => {
    const m = decodeNotification(bytes.subarray(19));
    expect(describeNotification('received', m.code, m.subcode, m.data, m.shutdownMessage))
      .toBe('received NOTIFICATION Cease/Hard Reset (Cease/Administrative Shutdown: "bye")');
    expect(describeNotification('sent', 6, 9, hex('0301'), undefined)).toBe('sent NOTIFICATION Cease/Hard Reset (UPDATE Message Error/Malformed Attribute List)');
  });
});

describe('ROUTE-REFRESH', () => {
  const bytes = msg(5, u16(2), u8(1), u8(1)); // AFI 2, subtype 1 (BoRR), SAFI 1
  it('parses', () => { expect(decodeRouteRefresh(bytes.subarray(19))).toEqual({ type: 5, afi: 2, safi: 1, subtype: 1 }); });
  it('encodes', () => { expect(encodeRouteRefresh(2, 1, 1)).toEqual(bytes); });
  it('mirrors', () => { expect(decodeRouteRefresh(encodeRouteRefresh(1, 1).subarray(19))).toEqual({ type: 5, afi: 1, safi: 1, subtype: 0 }); });
  it('rejects a wrong length with ROUTE-REFRESH Message Error / Invalid Message Length', () => {
    try { decodeRouteRefresh(hex('000101')); expect.unreachable(); } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      expect([(e as WireError).code, (e as WireError).subcode]).toEqual([7, 1]);
    }
  });
});
