// Calico's export rules, one accept/reject pair per rule, in the order calico_export_to_bgp_peers
// applies them (see src/policy/export.ts): disableBGPExport, iBGP tunnel routes, communities,
// own blocks, service CIDRs, route-reflector allowlist, pools, and the final reject.
import { describe, expect, it } from 'vitest';
import { compileExportPolicy, peerInfo } from '../../src/policy/export.js';
import { comm, ebgp, ibgp, nodeConfig, pool, route } from './helpers.js';
import type { NodeConfig, PeerConfig } from '../../src/config/node-config.js';

const base = (over: Partial<NodeConfig> = {}) => nodeConfig({
  pools: [pool('default-ipv4-ippool', '10.244.0.0/16'), pool('v6', 'fd00:10::/48')],
  originate: [{ prefix: '10.244.1.0/26', pool: 'default-ipv4-ippool' }, { prefix: 'fd00:10::/122', pool: 'v6' }],
  ...over,
});
const exportOf = (over: Partial<NodeConfig> = {}) => compileExportPolicy(base(over), []);

describe('1. nothing inside a pool with disableBGPExport', () => {
  const p = exportOf({ pools: [pool('default-ipv4-ippool', '10.244.0.0/16'), pool('private', '10.250.0.0/16', { disableBGPExport: true }), pool('nested', '10.244.128.0/17', { disableBGPExport: true })] });
  it('rejects a route inside the pool, naming it', () => {
    expect(p.evaluate(route('10.250.3.0/26'), ebgp())).toEqual({ accept: false, reason: 'inside IPPool "private" (10.250.0.0/16), which has disableBGPExport' });
  });
  it('rejects inside a disableBGPExport pool nested in an exporting pool (checked first)', () => {
    expect(p.evaluate(route('10.244.200.0/26'), ebgp())).toMatchObject({ accept: false, reason: expect.stringContaining('"nested"') });
  });
  it('accepts the same shape of route in an exporting pool', () => {
    expect(p.evaluate(route('10.244.3.0/26'), ebgp())).toMatchObject({ accept: true, reason: 'inside IPPool "default-ipv4-ippool" (10.244.0.0/16)' });
  });
});

describe('2. to iBGP peers, nothing learned on Felix tunnel devices', () => {
  const p = exportOf();
  const tunnel = (iface: string) => route('10.244.7.0/26', { source: 'kernel', iface });
  for (const iface of ['tunl0', 'vxlan.calico', 'wireguard.cali']) {
    it(`rejects a route on ${iface} toward iBGP, accepts it toward eBGP`, () => {
      expect(p.evaluate(tunnel(iface), ibgp())).toMatchObject({ accept: false, reason: expect.stringContaining(`learned on ${iface}`) });
      expect(p.evaluate(tunnel(iface), ebgp())).toMatchObject({ accept: true });
    });
  }
  it('a borrowed workload /32 on a cali interface still goes to iBGP peers (confd matches "*.cali", not "cali*")', () => {
    expect(p.evaluate(route('10.244.9.5/32', { source: 'kernel', iface: 'cali1a2b3c4d5e6' }), ibgp())).toMatchObject({ accept: true });
  });
});

describe('3. communities from prefixAdvertisements', () => {
  const p = exportOf({
    prefixAdvertisements: [
      { cidr: '10.244.0.0/16', communities: ['65000:100', '65000:1:2'] },
      { cidr: '10.244.1.0/24', communities: ['65000:100', '65000:200'] },
      { cidr: '10.99.0.0/16', communities: ['65000:300'] },
    ],
  });
  it('adds standard and large communities of every advertisement holding the route, without duplicates', () => {
    expect(p.evaluate(route('10.244.1.0/26', { source: 'local-block' }), ebgp())).toEqual({
      accept: true, reason: 'own block 10.244.1.0/26 (IPPool "default-ipv4-ippool")',
      communities: [comm(65000, 100), comm(65000, 200)], largeCommunities: [[65000, 1, 2]],
    });
  });
  it('adds nothing to a route outside every advertised cidr', () => {
    const d = p.evaluate(route('fd00:10::/122', { source: 'local-block' }), ebgp());
    expect(d).toMatchObject({ accept: true });
    expect(d).not.toHaveProperty('communities');
  });
  it('adds nothing to a rejected route', () => {
    expect(p.evaluate(route('10.99.1.0/24'), ebgp())).toEqual({ accept: false, reason: 'not in any IPPool or service CIDR' });
  });
  it('notes a community name that never resolved', () => {
    const q = exportOf({ prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['no-such-name'] }] });
    expect(q.notes).toEqual(['prefixAdvertisement 10.244.0.0/16: community "no-such-name" is neither a value nor a defined name; ignored']);
  });
});

