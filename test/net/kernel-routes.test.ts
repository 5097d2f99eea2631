// The next-hop interface resolver through kernel routes (src/net/kernel-routes.ts): Calico's BIRD
// resolves a BGP next hop recursively (`gateway recursive`) through a table holding the kernel's
// routes (`protocol kernel { learn; }`) and the connected ones, and a route's `ifname` (what a
// BGPFilter `interface` rule matches) is the interface of the route to its next hop. Fixtures are
// written by hand in the kernel's formats (net/ipv4/fib_trie.c fib_route_seq_show: words in host
// byte order; net/ipv6/route.c rt6_info_route); one test compares with the host's own table.
import { endianness } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelRouteInterfaceResolver, parseProcIpv6Route, parseProcRoute } from '../../src/net/kernel-routes.js';

const HEAD = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
// A little-endian kernel prints 198.18.0.0 (bytes c6 12 00 00) as the word 000012C6.
const V4 = [
  HEAD,
  'eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0', // default via 192.168.0.1 metric 100
  'eth9\t00000000\t0100A8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0', // default, lower metric: wins
  'eth0\t000012C6\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0', // 198.18.0.0/16 connected
  'eth1\t004613C6\t010012C6\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 198.19.70.0/24 via 198.18.0.1
  '*\t000246C6\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 198.70.2.0/24 unreachable (RTF_REJECT)
].join('\n');
const V6 = [
  // fd00:198:18:1::/64 dev eth0
  'fd000198001800010000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
  // fd00:99::/32 via fd00:198:18:1::1 dev eth2
  'fd000099000000000000000000000000 20 00000000000000000000000000000000 00 fd000198001800010000000000000001 00000400 00000001 00000000 00000003     eth2',
  // a local address (lo) and a reject route: no interface
  'fd000198001800010000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo',
  'fd00aaaa000000000000000000000000 30 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00000201     eth0',
].join('\n');

describe('kernel routes: parsing', () => {
  it('/proc/net/route: prefixes from host-order words and masks; rejects and "*" skipped', () => {
    expect(parseProcRoute(V4, 'LE').map((e) => `${e.net.toString()} ${e.iface} ${e.metric}`)).toEqual([
      '0.0.0.0/0 eth0 100', '0.0.0.0/0 eth9 50', '198.18.0.0/16 eth0 0', '198.19.70.0/24 eth1 0',
    ]);
    // The same words printed by a big-endian kernel.
    expect(parseProcRoute(`${HEAD}\neth0\tC6120000\t00000000\t0001\t0\t0\t0\tFFFF0000\t0\t0\t0`, 'BE')[0]?.net.toString()).toBe('198.18.0.0/16');
  });

  it('/proc/net/ipv6_route: prefixes with hex lengths; lo and rejects skipped', () => {
    expect(parseProcIpv6Route(V6).map((e) => `${e.net.toString()} ${e.iface}`)).toEqual(['fd00:198:18:1::/64 eth0', 'fd00:99::/32 eth2']);
  });
});

describe('kernelRouteInterfaceResolver', () => {
  it('a next hop behind a gateway gets the interface of the longest route to it, then the lowest metric', () => {
    const r = kernelRouteInterfaceResolver({ readV4: () => V4, readV6: () => V6, endian: 'LE' });
    expect(r('198.19.70.5')).toBe('eth1');
    expect(r('198.18.3.4')).toBe('eth0');
    expect(r('203.0.113.9')).toBe('eth9'); // only the default covers it: the lower metric's
    expect(r('198.70.2.1')).toBe('eth9'); // the unreachable /24 leads nowhere; the default does
    expect(r('fd00:99::5')).toBe('eth2');
    expect(r('fd00:aaaa::1')).toBeUndefined(); // reject route skipped, no IPv6 default here
    expect(r('not an address')).toBeUndefined();
  });

  it('reads the tables again after the TTL', () => {
    let t = 0;
    let v4 = V4;
    const r = kernelRouteInterfaceResolver({ readV4: () => v4, readV6: () => '', endian: 'LE', ttlMs: 1000, now: () => t });
    expect(r('198.19.70.5')).toBe('eth1');
    v4 = V4.replace('eth1\t004613C6', 'ens7\t004613C6');
    expect(r('198.19.70.5')).toBe('eth1');
    t = 2000;
    expect(r('198.19.70.5')).toBe('ens7');
  });

  it('agrees with the kernel on this host\'s own table (ip route get)', () => {
    // For each route of the main table, an address inside it: the kernel's own lookup names the
    // same interface (answers that are local or broadcast addresses, or errors, are not compared).
    const r = kernelRouteInterfaceResolver({ endian: endianness() });
    let compared = 0;
    for (const e of parseProcRoute(readFileSync('/proc/net/route', 'utf8'))) {
      const probe = e.net.len === 0 ? '198.51.100.1' : e.net.len >= 31 ? e.net.addr.toString()
        : e.net.addr.toString().replace(/\d+$/, (x) => String(Number(x) + 1));
      let got: Array<{ dev?: string; type?: string }>;
      try {
        got = JSON.parse(execFileSync('ip', ['-j', 'route', 'get', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as typeof got;
      } catch {
        continue;
      }
      if (got[0]?.type !== undefined && got[0].type !== 'unicast') continue;
      expect(r(probe), probe).toBe(got[0]?.dev);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });
});
