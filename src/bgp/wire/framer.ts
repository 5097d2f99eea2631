// Splits a TCP byte stream into BGP messages (RFC 4271 §4.1) and checks each header (§6.1).
// Complete frames inside a chunk are handed out in place (no copy); only a partial tail is copied.
import { ErrCode, HeaderSub, sessionReset } from './errors.js';
import { MsgType } from './types.js';
import { HEADER_LEN } from './writer.js';

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };

/** Per-type length bounds (RFC 4271 §4.2-4.5, RFC 2918 §3): [min, max or 0 = the negotiated max]. */
const BOUNDS: Record<number, readonly [number, number]> = {
  [MsgType.OPEN]: [29, 0],
  [MsgType.UPDATE]: [23, 0],
  [MsgType.NOTIFICATION]: [21, 0],
  [MsgType.KEEPALIVE]: [19, 19],
  [MsgType.ROUTE_REFRESH]: [23, 23],
};

/**
 * Check the header at buf[off..off+19) and return the message length. Throws WireError
 * (SessionReset) with the data RFC 4271 §6.1 asks for: the length field, or the type byte.
 */
export function checkHeader(buf: Uint8Array, off: number, maxLength: number): number {
  for (let i = 0; i < 16; i++) {
    if (buf[off + i] !== 0xff) throw sessionReset(ErrCode.MessageHeader, HeaderSub.ConnectionNotSynchronized, 'marker is not all ones');
  }
  const len = (buf[off + 16]! << 8) | buf[off + 17]!;
  const type = buf[off + 18]!;
  if (len < HEADER_LEN || len > maxLength) {
    throw sessionReset(ErrCode.MessageHeader, HeaderSub.BadMessageLength, `bad message length ${len}`, u16(len));
  }
  const b = BOUNDS[type];
  if (!b) throw sessionReset(ErrCode.MessageHeader, HeaderSub.BadMessageType, `bad message type ${type}`, Buffer.of(type));
  if (len < b[0] || (b[1] !== 0 && len > b[1])) {
    throw sessionReset(ErrCode.MessageHeader, HeaderSub.BadMessageLength, `bad length ${len} for message type ${type}`, u16(len));
  }
  return len;
}

/**
 * One per connection. After push() throws, the stream is out of sync: close the session
 * (send the NOTIFICATION from the error) and drop the framer.
 */
export class Framer {
  private tail: Buffer | null = null; // partial message, capacity = maxLength
  private tailLen = 0;
  private tailMsgLen = 0; // 0 until the tail holds a checked header

  constructor(private maxLength = 4096) {}

  /** RFC 8654: raise to 65535 once extended messages are negotiated. */
  setMaxLength(n: number): void {
    if (n < HEADER_LEN || n > 65535) throw new RangeError(`bad max message length ${n}`);
    this.maxLength = n;
    if (this.tail && this.tail.length < n) {
      const t = Buffer.allocUnsafe(n);
      this.tail.copy(t, 0, 0, this.tailLen);
      this.tail = t;
    }
  }

  /** Feed a chunk; onMessage gets each complete message. `body` is only valid during the callback. */
  push(chunk: Buffer, onMessage: (type: number, body: Buffer) => void): void {
    let off = 0;
    if (this.tailLen > 0) {
      off = this.fillTail(chunk, onMessage);
      if (off < 0) return;
    }
    const n = chunk.length;
    while (n - off >= HEADER_LEN) {
      const len = checkHeader(chunk, off, this.maxLength);
      if (off + len > n) break;
      onMessage(chunk[off + 18]!, chunk.subarray(off + HEADER_LEN, off + len));
      off += len;
    }
    if (off < n) {
      if (!this.tail || this.tail.length < this.maxLength) this.tail = Buffer.allocUnsafe(this.maxLength);
      chunk.copy(this.tail, 0, off, n);
      this.tailLen = n - off;
      this.tailMsgLen = this.tailLen >= HEADER_LEN ? checkHeader(this.tail, 0, this.maxLength) : 0;
    }
  }

  /** Complete the buffered partial message from chunk. Returns bytes consumed, or -1 if chunk ran out. */
  private fillTail(chunk: Buffer, onMessage: (type: number, body: Buffer) => void): number {
    const tail = this.tail!;
    let off = 0;
    if (this.tailMsgLen === 0) {
      const take = Math.min(HEADER_LEN - this.tailLen, chunk.length);
      chunk.copy(tail, this.tailLen, 0, take);
      this.tailLen += take;
      off = take;
      if (this.tailLen < HEADER_LEN) return -1;
      this.tailMsgLen = checkHeader(tail, 0, this.maxLength);
    }
    const take = Math.min(this.tailMsgLen - this.tailLen, chunk.length - off);
    chunk.copy(tail, this.tailLen, off, off + take);
    this.tailLen += take;
    off += take;
    if (this.tailLen < this.tailMsgLen) return -1;
    const len = this.tailMsgLen;
    this.tailLen = 0;
    this.tailMsgLen = 0;
    onMessage(tail[18]!, tail.subarray(HEADER_LEN, len));
    return off;
  }
}

