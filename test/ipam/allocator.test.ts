// The allocator against an in-memory compare-and-swap store: Calico's object shapes and names,
// pool rules (disabled, nodeSelector, blockSize, allowedUses), release and reclaim, the IPIP
// tunnel address, and allocators racing with interleaved operations.
import { describe, expect, it } from 'vitest';
import { Allocator, IpamError } from '../../src/ipam/allocator.js';
import { MemoryStore } from '../../src/ipam/store.js';
import { auditStore, node, pool } from './helpers.js';
import type { IPPool } from '../../src/datastore/resources.js';

const mk = (pools: IPPool[], store = new MemoryStore(), extra: Partial<ConstructorParameters<typeof Allocator>[0]> = {}): { a: Allocator; store: MemoryStore } =>
  ({ a: new Allocator({ store, pools: () => pools, ...extra }), store });

describe('block claims in calico-ipam shapes', () => {
  it('claims a block: BlockAffinity node-cidr confirmed, IPAMBlock host:<node>, handle counts', async () => {
    const { a, store } = mk([pool('p', '10.244.0.0/16')]);
    const [ip] = await a.autoAssign({ node: node('node-1'), handle: 'k8s-pod-network.abc', attrs: { namespace: 'ns', pod: 'p1', node: 'node-1' } });
    const blocks = await store.list('IPAMBlock');
    expect(blocks).toHaveLength(1);
    const b = blocks[0]!;
    expect(b.name).toBe(b.spec.cidr.replace(/[./]/g, '-'));
    expect(b.spec.cidr).toMatch(/^10\.244\.\d+\.(0|64|128|192)\/26$/);
    expect(b.spec.affinity).toBe('host:node-1');
    expect(b.spec.allocations).toHaveLength(64);
    expect(b.spec.allocations[0]).toBe(0);
    expect(b.spec.allocations.slice(1).every((x) => x === null)).toBe(true);
    expect(b.spec.unallocated).toEqual(Array.from({ length: 63 }, (_v, i) => i + 1));
    expect(b.spec.attributes).toEqual([{ handle_id: 'k8s-pod-network.abc', secondary: { namespace: 'ns', pod: 'p1', node: 'node-1' } }]);
    expect(ip).toBe(b.spec.cidr.replace(/\/26$/, ''));
    expect(b.spec.sequenceNumberForAllocation['0']).toBe(b.spec.sequenceNumber - 1n);
    const affs = await store.list('BlockAffinity');
    expect(affs.map((x) => [x.name, x.spec])).toEqual([[`node-1-${b.name}`, { node: 'node-1', cidr: b.spec.cidr, state: 'confirmed', deleted: false }]]);
    const handles = await store.list('IPAMHandle');
    expect(handles.map((h) => [h.name, h.spec])).toEqual([['k8s-pod-network.abc', { handleID: 'k8s-pod-network.abc', block: { [b.spec.cidr]: 1 }, deleted: false }]]);
  });

  it('fills the affine block before claiming the next, and shares one attribute per handle', async () => {
    const { a, store } = mk([pool('p', '10.0.0.0/24', { blockSize: 28 })]);
    const ips = await a.autoAssign({ node: node('n'), handle: 'h1', count: 20 });
    expect(new Set(ips).size).toBe(20);
    const blocks = await store.list('IPAMBlock');
    expect(blocks).toHaveLength(2);
    expect(blocks.map((b) => 16 - b.spec.unallocated.length).sort()).toEqual([16, 4]);
    for (const b of blocks) expect(b.spec.attributes).toEqual([{ handle_id: 'h1' }]);
    expect(await a.affineBlocks('n')).toHaveLength(2);
    await auditStore(store);
  });

  it('is all or nothing when the pool runs out', async () => {
    const { a, store } = mk([pool('p', '10.0.0.0/28', { blockSize: 30 })]);
    await expect(a.autoAssign({ node: node('n'), handle: 'h', count: 17 })).rejects.toMatchObject({ code: 'exhausted' });
    const { owners } = await auditStore(store);
    expect(owners.size).toBe(0);
    expect(await store.list('IPAMHandle')).toEqual([]);
  });
});

