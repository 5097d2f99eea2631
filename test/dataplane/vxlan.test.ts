// The VXLAN manager and VXLAN route shapes over the recording fake kernel (issue 15), as Felix's
// vxlan_mgr.go does it: vxlan.calico with VNI 4096, UDP 4789, the NIC MTU - 50, the node's VTEP
// MAC and only the VTEP /32; per remote node a permanent neighbour (VTEP -> MAC) and FDB entry
// (MAC -> node address); routes "<block> via <VTEP> dev vxlan.calico onlink"; CrossSubnet direct
// within the subnet; nothing removed before in sync.

import { describe, expect, it } from 'vitest';
import type { DataplaneConfig, RemoteVtep } from '../../src/dataplane/inputs.js';
import { textRoute } from './fakes.js';
import { config, node, pool, remote, rig, standardKernel } from './world.js';

const MAC1 = '66:00:00:00:00:01';
const vtep = (n: number, nodeAddress: string): RemoteVtep => ({ node: `node-${n}`, family: 4, address: `10.250.${n}.0`, mac: `66:00:00:00:00:0${n}`, nodeAddress });

function vxCfg(mode: 'Always' | 'CrossSubnet', over: Partial<DataplaneConfig> = {}): DataplaneConfig {
  return config({
    pools: [pool({ name: 'vx', cidr: '10.250.0.0/16', vxlanMode: mode })],
    blocks: [{ prefix: '10.250.1.0/26', pool: 'vx' }],
    vxlan4: { address: '10.250.1.0', mac: MAC1 },
    vteps: [vtep(2, '198.18.0.2'), vtep(3, '198.18.1.3')],
    ...over,
  });
}

