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

// The IPv4 hash is rebuilt from the slot arrays as it grows (rehash in slot order): across several
// growths, with freed slots reused and IPv6 slots between, every prefix is found at its one slot,
// a released one is not, and the hash holds exactly one entry per live prefix.
describe('PrefixTable growth', () => {
  it('finds every prefix after growths, releases and slot reuse', () => {
    const t = new PrefixTable();
    const slot = new Map<number, number>();
    const v4 = (i: number) => (0x0a000000 + i * 256) >>> 0;
    for (let i = 0; i < 20_000; i++) {
      slot.set(i, t.get4(v4(i), 24));
      if (i % 1000 === 0) t.get(IPV6_UNICAST, mustParsePrefix(`fd00:${i.toString(16)}::/64`).addr.toBytes(), 64);
      if (i % 3 === 0 && i > 0) { t.release(slot.get(i - 1)!); slot.delete(i - 1); }
    }
    for (let i = 20_000; i < 60_000; i++) slot.set(i, t.get4(v4(i), 24));
    expect(t.count4).toBe(slot.size);
    expect(new Set(slot.values()).size).toBe(slot.size);
    // One hash entry per live IPv4 prefix: none doubled by a rebuild, none left by a release.
    const entries = () => (t as unknown as { hash: Int32Array }).hash.filter((s) => s !== -1).length;
    expect(entries()).toBe(slot.size);
    for (const [i, s] of slot) {
      expect(t.find4(v4(i), 24)).toBe(s);
      expect(t.get4(v4(i), 24)).toBe(s);
    }
    for (let i = 2; i < 20_000; i += 3) expect(t.find4(v4(i), 24)).toBe(-1);
    for (const s of slot.values()) t.release(s);
    for (const i of slot.keys()) expect(t.find4(v4(i), 24)).toBe(-1);
    expect(t.count4).toBe(0);
    expect(entries()).toBe(0);
  });
});
