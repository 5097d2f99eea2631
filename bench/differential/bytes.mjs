// The differential check's own BGP byte builder and reader (RFC 4271, 4760, 6793, 1997, 4360, 8092).
// It shares no code with Kite's codec (src/bgp/wire): the check must not inherit Kite's mistakes.
// Builders return Buffers and never validate: malformed messages are the point.

export const MARKER = Buffer.alloc(16, 0xff);
export const T = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 };
/** Path attribute flag bits (RFC 4271 §4.3). */
export const F = { O: 0x80, T: 0x40, P: 0x20, X: 0x10 };
/** Attribute type codes and the flags each must carry (RFC 4271 §5, RFC 7606 §7 table). */
export const A = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7, COMMUNITIES: 8,
  ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH: 14, MP_UNREACH: 15, EXT_COMMUNITIES: 16, AS4_PATH: 17, AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
};
export const RIGHT_FLAGS = {
  1: F.T, 2: F.T, 3: F.T, 4: F.O, 5: F.T, 6: F.T, 7: F.O | F.T, 8: F.O | F.T, 9: F.O, 10: F.O, 14: F.O, 15: F.O,
  16: F.O | F.T, 17: F.O | F.T, 18: F.O | F.T, 32: F.O | F.T,
};

const u8 = (n) => Buffer.of(n & 0xff);
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));

/** Dotted quad → 4 bytes. */
export function ip4(s) {
  return Buffer.from(s.split('.').map(Number));
}
/** IPv6 text (with ::, no embedded IPv4) → 16 bytes. */
export function ip6(s) {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}
export function fmt6(b) {
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  return g.join(':'); // uncompressed: a key, not for people
}

/** A whole message: marker, length, type, body (length may be forced for header cases). */
export function msg(type, body = Buffer.alloc(0), opts = {}) {
  const len = opts.length ?? 19 + body.length;
  return cat(opts.marker ?? MARKER, u16(len), u8(type), body);
}
export const keepalive = () => msg(T.KEEPALIVE);
export const notification = (code, sub, data = Buffer.alloc(0)) => msg(T.NOTIFICATION, cat(u8(code), u8(sub), data));

// --- OPEN ------------------------------------------------------------------------------------
/** One capability (RFC 5492): code, length, value. */
export const cap = (code, value = Buffer.alloc(0), len = value.length) => cat(u8(code), u8(len), value);
export const capMp = (afi, safi) => cap(1, cat(u16(afi), u8(0), u8(safi)));
export const capAs4 = (as) => cap(65, u32(as));
/** Optional parameter type 2 (Capabilities) holding `caps`. */
export const paramCaps = (...caps) => { const v = cat(...caps); return cat(u8(2), u8(v.length), v); };

/** OPEN body; `params` are the optional parameters, already encoded (RFC 4271 §4.2). */
export function openBody({ version = 4, as, hold = 180, id, params = Buffer.alloc(0), paramLen }) {
  return cat(u8(version), u16(as), u16(hold), ip4(id), u8(paramLen ?? params.length), params);
}
/** The check's usual OPEN: IPv4 and IPv6 unicast, route refresh, the 4-octet AS capability when as4. */
export function defaultCaps(as, as4 = true) {
  const c = [capMp(1, 1), capMp(2, 1), cap(2)];
  if (as4) c.push(capAs4(as));
  return c;
}
export const open = (o) => msg(T.OPEN, openBody(o));

// --- attributes ------------------------------------------------------------------------------
/** One attribute; the extended-length form when flags say so or the value needs it. */
export function attr(flags, code, value, opts = {}) {
  const ext = (flags & F.X) !== 0 || value.length > 255;
  const len = opts.length ?? value.length;
  return cat(u8(ext ? flags | F.X : flags), u8(code), ext ? u16(len) : u8(len), value);
}
export const right = (code, value) => attr(RIGHT_FLAGS[code], code, value);
export const origin = (v) => right(A.ORIGIN, u8(v));
/** AS_PATH value from segments [{type, asns}] with 4- or 2-octet ASNs. */
export function pathValue(segments, as4 = true) {
  return cat(...segments.map((s) => cat(u8(s.type), u8(s.count ?? s.asns.length), ...s.asns.map((a) => (as4 ? u32(a) : u16(a))))));
}
export const asPath = (segments, as4 = true) => right(A.AS_PATH, pathValue(segments, as4));
export const seq = (...asns) => ({ type: 2, asns });
export const nextHop = (a) => right(A.NEXT_HOP, ip4(a));
export const med = (n) => right(A.MED, u32(n));
export const localPref = (n) => right(A.LOCAL_PREF, u32(n));
export const communities = (...c) => right(A.COMMUNITIES, cat(...c.map(u32)));
export const u32be = u32;
export const u16be = u16;

/** Prefix text → NLRI bytes (length octet + the significant octets). `len` may lie. */
export function prefix(p, opts = {}) {
  const [addr, l] = p.split('/');
  const len = Number(l);
  const bytes = addr.includes(':') ? ip6(addr) : ip4(addr);
  const n = opts.octets ?? Math.ceil(len / 8);
  return cat(u8(opts.len ?? len), bytes.subarray(0, Math.min(n, bytes.length)), n > bytes.length ? Buffer.alloc(n - bytes.length) : Buffer.alloc(0));
}
export const nlri = (...ps) => cat(...ps.map((p) => (Buffer.isBuffer(p) ? p : prefix(p))));

