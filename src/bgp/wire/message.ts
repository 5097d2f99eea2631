// decodeMessage: one entry point from (type, body) as the Framer hands them out to a typed BgpMessage.
// OPEN/NOTIFICATION/ROUTE-REFRESH syntax errors throw WireError; UPDATE errors are returned in the message.
import { ErrCode, HeaderSub, sessionReset } from './errors.js';
import type { AttrInterner } from './interning.js';
import { decodeNotification, decodeRouteRefresh } from './notification.js';
import { decodeOpen } from './open.js';
import { MsgType, type BgpMessage, type CodecContext } from './types.js';
import { decodeUpdate } from './update.js';

export function decodeMessage(type: number, body: Buffer, ctx: CodecContext, interner: AttrInterner): BgpMessage {
  switch (type) {
    case MsgType.OPEN: return decodeOpen(body);
    case MsgType.UPDATE: return decodeUpdate(body, ctx, interner);
    case MsgType.NOTIFICATION: return decodeNotification(body);
    case MsgType.KEEPALIVE:
      if (body.length !== 0) throw sessionReset(ErrCode.MessageHeader, HeaderSub.BadMessageLength, 'KEEPALIVE with a body', Buffer.of(0, 19 + body.length));
      return { type: MsgType.KEEPALIVE };
    case MsgType.ROUTE_REFRESH: return decodeRouteRefresh(body);
    default: throw sessionReset(ErrCode.MessageHeader, HeaderSub.BadMessageType, `bad message type ${type}`, Buffer.of(type & 255));
  }
}