describe('pool selection', () => {
  it('skips disabled pools, honours nodeSelector and allowedUses, and says why when nothing fits', async () => {
    const pools = [
      pool('off', '10.1.0.0/16', { disabled: true }),
      pool('rack-b', '10.2.0.0/16', { nodeSelector: "rack == 'b'" }),
      pool('lb', '10.3.0.0/16', { allowedUses: ['LoadBalancer'] }),
      pool('v6', 'fd00::/64'),
    ];
    const { a } = mk(pools);
    const err = await a.autoAssign({ node: node('n1', { rack: 'a' }), handle: 'h' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpamError);
    expect((err as IpamError).code).toBe('noPool');
    expect((err as Error).message).toContain('off (10.1.0.0/16): disabled');
    expect((err as Error).message).toContain(`rack-b (10.2.0.0/16): nodeSelector "rack == 'b'" does not select node n1`);
    expect((err as Error).message).toContain('lb (10.3.0.0/16): allowedUses [LoadBalancer] does not include Workload');
    const [ip] = await a.autoAssign({ node: node('n2', { rack: 'b' }), handle: 'h' });
    expect(ip).toMatch(/^10\.2\./);
    const [ip6] = await a.autoAssign({ node: node('n2', { rack: 'b' }), handle: 'h6', family: 6 });
    expect(ip6).toMatch(/^fd00::/);
  });

  it('cuts blocks of the pool blockSize (IPv6 /122 by default, IPv4 as configured)', async () => {
    const { a, store } = mk([pool('p', '192.168.0.0/22', { blockSize: 29 }), pool('v6', 'fd00:1::/120')]);
    await a.autoAssign({ node: node('n'), handle: 'h' });
    await a.autoAssign({ node: node('n'), handle: 'h6', family: 6 });
    const cidrs = (await store.list('IPAMBlock')).map((b) => b.spec.cidr);
    expect(cidrs.some((c) => /^192\.168\.[0-3]\.\d+\/29$/.test(c))).toBe(true);
    expect(cidrs.some((c) => /^fd00:1::(\w+)?\/122$/.test(c))).toBe(true);
    const v6 = (await store.list('IPAMBlock')).find((b) => b.spec.cidr.includes(':'))!;
    expect(v6.name).toBe(v6.spec.cidr.replace(/[:/]/g, '-'));
  });

  it('restricts to the requested pools', async () => {
    const { a } = mk([pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16')]);
    const [ip] = await a.autoAssign({ node: node('n'), handle: 'h', pools: ['b'] });
    expect(ip).toMatch(/^10\.2\./);
  });
});

describe('release and reclaim', () => {
  it('releases by handle: addresses go to the end of unallocated, the handle disappears', async () => {
    const { a, store } = mk([pool('p', '10.0.0.0/24', { blockSize: 28 })]);
    const first = await a.autoAssign({ node: node('n'), handle: 'h1', count: 2 });
    const other = await a.autoAssign({ node: node('n'), handle: 'h2', attrs: { pod: 'x' } });
    expect(await a.releaseByHandle('h1')).toEqual(first);
    const [b] = await store.list('IPAMBlock');
    expect(b!.spec.attributes).toEqual([{ handle_id: 'h2', secondary: { pod: 'x' } }]);
    expect(b!.spec.allocations[2]).toBe(0);
    expect(b!.spec.unallocated.slice(-2)).toEqual([0, 1]);
    expect(b!.spec.sequenceNumberForAllocation).toEqual({ 2: expect.any(BigInt) as bigint });
    expect((await store.list('IPAMHandle')).map((h) => h.name)).toEqual(['h2']);
    expect(await a.addressesOf('h2')).toEqual(other);
    // The freed addresses are handed out last.
    const next = await a.autoAssign({ node: node('n'), handle: 'h3', count: 13 });
    expect(next).not.toContain(first[0]);
    await auditStore(store);
  });

  it('releases a block: empty → block and affinity deleted; in use → affinity dropped, addresses kept', async () => {
    const { a, store } = mk([pool('p', '10.0.0.0/24', { blockSize: 28 })]);
    const c1 = await a.claimBlock(node('n'));
    await a.releaseBlock('n', c1);
    expect(await store.list('IPAMBlock')).toEqual([]);
    expect(await store.list('BlockAffinity')).toEqual([]);

    const [ip] = await a.autoAssign({ node: node('n'), handle: 'h' });
    const [c2] = await a.affineBlocks('n');
    await expect(a.releaseBlock('n', c2!, { requireEmpty: true })).rejects.toMatchObject({ code: 'notEmpty' });
    await a.releaseBlock('n', c2!);
    const [b] = await store.list('IPAMBlock');
    expect(b!.spec.affinity).toBeNull();
    expect(b!.spec.affinityClaimTime).toBeUndefined();
    expect(await store.list('BlockAffinity')).toEqual([]);
    // The last address going deletes the orphaned block.
    expect(await a.releaseByHandle('h')).toEqual([ip]);
    expect(await store.list('IPAMBlock')).toEqual([]);
  });

  it('another node reclaims a released block; an empty block held by another node is reclaimed only after a minute', async () => {
    let now = Date.parse('2024-01-01T00:00:00Z');
    const { a, store } = mk([pool('p', '10.0.0.0/28', { blockSize: 28 })], new MemoryStore(), { now: () => new Date(now) });
    const c = await a.claimBlock(node('n1'));
    await expect(a.claimBlock(node('n2'))).rejects.toMatchObject({ code: 'exhausted' });
    now += 61_000;
    expect(await a.claimBlock(node('n2'))).toBe(c);
    const [b] = await store.list('IPAMBlock');
    expect(b!.spec.affinity).toBe('host:n2');
    expect((await store.list('BlockAffinity')).map((x) => x.spec.node)).toEqual(['n2']);
    // Released explicitly, it goes back at once.
    await a.releaseBlock('n2', c);
    expect(await a.claimBlock(node('n1'))).toBe(c);
  });

  it('borrows from another node’s block when no block is left, unless told not to', async () => {
    const pools = [pool('p', '10.0.0.0/28', { blockSize: 28 })];
    const { a, store } = mk(pools);
    await a.autoAssign({ node: node('n1'), handle: 'h1' });
    const [ip] = await a.autoAssign({ node: node('n2'), handle: 'h2' });
    expect(ip).toBe('10.0.0.1');
    const strict = new Allocator({ store, pools: () => pools, borrow: false });
    await expect(strict.autoAssign({ node: node('n3'), handle: 'h3' })).rejects.toMatchObject({ code: 'exhausted' });
  });
});

describe('IPIP tunnel address', () => {
  const ipip = (extra = {}): IPPool => pool('ipip', '10.9.0.0/16', { ipipMode: 'Always', ...extra });

  it('allocates with handle ipip-tunnel-addr-<node> and Calico’s attributes when an IPIP pool selects the node', async () => {
    const { a, store } = mk([pool('plain', '10.8.0.0/16'), ipip()]);
    const r = await a.ensureTunnelAddress(node('node-1'));
    expect(r.allocated).toBe(true);
    expect(r.address).toMatch(/^10\.9\./);
    const [b] = await store.list('IPAMBlock');
    expect(b!.spec.attributes).toEqual([{ handle_id: 'ipip-tunnel-addr-node-1', secondary: { node: 'node-1', type: 'ipipTunnelAddress' } }]);
    // Idempotent: the Node write was lost, the next run finds the same address.
    expect(await a.ensureTunnelAddress(node('node-1'))).toMatchObject({ address: r.address, allocated: true });
    // Once written to the Node it is kept.
    expect(await a.ensureTunnelAddress({ ...node('node-1'), ipv4IPIPTunnelAddr: r.address })).toMatchObject({ address: r.address, allocated: false });
    expect((await auditStore(store)).owners.size).toBe(1);
  });

  it('does nothing without an IPIP pool for the node; replaces an address outside the IPIP pools', async () => {
    const none = mk([pool('plain', '10.8.0.0/16'), ipip({ nodeSelector: "role == 'edge'" }), ipip({ disabled: true }), ipip({ allowedUses: ['Workload'] })]);
    const r0 = await none.a.ensureTunnelAddress(node('n'));
    expect(r0).toMatchObject({ address: undefined, allocated: false });
    expect(r0.reason).toContain('ipipMode is Never');
    expect(await none.store.list('IPAMBlock')).toEqual([]);

    const { a } = mk([ipip()]);
    const r = await a.ensureTunnelAddress({ ...node('n'), ipv4IPIPTunnelAddr: '192.0.2.1' });
    expect(r.allocated).toBe(true);
    expect(r.address).toMatch(/^10\.9\./);
  });
});

describe('VXLAN VTEP addresses', () => {
  it('allocates the IPv6 VTEP from an IPv6 VXLAN pool with calico-node\'s handle and type, apart from the IPv4 VTEP', async () => {
    // node/pkg/allocateip: handle "vxlan-v6-tunnel-addr-<node>" (the -v6- infix), attribute type vxlanV6TunnelAddress.
    const { a, store } = mk([pool('vx4', '10.9.0.0/16', { vxlanMode: 'Always' }), pool('vx6', 'fd00:9::/48', { vxlanMode: 'CrossSubnet' }), pool('plain6', 'fd00:8::/48')]);
    const r6 = await a.ensureTunnelAddress(node('node-1'), 'vxlan-v6');
    expect(r6.allocated).toBe(true);
    expect(r6.address).toMatch(/^fd00:9:/);
    const r4 = await a.ensureTunnelAddress(node('node-1'), 'vxlan');
    expect(r4.address).toMatch(/^10\.9\./);
    const attrs = (await store.list('IPAMBlock')).flatMap((b) => b.spec.attributes).sort((x, y) => (x.handle_id ?? '').localeCompare(y.handle_id ?? ''));
    expect(attrs).toEqual([
      { handle_id: 'vxlan-tunnel-addr-node-1', secondary: { node: 'node-1', type: 'vxlanTunnelAddress' } },
      { handle_id: 'vxlan-v6-tunnel-addr-node-1', secondary: { node: 'node-1', type: 'vxlanV6TunnelAddress' } },
    ]);
    expect(await a.ensureTunnelAddress(node('node-1'), 'vxlan-v6')).toMatchObject({ address: r6.address, allocated: true });
  });

  it('gives no IPv6 VTEP when no IPv6 pool uses VXLAN', async () => {
    const { a, store } = mk([pool('vx4', '10.9.0.0/16', { vxlanMode: 'Always' }), pool('plain6', 'fd00:8::/48')]);
    const r = await a.ensureTunnelAddress(node('n'), 'vxlan-v6');
    expect(r).toMatchObject({ address: undefined, allocated: false });
    expect(r.reason).toContain('vxlanMode is Never');
    expect(await store.list('IPAMBlock')).toEqual([]);
  });
});

describe('racing allocators (in-process, interleaved)', () => {
  it('never hand out one block or one address twice, across nodes and within a node', async () => {
    for (let round = 0; round < 5; round++) {
      const store = new MemoryStore({ beforeOp: () => new Promise((r) => setTimeout(r, Math.random() * 2)) });
      // 8 blocks of 8 for 6 allocators on 4 nodes: blocks run out, so claims collide, reclaim is
      // impossible (fresh) and borrowing kicks in.
      const pools = [pool('p', '10.0.0.0/26', { blockSize: 29 })];
      const allocs = Array.from({ length: 6 }, () => new Allocator({ store, pools: () => pools }));
      const got: string[][] = await Promise.all(allocs.map(async (a, i) => {
        const mine: string[] = [];
        for (let k = 0; k < 10; k++) {
          try {
            mine.push(...await a.autoAssign({ node: node(`n${i % 4}`), handle: `h-${i}-${k}` }));
          } catch (e) {
            if (!(e instanceof IpamError && e.code === 'exhausted')) throw e;
          }
          if (k % 3 === 2) await a.releaseByHandle(`h-${i}-${k - 1}`).then((ips) => { for (const ip of ips) mine.splice(mine.indexOf(ip), 1); });
        }
        return mine;
      }));
      const all = got.flat();
      expect(new Set(all).size).toBe(all.length);
      const { owners, blocks } = await auditStore(store);
      expect([...owners.keys()].sort()).toEqual([...all].sort());
      // A block is affine to one node, and the confirmed affinities agree (checked by auditStore).
      expect(blocks.size).toBeLessThanOrEqual(8);
      const handles = await store.list('IPAMHandle');
      const counted = handles.reduce((n, h) => n + Object.values(h.spec.block).reduce((x, y) => x + y, 0), 0);
      expect(counted).toBe(all.length);
    }
  });
});
