// IP address text <-> bytes for the netlink codec, written straight into the message buffer
// (no intermediate arrays: the codec encodes 100k routes per second). IPv6 text follows
// RFC 4291 §2.2 on input and RFC 5952 §4 (shortest, lowercase, leftmost longest :: run) on output.

export type IpFamily = 4 | 6;

/** Address family of an address text, decided by the presence of ':' (validated when written). */
export function ipFamily(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

function bad(text: string): Error {
  return new Error(`invalid IP address ${JSON.stringify(text)}`);
}

/** Write dotted-quad IPv4 text as 4 bytes at off; throws on malformed text. */
export function writeIpv4(text: string, out: Uint8Array, off: number): void {
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || n === 3) throw bad(text);
      out[off + n++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // RFC 6943 §3.1.1: leading zeros are ambiguous (octal in inet_aton), so refuse them.
      if (digits === 1 && part === 0) throw bad(text);
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) throw bad(text);
    } else {
      throw bad(text);
    }
  }
  if (digits === 0 || n !== 3) throw bad(text);
  out[off + 3] = part;
}

/** Write IPv6 text (with optional :: and trailing dotted quad, RFC 4291 §2.2) as 16 bytes at off. */
export function writeIpv6(text: string, out: Uint8Array, off: number): void {
  const halves = text.split('::');
  if (halves.length > 2) throw bad(text);
  const parse = (part: string, allowV4: boolean): number[] => {
    if (part === '') return [];
    const toks = part.split(':');
    const groups: number[] = [];
    for (let k = 0; k < toks.length; k++) {
      const tok = toks[k]!;
      if (allowV4 && k === toks.length - 1 && tok.includes('.')) {
        const v4 = new Uint8Array(4);
        writeIpv4(tok, v4, 0);
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(tok)) throw bad(text);
        groups.push(parseInt(tok, 16));
      }
    }
    return groups;
  };
  const head = parse(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parse(halves[1]!, true) : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) throw bad(text);
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let k = 0; k < 8; k++) {
    out[off + 2 * k] = groups[k]! >> 8;
    out[off + 2 * k + 1] = groups[k]! & 0xff;
  }
}

export function writeIp(text: string, family: IpFamily, out: Uint8Array, off: number): void {
  if (family === 4) writeIpv4(text, out, off);
  else writeIpv6(text, out, off);
}

export function formatIpv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 §4: compress the leftmost longest run of two or more zero groups. */
export function formatIpv6(b: Uint8Array, off: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((b[off + 2 * k]! << 8) | b[off + 2 * k + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen && e - k >= 2) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  // RFC 5952 §5: an IPv4-mapped address keeps its dotted quad.
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${formatIpv4(b, off + 12)}`;
  const hex = (k: number): string => g[k]!.toString(16);
  if (bestStart < 0) return g.map((_, k) => hex(k)).join(':');
  const left = g.slice(0, bestStart).map((_, k) => hex(k)).join(':');
  const right = g.slice(bestStart + bestLen).map((_, k) => hex(bestStart + bestLen + k)).join(':');
  return `${left}::${right}`;
}

export function formatIp(b: Uint8Array, off: number, len: number): string {
  if (len === 4) return formatIpv4(b, off);
  if (len === 16) return formatIpv6(b, off);
  return Buffer.from(b.subarray(off, off + len)).toString('hex');
}

/** "aa:bb:cc:dd:ee:ff" <-> bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`invalid MAC address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array, off: number, len: number): string {
  const out: string[] = [];
  for (let k = 0; k < len; k++) out.push(b[off + k]!.toString(16).padStart(2, '0'));
  return out.join(':');
}
