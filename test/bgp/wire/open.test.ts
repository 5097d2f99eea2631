// OPEN and capabilities: parse / encode / mirror against hand-written bytes, syntax errors,
// validateOpen's RFC 4271 §6.2 checks and capability negotiation.
import { describe, expect, it } from 'vitest';
import { decodeOpen, encodeOpen } from '../../../src/bgp/wire/open.js';
import { emptyCapabilities } from '../../../src/bgp/wire/capabilities.js';
import { negotiate, validateOpen } from '../../../src/bgp/wire/validate.js';
import { WireError } from '../../../src/bgp/wire/errors.js';
import { IPV4_UNICAST, IPV6_UNICAST, type Capabilities, type OpenMessage } from '../../../src/bgp/wire/types.js';
import { cap, hex, ip4, msg, u16, u32, u8 } from '../../fixtures/bytes.js';

// Capabilities in the encoder's order (table order), so the same bytes serve encode and decode.
const CAPS = [
  cap(1, u16(1), '00', '01'),                  // MP: IPv4 unicast
  cap(1, u16(2), '00', '01'),                  // MP: IPv6 unicast
  cap(2),                                      // route refresh
  cap(6),                                      // extended message
  cap(70),                                     // enhanced route refresh
  cap(64, u16(0x8000 | 0x4000 | 120),          // GR: R and N bits, restart time 120
    u16(1), '01', '80',                        //   IPv4 unicast, forwarding preserved
    u16(2), '01', '00'),                       //   IPv6 unicast
  cap(65, u32(4200000001)),                    // 4-octet AS
  cap(69, u16(1), '01', '03', u16(2), '01', '01'), // ADD-PATH: v4 both, v6 receive
  cap(99, 'abcd'),                             // unknown, kept raw
].join('');
const OPEN_BYTES = msg(1,
  u8(4),               // version
  u16(23456),          // my AS = AS_TRANS
  u16(240),            // hold time
  ip4('10.0.0.1'),     // BGP identifier
  u8(CAPS.length / 2 + 2), // optional parameters length
  u8(2), u8(CAPS.length / 2), CAPS, // one capabilities parameter
);

const CAPS_VALUE: Capabilities = {
  multiprotocol: [IPV4_UNICAST, IPV6_UNICAST],
  routeRefresh: true, extendedMessage: true, enhancedRouteRefresh: true,
  gracefulRestart: { restartState: true, notification: true, restartTime: 120, families: [
    { family: IPV4_UNICAST, forwardingPreserved: true }, { family: IPV6_UNICAST, forwardingPreserved: false }] },
  fourOctetAs: 4200000001,
  addPath: [{ family: IPV4_UNICAST, mode: 3 }, { family: IPV6_UNICAST, mode: 1 }],
  unknown: [{ code: 99, value: hex('abcd') }],
};
const OPEN_VALUE: OpenMessage = { type: 1, version: 4, myAs: 23456, holdTime: 240, bgpId: 0x0a000001, capabilities: CAPS_VALUE };

const wireErr = (f: () => unknown): WireError => {
  try { f(); } catch (e) { if (e instanceof WireError) return e; throw e; }
  throw new Error('no error');
};

