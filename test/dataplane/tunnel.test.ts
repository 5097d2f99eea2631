// tunl0 manager: the pure plan (create, up, MTU, only the tunnel address, removal gated on
// in-sync, no address when none is configured) and the dataplane applying it to the fake kernel.

import { describe, expect, it } from 'vitest';
import { planTunnel, type TunnelInput } from '../../src/dataplane/tunnel.js';
import type { KLink } from '../../src/dataplane/types.js';
import { config, node, pool, remote, rig, standardKernel } from './world.js';

const tunl0: KLink = { index: 3, name: 'tunl0', up: true, mtu: 1480, kind: 'ipip' };
const base: TunnelInput = { name: 'tunl0', needed: true, address: '10.244.1.1', mtu: 1480, link: tunl0, addresses: [], allowRemove: false };
const addr = (address: string, prefixLen = 32) => ({ family: 4 as const, index: 3, address, prefixLen });

describe('planTunnel', () => {
  it('creates a missing tunl0 up with the tunnel MTU; the address comes once it has an index', () => {
    const { link: _l, ...noLink } = base;
    const p = planTunnel(noLink);
    expect(p.create).toEqual({ name: 'tunl0', kind: 'ipip', mtu: 1480, up: true });
    expect(p.addAddresses).toEqual([]);
  });

  it('sets it up and fixes the MTU', () => {
    const p = planTunnel({ ...base, link: { ...tunl0, up: false, mtu: 1500 }, addresses: [addr('10.244.1.1')], mtu: 8980 });
    expect(p.set).toEqual({ index: 3, up: true, mtu: 8980 });
    expect(p.addAddresses).toEqual([]);
  });

  it('adds the tunnel address /32; other addresses go only once in sync', () => {
    const before = planTunnel({ ...base, addresses: [addr('10.244.9.9')] });
    expect(before.addAddresses).toEqual([addr('10.244.1.1')]);
    expect(before.deleteAddresses).toEqual([]);
    expect(before.notes).toEqual(['tunl0 has other addresses (10.244.9.9/32); removed once in sync']);
    const after = planTunnel({ ...base, addresses: [addr('10.244.9.9'), addr('10.244.1.1', 24)], allowRemove: true });
    expect(after.addAddresses).toEqual([addr('10.244.1.1')]);
    expect(after.deleteAddresses).toEqual([addr('10.244.9.9'), addr('10.244.1.1', 24)]);
  });

  it('without IPIP pools: addresses removed (after in-sync), device kept; nothing done when absent', () => {
    expect(planTunnel({ ...base, needed: false, addresses: [addr('10.244.1.1')] })).toEqual({
      addAddresses: [], deleteAddresses: [], notes: ["no IPv4 pool uses IPIP, but tunl0's addresses stay until the datastore and BGP are in sync"],
    });
    const p = planTunnel({ ...base, needed: false, addresses: [addr('10.244.1.1')], allowRemove: true });
    expect(p).toEqual({ addAddresses: [], deleteAddresses: [addr('10.244.1.1')], notes: ['no IPv4 pool uses IPIP: removing 10.244.1.1/32 from tunl0'] });
    const { link: _l, ...noLink } = base;
    expect(planTunnel({ ...noLink, needed: false })).toEqual({ addAddresses: [], deleteAddresses: [], notes: [] });
  });

  it('no ipv4IPIPTunnelAddr: no address, and a note saying so', () => {
    const { address: _a, ...noAddr } = base;
    const p = planTunnel(noAddr);
    expect(p.addAddresses).toEqual([]);
    expect(p.notes).toEqual(['the node has no ipv4IPIPTunnelAddr: tunl0 gets no address']);
  });
});

describe('dataplane and tunl0', () => {
  it('creates tunl0, gives it the address, then programs routes through it', async () => {
    const k = standardKernel();
    k.removeLink('tunl0');
    const r = rig(k);
    r.dp.update({ config: config({ blocks: [] }), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([
      'create link tunl0 ipip mtu 1480 up',
      'add address 10.244.1.1/32 dev tunl0',
      'add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1480 proto 75',
    ]);
  });

  it('tunnel MTU follows the host NIC (9000 -> 8980) unless configured', async () => {
    const k = standardKernel();
    k.links.get(2)!.mtu = 9000;
    const r = rig(k);
    r.dp.update({ config: config({ blocks: [] }), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['set link tunl0 mtu 8980', 'add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 8980 proto 75']);
    const r2 = rig(standardKernel(), { tunnelMtu: 1400 });
    r2.dp.update({ config: config({ blocks: [] }), remote: remote({ '10.244.2.0/26': [node('198.18.0.2')] }) });
    await r2.dp.flush();
    expect(r2.k.takeOps()).toEqual(['set link tunl0 mtu 1400', 'add 10.244.2.0/26 via 198.18.0.2 dev tunl0 onlink mtu 1400 proto 75']);
  });

  it('when the last IPIP pool goes, the address is removed only after in-sync', async () => {
    const r = rig();
    r.dp.update({ config: config({ blocks: [], pools: [pool({ name: 'v4', cidr: '10.244.0.0/16' })] }) });
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual([]);
    expect(r.log.text()).toContain('info dataplane decision {"note":"no IPv4 pool uses IPIP, but tunl0\'s addresses stay until the datastore and BGP are in sync"}');
    r.dp.markInSync();
    await r.dp.flush();
    expect(r.k.takeOps()).toEqual(['delete address 10.244.1.1/32 dev tunl0']);
    expect(r.k.links.has(3)).toBe(true);
  });
});
