// calico-node's start-up decisions (node/pkg/lifecycle/startup/startup.go configureIPsAndSubnets,
// checkConflictingNodes; autodetection/autodetection_methods.go; confd hashToIPv4) against a
// fixed set of interfaces: each autodetection method, IP/IP6 values, AS, router ID, duplicates.
import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/datastore/resources.js';
import { autodetect, globToRegExp, localCidr, type HostInterface } from '../../src/startup/autodetect.js';
import { hashToIPv4, resolveIdentity, StartupError } from '../../src/startup/identity.js';
import { defaultPools } from '../../src/startup/pools.js';
import { emptyResources } from '../../src/datastore/resources.js';

const IFS: HostInterface[] = [
  { name: 'lo', cidrs: ['127.0.0.1/8', '::1/128'] },
  { name: 'docker0', cidrs: ['172.17.0.1/16'] },
  { name: 'eth0', cidrs: ['10.0.0.5/24', 'fe80::1/64', 'fd00::5/64'] },
  { name: 'eth1', cidrs: ['192.168.50.7/24', 'fd01::7/64'] },
  { name: 'cali1234', cidrs: ['169.254.1.1/32'] },
];
const interfaces = () => IFS;

function node(name: string, bgp: Node['spec']['bgp'] = {}): Node {
  return { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels: {}, annotations: {} }, spec: { bgp }, origin: { file: 't', document: 1 } };
}

describe('autodetection methods', () => {
  it('first-found skips excluded interfaces, loopback and link-local', async () => {
    expect((await autodetect(undefined, 4, { interfaces })).cidr).toBe('10.0.0.5/24');
    expect((await autodetect('first-found', 6, { interfaces })).cidr).toBe('fd00::5/64');
  });

  it('interface= and skip-interface= take comma-separated regexes', async () => {
    expect((await autodetect('interface=eth1', 4, { interfaces })).cidr).toBe('192.168.50.7/24');
    expect((await autodetect('interface=nope.*, eth[01]', 4, { interfaces })).cidr).toBe('10.0.0.5/24');
    expect((await autodetect('interface=docker.*', 4, { interfaces })).cidr).toBe('172.17.0.1/16'); // no default exclusions
    expect((await autodetect('skip-interface=eth0', 4, { interfaces })).cidr).toBe('192.168.50.7/24');
    expect((await autodetect('skip-interface=eth0', 6, { interfaces })).cidr).toBe('fd01::7/64');
  });

  it('cidr= picks the first address inside one of the networks', async () => {
    expect((await autodetect('cidr=192.168.0.0/16', 4, { interfaces })).cidr).toBe('192.168.50.7/24');
    expect((await autodetect('cidr=fd01::/16,10.0.0.0/8', 6, { interfaces })).cidr).toBe('fd01::7/64');
    await expect(autodetect('cidr=bogus', 4, { interfaces })).rejects.toThrow(/Invalid CIDR "bogus"/);
  });

  it('kubernetes-internal-ip takes the Node InternalIP with the prefix of the interface holding it', async () => {
    expect((await autodetect('kubernetes-internal-ip', 4, { interfaces, internalIPs: ['192.168.50.7', 'fd00::5'] })).cidr).toBe('192.168.50.7/24');
    expect((await autodetect('kubernetes-internal-ip', 6, { interfaces, internalIPs: ['192.168.50.7', 'fd00::5'] })).cidr).toBe('fd00::5/64');
    await expect(autodetect('kubernetes-internal-ip', 4, { interfaces })).rejects.toThrow(/not running on a Kubernetes cluster/);
  });

  it('ignoredInterfaces (globs) are never used, and unknown methods are refused', async () => {
    expect((await autodetect('first-found', 4, { interfaces, ignored: ['eth0'] })).cidr).toBe('192.168.50.7/24');
    expect(globToRegExp('eth*').test('eth12')).toBe(true);
    expect(globToRegExp('eth?').test('eth12')).toBe(false);
    await expect(autodetect('first-found', 4, { interfaces, ignored: ['eth*'] })).rejects.toThrow(/Unable to auto-detect an IPv4 address/);
    await expect(autodetect('magic', 4, { interfaces })).rejects.toThrow('Invalid IP autodetection method: magic');
  });

  it('can-reach= takes the source address the kernel picks toward the destination', async () => {
    expect((await autodetect('can-reach=127.0.0.1', 4, { interfaces: () => [] })).cidr).toBe('127.0.0.1/32');
    expect(localCidr('10.0.0.5', IFS)).toBe('10.0.0.5/24');
  });
});