describe('OPEN codec', () => {
  it('parses', () => { expect(decodeOpen(OPEN_BYTES.subarray(19))).toEqual(OPEN_VALUE); });
  it('encodes', () => { expect(encodeOpen(OPEN_VALUE).toString('hex')).toBe(OPEN_BYTES.toString('hex')); });
  it('mirrors', () => { expect(decodeOpen(encodeOpen(OPEN_VALUE).subarray(19))).toEqual(OPEN_VALUE); });

  it('parses an OPEN without parameters and capabilities split over several parameters', () => {
    const body = hex(u8(4), u16(65000), u16(90), ip4('1.1.1.1'), u8(12),
      u8(2), u8(6), cap(65, u32(65000)), u8(2), u8(2), cap(2));
    const o = decodeOpen(body);
    expect(o.capabilities.fourOctetAs).toBe(65000);
    expect(o.capabilities.routeRefresh).toBe(true);
    expect(decodeOpen(hex(u8(4), u16(1), u16(0), ip4('1.1.1.1'), u8(0))).capabilities).toEqual(emptyCapabilities());
  });

  it('parses and writes the RFC 9072 extended optional parameters format', () => {
    const unknown = Array.from({ length: 3 }, (_, i) => ({ code: 100 + i, value: Buffer.alloc(100, i) }));
    const o: OpenMessage = { ...OPEN_VALUE, capabilities: { ...emptyCapabilities(), unknown } };
    const capHex = unknown.map((u) => cap(u.code, u.value.toString('hex'))).join('');
    const bytes = msg(1, u8(4), u16(23456), u16(240), ip4('10.0.0.1'),
      'ff',                       // Non-Ext OP Len = 255
      'ff',                       // Non-Ext OP Type = 255: extended format
      u16(capHex.length / 2 + 3), // Extended Opt. Parm. Length
      u8(2), u16(capHex.length / 2), capHex);
    expect(encodeOpen(o).toString('hex')).toBe(bytes.toString('hex'));
    expect(decodeOpen(bytes.subarray(19))).toEqual(o);
  });

  // Issue 11, the differential check (npm run check:differential): Kite refused an OPEN with octets
  // after its optional parameters (2/0); BIRD 2.0.12 and FRR 8.4.4 bring the session up. RFC 4271
  // §6.2 names no error for them (only parameters that are malformed or unsupported), so they are ignored.
  it('ignores octets after the optional parameters; parameters shorter than their length are still an error', () => {
    const o = decodeOpen(hex(u8(4), u16(65000), u16(90), ip4('1.1.1.1'), u8(4), u8(2), u8(2), cap(2), '010203'));
    expect(o.capabilities.routeRefresh).toBe(true);
    expect(o.holdTime).toBe(90);
    // Optional parameters length one short: the capability parameter runs past it (2/0), as BIRD says.
    const e = wireErr(() => decodeOpen(hex(u8(4), u16(65000), u16(90), ip4('1.1.1.1'), u8(3), u8(2), u8(2), cap(2))));
    expect([e.code, e.subcode]).toEqual([2, 0]);
  });

  it('rejects an unsupported optional parameter (2/4)', () => {
    const e = wireErr(() => decodeOpen(hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(4), u8(1), u8(2), '0000')));
    expect([e.code, e.subcode]).toEqual([2, 4]);
  });
  it.each([
    ['parameters length past the end', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(5), u8(2), u8(2), cap(2))],
    ['capability past its parameter', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(4), u8(2), u8(2), '4104')],
    ['bad 4-octet AS length', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(5), u8(2), u8(3), '410100')],
    ['bad MP length', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(5), u8(2), u8(3), '010100')],
    ['bad route refresh length', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(5), u8(2), u8(3), '020100')],
    ['bad ADD-PATH length', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(5), u8(2), u8(3), '450100')],
    ['bad graceful restart length', hex(u8(4), u16(1), u16(90), ip4('1.1.1.1'), u8(5), u8(2), u8(3), '400100')],
  ])('rejects %s as an OPEN error', (_n, body) => {
    expect(wireErr(() => decodeOpen(body)).code).toBe(2);
  });
});

