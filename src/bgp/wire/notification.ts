// NOTIFICATION (RFC 4271 §4.5) with the RFC 8203/9003 shutdown communication and the RFC 8538 Hard
// Reset wrapping, KEEPALIVE (§4.4, one prebuilt buffer) and ROUTE-REFRESH (RFC 2918 §3, RFC 7313 subtypes).
import { CeaseSub, ErrCode, sessionReset } from './errors.js';
import { MsgType, type NotificationMessage, type RouteRefreshMessage } from './types.js';
import { BufWriter } from './writer.js';

/** The one KEEPALIVE every session sends: marker, length 19, type 4. Never mutate. */
export const KEEPALIVE: Buffer = (() => { const b = Buffer.alloc(19, 0xff); b.writeUInt16BE(19, 16); b[18] = MsgType.KEEPALIVE; return b; })();

export function encodeNotification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const w = new BufWriter(21 + data.length);
  const at = w.startMessage(MsgType.NOTIFICATION);
  w.u8(code); w.u8(subcode); w.bytes(data);
  return w.finishMessage(at);
}

/** RFC 9003 §2: up to 255 octets of UTF-8, cut on a character boundary. */
export function shutdownData(text: string): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 255) {
    let end = 255;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // do not split a multi-byte character
    bytes = bytes.subarray(0, end);
  }
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

/** Cease / Administrative Shutdown (2) or Reset (4) with a shutdown communication (RFC 9003). */
export function encodeShutdownNotification(subcode: number, text: string): Buffer {
  return encodeNotification(ErrCode.Cease, subcode, shutdownData(text));
}

/**
 * RFC 8538 §3: Cease/Hard Reset (6/9) whose data is the NOTIFICATION it stands for: that
 * message's error code, subcode and data, in that order.
 */
export function encodeHardReset(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return encodeNotification(ErrCode.Cease, CeaseSub.HardReset, Buffer.concat([Buffer.of(code, subcode), data]));
}

/** RFC 9003 §2: a length octet then UTF-8; a length past the data means no (valid) communication. */
function shutdownText(code: number, subcode: number, data: Buffer): string | undefined {
  if (code !== ErrCode.Cease || (subcode !== CeaseSub.AdministrativeShutdown && subcode !== CeaseSub.AdministrativeReset) || data.length < 1) return undefined;
  const len = data[0]!;
  return len > 0 && 1 + len <= data.length ? data.toString('utf8', 1, 1 + len) : undefined;
}

export function decodeNotification(body: Buffer): NotificationMessage {
  if (body.length < 2) throw sessionReset(ErrCode.MessageHeader, 2, 'NOTIFICATION too short', Buffer.of(0, body.length + 19));
  const m: NotificationMessage = { type: MsgType.NOTIFICATION, code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) };
  let said = shutdownText(m.code, m.subcode, m.data);
  // RFC 8538 §3: a Hard Reset with fewer than two data octets carries no inner NOTIFICATION; it
  // is still a Hard Reset.
  if (m.code === ErrCode.Cease && m.subcode === CeaseSub.HardReset && m.data.length >= 2) {
    const inner = { code: m.data[0]!, subcode: m.data[1]!, data: m.data.subarray(2) };
    m.hardReset = inner;
    said = shutdownText(inner.code, inner.subcode, inner.data);
  }
  if (said !== undefined) m.shutdownMessage = said;
  return m;
}

export function encodeRouteRefresh(afi: number, safi: number, subtype = 0): Buffer {
  const w = new BufWriter(23);
  const at = w.startMessage(MsgType.ROUTE_REFRESH);
  w.u16(afi); w.u8(subtype); w.u8(safi);
  return w.finishMessage(at);
}

export function decodeRouteRefresh(body: Buffer): RouteRefreshMessage {
  // RFC 7313 §5: a wrong length is ROUTE-REFRESH Message Error / Invalid Message Length (subcode 1).
  if (body.length !== 4) throw sessionReset(ErrCode.RouteRefresh, 1, `ROUTE-REFRESH body of ${body.length} bytes`, Buffer.from(body));
  return { type: MsgType.ROUTE_REFRESH, afi: body.readUInt16BE(0), subtype: body[2]!, safi: body[3]! };
}
