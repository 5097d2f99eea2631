// Robustness properties: random byte streams and mutated valid messages (bit flips, truncation, length
// edits) fed to the framer and every decoder terminate and never throw anything but WireError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer } from '../../../src/bgp/wire/framer.js';
import { decodeMessage } from '../../../src/bgp/wire/message.js';
import { Interner } from '../../../src/rib/intern.js';
import { WireError } from '../../../src/bgp/wire/errors.js';
import { countPrefixes, forEachIPv4, forEachPrefix } from '../../../src/bgp/wire/nlri.js';
import { IPV4_UNICAST, IPV6_UNICAST, MsgType, type CodecContext } from '../../../src/bgp/wire/types.js';
import { attr, cap, ip4, msg, u16, u32, u8, updateBody } from '../../fixtures/bytes.js';

const CTXS: CodecContext[] = [
  { fourOctetAs: true, addPathRx: new Set(), addPathTx: new Set(), extendedMessage: false, ibgp: false },
  { fourOctetAs: false, addPathRx: new Set([IPV4_UNICAST, IPV6_UNICAST]), addPathTx: new Set(), extendedMessage: true, ibgp: true },
];

const SEEDS: Buffer[] = [
  msg(1, u8(4), u16(65001), u16(90), ip4('10.0.0.1'), u8(24), u8(2), u8(22),
    cap(1, u16(1), '0001'), cap(65, u32(65001)), cap(64, u16(120), u16(1), '0180'), cap(69, u16(1), '0103')),
  msg(2, updateBody('18' + '0b0000',
    attr(0x40, 1, '00') + attr(0x40, 2, '02', '02', u32(65001), u32(65002)) + attr(0x40, 3, ip4('192.0.2.1')) +
    attr(0x80, 4, u32(5)) + attr(0x40, 5, u32(100)) + attr(0x40, 6) + attr(0xc0, 7, u32(1), ip4('1.1.1.1')) +
    attr(0xc0, 8, u32(1)) + attr(0x80, 9, ip4('1.1.1.1')) + attr(0x80, 10, ip4('2.2.2.2')) +
    attr(0xc0, 16, '0002000100000001') + attr(0xc0, 17, '02', '01', u32(7)) + attr(0xc0, 18, u32(7), ip4('1.1.1.1')) +
    attr(0xc0, 32, u32(1), u32(2), u32(3)) + attr(0xc0, 99, 'ab'),
    '18' + '0a0001' + '20' + '0a000001' + '00')),
  msg(2, updateBody('', attr(0x40, 1, '00') + attr(0x40, 2, '02', '01', u16(65001)) +
    attr(0x90, 14, u16(2), '01', '20', '20010db8000000000000000000000001', 'fe800000000000000000000000000001', '00', '20' + '20010db8') +
    attr(0x90, 15, u16(2), '01', '40' + '20010db800000001'), '')),
  msg(2, updateBody('', attr(0x80, 15, u16(2), '01'), '')),
  msg(3, '0602', '03', '627965'),
  msg(4),
  msg(5, u16(1), '00', '01'),
];

/** Feed bytes through a framer and decode every message; only WireError may escape. */
function run(bytes: Buffer, ctx: CodecContext, split: number): void {
  const framer = new Framer(ctx.extendedMessage ? 65535 : 4096);
  const interner = new Interner();
  const onMessage = (type: number, body: Buffer) => decodeAll(type, body, ctx, interner);
  try {
    framer.push(bytes.subarray(0, split), onMessage);
    framer.push(bytes.subarray(split), onMessage);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
}
function decodeAll(type: number, body: Buffer, ctx: CodecContext, interner: Interner): void {
  try {
    const m = decodeMessage(type, body, ctx, interner);
    if (m.type === MsgType.UPDATE) {
      for (const v of [m.withdrawn, m.nlri, m.mpReach, m.mpUnreach]) {
        if (!v) continue;
        let n = 0;
        forEachPrefix(v, () => { n++; });
        if (v.family === IPV4_UNICAST) forEachIPv4(v, () => {});
        expect(countPrefixes(v)).toBe(n);
      }
      for (const e of m.errors) expect(e).toBeInstanceOf(WireError);
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
}

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'truncate'; at: number } | { kind: 'set'; at: number; v: number } | { kind: 'u16'; at: number; v: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), v: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffff })) }),
);
function mutate(seed: Buffer, muts: Mutation[], keepHeader: boolean): Buffer {
  let b = Buffer.from(seed);
  for (const m of muts) {
    if (b.length === 0) break;
    const lo = keepHeader ? Math.min(19, b.length - 1) : 0;
    const at = lo + (m.at % Math.max(1, b.length - lo));
    if (m.kind === 'flip') b[at]! ^= 1 << m.bit;
    else if (m.kind === 'set') b[at] = m.v;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (at + 1 < b.length) b.writeUInt16BE(m.v, at);
  }
  if (keepHeader && b.length >= 19) b.writeUInt16BE(b.length, 16); // keep the frame valid so the body reaches the decoder
  return b;
}

describe('fuzz: only WireError, always terminates', () => {
  it('random byte streams (60,000 cases)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.nat(), fc.nat(1), (raw, marker, split, ci) => {
      // Half the cases start with a valid marker so the length/type checks and decoders are reached.
      const bytes = Buffer.from(raw);
      if (marker && bytes.length >= 16) bytes.fill(0xff, 0, 16);
      run(bytes, CTXS[ci]!, split % (bytes.length + 1));
    }), { numRuns: 60_000 });
  }, 30_000);

  it('mutated valid messages through the framer (60,000 cases)', () => {
    fc.assert(fc.property(fc.nat(SEEDS.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat(), fc.nat(1),
      (si, muts, keepHeader, split, ci) => {
        const b = mutate(SEEDS[si]!, muts, keepHeader);
        run(b, CTXS[ci]!, split % (b.length + 1));
      }), { numRuns: 60_000 });
  }, 30_000);

  it('mutated message bodies straight into decodeMessage (60,000 cases)', () => {
    fc.assert(fc.property(fc.nat(SEEDS.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.nat(1), (si, muts, ci) => {
      const seed = SEEDS[si]!;
      const body = mutate(seed.subarray(19), muts, false);
      decodeAll(seed[18]!, body, CTXS[ci]!, new Interner());
    }), { numRuns: 60_000 });
  }, 30_000);
});
