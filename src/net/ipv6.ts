// IPv6 as 16 bytes: parse text straight into a caller's buffer, and canonical text (RFC 5952).
// Accepts RFC 4291 §2.2 text: hex groups, one "::", an optional trailing dotted quad; no zone.
import { formatIpv4, parseIpv4, readIpv4 } from './ipv4.js';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text (text[start, end)) into 16 bytes at out[off]. Returns false when malformed;
 * the 16 bytes are then unspecified. Allocates nothing.
 */
export function parseIpv6Into(text: string, out: Uint8Array, off = 0, start = 0, end = text.length): boolean {
  let g = 0; // groups written
  let gap = -1; // group index where "::" stands
  let i = start;
  if (end - start < 2) return false;
  if (text.charCodeAt(i) === 58 /* : */) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (g === 8) return false;
    const first = i;
    let v = 0;
    while (i < end && i - first < 5) {
      const h = hexVal(text.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 46 /* . */) {
      // RFC 4291 §2.5.5: a dotted quad may stand for the last two groups.
      if (g > 6) return false;
      const v4 = parseIpv4(text, first, end);
      if (v4 < 0) return false;
      out[off + g * 2] = v4 >>> 24;
      out[off + g * 2 + 1] = (v4 >>> 16) & 255;
      out[off + g * 2 + 2] = (v4 >>> 8) & 255;
      out[off + g * 2 + 3] = v4 & 255;
      g += 2;
      i = end;
      break;
    }
    const digits = i - first;
    if (digits === 0 || digits > 4) return false;
    out[off + g * 2] = v >> 8;
    out[off + g * 2 + 1] = v & 255;
    g++;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = g;
      i++;
    } else if (i === end) {
      return false; // a single trailing colon
    }
  }
  if (gap < 0) return g === 8;
  // "::" stands for one or more zero groups (RFC 4291 §2.2 item 2), so at most 7 were written.
  if (g > 7) return false;
  const tail = (g - gap) * 2;
  out.copyWithin(off + 16 - tail, off + gap * 2, off + g * 2);
  out.fill(0, off + gap * 2, off + 16 - tail);
  return true;
}

/**
 * RFC 5952 §4 text for 16 bytes at off: lower case, no leading zeros, the leftmost longest run
 * of two or more zero groups as "::". With `mappedDotted`, an IPv4-mapped address keeps its
 * dotted quad (§5, as the kernel and iproute2 print it); without, it is hex like any other
 * (as the control plane's stored text has always been, "::ffff:102:304").
 */
export function formatIpv6(b: Uint8Array, off = 0, mappedDotted = false): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (b[off + 2 * k] !== 0 || b[off + 2 * k + 1] !== 0) { k++; continue; }
    let e = k + 1;
    while (e < 8 && b[off + 2 * e] === 0 && b[off + 2 * e + 1] === 0) e++;
    if (e - k > bestLen) { bestStart = k; bestLen = e - k; }
    k = e;
  }
  if (mappedDotted && bestStart === 0 && bestLen === 5 && b[off + 10] === 255 && b[off + 11] === 255) {
    return `::ffff:${formatIpv4(readIpv4(b, off + 12))}`;
  }
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) { s += '::'; k += bestLen - 1; continue; }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += ((b[off + 2 * k]! << 8) | b[off + 2 * k + 1]!).toString(16);
  }
  return s;
}