describe('VXLAN', () => {
  it('creates vxlan.calico as Felix does, gives it only the VTEP /32, and one neighbour and FDB entry per remote node', async () => {
    const r = rig();
    r.dp.update({ config: vxCfg('Always'), remote: remote({}), workloads: [] });
    await r.dp.flush();
    const ops = r.k.takeOps();
    expect(ops).toContain(`create link vxlan.calico vxlan id 4096 dstport 4789 dev eth0 local 198.18.0.1 address ${MAC1} mtu 1450 up`);
    expect(ops).toContain('add address 10.250.1.0/32 dev vxlan.calico');
    expect(ops).toEqual(expect.arrayContaining([
      'fdb replace 66:00:00:00:00:02 dev vxlan.calico dst 198.18.0.2 permanent',
      'fdb replace 66:00:00:00:00:03 dev vxlan.calico dst 198.18.1.3 permanent',
      'neigh replace 10.250.2.0 lladdr 66:00:00:00:00:02 dev vxlan.calico permanent',
      'neigh replace 10.250.3.0 lladdr 66:00:00:00:00:03 dev vxlan.calico permanent',
    ]));
    const dev = [...r.k.links.values()].find((l) => l.name === 'vxlan.calico')!;
    expect(dev.vxlan).toEqual({ vni: 4096, port: 4789, parent: 2, local: '198.18.0.1', learning: false });
    // A second pass changes nothing.
    await r.dp.resync();
    expect(r.k.takeOps()).toEqual([]);
  });

  it('routes remote blocks via the VTEP on vxlan.calico onlink (Always), and direct within the subnet (CrossSubnet)', async () => {
    for (const mode of ['Always', 'CrossSubnet'] as const) {
      const r = rig();
      r.dp.update({ config: vxCfg(mode), remote: remote({ '10.250.2.0/26': [node('198.18.0.2')], '10.250.3.0/26': [node('198.18.1.3')] }), workloads: [] });
      await r.dp.flush();
      const dev = [...r.k.links.values()].find((l) => l.name === 'vxlan.calico')!;
      const two = textRoute(r.k.get('10.250.2.0/26')!);
      const three = textRoute(r.k.get('10.250.3.0/26')!);
      expect(three).toMatchObject({ gateway: '10.250.3.0', oif: dev.index, onlink: true, protocol: 75 });
      expect(three.mtu).toBeUndefined();
      if (mode === 'Always') expect(two).toMatchObject({ gateway: '10.250.2.0', oif: dev.index, onlink: true });
      else expect(two).toMatchObject({ gateway: '198.18.0.2', oif: 2, onlink: true });
    }
  });

  it('a remote node without a VTEP waits; stale entries and a wrong device go only once in sync', async () => {
    const k = standardKernel();
    const r = rig(k);
    r.dp.update({ config: vxCfg('Always', { vteps: [vtep(2, '198.18.0.2')] }), remote: remote({ '10.250.3.0/26': [node('198.18.1.3')] }), workloads: [] });
    await r.dp.flush();
    const st = r.dp.status().routes.find((s) => s.prefix === '10.250.3.0/26')!;
    expect(st.state).toBe('waiting');
    const dev = [...k.links.values()].find((l) => l.name === 'vxlan.calico')!;
    // Someone else's entries on Kite's device, and a node that left.
    k.neighbours.push({ family: 4, index: dev.index, address: '10.250.9.0', lladdr: '66:00:00:00:00:09', state: 0x80 });
    k.fdb.push({ index: dev.index, mac: '66:00:00:00:00:09', dst: '198.18.0.9', state: 0x80 });
    r.dp.update({ config: vxCfg('Always', { vteps: [] }) });
    await r.dp.resync();
    expect(k.neighbours.filter((n) => n.index === dev.index)).toHaveLength(2);
    r.dp.markInSync();
    await r.dp.flush();
    expect(k.neighbours.filter((n) => n.index === dev.index)).toEqual([]);
    expect(k.fdb).toEqual([]);
  });

  it('a device with the wrong VNI is recreated; without VXLAN pools the device goes once in sync', async () => {
    const k = standardKernel();
    k.addLink({ index: 9, name: 'vxlan.calico', up: true, mtu: 1450, kind: 'vxlan', mac: MAC1, vxlan: { vni: 1, port: 4789, parent: 2, local: '198.18.0.1' } });
    const r = rig(k);
    r.dp.update({ config: vxCfg('Always'), remote: remote({}), workloads: [] });
    await r.dp.flush();
    const ops = r.k.takeOps();
    expect(ops[0]).toBe('delete link vxlan.calico');
    expect(ops[1]).toMatch(/^create link vxlan.calico vxlan id 4096/);
    r.dp.update({ config: config() });
    await r.dp.flush();
    expect([...k.links.values()].some((l) => l.name === 'vxlan.calico')).toBe(true);
    r.dp.markInSync();
    await r.dp.flush();
    expect([...k.links.values()].some((l) => l.name === 'vxlan.calico')).toBe(false);
  });

  it('IPv6: vxlan-v6.calico (NIC MTU - 70, the VTEP /128), routes via the VTEP, entries per remote node', async () => {
    const r = rig();
    r.dp.update({
      config: config({
        pools: [pool({ name: 'vx6', cidr: 'fd00:250::/48', vxlanMode: 'Always' })],
        blocks: [],
        vxlan6: { address: 'fd00:250::1', mac: MAC1 },
        vteps: [{ node: 'node-2', family: 6, address: 'fd00:250:0:2::', mac: '66:00:00:00:00:02', nodeAddress: 'fd00:18::2' }],
      }),
      remote: remote({ 'fd00:250:0:2::/122': [node('fd00:18::2')] }),
      workloads: [],
    });
    await r.dp.flush();
    const ops = r.k.takeOps();
    expect(ops).toContain(`create link vxlan-v6.calico vxlan id 4096 dstport 4789 dev eth0 local fd00:18::1 address ${MAC1} mtu 1430 up`);
    expect(ops).toContain('add address fd00:250::1/128 dev vxlan-v6.calico');
    expect(ops).toContain('fdb replace 66:00:00:00:00:02 dev vxlan-v6.calico dst fd00:18::2 permanent');
    expect(ops).toContain('neigh replace fd00:250:0:2:: lladdr 66:00:00:00:00:02 dev vxlan-v6.calico permanent');
    const dev = [...r.k.links.values()].find((l) => l.name === 'vxlan-v6.calico')!;
    expect(textRoute(r.k.get('fd00:250:0:2::/122')!)).toMatchObject({ gateway: 'fd00:250:0:2::', oif: dev.index, onlink: true });
    expect([...r.k.links.values()].some((l) => l.name === 'vxlan.calico')).toBe(false);
  });
});
