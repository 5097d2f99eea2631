// Tests for applyDevicePlan and logFailures (src/dataplane/device-plan.ts), as the tunnel and VXLAN
// managers use them: the kernel asked in one order (old device out, device in, flags/MTU, stale
// addresses out, wanted in), an empty plan asking nothing, EEXIST on create taken as done, and each
// failure logged as "<what> failed" with the kernel's message.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { applyDevicePlan, logFailures, type DevicePlanChanges } from '../../src/dataplane/device-plan.js';
import type { KAddress, KLinkCreate, OpResult } from '../../src/dataplane/types.js';
import { FakeKernel, FakeLog } from './fakes.js';

const addr = (index: number, address: string, prefixLen = 32): KAddress => ({ family: 4, index, address, prefixLen });
const vxlan: KLinkCreate = { name: 'vxlan.calico', kind: 'vxlan', vni: 4096, port: 4789, mtu: 1450, up: true, mac: '66:aa:bb:cc:dd:01' };

describe('applyDevicePlan', () => {
  it('a plan that changes nothing asks the kernel nothing and resolves with no results (the managers stop on that)', async () => {
    const k = new FakeKernel();
    const calls = (['deleteLinks', 'createLinks', 'setLinks', 'deleteAddresses', 'addAddresses'] as const).map((m) => vi.spyOn(k, m));
    expect(await applyDevicePlan(k, { deleteAddresses: [], addAddresses: [] })).toEqual([]);
    expect(k.ops).toEqual([]);
    for (const c of calls) expect(c).not.toHaveBeenCalled(); // not even with an empty batch
  });

  it('replacing a device: the old one out before the new one in, then its flags and MTU, then its address', async () => {
    const k = new FakeKernel();
    const eth0 = k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, up: true });
    const old = k.addLink({ name: 'vxlan.calico', kind: 'vxlan', mtu: 1410, up: true, vxlan: { vni: 1, port: 4789, learning: false } });
    k.addresses.push(addr(old.index, '10.244.0.0'));
    const results = await applyDevicePlan(k, {
      remove: { index: old.index },
      create: { ...vxlan, parent: eth0.index, local: '198.18.0.1' },
      set: { index: old.index + 1, up: true, mtu: 1450 },
      deleteAddresses: [],
      addAddresses: [addr(old.index + 1, '10.244.0.1')],
    });
    expect(k.ops).toEqual([
      'delete link vxlan.calico',
      'create link vxlan.calico vxlan id 4096 dstport 4789 dev eth0 local 198.18.0.1 address 66:aa:bb:cc:dd:01 mtu 1450 up',
      'set link vxlan.calico up mtu 1450',
      'add address 10.244.0.1/32 dev vxlan.calico',
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    expect(k.addresses).toEqual([addr(old.index + 1, '10.244.0.1')]);
  });

  it('an existing device: stale addresses out before the wanted ones in (one address per device at a time)', async () => {
    const k = new FakeKernel();
    const tunl = k.addLink({ name: 'tunl0', kind: 'ipip', mtu: 1480, up: false });
    k.addresses.push(addr(tunl.index, '10.244.9.0'));
    const results = await applyDevicePlan(k, {
      set: { index: tunl.index, up: true },
      deleteAddresses: [addr(tunl.index, '10.244.9.0')],
      addAddresses: [addr(tunl.index, '10.244.1.0')],
    });
    expect(k.ops).toEqual(['set link tunl0 up', 'delete address 10.244.9.0/32 dev tunl0', 'add address 10.244.1.0/32 dev tunl0']);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('a create that finds the device there (EEXIST: the ipip module made tunl0) counts as done', async () => {
    const k = new FakeKernel();
    k.addLink({ name: 'tunl0', kind: 'ipip', mtu: 1480, up: false });
    const results = await applyDevicePlan(k, { create: { name: 'tunl0', kind: 'ipip', mtu: 1440, up: true }, deleteAddresses: [], addAddresses: [] });
    expect(k.ops).toEqual(['create link tunl0 ipip mtu 1440 up']);
    expect(results).toEqual([{ ok: true }]);
  });

  it('any other create failure is handed back as the kernel gave it, and later steps are still tried', async () => {
    const k = new FakeKernel();
    const eperm: OpResult = { ok: false, errno: 1, code: 'EPERM', message: 'vxlan.calico: EPERM' };
    k.createLinks = async (ls) => ls.map(() => eperm);
    const results = await applyDevicePlan(k, { create: vxlan, set: { index: 555, mtu: 1450 }, deleteAddresses: [], addAddresses: [] });
    expect(results).toEqual([eperm, { ok: false, errno: 19, code: 'ENODEV', message: '#555: ENODEV' }]);
  });

  it('a failed remove is reported and does not stop the create after it', async () => {
    const k = new FakeKernel();
    const results = await applyDevicePlan(k, { remove: { index: 404 }, create: vxlan, deleteAddresses: [], addAddresses: [] });
    expect(k.ops.map((o) => o.split(' ').slice(0, 2).join(' '))).toEqual(['delete link', 'create link']);
    expect(results[0]).toMatchObject({ ok: false, code: 'ENODEV' });
    expect(results[1]).toEqual({ ok: true });
  });

  it('property: for any plan, the kernel is asked in the fixed order, once per change, one result per change', async () => {
    const RANK = ['delete link', 'create link', 'set link', 'delete address', 'add address'];
    const a = fc.record({ index: fc.integer({ min: 100, max: 103 }), address: fc.constantFrom('10.244.0.1', '10.244.0.2', '10.244.0.3') })
      .map((x) => addr(x.index, x.address));
    const plan = fc.record({
      remove: fc.option(fc.record({ index: fc.integer({ min: 100, max: 103 }) }), { nil: undefined }),
      create: fc.option(fc.constantFrom<KLinkCreate>(vxlan, { name: 'tunl0', kind: 'ipip', mtu: 1480 }), { nil: undefined }),
      set: fc.option(fc.record({ index: fc.integer({ min: 100, max: 103 }), up: fc.boolean(), mtu: fc.integer({ min: 1280, max: 9000 }) }), { nil: undefined }),
      deleteAddresses: fc.array(a, { maxLength: 3 }),
      addAddresses: fc.array(a, { maxLength: 3 }),
    });
    await fc.assert(fc.asyncProperty(plan, fc.boolean(), async (p, tunlThere) => {
      const k = new FakeKernel();
      k.addLink({ name: 'eth0', kind: 'device', mtu: 1500, up: true });
      if (tunlThere) k.addLink({ name: 'tunl0', kind: 'ipip', mtu: 1480, up: true });
      k.addresses.push(addr(100, '10.244.0.1'));
      const changes: DevicePlanChanges = {
        deleteAddresses: p.deleteAddresses, addAddresses: p.addAddresses,
        ...(p.remove ? { remove: p.remove } : {}), ...(p.create ? { create: p.create } : {}), ...(p.set ? { set: p.set } : {}),
      };
      const results = await applyDevicePlan(k, changes);
      const kinds = k.ops.map((o) => RANK.find((r) => o.startsWith(r)));
      const want = [
        ...(p.remove ? ['delete link'] : []), ...(p.create ? ['create link'] : []), ...(p.set ? ['set link'] : []),
        ...p.deleteAddresses.map(() => 'delete address'), ...p.addAddresses.map(() => 'add address'),
      ];
      expect(kinds).toEqual(want);
      expect(results).toHaveLength(want.length);
      // A create is never reported failed for EEXIST, whatever the kernel held.
      if (p.create) expect(results[p.remove ? 1 : 0]).toEqual({ ok: true });
    }), { numRuns: 200 });
  });
});

describe('logFailures', () => {
  it('no results, or all ok: true and nothing logged', () => {
    const log = new FakeLog();
    expect(logFailures(log, [], 'tunl0 change')).toBe(true);
    expect(logFailures(log, [{ ok: true }, { ok: true }], 'tunl0 change')).toBe(true);
    expect(log.lines).toEqual([]);
  });

  it('each failure is logged as an error "<what> failed" with the kernel\'s message; false', () => {
    const log = new FakeLog();
    const results: OpResult[] = [
      { ok: false, errno: 19, code: 'ENODEV', message: '#7: ENODEV' },
      { ok: true },
      { ok: false, errno: 99, code: 'EADDRNOTAVAIL', message: '10.244.0.1: EADDRNOTAVAIL' },
    ];
    expect(logFailures(log, results, 'vxlan.calico change')).toBe(false);
    expect(log.lines).toEqual([
      { level: 'error', msg: 'vxlan.calico change failed', obj: { err: '#7: ENODEV' } },
      { level: 'error', msg: 'vxlan.calico change failed', obj: { err: '10.244.0.1: EADDRNOTAVAIL' } },
    ]);
  });
});
