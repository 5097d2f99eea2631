// OPEN message codec (RFC 4271 §4.2) with capability optional parameters (RFC 5492) and the
// RFC 9072 extended optional parameters format. Syntax only: semantic checks live in validate.ts.
import { decodeCapabilities, emptyCapabilities, encodeCapabilities } from './capabilities.js';
import { ErrCode, OpenSub, sessionReset } from './errors.js';
import { MsgType, type OpenMessage } from './types.js';
import { BufWriter } from './writer.js';

const PARAM_CAPABILITIES = 2;
const EXTENDED_PARAMS = 255; // RFC 9072 §2: Non-Ext OP Type / Len value marking the extended format

/** Decode an OPEN body (after the 19-byte header). Throws WireError (SessionReset) on syntax errors. */
export function decodeOpen(body: Buffer): OpenMessage {
  if (body.length < 10) throw sessionReset(ErrCode.MessageHeader, 2, 'OPEN too short', u16(body.length + 19));
  const version = body[0]!;
  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const bgpId = body.readUInt32BE(5);
  let optLen = body[9]!;
  let p = 10;
  let extended = false;
  // RFC 9072 §2: Non-Ext OP Len 255 followed by Non-Ext OP Type 255 means a 2-octet length follows,
  // and each parameter then has a 2-octet length.
  if (optLen === EXTENDED_PARAMS && body.length >= 13 && body[10] === EXTENDED_PARAMS) {
    extended = true;
    optLen = body.readUInt16BE(11);
    p = 13;
  }
  const end = p + optLen;
  // Octets after the optional parameters are ignored, as BIRD 2.0.12 and FRR 8.4.4 do (issue 11,
  // the differential check; RFC 4271 §6.2 names no error for them). Parameters that run past the
  // message are an error.
  if (end > body.length) {
    throw sessionReset(ErrCode.OpenMessage, OpenSub.Unspecific, `optional parameters length ${optLen} runs past the message`);
  }
  const capabilities = emptyCapabilities();
  const hdr = extended ? 3 : 2;
  while (p < end) {
    if (p + hdr > end) throw sessionReset(ErrCode.OpenMessage, OpenSub.Unspecific, 'truncated optional parameter');
    const type = body[p]!;
    const len = extended ? body.readUInt16BE(p + 1) : body[p + 1]!;
    const vs = p + hdr, ve = vs + len;
    if (ve > end) throw sessionReset(ErrCode.OpenMessage, OpenSub.Unspecific, `optional parameter ${type} runs past the end`);
    // RFC 5492 §2: type 2 is the only parameter still defined (type 1, authentication, is deprecated).
    if (type !== PARAM_CAPABILITIES) {
      throw sessionReset(ErrCode.OpenMessage, OpenSub.UnsupportedOptionalParameter, `unsupported optional parameter ${type}`);
    }
    decodeCapabilities(body, vs, ve, capabilities);
    p = ve;
  }
  return { type: MsgType.OPEN, version, myAs, holdTime, bgpId, capabilities };
}

/** Encode a full OPEN message (header included). Uses the RFC 9072 format only when needed. */
export function encodeOpen(msg: Omit<OpenMessage, 'type'>): Buffer {
  const caps = new BufWriter(65535);
  encodeCapabilities(msg.capabilities, caps);
  const w = new BufWriter(65535);
  const at = w.startMessage(MsgType.OPEN);
  w.u8(msg.version); w.u16(msg.myAs); w.u16(msg.holdTime); w.u32(msg.bgpId);
  const n = caps.pos;
  if (n === 0) {
    w.u8(0);
  } else if (n + 2 <= 255) {
    w.u8(n + 2); w.u8(PARAM_CAPABILITIES); w.u8(n); w.bytes(caps.buf, 0, n);
  } else {
    w.u8(EXTENDED_PARAMS); w.u8(EXTENDED_PARAMS); w.u16(n + 3);
    w.u8(PARAM_CAPABILITIES); w.u16(n); w.bytes(caps.buf, 0, n);
  }
  return w.finishMessage(at);
}

function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