describe('4. own affine blocks', () => {
  const p = exportOf();
  it('advertises the block itself', () => {
    expect(p.evaluate(route('10.244.1.0/26', { source: 'local-block' }), ibgp())).toMatchObject({ accept: true, reason: 'own block 10.244.1.0/26 (IPPool "default-ipv4-ippool")' });
    expect(p.evaluate(route('fd00:10::/122', { source: 'local-block' }), ibgp())).toMatchObject({ accept: true });
  });
  it('suppresses a /32 inside an own block (the block covers it)', () => {
    expect(p.evaluate(route('10.244.1.7/32', { source: 'kernel', iface: 'cali0123456789a' }), ibgp()))
      .toEqual({ accept: false, reason: 'inside own block 10.244.1.0/26, which is advertised instead' });
    expect(p.evaluate(route('fd00:10::7/128', { source: 'kernel', iface: 'cali0123456789a' }), ibgp())).toMatchObject({ accept: false });
  });
  it('lets an elevated-priority /32 (krt_metric below 1024) out of its block; a normal one stays suppressed', () => {
    expect(p.evaluate(route('10.244.1.7/32', { source: 'kernel', iface: 'cali0123456789a', priority: 512 }), ibgp())).toMatchObject({ accept: true, reason: 'inside IPPool "default-ipv4-ippool" (10.244.0.0/16)' });
    expect(p.evaluate(route('10.244.1.7/32', { source: 'kernel', iface: 'cali0123456789a', priority: 1024 }), ibgp())).toMatchObject({ accept: false });
  });
  it('advertises a borrowed /32 outside its own blocks (it is inside the pool)', () => {
    expect(p.evaluate(route('10.244.2.9/32', { source: 'kernel', iface: 'cali0123456789a' }), ibgp())).toMatchObject({ accept: true, reason: 'inside IPPool "default-ipv4-ippool" (10.244.0.0/16)' });
  });
  it('also rejects a peer\'s route inside an own block (calico_aggr does not look at the source)', () => {
    expect(p.evaluate(route('10.244.1.8/29'), ebgp())).toMatchObject({ accept: false });
  });
});

describe('5. service CIDRs from every node unless excluded', () => {
  const services = { advertise: true, clusterIPs: ['10.96.0.0/12'], externalIPs: ['192.0.2.0/24'], loadBalancerIPs: ['198.51.100.0/24'] };
  const p = exportOf({ services });
  it('advertises the cluster IP range and service /32s inside external and LB ranges', () => {
    expect(p.evaluate(route('10.96.0.0/12', { source: 'local-static' }), ebgp())).toMatchObject({ accept: true, reason: 'service CIDR 10.96.0.0/12 (serviceClusterIPs)' });
    expect(p.evaluate(route('192.0.2.10/32', { source: 'local-static' }), ebgp())).toMatchObject({ accept: true, reason: 'service CIDR 192.0.2.0/24 (serviceExternalIPs)' });
    expect(p.evaluate(route('198.51.100.10/32', { source: 'local-static' }), ibgp())).toMatchObject({ accept: true, reason: 'service CIDR 198.51.100.0/24 (serviceLoadBalancerIPs)' });
  });
  it('rejects them on a node labelled exclude-from-external-load-balancers, saying why', () => {
    const q = exportOf({ services: { ...services, advertise: false } });
    expect(q.evaluate(route('10.96.0.0/12', { source: 'local-static' }), ebgp())).toEqual({
      accept: false, reason: 'inside service CIDR 10.96.0.0/12 (serviceClusterIPs), but this node has the label node.kubernetes.io/exclude-from-external-load-balancers=true',
    });
  });
  it('rejects an address just outside every service range', () => {
    expect(p.evaluate(route('198.51.101.0/32', { source: 'local-static' }), ebgp())).toMatchObject({ accept: false, reason: 'not in any IPPool or service CIDR' });
  });
});

describe('6. a route reflector reflects service routes in the external and LB CIDRs', () => {
  const services = { advertise: false, clusterIPs: ['10.96.0.0/12'], externalIPs: ['192.0.2.0/24'], loadBalancerIPs: ['198.51.100.0/24'] };
  const rr = exportOf({ services, routeReflectorClusterID: '224.0.0.1' });
  const plain = exportOf({ services });
  it('reflects a client\'s LB and external /32 even when its own services are excluded', () => {
    expect(rr.evaluate(route('198.51.100.10/32'), ibgp())).toEqual({ accept: true, reason: 'route reflector: inside serviceLoadBalancerIPs 198.51.100.0/24' });
    expect(rr.evaluate(route('192.0.2.10/32'), ibgp())).toMatchObject({ accept: true });
  });
  it('a node that is not a route reflector does not', () => {
    expect(plain.evaluate(route('198.51.100.10/32'), ibgp())).toMatchObject({ accept: false });
  });
  it('the allowlist does not cover cluster IPs', () => {
    expect(rr.evaluate(route('10.96.0.10/32'), ibgp())).toMatchObject({ accept: false });
  });
});

describe('7. anything else inside a pool, even a disabled one; 8. everything else rejected', () => {
  const p = exportOf({ pools: [pool('old', '10.200.0.0/16', { disabled: true }), pool('default-ipv4-ippool', '10.244.0.0/16')] });
  it('a disabled pool (allocation stopped) still exports', () => {
    expect(p.evaluate(route('10.200.4.0/26'), ebgp())).toMatchObject({ accept: true, reason: 'inside IPPool "old" (10.200.0.0/16)' });
  });
  it('a route outside every pool and service CIDR is rejected, IPv4 and IPv6', () => {
    expect(p.evaluate(route('0.0.0.0/0'), ebgp())).toEqual({ accept: false, reason: 'not in any IPPool or service CIDR' });
    expect(p.evaluate(route('2001:db8::/32'), ebgp())).toEqual({ accept: false, reason: 'not in any IPPool or service CIDR' });
  });
  it('a route covering a pool is not inside it', () => {
    expect(p.evaluate(route('10.0.0.0/8'), ebgp())).toMatchObject({ accept: false });
  });
});

describe('peerInfo', () => {
  it('is iBGP when the peer AS equals the AS this node presents', () => {
    const pc = { asNumber: 64512, localAsNumber: 64512, address: '198.18.0.2', filters: ['f'] } as unknown as PeerConfig;
    expect(peerInfo(pc)).toEqual({ ibgp: true, address: '198.18.0.2', filters: ['f'] });
    expect(peerInfo({ ...pc, localAsNumber: 65001 })).toMatchObject({ ibgp: false });
  });
});