describe('validateOpen (RFC 4271 §6.2)', () => {
  const base: OpenMessage = { type: 1, version: 4, myAs: 65001, holdTime: 90, bgpId: 0x01010101, capabilities: { ...emptyCapabilities(), fourOctetAs: 65001 } };
  const expect_ = { peerAs: 65001, localBgpId: 0x02020202, ibgp: false };
  const sub = (o: Partial<OpenMessage>, e = expect_) => validateOpen({ ...base, ...o }, e)?.subcode ?? null;
  it('accepts a good OPEN', () => { expect(sub({})).toBeNull(); });
  it('version ≠ 4: Unsupported Version with data 0x0004', () => {
    const e = validateOpen({ ...base, version: 3 }, expect_)!;
    expect([e.code, e.subcode, e.data.toString('hex')]).toEqual([2, 1, '0004']);
  });
  it('hold time 1 or 2: Unacceptable Hold Time; 0 and 3 are fine', () => {
    expect(sub({ holdTime: 1 })).toBe(6); expect(sub({ holdTime: 2 })).toBe(6);
    expect(sub({ holdTime: 0 })).toBeNull(); expect(sub({ holdTime: 3 })).toBeNull();
  });
  it('BGP ID 0 / equal to ours on iBGP: Bad BGP Identifier; all ones is valid (RFC 6286 §2.1)', () => {
    expect(sub({ bgpId: 0 })).toBe(3);
    // Issue 11: Kite refused 255.255.255.255 with 2/3. RFC 6286 §2.1 makes the identifier any
    // non-zero 4-octet number; BIRD and FRR accept it.
    expect(sub({ bgpId: 0xffffffff })).toBeNull();
    expect(sub({ bgpId: 0xffffffff }, { ...expect_, ibgp: true })).toBeNull();
    expect(sub({ bgpId: 0x02020202 }, { ...expect_, ibgp: true })).toBe(3);
    expect(sub({ bgpId: 0x02020202 })).toBeNull();
  });
  it('peer AS from the 4-octet capability: Bad Peer AS on mismatch', () => {
    expect(sub({ myAs: 23456, capabilities: { ...emptyCapabilities(), fourOctetAs: 4200000001 } }, { ...expect_, peerAs: 4200000001 })).toBeNull();
    expect(sub({ myAs: 23456, capabilities: { ...emptyCapabilities(), fourOctetAs: 4200000002 } }, { ...expect_, peerAs: 4200000001 })).toBe(2);
    expect(sub({ myAs: 65002, capabilities: emptyCapabilities() })).toBe(2);
    expect(sub({ myAs: 65001, capabilities: emptyCapabilities() })).toBeNull();
  });
});

describe('negotiate', () => {
  const c = (o: Partial<Capabilities>): Capabilities => ({ ...emptyCapabilities(), ...o });
  it('computes families, 4-octet AS, ADD-PATH directions, extended message, refresh and GR', () => {
    const gr = { restartState: false, notification: false, restartTime: 120, families: [] };
    const local = c({ multiprotocol: [IPV4_UNICAST, IPV6_UNICAST], fourOctetAs: 1, extendedMessage: true, routeRefresh: true, gracefulRestart: gr,
      addPath: [{ family: IPV4_UNICAST, mode: 3 }, { family: IPV6_UNICAST, mode: 1 }] });
    const remote = c({ multiprotocol: [IPV4_UNICAST, IPV6_UNICAST], fourOctetAs: 2, routeRefresh: true, gracefulRestart: gr,
      addPath: [{ family: IPV4_UNICAST, mode: 1 }, { family: IPV6_UNICAST, mode: 2 }] });
    const n = negotiate(local, remote, true);
    expect(n.families).toEqual([IPV4_UNICAST, IPV6_UNICAST]);
    expect(n.fourOctetAs).toBe(true);
    expect([...n.addPathTx]).toEqual([IPV4_UNICAST]); // we send, they receive
    expect([...n.addPathRx]).toEqual([IPV6_UNICAST]); // we receive, they send
    expect(n.extendedMessage).toBe(false);
    expect(n.routeRefresh).toBe(true);
    expect(n.gracefulRestart).toBe(true);
    expect(n.remoteGracefulRestart).toEqual(gr);
    expect(n.ibgp).toBe(true);
  });
  it('implies IPv4 unicast without MP and drops families not in common', () => {
    const n = negotiate(c({ multiprotocol: [IPV4_UNICAST, IPV6_UNICAST] }), c({}), false);
    expect(n.families).toEqual([IPV4_UNICAST]);
    expect(n.fourOctetAs).toBe(false);
  });
});
