// The next-hop interface resolver (src/net/connected.ts): a next hop on a connected subnet gets
// that interface (the longest subnet wins), anything else none, as BIRD's ifname would for
// directly reachable next hops; readings of the interfaces are cached for the TTL.
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { connectedInterfaceResolver } from '../../src/net/connected.js';

const v4 = (address: string, cidr: string, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr });
const v6 = (address: string, cidr: string): NetworkInterfaceInfo =>
  ({ address, netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr, scopeid: 0 });

describe('connectedInterfaceResolver', () => {
  it('names the interface whose subnet holds the next hop, the longest subnet first', () => {
    const r = connectedInterfaceResolver({ list: () => ({
      lo: [v4('127.0.0.1', '127.0.0.1/8', true)],
      eth0: [v4('198.18.0.1', '198.18.0.1/16'), v6('fd00::1', 'fd00::1/64')],
      eth1: [v4('198.18.7.1', '198.18.7.1/24')],
    }) });
    expect(r('198.18.0.2')).toBe('eth0');
    expect(r('198.18.7.9')).toBe('eth1');
    expect(r('fd00::9')).toBe('eth0');
    expect(r('203.0.113.1')).toBeUndefined(); // behind a gateway: not resolved
    expect(r('127.0.0.2')).toBeUndefined(); // loopback is no next-hop interface
  });
  it('reads the interfaces again after the TTL', () => {
    let t = 0;
    let ifs: Record<string, NetworkInterfaceInfo[]> = { eth0: [v4('198.18.0.1', '198.18.0.1/24')] };
    const r = connectedInterfaceResolver({ list: () => ifs, ttlMs: 1000, now: () => t });
    expect(r('198.18.0.2')).toBe('eth0');
    ifs = { ens3: [v4('198.18.0.1', '198.18.0.1/24')] };
    expect(r('198.18.0.2')).toBe('eth0');
    t = 2000;
    expect(r('198.18.0.2')).toBe('ens3');
  });
});
