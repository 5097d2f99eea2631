// A tunnel address the Node already carries, judged by who holds it in IPAM, branch by branch as
// calico-node's node/pkg/allocateip/allocateip.go ensureHostTunnelAddress does (with
// GetAssignmentAttributes): kept when this node's tunnel attributes hold it inside a usable pool;
// released and replaced when outside one; an allocation without handle or attributes released
// and re-assigned exactly under the handle (correctAllocationWithHandle), or replaced when taken
// meanwhile; a workload's or another owner's address replaced without touching the holder; an
// address not allocated at all replaced after releasing the handle. IPIP, VXLAN and IPv6 VXLAN.
import { describe, expect, it } from 'vitest';
import type { IPPool } from '../../src/datastore/resources.js';
import { Allocator } from '../../src/ipam/allocator.js';
import { assignOrdinal, ipToOrdinal, newBlock } from '../../src/ipam/block.js';
import { blockName } from '../../src/ipam/names.js';
import type { BlockSpec } from '../../src/ipam/objects.js';
import { MemoryStore } from '../../src/ipam/store.js';
import { auditStore, node, pool } from './helpers.js';

const ipip = (extra: Partial<IPPool['spec']> = {}): IPPool => pool('ipip', '10.9.0.0/16', { ipipMode: 'Always', ...extra });
const mk = (pools: IPPool[], store = new MemoryStore()): { a: Allocator; store: MemoryStore } => ({ a: new Allocator({ store, pools: () => pools }), store });
const withAddr = (name: string, tunnelAddress: string): { name: string; labels: Record<string, string>; tunnelAddress: string } => ({ ...node(name), tunnelAddress });

/** A block holding `ip` allocated without handle and attributes, as Calico wrote tunnel addresses before it used either. */
async function legacy(store: MemoryStore, cidr: string, ip: string, affinity: string | null = 'host:n'): Promise<void> {
  const spec = newBlock(cidr, affinity, new Date(), 1n);
  expect(assignOrdinal(spec, ipToOrdinal(cidr, ip)!, undefined)).toBe(true);
  await store.create('IPAMBlock', blockName(cidr), spec);
}
const attrsAt = async (store: MemoryStore, cidr: string, ip: string): Promise<unknown> => {
  const b = (await store.get('IPAMBlock', blockName(cidr)))!.spec;
  const i = b.allocations[ipToOrdinal(cidr, ip)!];
  return i === null || i === undefined ? null : b.attributes[i];
};

