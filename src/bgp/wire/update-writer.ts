// UPDATE packing (RFC 4271 §4.3, RFC 4760 for IPv6): the attribute section is encoded once per call,
// then as many NLRI as fit go in each message (4096 bytes, 65535 with RFC 8654). IPv4 unicast uses the
// classic fields and NEXT_HOP; other families MP_REACH/MP_UNREACH. No object per prefix.
import { AttrCode, AttrFlag } from './attributes/common.js';
import { encodeAttrs } from './attributes/table.js';
import { IPV4_UNICAST, MsgType, type CodecContext, type FamilyKey, type PathAttrs } from './types.js';
import { maxBitsForFamily } from './nlri.js';
import { familyOfText, NetParseError, writeAddrText } from '../../net/index.js';
import { BufWriter, HEADER_LEN } from './writer.js';

export interface OutPrefix { readonly bytes: Uint8Array; readonly len: number; readonly pathId?: number }

export class UpdateWriter {
  private readonly w: BufWriter;
  private readonly attrW: BufWriter;
  private readonly max: number;

  constructor(private readonly ctx: CodecContext) {
    this.max = ctx.extendedMessage ? 65535 : 4096;
    this.w = new BufWriter(this.max);
    this.attrW = new BufWriter(this.max);
  }

  /** Announce prefixes of one family with one attribute set; out gets each finished message. */
  announce(family: FamilyKey, attrs: PathAttrs, prefixes: readonly OutPrefix[], out: (msg: Buffer) => void): void {
    if (prefixes.length === 0) return;
    const classic = family === IPV4_UNICAST && !attrs.nextHop.includes(':');
    const a = this.attrW;
    a.reset();
    encodeAttrs(attrs, a, { fourOctetAs: this.ctx.fourOctetAs, ibgp: this.ctx.ibgp, nextHop: classic });
    const addPath = this.ctx.addPathTx.has(family);
    const w = this.w;
    let i = 0;
    while (i < prefixes.length) {
      w.reset();
      const at = w.startMessage(MsgType.UPDATE);
      w.u16(0); // no withdrawn routes
      const alenAt = w.reserve(2);
      if (classic) {
        w.bytes(a.buf, 0, a.pos);
        if (w.room < prefixSize(prefixes[i]!, addPath)) throw new RangeError('path attributes leave no room for NLRI');
        i = this.packNlri(prefixes, i, addPath, family);
        w.patch16(alenAt, a.pos);
      } else {
        // RFC 7606 §5.1: MP_REACH_NLRI goes first. Extended length so its size can be patched.
        const mpAt = w.pos;
        w.u8(AttrFlag.Optional | AttrFlag.ExtendedLength); w.u8(AttrCode.MP_REACH_NLRI);
        const mpLenAt = w.reserve(2);
        w.u16(family >> 8); w.u8(family & 255);
        writeNextHop(w, attrs);
        w.u8(0); // reserved (RFC 4760 §3)
        const nlriAt = w.pos;
        // Leave room for the other attributes, written after the NLRI are packed.
        const limit = w.buf.length - a.pos;
        if (limit - nlriAt < prefixSize(prefixes[i]!, addPath)) throw new RangeError('path attributes leave no room for NLRI');
        i = this.packNlri(prefixes, i, addPath, family, limit);
        w.patch16(mpLenAt, w.pos - mpAt - 4);
        w.bytes(a.buf, 0, a.pos);
        w.patch16(alenAt, w.pos - alenAt - 2);
      }
      out(w.finishMessage(at));
    }
  }

  /** Withdraw prefixes of one family. */
  withdraw(family: FamilyKey, prefixes: readonly OutPrefix[], out: (msg: Buffer) => void): void {
    if (prefixes.length === 0) return;
    const addPath = this.ctx.addPathTx.has(family);
    const w = this.w;
    let i = 0;
    while (i < prefixes.length) {
      w.reset();
      const at = w.startMessage(MsgType.UPDATE);
      if (family === IPV4_UNICAST) {
        const wAt = w.reserve(2);
        i = this.packNlri(prefixes, i, addPath, family, w.buf.length - 2);
        w.patch16(wAt, w.pos - wAt - 2);
        w.u16(0);
      } else {
        w.u16(0);
        const alenAt = w.reserve(2);
        w.u8(AttrFlag.Optional | AttrFlag.ExtendedLength); w.u8(AttrCode.MP_UNREACH_NLRI);
        const mpLenAt = w.reserve(2);
        w.u16(family >> 8); w.u8(family & 255);
        i = this.packNlri(prefixes, i, addPath, family);
        w.patch16(mpLenAt, w.pos - mpLenAt - 2);
        w.patch16(alenAt, w.pos - alenAt - 2);
      }
      out(w.finishMessage(at));
    }
  }

  /** RFC 4724 §2 End-of-RIB: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH_NLRI otherwise. */
  endOfRib(family: FamilyKey): Buffer {
    const w = new BufWriter(HEADER_LEN + 10);
    const at = w.startMessage(MsgType.UPDATE);
    w.u16(0);
    if (family === IPV4_UNICAST) w.u16(0);
    else { w.u16(6); w.u8(AttrFlag.Optional); w.u8(AttrCode.MP_UNREACH_NLRI); w.u8(3); w.u16(family >> 8); w.u8(family & 255); }
    return w.finishMessage(at);
  }

  /** Write prefixes from index i while they fit below `limit`; returns the next index. */
  private packNlri(prefixes: readonly OutPrefix[], i: number, addPath: boolean, family: FamilyKey, limit = this.w.buf.length): number {
    const w = this.w;
    const maxBits = maxBitsForFamily(family);
    for (; i < prefixes.length; i++) {
      const p = prefixes[i]!;
      if (w.pos + prefixSize(p, addPath) > limit) break;
      if (p.len > maxBits) throw new RangeError(`prefix length ${p.len} too long for family ${family}`);
      if (addPath) w.u32(p.pathId ?? 0);
      w.u8(p.len);
      const n = (p.len + 7) >> 3;
      w.bytes(p.bytes, 0, n);
      // Clear host bits so a sloppy caller cannot leak them onto the wire.
      if (p.len & 7) w.buf[w.pos - 1]! &= (0xff00 >> (p.len & 7)) & 0xff;
    }
    return i;
  }
}

const prefixSize = (p: OutPrefix, addPath: boolean) => (addPath ? 5 : 1) + ((p.len + 7) >> 3);

/** RFC 4760 §3 / RFC 2545 §3: length then address(es); IPv6 may add a link-local address. */
function writeNextHop(w: BufWriter, attrs: PathAttrs): void {
  const at = w.reserve(1);
  let end = addrInto(w, attrs.nextHop || '::');
  if (attrs.nextHopLinkLocal) end = addrInto(w, attrs.nextHopLinkLocal);
  w.patch8(at, end - at - 1);
}

/** Writes address text as 4 or 16 bytes at the writer's position, no object; returns the new position. */
function addrInto(w: BufWriter, text: string): number {
  const at = w.reserve(familyOfText(text) === 6 ? 16 : 4);
  if (writeAddrText(text, w.buf, at) !== w.pos) throw new NetParseError('address', text, `invalid next hop address "${text}"`);
  return w.pos;
}
