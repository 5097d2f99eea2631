// RFC 5492 capabilities: one codec per capability code in a table. Unknown codes are kept raw
// so they can be logged and shown; decoding is pure and never looks at the session.
import { ErrCode, OpenSub, sessionReset } from './errors.js';
import { familyKey, type Capabilities, type FamilyKey } from './types.js';
import type { BufWriter } from './writer.js';

export const CapCode = {
  Multiprotocol: 1, RouteRefresh: 2, ExtendedMessage: 6, GracefulRestart: 64, FourOctetAs: 65,
  AddPath: 69, EnhancedRouteRefresh: 70,
} as const;

export const emptyCapabilities = (): Capabilities => ({
  multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false, addPath: [], unknown: [],
});

interface CapCodec {
  name: string;
  /** Fold one capability value into caps; throws WireError on a malformed value. */
  decode(v: Buffer, caps: Capabilities): void;
  /** Write zero or more complete capability TLVs (code, length, value) for caps. */
  encode(caps: Capabilities, w: BufWriter): void;
}

const bad = (name: string, v: Buffer) =>
  // RFC 5492 gives no subcode for a malformed capability; Unspecific with the value as data.
  sessionReset(ErrCode.OpenMessage, OpenSub.Unspecific, `malformed ${name} capability (length ${v.length})`, Buffer.from(v));

const fam = (afi: number, safi: number): FamilyKey => familyKey(afi, safi);

const flag = (code: number, name: string, key: 'routeRefresh' | 'enhancedRouteRefresh' | 'extendedMessage'): CapCodec => ({
  name,
  decode(v, caps) { if (v.length !== 0) throw bad(name, v); caps[key] = true; },
  encode(caps, w) { if (caps[key]) { w.u8(code); w.u8(0); } },
});

export const CAPABILITIES: ReadonlyMap<number, CapCodec> = new Map<number, CapCodec>([
  // RFC 4760 §8: AFI(2) reserved(1) SAFI(1), one capability per family.
  [CapCode.Multiprotocol, {
    name: 'multiprotocol',
    decode(v, caps) {
      if (v.length !== 4) throw bad('multiprotocol', v);
      const f = fam(v.readUInt16BE(0), v[3]!);
      if (!caps.multiprotocol.includes(f)) caps.multiprotocol.push(f);
    },
    encode(caps, w) {
      for (const f of caps.multiprotocol) { w.u8(CapCode.Multiprotocol); w.u8(4); w.u16(f >> 8); w.u8(0); w.u8(f & 255); }
    },
  }],
  [CapCode.RouteRefresh, flag(CapCode.RouteRefresh, 'route refresh', 'routeRefresh')],
  [CapCode.ExtendedMessage, flag(CapCode.ExtendedMessage, 'extended message', 'extendedMessage')],
  [CapCode.EnhancedRouteRefresh, flag(CapCode.EnhancedRouteRefresh, 'enhanced route refresh', 'enhancedRouteRefresh')],
  // RFC 4724 §3: R(1 bit) N(1 bit, RFC 8538) reserved(2) time(12), then AFI(2) SAFI(1) flags(1) per family.
  [CapCode.GracefulRestart, {
    name: 'graceful restart',
    decode(v, caps) {
      if (v.length < 2 || (v.length - 2) % 4 !== 0) throw bad('graceful restart', v);
      const hdr = v.readUInt16BE(0);
      const families: { family: FamilyKey; forwardingPreserved: boolean }[] = [];
      for (let p = 2; p < v.length; p += 4) {
        families.push({ family: fam(v.readUInt16BE(p), v[p + 2]!), forwardingPreserved: (v[p + 3]! & 0x80) !== 0 });
      }
      caps.gracefulRestart = { restartState: (hdr & 0x8000) !== 0, notification: (hdr & 0x4000) !== 0, restartTime: hdr & 0x0fff, families };
    },
    encode(caps, w) {
      const gr = caps.gracefulRestart;
      if (!gr) return;
      w.u8(CapCode.GracefulRestart); w.u8(2 + 4 * gr.families.length);
      w.u16((gr.restartState ? 0x8000 : 0) | (gr.notification ? 0x4000 : 0) | (gr.restartTime & 0x0fff));
      for (const f of gr.families) { w.u16(f.family >> 8); w.u8(f.family & 255); w.u8(f.forwardingPreserved ? 0x80 : 0); }
    },
  }],
  // RFC 6793 §3: the 4-octet AS number.
  [CapCode.FourOctetAs, {
    name: '4-octet AS',
    decode(v, caps) { if (v.length !== 4) throw bad('4-octet AS', v); caps.fourOctetAs = v.readUInt32BE(0); },
    encode(caps, w) { if (caps.fourOctetAs !== undefined) { w.u8(CapCode.FourOctetAs); w.u8(4); w.u32(caps.fourOctetAs); } },
  }],
  // RFC 7911 §4: AFI(2) SAFI(1) Send/Receive(1) tuples; modes other than 1..3 are ignored.
  [CapCode.AddPath, {
    name: 'ADD-PATH',
    decode(v, caps) {
      if (v.length === 0 || v.length % 4 !== 0) throw bad('ADD-PATH', v);
      for (let p = 0; p < v.length; p += 4) {
        const mode = v[p + 3]!;
        if (mode < 1 || mode > 3) continue;
        const family = fam(v.readUInt16BE(p), v[p + 2]!);
        const prev = caps.addPath.findIndex((a) => a.family === family);
        if (prev >= 0) caps.addPath.splice(prev, 1);
        caps.addPath.push({ family, mode: mode as 1 | 2 | 3 });
      }
    },
    encode(caps, w) {
      if (caps.addPath.length === 0) return;
      w.u8(CapCode.AddPath); w.u8(4 * caps.addPath.length);
      for (const a of caps.addPath) { w.u16(a.family >> 8); w.u8(a.family & 255); w.u8(a.mode); }
    },
  }],
]);

/** Decode a run of capability TLVs (the value of one optional parameter type 2) into caps. */
export function decodeCapabilities(buf: Buffer, start: number, end: number, caps: Capabilities): void {
  let p = start;
  while (p < end) {
    if (p + 2 > end) throw sessionReset(ErrCode.OpenMessage, OpenSub.Unspecific, 'truncated capability header');
    const code = buf[p]!, len = buf[p + 1]!;
    if (p + 2 + len > end) throw sessionReset(ErrCode.OpenMessage, OpenSub.Unspecific, `capability ${code} runs past its parameter`);
    const v = buf.subarray(p + 2, p + 2 + len);
    const codec = CAPABILITIES.get(code);
    if (codec) codec.decode(v, caps);
    else caps.unknown.push({ code, value: Buffer.from(v) }); // copy: the frame buffer is reused
    p += 2 + len;
  }
}

/** Encode every capability TLV, known ones in table order, then unknown ones verbatim. */
export function encodeCapabilities(caps: Capabilities, w: BufWriter): void {
  for (const codec of CAPABILITIES.values()) codec.encode(caps, w);
  for (const u of caps.unknown) { w.u8(u.code); w.u8(u.value.length); w.bytes(u.value); }
}
