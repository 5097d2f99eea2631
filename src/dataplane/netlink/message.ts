// Netlink control messages: NLMSG_ERROR (an ACK when error is 0) and NLMSG_DONE, with the
// extended-ACK TLVs the kernel appends when NETLINK_EXT_ACK is on (linux/netlink.h,
// struct nlmsgerr; NLM_F_CAPPED means the echoed request was cut to its 16-byte header).

import { NLM_F, NLMSGERR_ATTR, SIZE } from './constants.js';
import { forEachAttr, readString, type NlHeader } from './reader.js';
import { align4 } from './writer.js';

export interface NlAck {
  /** Positive errno, 0 for success. */
  errno: number;
  /** NLMSGERR_ATTR_MSG. */
  extack?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in our request. */
  offset?: number;
}

/** Decode struct nlmsgerr (NLMSG_ERROR body). */
export function readError(buf: Buffer, h: NlHeader): NlAck {
  if (h.body + 4 > h.end) return { errno: 0 };
  const ack: NlAck = { errno: -buf.readInt32LE(h.body) };
  if (h.flags & NLM_F.ACK_TLVS && h.body + 4 + SIZE.NLMSGHDR <= h.end) {
    const origLen = buf.readUInt32LE(h.body + 4);
    const tlvs = h.body + 4 + (h.flags & NLM_F.CAPPED ? SIZE.NLMSGHDR : align4(origLen));
    readExtack(buf, tlvs, h.end, ack);
  }
  return ack;
}

/** Decode NLMSG_DONE's body: an int error (a dump that failed part-way) and optional TLVs. */
export function readDone(buf: Buffer, h: NlHeader): NlAck {
  if (h.body + 4 > h.end) return { errno: 0 };
  const ack: NlAck = { errno: -buf.readInt32LE(h.body) };
  if (h.flags & NLM_F.ACK_TLVS) readExtack(buf, h.body + 4, h.end, ack);
  return ack;
}

function readExtack(buf: Buffer, off: number, end: number, ack: NlAck): void {
  forEachAttr(buf, off, end, (type, at, len) => {
    if (type === NLMSGERR_ATTR.MSG) ack.extack = readString(buf, at, len);
    else if (type === NLMSGERR_ATTR.OFFS && len >= 4) ack.offset = buf.readUInt32LE(at);
  });
}
