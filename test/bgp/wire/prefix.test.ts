// Prefix and address text helpers: parse, format, round trip, and the errors a user would make.
import { describe, expect, it } from 'vitest';
import { formatPrefix, ipv4ToUint, parsePrefix } from '../../../src/bgp/wire/prefix.js';
import { formatIpv4 as uintToIpv4, mustParseAddr } from '../../../src/net/index.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../src/bgp/wire/types.js';
import { hex } from '../../fixtures/bytes.js';

/** Text → bytes → RFC 5952 text (the parse and format the codec's IPv6 next hops go through). */
const canonical6 = (t: string): string => mustParseAddr(t).toString();

describe('prefix helpers', () => {
  it('parses IPv4 and IPv6 prefixes', () => {
    expect(parsePrefix('10.0.0.0/24')).toEqual({ family: IPV4_UNICAST, bytes: Uint8Array.from(hex('0a000000')), len: 24 });
    expect(parsePrefix('2001:db8::/32')).toEqual({ family: IPV6_UNICAST, bytes: Uint8Array.from(hex('20010db8000000000000000000000000')), len: 32 });
    expect(parsePrefix('0.0.0.0/0').len).toBe(0);
  });
  it('rejects bad text and host bits', () => {
    for (const bad of ['10.0.0.1/24', '10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '2001:db8::1/32', '2001:db8::/129', '1:2:3/8', 'x/1', '10.0.0.0/-1', '1::2::3/64']) {
      expect(() => parsePrefix(bad), bad).toThrow(Error);
    }
    expect(() => parsePrefix('10.0.0.1/24')).toThrow(/host bits/);
  });
  it('formats IPv6 per RFC 5952', () => {
    expect(canonical6(('2001:0db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(canonical6(('::'))).toBe('::');
    expect(canonical6(('fe80::1'))).toBe('fe80::1');
    expect(canonical6(('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonical6(('::ffff:1.2.3.4'))).toBe('::ffff:102:304');
  });
  it('round-trips prefix text', () => {
    for (const t of ['10.0.0.0/8', '192.168.1.128/25', '2001:db8::/32', '::/0', 'fd00:1:2:3::/64']) {
      const p = parsePrefix(t);
      expect(formatPrefix(p.family, p.bytes, p.len)).toBe(t);
    }
  });
  it('converts IPv4 text and uint32', () => {
    expect(ipv4ToUint('255.255.255.255')).toBe(0xffffffff);
    expect(uintToIpv4(0x0a000001)).toBe('10.0.0.1');
    expect(() => ipv4ToUint('1.2.3')).toThrow();
  });
});
