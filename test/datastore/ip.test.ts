// Tests for the config-time address helpers: canonical text (RFC 5952), CIDR parsing,
// containment and the peerIP "ip", "ip:port", "[v6]:port" forms.
import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../../src/datastore/host-port.js';
import { mustParseAddr, parseAddr, parsePrefix, type Prefix } from '../../src/net/index.js';

// The config-time names these tests were written against, now over src/net.
const parseIP = (t: string): { text: string } | null => { const a = parseAddr(t); return a === null ? null : { text: a.toString() }; };
const parseCIDR = parsePrefix;
const cidrContains = (outer: Prefix, inner: Prefix): boolean => outer.contains(inner);

describe('parseIP', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:0DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['::1.2.3.4', '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fd00:0:0:1::0:5', 'fd00:0:0:1::5'],
  ])('%s → %s', (input, want) => {
    expect(parseIP(input)?.text).toBe(want);
  });

  it('rejects non-addresses', () => {
    for (const s of ['10.0.0.300', '1.2.3', 'fe80::1%eth0', '', 'x']) expect(parseIP(s)).toBeNull();
  });
});

describe('parseCIDR', () => {
  it('keeps the host part and computes the network', () => {
    const c = parseCIDR('198.18.0.1/24');
    expect(c?.addr.toString()).toBe('198.18.0.1');
    expect(c?.network().toString()).toBe('198.18.0.0/24');
    expect(c?.len).toBe(24);
  });
  it('rejects bad lengths', () => {
    expect(parseCIDR('10.0.0.0/33')).toBeNull();
    expect(parseCIDR('10.0.0.0')).toBeNull();
    expect(parseCIDR('fd00::/129')).toBeNull();
  });
  it('tests containment by family and prefix', () => {
    const pool = parseCIDR('10.244.0.0/16')!;
    expect(cidrContains(pool, parseCIDR('10.244.1.0/26')!)).toBe(true);
    expect(cidrContains(pool, parseCIDR('10.245.1.0/26')!)).toBe(false);
    expect(cidrContains(pool, parseCIDR('10.0.0.0/8')!)).toBe(false);
    expect(cidrContains(parseCIDR('fd00::/48')!, parseCIDR('fd00::40/122')!)).toBe(true);
  });
});

describe('parseHostPort', () => {
  it('parses every peerIP form', () => {
    expect(parseHostPort('10.0.0.1')).toEqual({ host: mustParseAddr('10.0.0.1'), port: undefined });
    expect(parseHostPort('10.0.0.1:1790')).toEqual({ host: mustParseAddr('10.0.0.1'), port: 1790 });
    expect(parseHostPort('[fd00::1]:179')).toMatchObject({ host: { family: 6 }, port: 179 });
    expect(parseHostPort('[fd00::1]:179')).toEqual({ host: mustParseAddr('fd00::1'), port: 179 });
    expect(parseHostPort('fd00::1')).toEqual({ host: mustParseAddr('fd00::1'), port: undefined });
  });
  it('explains bad forms', () => {
    expect(parseHostPort('10.0.0.300')).toBe('"10.0.0.300" is not an IP address');
    expect(parseHostPort('10.0.0.1:0')).toMatch(/port "0"/);
    expect(parseHostPort('10.0.0.1:70000')).toMatch(/port "70000"/);
    expect(parseHostPort('[10.0.0.1]:179')).toMatch(/not an IPv6/);
  });
});
