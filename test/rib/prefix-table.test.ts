// The table's typed readers for the dataplane and the API: a slot's prefix as a value, as a
// uint32, written into a caller's buffer, and as text only when asked.
import { describe, expect, it } from 'vitest';
import { PrefixTable } from '../../src/rib/prefix-table.js';
import { IPV6_UNICAST } from '../../src/bgp/wire/types.js';
import { mustParsePrefix, parseIpv4 } from '../../src/net/index.js';

describe('PrefixTable readers', () => {
  const t = new PrefixTable();
  const s4 = t.get4(parseIpv4('10.244.2.0'), 26);
  const s6 = t.get(IPV6_UNICAST, mustParsePrefix('fd00:1::/64').addr.toBytes(), 64);

  it('gives family, value and text', () => {
    expect([t.familyOf(s4), t.familyOf(s6)]).toEqual([4, 6]);
    expect(t.prefix(s4).equals(mustParsePrefix('10.244.2.0/26'))).toBe(true);
    expect(t.prefix(s6).toString()).toBe('fd00:1::/64');
    expect(t.text(s4)).toBe('10.244.2.0/26');
    expect(t.addr4[s4]).toBe(0x0af40200);
  });
  it('writes the address at an offset', () => {
    const buf = new Uint8Array(24);
    expect(t.writeAddr(s4, buf, 2)).toBe(6);
    expect(t.writeAddr(s6, buf, 6)).toBe(22);
    expect(Buffer.from(buf).toString('hex')).toBe('00000af40200fd0000010000000000000000000000000000');
  });
  it('finds a slot by value', () => {
    expect(t.findPrefix(mustParsePrefix('10.244.2.0/26'))).toBe(s4);
    expect(t.findPrefix(mustParsePrefix('fd00:1::/64'))).toBe(s6);
    expect(t.findPrefix(mustParsePrefix('10.244.2.0/27'))).toBe(-1);
  });
});
