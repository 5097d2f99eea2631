// Examples for src/net: the parse errors a user would make, RFC 5952 text, buffer writes.
import { describe, expect, it } from 'vitest';
import { checkPrefix, containsV4, formatIpv6, IpAddr, maskV4, mustParseAddr, mustParsePrefix, NetParseError, parseAddr, parseIpv4, parseIpv6Into, parsePrefix, Prefix } from '../../src/net/index.js';

describe('addresses', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::', '::'],
    ['2001:0DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ])('%s → %s', (text, want) => {
    expect(parseAddr(text)?.toString()).toBe(want);
  });
  it('rejects what is not an address', () => {
    for (const t of ['', 'x', '1.2.3', '01.2.3.4', '1.2.3.256', '1.2.3.4.', 'fe80::1%eth0', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12345::', '::1.2.3', ':1::', '1::2:']) {
      expect(parseAddr(t), t).toBeNull();
    }
    expect(() => mustParseAddr('10.0.0.300')).toThrow('invalid IPv4 address "10.0.0.300"');
  });
  it('IPv4 stays a number; /0 masks nothing', () => {
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(maskV4(0)).toBe(0);
    expect(maskV4(32)).toBe(0xffffffff);
    expect(containsV4(0x0a000000, 8, 0x0a010000, 16)).toBe(true);
    expect(containsV4(0x0a000000, 8, 0x0b000000, 16)).toBe(false);
    expect(containsV4(0x0a000000, 16, 0x0a000000, 8)).toBe(false);
  });
  it('parses IPv6 into a caller buffer at an offset, and prints mapped addresses dotted on request', () => {
    const buf = new Uint8Array(20).fill(7);
    expect(parseIpv6Into('::ffff:198.18.0.1', buf, 2)).toBe(true);
    expect(Buffer.from(buf).toString('hex')).toBe('070700000000000000000000ffffc61200010707');
    expect(formatIpv6(buf, 2)).toBe('::ffff:c612:1');
    expect(formatIpv6(buf, 2, true)).toBe('::ffff:198.18.0.1');
  });
  it('writes addresses at an offset', () => {
    const buf = new Uint8Array(8);
    expect(mustParseAddr('10.1.2.3').write(buf, 3)).toBe(7);
    expect([...buf]).toEqual([0, 0, 0, 10, 1, 2, 3, 0]);
    expect(IpAddr.read(4, buf, 3).toString()).toBe('10.1.2.3');
  });
});

describe('prefixes', () => {
  it('keeps, clears or rejects host bits as asked', () => {
    expect(parsePrefix('198.18.0.1/24')?.toString()).toBe('198.18.0.1/24');
    expect(parsePrefix('198.18.0.1/24')?.network().toString()).toBe('198.18.0.0/24');
    expect(parsePrefix('198.18.0.1/24', { hostBits: 'clear' })?.toString()).toBe('198.18.0.0/24');
    expect(parsePrefix('fd00::1/64', { hostBits: 'clear' })?.toString()).toBe('fd00::/64');
    expect(() => mustParsePrefix('10.0.0.1/24', { hostBits: 'reject' })).toThrow('invalid prefix "10.0.0.1/24": host bits set beyond /24');
  });
  it('says why text is not a prefix', () => {
    const reason = (t: string) => { const r = checkPrefix(t); return r instanceof NetParseError ? r.reason : 'ok'; };
    expect(reason('10.0.0.0')).toBe('missing-length');
    expect(reason('10.0.0/8')).toBe('address');
    expect(reason('10.0.0.0/33')).toBe('length');
    expect(reason('10.0.0.0/-1')).toBe('length');
    expect(reason('10.0.0.0/')).toBe('length');
    expect(reason('fd00::/129')).toBe('length');
    expect(reason('fd00::/128')).toBe('ok');
  });
  it('contains and has follow BIRD: the inner prefix is as long or longer', () => {
    const p = mustParsePrefix('10.244.0.0/16');
    expect(p.contains(mustParsePrefix('10.244.1.0/26'))).toBe(true);
    expect(p.contains(mustParsePrefix('10.0.0.0/8'))).toBe(false);
    expect(p.contains(mustParsePrefix('fd00::/8'))).toBe(false);
    expect(mustParsePrefix('fd00::/48').contains(mustParsePrefix('fd00::40/122'))).toBe(true);
    expect(p.has(mustParseAddr('10.244.9.9'))).toBe(true);
    expect(Prefix.v4(0, 0).has(mustParseAddr('1.2.3.4'))).toBe(true);
  });
  it('orders by family, address, then length', () => {
    const sorted = ['fd00::/8', '10.0.0.0/16', '10.0.0.0/8', '9.0.0.0/8'].map((t) => mustParsePrefix(t)).sort((a, b) => a.compare(b)).map(String);
    expect(sorted).toEqual(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', 'fd00::/8']);
  });
});
