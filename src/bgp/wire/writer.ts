// A bounded, reusable output buffer: the message header space is reserved up front and lengths are
// back-patched, so an encoder writes each byte once. One instance per writer object, never module-global.
export const HEADER_LEN = 19;

export class BufWriter {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) { this.buf = Buffer.alloc(size); }

  get room(): number { return this.buf.length - this.pos; }
  reset(): void { this.pos = 0; }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`BufWriter overflow: need ${n} bytes, ${this.room} left`);
  }
  u8(v: number): void { this.need(1); this.buf[this.pos++] = v & 255; }
  u16(v: number): void { this.need(2); this.buf.writeUInt16BE(v & 0xffff, this.pos); this.pos += 2; }
  u32(v: number): void { this.need(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  u64(v: bigint): void { this.need(8); this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos); this.pos += 8; }
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    this.need(end - start);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }
  /** Skip n bytes (to back-patch later); returns their offset. */
  reserve(n: number): number { this.need(n); const at = this.pos; this.pos += n; return at; }
  patch8(at: number, v: number): void { this.buf[at] = v & 255; }
  patch16(at: number, v: number): void { this.buf.writeUInt16BE(v & 0xffff, at); }

  /** Start a BGP message at the current position: marker + length placeholder + type (RFC 4271 §4.1). */
  startMessage(type: number): number {
    const at = this.reserve(HEADER_LEN);
    this.buf.fill(0xff, at, at + 16);
    this.buf[at + 18] = type;
    return at;
  }
  /** Patch the length of the message started at `at` and return a copy (it will be handed to a socket). */
  finishMessage(at: number): Buffer {
    this.patch16(at + 16, this.pos - at);
    return Buffer.from(this.buf.subarray(at, this.pos));
  }
}
