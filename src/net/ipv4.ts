// IPv4 as an unsigned 32-bit number: parse, format, read and write bytes, masks. Nothing here
// allocates except formatting, so the routing hot path can carry IPv4 as plain numbers.

/** Dotted-quad text (the whole string, or text[start, end)) → uint32; -1 when malformed. */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let n = 0;
  let i = start;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= end || text.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    const first = i;
    let v = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - first;
    // RFC 6943 §3.1.1: a leading zero is ambiguous (octal to inet_aton), so refuse it, as
    // Node's net.isIPv4 and Go's net.ParseIP do.
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return -1;
    n = n * 256 + v;
  }
  return i === end ? n : -1;
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The uint32 held big-endian in 4 bytes at off. */
export function readIpv4(b: Uint8Array, off = 0): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Writes n big-endian as 4 bytes at off; returns the offset after them. */
export function writeIpv4(n: number, out: Uint8Array, off = 0): number {
  out[off] = n >>> 24;
  out[off + 1] = (n >>> 16) & 255;
  out[off + 2] = (n >>> 8) & 255;
  out[off + 3] = n & 255;
  return off + 4;
}

/** Network mask for a prefix length 0..32 as uint32 (/0 → 0: a shift by 32 is a shift by 0 in JS). */
export function maskV4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** `addr` with the bits past `len` cleared. */
export function networkV4(addr: number, len: number): number {
  return (addr & maskV4(len)) >>> 0;
}

/** True when the prefix (addr, len) lies inside (outer, outerLen): BIRD's `net ~ outer`. */
export function containsV4(outer: number, outerLen: number, addr: number, len: number): boolean {
  return len >= outerLen && ((outer ^ addr) & maskV4(outerLen)) === 0;
}