describe('resolveIdentity (calico-node configureIPsAndSubnets)', () => {
  const base = { nodeName: 'n1', others: [], interfaces };

  it('autodetects IPv4 when IP is unset and the Node has none; keeps a stored one otherwise', async () => {
    const fresh = await resolveIdentity({ ...base, env: {}, node: undefined });
    expect(fresh.bgp).toEqual({ ipv4Address: '10.0.0.5/24' });
    expect(fresh.changed).toEqual({ ipv4Address: '10.0.0.5/24' });
    const kept = await resolveIdentity({ ...base, env: {}, node: node('n1', { ipv4Address: '192.168.50.7/24' }) });
    expect(kept.bgp.ipv4Address).toBe('192.168.50.7/24');
    expect(kept.changed).toEqual({});
  });

  it('IP=autodetect re-detects; an explicit IP takes the interface prefix; IP=none keeps what is stored', async () => {
    const re = await resolveIdentity({ ...base, env: { IP: 'autodetect', IP_AUTODETECTION_METHOD: 'interface=eth1' }, node: node('n1', { ipv4Address: '10.0.0.5/24' }) });
    expect(re.changed).toEqual({ ipv4Address: '192.168.50.7/24' });
    expect((await resolveIdentity({ ...base, env: { IP: '10.0.0.5' }, node: undefined })).bgp.ipv4Address).toBe('10.0.0.5/24');
    expect((await resolveIdentity({ ...base, env: { IP: 'none', IP6: 'fd00::5/64', CALICO_ROUTER_ID: 'hash' }, node: undefined })).bgp)
      .toEqual({ ipv6Address: 'fd00::5/64' });
    await expect(resolveIdentity({ ...base, env: { IP: 'none' }, node: undefined })).rejects.toThrow(/No IP Addresses configured/);
    await expect(resolveIdentity({ ...base, env: { IP: '10.0.0.999' }, node: undefined })).rejects.toThrow(/not an IPv4 address/);
  });

  it('IPv6 is detected only when IP6=autodetect; an IPv6-only node needs CALICO_ROUTER_ID', async () => {
    expect((await resolveIdentity({ ...base, env: {}, node: undefined })).bgp.ipv6Address).toBeUndefined();
    const v6 = await resolveIdentity({ ...base, env: { IP: 'none', IP6: 'autodetect', CALICO_ROUTER_ID: 'hash' }, node: undefined });
    expect(v6.bgp).toEqual({ ipv6Address: 'fd00::5/64' });
    expect(v6.routerId).toBe(hashToIPv4('n1'));
    await expect(resolveIdentity({ ...base, env: { IP: 'none', IP6: 'autodetect' }, node: undefined })).rejects.toThrow(/CALICO_ROUTER_ID=hash/);
  });

  it('hash router IDs are SHA-256 of the node name, first octet kept below 224 (confd hashToIPv4)', () => {
    // sha256("b") starts 3e 23 e8 16.
    expect(hashToIPv4('b')).toBe('62.35.232.22');
    expect(hashToIPv4('n1').split('.').map(Number)[0]).toBeLessThan(224);
  });

  it('AS sets the node AS; CALICO_ROUTER_ID takes an address', async () => {
    const r = await resolveIdentity({ ...base, env: { AS: '64600', CALICO_ROUTER_ID: '1.2.3.4' }, node: node('n1', { ipv4Address: '10.0.0.5/24' }) });
    expect(r.bgp.asNumber).toBe(64600);
    expect(r.changed).toEqual({ asNumber: 64600 });
    expect(r.routerId).toBe('1.2.3.4');
    await expect(resolveIdentity({ ...base, env: { AS: 'x' }, node: undefined })).rejects.toThrow(StartupError);
  });

  it('refuses an address another Node already has, with calico-node\'s message', async () => {
    const others = [node('n2', { ipv4Address: '10.0.0.5/16' })];
    await expect(resolveIdentity({ ...base, others, env: {}, node: undefined }))
      .rejects.toThrow("Calico node 'n2' is already using the IPv4 address 10.0.0.5.");
  });
});

describe('default pools (calico-node configureIPPools)', () => {
  it('creates the IPv4 default when no IPv4 pool exists, shaped by CALICO_IPV4POOL_*', () => {
    const [p] = defaultPools({}, emptyResources(), { v4: true, v6: false });
    expect(p!.metadata.name).toBe('default-ipv4-ippool');
    expect(p!.spec).toEqual({ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, disabled: false, disableBGPExport: false, nodeSelector: 'all()' });
    const [q] = defaultPools({ CALICO_IPV4POOL_CIDR: '10.244.0.0/16', CALICO_IPV4POOL_BLOCK_SIZE: '24', CALICO_IPV4POOL_IPIP: 'CrossSubnet',
      CALICO_IPV4POOL_NAT_OUTGOING: 'false', CALICO_IPV4POOL_NODE_SELECTOR: 'zone == "a"', CALICO_IPV4POOL_DISABLE_BGP_EXPORT: 'true' }, emptyResources(), { v4: true, v6: false });
    expect(q!.spec).toMatchObject({ cidr: '10.244.0.0/16', blockSize: 24, ipipMode: 'CrossSubnet', natOutgoing: false, nodeSelector: 'zone == "a"', disableBGPExport: true });
    const [v6] = defaultPools({ CALICO_IPV6POOL_CIDR: 'fd00:10::/48', CALICO_IPV6POOL_VXLAN: 'Always' }, emptyResources(), { v4: false, v6: true });
    expect(v6!.spec).toMatchObject({ cidr: 'fd00:10::/48', blockSize: 122, vxlanMode: 'Always', natOutgoing: false });
  });

  it('creates nothing with NO_DEFAULT_POOLS or when a pool of the family exists; refuses bad values', () => {
    expect(defaultPools({ NO_DEFAULT_POOLS: 'true' }, emptyResources(), { v4: true, v6: true })).toEqual([]);
    const rs = emptyResources();
    rs.ipPools.push(defaultPools({}, emptyResources(), { v4: true, v6: false })[0]!);
    expect(defaultPools({}, rs, { v4: true, v6: false })).toEqual([]);
    expect(() => defaultPools({ CALICO_IPV4POOL_IPIP: 'sometimes' }, emptyResources(), { v4: true, v6: false })).toThrow(/must be Always, CrossSubnet or Never/);
    expect(() => defaultPools({ CALICO_IPV4POOL_CIDR: '10.0.0.1/16' }, emptyResources(), { v4: true, v6: false })).toThrow(/not an IPv4 network/);
  });
});
