// A growable little-endian writer for netlink messages: reserve a header, write the body and
// attributes, then back-patch the lengths. One writer per socket is reused for every batch
// (sendmsg copies the bytes into the kernel before returning), so encoding allocates nothing.

import { SIZE } from './constants.js';
import type { IpAddr } from '../../net/index.js';
import { writeIp, type IpFamily } from './ip.js';

/** NLMSG_ALIGN / RTA_ALIGN: every message and attribute starts on a 4-byte boundary. */
export const align4 = (n: number): number => (n + 3) & ~3;

export class NlWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.alloc(size);
  }

  reset(): void {
    this.pos = 0;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Zero padding up to the next 4-byte boundary (the buffer is reused, so it must be written). */
  pad(): void {
    const end = align4(this.pos);
    this.ensure(end - this.pos);
    while (this.pos < end) this.buf[this.pos++] = 0;
  }

  /** Start a struct nlmsghdr; returns its offset for endMessage. */
  beginMessage(type: number, flags: number, seq: number, pid = 0): number {
    const at = this.pos;
    this.ensure(SIZE.NLMSGHDR);
    this.buf.writeUInt32LE(0, at); // nlmsg_len, patched by endMessage
    this.buf.writeUInt16LE(type, at + 4);
    this.buf.writeUInt16LE(flags, at + 6);
    this.buf.writeUInt32LE(seq >>> 0, at + 8);
    this.buf.writeUInt32LE(pid >>> 0, at + 12);
    this.pos += SIZE.NLMSGHDR;
    return at;
  }

  endMessage(at: number): void {
    this.pad();
    this.buf.writeUInt32LE(this.pos - at, at);
  }

  /** Start a struct rtattr (nested or not); returns its offset for endAttr. */
  beginAttr(type: number): number {
    this.pad();
    const at = this.pos;
    this.ensure(SIZE.RTATTR);
    this.buf.writeUInt16LE(0, at);
    this.buf.writeUInt16LE(type, at + 2);
    this.pos += SIZE.RTATTR;
    return at;
  }

  /** rta_len counts header and payload but not the trailing padding (RTA_LENGTH, not RTA_SPACE). */
  endAttr(at: number): void {
    this.buf.writeUInt16LE(this.pos - at, at);
    this.pad();
  }

  attrU8(type: number, v: number): void {
    const a = this.beginAttr(type);
    this.u8(v);
    this.endAttr(a);
  }

  attrU32(type: number, v: number): void {
    const a = this.beginAttr(type);
    this.u32(v);
    this.endAttr(a);
  }

  attrBytes(type: number, b: Uint8Array): void {
    const a = this.beginAttr(type);
    this.bytes(b);
    this.endAttr(a);
  }

  /** NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND; the kernel's NLA_STRING accepts the NUL). */
  attrString(type: number, s: string): void {
    const a = this.beginAttr(type);
    const n = Buffer.byteLength(s);
    this.ensure(n + 1);
    this.buf.write(s, this.pos);
    this.pos += n;
    this.buf[this.pos++] = 0;
    this.endAttr(a);
  }

  /** An address attribute: 4 or 16 bytes, from an address value or parsed from text, straight into the buffer. */
  attrIp(type: number, family: IpFamily, addr: string | IpAddr): void {
    const a = this.beginAttr(type);
    this.ipRaw(family, addr);
    this.endAttr(a);
  }

  ipRaw(family: IpFamily, addr: string | IpAddr): void {
    const n = family === 4 ? 4 : 16;
    this.ensure(n);
    if (typeof addr === 'string') writeIp(addr, family, this.buf, this.pos);
    else if (addr.family !== family) throw new Error(`IPv${addr.family} address ${addr.toString()} where IPv${family} is wanted`);
    else addr.write(this.buf, this.pos);
    this.pos += n;
  }
}