describe('the Node’s tunnel address re-registered in IPAM (calico-node allocateip)', () => {
  it('held by this node’s tunnel attributes inside a usable pool: kept, nothing written', async () => {
    const { a, store } = mk([ipip()]);
    const r = await a.ensureTunnelAddress(node('n'));
    const writes = store.ops.create + store.ops.update + store.ops.delete;
    expect(await a.ensureTunnelAddress(withAddr('n', r.address!))).toMatchObject({ address: r.address, allocated: false });
    expect(store.ops.create + store.ops.update + store.ops.delete).toBe(writes);
  });

  it('held by this node’s tunnel attributes but no longer in a usable pool: released, a new one from the IPIP pool', async () => {
    const old = pool('old', '10.8.0.0/16', { ipipMode: 'Always' });
    const { a, store } = mk([old]);
    const r0 = await a.ensureTunnelAddress(node('n'));
    expect(r0.address).toMatch(/^10\.8\./);
    old.spec.ipipMode = 'Never';
    const pools2 = [old, ipip()];
    const b = new Allocator({ store, pools: () => pools2 });
    const r = await b.ensureTunnelAddress(withAddr('n', r0.address!));
    expect(r.allocated).toBe(true);
    expect(r.address).toMatch(/^10\.9\./);
    expect(r.reason).toContain('not inside an IPIP pool');
    expect(await b.addressesOf('ipip-tunnel-addr-n')).toEqual([r.address]);
    expect(await b.assignmentOf(r0.address!)).toBeUndefined();
  });

  it('allocated without handle and attributes: released and assigned again, exactly, under the handle with Calico’s attributes', async () => {
    const { a, store } = mk([ipip()]);
    await legacy(store, '10.9.3.0/26', '10.9.3.7');
    const r = await a.ensureTunnelAddress(withAddr('n', '10.9.3.7'));
    expect(r).toMatchObject({ address: '10.9.3.7', allocated: false });
    expect(r.reason).toContain('re-registered');
    expect(await attrsAt(store, '10.9.3.0/26', '10.9.3.7')).toEqual({ handle_id: 'ipip-tunnel-addr-n', secondary: { node: 'n', type: 'ipipTunnelAddress' } });
    expect((await store.get('IPAMHandle', 'ipip-tunnel-addr-n'))?.spec.block).toEqual({ '10.9.3.0/26': 1 });
    // The attribute without handle is gone with its last address.
    expect((await store.get('IPAMBlock', blockName('10.9.3.0/26')))!.spec.attributes).toHaveLength(1);
    expect((await auditStore(store)).owners.size).toBe(1);
  });

  it('the same for the IPv6 VTEP: type vxlanV6TunnelAddress, handle vxlan-v6-tunnel-addr-<node>; the block is claimed when missing', async () => {
    const { a, store } = mk([pool('vx6', 'fd00:9::/48', { vxlanMode: 'Always' })]);
    await legacy(store, 'fd00:9::/122', 'fd00:9::5');
    const r = await a.ensureTunnelAddress(withAddr('n', 'fd00:9::5'), 'vxlan-v6');
    expect(r).toMatchObject({ address: 'fd00:9::5', allocated: false });
    expect(await attrsAt(store, 'fd00:9::/122', 'fd00:9::5')).toEqual({ handle_id: 'vxlan-v6-tunnel-addr-n', secondary: { node: 'n', type: 'vxlanV6TunnelAddress' } });
    // assignIP on an address whose block does not exist claims that block for the node (libcalico-go AssignIP).
    expect(await a.assignIP({ ip: 'fd00:9::1:3', handle: 'h', node: 'n' })).toBe(true);
    expect((await store.get('IPAMBlock', blockName('fd00:9::1:0/122')))?.spec.affinity).toBe('host:n');
    expect(await a.assignIP({ ip: 'fd00:9::1:3', handle: 'h2', node: 'n' })).toBe(false);
  });

  it('allocated without handle and attributes but taken between release and re-assignment: a new address, the taker keeps it', async () => {
    let steal = true;
    const store: MemoryStore = new MemoryStore({
      beforeOp: async () => {
        // Right after Kite frees 10.9.3.7, a CNI plugin takes it.
        const o = store.table.objects.get(`IPAMBlock/${blockName('10.9.3.0/26')}`);
        const spec = o?.spec as BlockSpec | undefined;
        if (steal && o !== undefined && spec !== undefined && spec.allocations[7] === null) {
          steal = false;
          assignOrdinal(spec, 7, 'k8s-pod-network.thief', { pod: 'p' });
          o.revision = String(++store.table.revision);
        }
      },
    });
    const { a } = mk([ipip()], store);
    await legacy(store, '10.9.3.0/26', '10.9.3.7');
    const r = await a.ensureTunnelAddress(withAddr('n', '10.9.3.7'));
    expect(r.allocated).toBe(true);
    expect(r.address).not.toBe('10.9.3.7');
    expect(r.reason).toContain('could not be re-registered');
    expect((await a.assignmentOf('10.9.3.7'))?.handle).toBe('k8s-pod-network.thief');
    expect(await a.addressesOf('ipip-tunnel-addr-n')).toEqual([r.address]);
  });

  it('a legacy allocation in no enabled pool (its pool disabled) cannot be re-registered: a new address from a usable pool', async () => {
    const { a, store } = mk([pool('gone', '10.7.0.0/16', { ipipMode: 'Always', disabled: true }), ipip()]);
    await legacy(store, '10.7.0.0/26', '10.7.0.9');
    const r = await a.ensureTunnelAddress(withAddr('n', '10.7.0.9'));
    expect(r.allocated).toBe(true);
    expect(r.address).toMatch(/^10\.9\./);
  });

  it('held by a workload’s handle without attributes: a new address; the workload keeps its own', async () => {
    const { a, store } = mk([ipip()]);
    const [pod] = await a.autoAssign({ node: node('n'), handle: 'k8s-pod-network.c1', use: 'Tunnel' });
    const r = await a.ensureTunnelAddress(withAddr('n', pod!));
    expect(r.allocated).toBe(true);
    expect(r.address).not.toBe(pod);
    expect(r.reason).toContain('held by k8s-pod-network.c1');
    expect(await a.addressesOf('k8s-pod-network.c1')).toEqual([pod]);
    expect(await a.addressesOf('ipip-tunnel-addr-n')).toEqual([r.address]);
    expect((await auditStore(store)).owners.size).toBe(2);
  });

  it('held with someone else’s attributes (another node’s VTEP): a new VTEP; the other node keeps its address', async () => {
    const { a } = mk([pool('vx', '10.9.0.0/16', { vxlanMode: 'Always' })]);
    const other = await a.ensureTunnelAddress(node('other'), 'vxlan');
    const r = await a.ensureTunnelAddress(withAddr('n', other.address!), 'vxlan');
    expect(r.allocated).toBe(true);
    expect(r.address).not.toBe(other.address);
    expect(r.reason).toContain('type=vxlanTunnelAddress');
    expect(await a.assignmentOf(other.address!)).toEqual({ handle: 'vxlan-tunnel-addr-other', attrs: { node: 'other', type: 'vxlanTunnelAddress' } });
    expect(await a.assignmentOf(r.address!)).toEqual({ handle: 'vxlan-tunnel-addr-n', attrs: { node: 'n', type: 'vxlanTunnelAddress' } });
  });

  it('not allocated at all: the handle’s addresses are released and a new one assigned (calico-node does not take the Node’s address)', async () => {
    const { a } = mk([pool('vx', '10.9.0.0/16', { vxlanMode: 'Always' })]);
    const stale = await a.ensureTunnelAddress(node('n'), 'vxlan');
    // The Node names another, unallocated address of the pool; the handle holds `stale`.
    const r = await a.ensureTunnelAddress(withAddr('n', '10.9.200.1'), 'vxlan');
    expect(r.allocated).toBe(true);
    expect(r.reason).toContain('10.9.200.1 is not allocated');
    expect(await a.assignmentOf('10.9.200.1')).toBeUndefined();
    expect(await a.addressesOf('vxlan-tunnel-addr-n')).toEqual([r.address]);
    // Released first (a freed address is reused last): the handle holds one address, not two.
    expect(r.address).not.toBe(stale.address);
    expect(await a.assignmentOf(stale.address!)).toBeUndefined();
  });

  it('an address that is not of the tunnel’s family is refused, nothing allocated', async () => {
    const { a, store } = mk([ipip()]);
    const r = await a.ensureTunnelAddress(withAddr('n', 'fd00::1'));
    expect(r).toMatchObject({ address: undefined, allocated: false });
    expect(await store.list('IPAMBlock')).toEqual([]);
  });
});
