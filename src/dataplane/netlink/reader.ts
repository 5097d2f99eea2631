// Walks netlink messages and rtattr lists inside a received buffer without copying: callers get
// (offset, length) views. Malformed lengths stop the walk instead of reading past the end, so a
// truncated or hostile datagram can never make the decoder loop or throw RangeError.

import { SIZE } from './constants.js';
import { align4 } from './writer.js';

export interface NlHeader {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Offset of the payload (just after the 16-byte header). */
  body: number;
  /** Offset one past this message's payload. */
  end: number;
}

/** Call fn for every complete message in buf[off, end). Returns false if a length was malformed. */
export function forEachMessage(buf: Buffer, off: number, end: number, fn: (h: NlHeader) => void): boolean {
  let p = off;
  while (p + SIZE.NLMSGHDR <= end) {
    const len = buf.readUInt32LE(p);
    if (len < SIZE.NLMSGHDR || p + len > end) return false;
    fn({
      len,
      type: buf.readUInt16LE(p + 4),
      flags: buf.readUInt16LE(p + 6),
      seq: buf.readUInt32LE(p + 8),
      pid: buf.readUInt32LE(p + 12),
      body: p + SIZE.NLMSGHDR,
      end: p + len,
    });
    p += align4(len);
  }
  return p >= end;
}

/** Call fn(type, payloadOffset, payloadLength) for every attribute in buf[off, end). */
export function forEachAttr(
  buf: Buffer,
  off: number,
  end: number,
  fn: (type: number, at: number, len: number) => void,
): void {
  let p = off;
  while (p + SIZE.RTATTR <= end) {
    const len = buf.readUInt16LE(p);
    if (len < SIZE.RTATTR || p + len > end) return;
    // NLA_F_NESTED (0x8000) and NLA_F_NET_BYTEORDER (0x4000) are flags, not part of the type.
    fn(buf.readUInt16LE(p + 2) & 0x3fff, p + SIZE.RTATTR, len - SIZE.RTATTR);
    p += align4(len);
  }
}

/** A NUL-terminated (or not) string payload. */
export function readString(buf: Buffer, at: number, len: number): string {
  let e = at + len;
  while (e > at && buf[e - 1] === 0) e--;
  return buf.toString('utf8', at, e);
}