export function mpReachValue({ afi = 2, safi = 1, nh, nhLen, reserved = 0, nlri: n = Buffer.alloc(0) }) {
  return cat(u16(afi), u8(safi), u8(nhLen ?? nh.length), nh, u8(reserved), n);
}
export const mpReach = (o, flags = RIGHT_FLAGS[14]) => attr(flags, A.MP_REACH, mpReachValue(o));
export const mpUnreach = ({ afi = 2, safi = 1, nlri: n = Buffer.alloc(0) }, flags = RIGHT_FLAGS[15]) => attr(flags, A.MP_UNREACH, cat(u16(afi), u8(safi), n));

/** UPDATE body: withdrawn, attributes, NLRI; lengths may be forced. */
export function updateBody({ withdrawn = Buffer.alloc(0), attrs = Buffer.alloc(0), nlri: n = Buffer.alloc(0), wLen, aLen }) {
  return cat(u16(wLen ?? withdrawn.length), withdrawn, u16(aLen ?? attrs.length), attrs, n);
}
export const update = (o) => msg(T.UPDATE, updateBody(o));

// --- reading -----------------------------------------------------------------------------------
/** Splits a byte stream into messages; push() returns the complete ones. */
export class Framer {
  constructor() { this.buf = Buffer.alloc(0); }
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out = [];
    while (this.buf.length >= 19) {
      const len = this.buf.readUInt16BE(16);
      if (len < 19) throw new Error(`bad length ${len} from the daemon`);
      if (this.buf.length < len) break;
      out.push({ type: this.buf[18], body: this.buf.subarray(19, len) });
      this.buf = this.buf.subarray(len);
    }
    return out;
  }
}

/** Capabilities the daemon's OPEN carries: { as4, families:Set('1/1'), hold, as, id }. */
export function readOpen(body) {
  const out = { version: body[0], as: body.readUInt16BE(1), hold: body.readUInt16BE(3), id: [...body.subarray(5, 9)].join('.'), as4: undefined, families: new Set() };
  let p = 10;
  const end = 10 + body[9];
  while (p + 2 <= end) {
    const type = body[p], len = body[p + 1];
    if (type === 2) {
      for (let q = p + 2; q + 2 <= p + 2 + len;) {
        const c = body[q], l = body[q + 1], v = body.subarray(q + 2, q + 2 + l);
        if (c === 65 && l === 4) out.as4 = v.readUInt32BE(0);
        if (c === 1 && l === 4) out.families.add(`${v.readUInt16BE(0)}/${v[3]}`);
        q += 2 + l;
      }
    }
    p += 2 + len;
  }
  return out;
}

function readPrefixes(buf, afi) {
  const out = [];
  for (let p = 0; p < buf.length;) {
    const len = buf[p];
    const n = Math.ceil(len / 8);
    const bytes = Buffer.alloc(afi === 2 ? 16 : 4);
    buf.copy(bytes, 0, p + 1, p + 1 + n);
    out.push(`${afi === 2 ? fmt6(bytes) : [...bytes].join('.')}/${len}`);
    p += 1 + n;
  }
  return out;
}

/**
 * What the observer needs from an UPDATE the daemon sent (it trusts the daemon to be well formed):
 * withdrawn and announced prefixes of both families, and the attributes that survive export.
 */
export function readUpdate(body, as4 = true) {
  const wl = body.readUInt16BE(0);
  const withdrawn = readPrefixes(body.subarray(2, 2 + wl), 1);
  const al = body.readUInt16BE(2 + wl);
  const as = 4 + wl;
  const announced = readPrefixes(body.subarray(as + al), 1);
  const route = { origin: -1, path: [], comm: [], ext: [], large: [], unknown: [], agg: false, atomic: false, med: undefined };
  for (let p = as; p < as + al;) {
    const flags = body[p], code = body[p + 1];
    const ext = flags & F.X;
    const len = ext ? body.readUInt16BE(p + 2) : body[p + 2];
    const v = body.subarray(p + (ext ? 4 : 3), p + (ext ? 4 : 3) + len);
    p += (ext ? 4 : 3) + len;
    switch (code) {
      case 1: route.origin = v[0]; break;
      case 2:
        for (let q = 0; q < v.length;) {
          const type = v[q], n = v[q + 1], w = as4 ? 4 : 2;
          const asns = [];
          for (let i = 0; i < n; i++) asns.push(as4 ? v.readUInt32BE(q + 2 + i * 4) : v.readUInt16BE(q + 2 + i * 2));
          route.path.push({ type, asns });
          q += 2 + n * w;
        }
        break;
      case 4: route.med = v.readUInt32BE(0); break;
      case 6: route.atomic = true; break;
      case 7: route.agg = true; break;
      case 8: for (let q = 0; q + 4 <= v.length; q += 4) route.comm.push(v.readUInt32BE(q)); break;
      case 16: for (let q = 0; q + 8 <= v.length; q += 8) route.ext.push(v.subarray(q, q + 8).toString('hex')); break;
      case 32: for (let q = 0; q + 12 <= v.length; q += 12) route.large.push(`${v.readUInt32BE(q)}:${v.readUInt32BE(q + 4)}:${v.readUInt32BE(q + 8)}`); break;
      case 14: {
        const afi = v.readUInt16BE(0);
        const nl = v[3];
        announced.push(...readPrefixes(v.subarray(5 + nl), afi));
        break;
      }
      case 15: withdrawn.push(...readPrefixes(v.subarray(3), v.readUInt16BE(0))); break;
      case 3: case 5: case 9: case 10: break;
      default: route.unknown.push({ code, flags: flags & 0xe0, len });
    }
  }
  return { withdrawn, announced, route };
}
