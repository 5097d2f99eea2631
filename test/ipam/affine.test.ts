// A node's existing BlockAffinities come before any new block, as in libcalico-go
// (lib/ipam/ipam.go: blockAssignState.findOrClaimBlock tries every affine CIDR through
// getBlockFromAffinity before findUsableBlock; ipam_block_reader_writer.go claimAffineBlock):
// an affinity whose IPAMBlock does not exist is claimed as exactly that CIDR, a pending one is
// confirmed, and one whose block belongs to another host is stale. Memory store, with a
// recording wrapper where the order of writes is the point.
import { describe, expect, it } from 'vitest';
import { Allocator } from '../../src/ipam/allocator.js';
import { affinityName, blockName } from '../../src/ipam/names.js';
import { newBlock } from '../../src/ipam/block.js';
import { MemoryStore } from '../../src/ipam/store.js';
import type { AffinityState, IPPool } from '../../src/datastore/resources.js';
import type { IpamKind, SpecOf } from '../../src/ipam/objects.js';
import type { Stored } from '../../src/ipam/store.js';
import { auditStore, node, pool } from './helpers.js';

/** A memory store that logs every write as "<op> <kind> <name>[ <affinity state>]". */
class RecordingStore extends MemoryStore {
  readonly writes: string[] = [];
  private note(op: string, kind: IpamKind, name: string, spec?: unknown): void {
    const state = kind === 'BlockAffinity' && spec !== undefined ? ` ${(spec as SpecOf['BlockAffinity']).state}` : '';
    this.writes.push(`${op} ${kind} ${name}${state}`);
  }
  override async create<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K]): Promise<Stored<K>> {
    const r = await super.create(kind, name, spec);
    this.note('create', kind, name, spec);
    return r;
  }
  override async update<K extends IpamKind>(kind: K, name: string, spec: SpecOf[K], revision: string): Promise<Stored<K>> {
    const r = await super.update(kind, name, spec, revision);
    this.note('update', kind, name, spec);
    return r;
  }
  override async delete(kind: IpamKind, name: string, revision: string): Promise<void> {
    await super.delete(kind, name, revision);
    this.note('delete', kind, name);
  }
}

/** An affinity as another writer (kite lab, calicoctl, a crashed claim) left it. */
const affinity = (store: MemoryStore, nodeName: string, cidr: string, state: AffinityState): Promise<Stored<'BlockAffinity'>> =>
  store.create('BlockAffinity', affinityName(nodeName, cidr), { node: nodeName, cidr, state, deleted: false });

const mk = (pools: IPPool[], store: MemoryStore = new RecordingStore()): Allocator => new Allocator({ store, pools: () => pools });

describe('affine CIDRs without a block (libcalico-go getBlockFromAffinity, claimAffineBlock)', () => {
  it('a confirmed affinity with no IPAMBlock (kite lab on etcd writes them): that CIDR is claimed, pending first, and the VTEP is its first address', async () => {
    const store = new RecordingStore();
    const a = mk([pool('vx', '10.244.0.0/16', { vxlanMode: 'Always' })], store);
    await affinity(store, 'node-2', '10.244.2.0/26', 'confirmed');
    // Not a block of the pool (blockSize 26): no allocator wrote it, so nothing is claimed for it.
    await affinity(store, 'node-2', '10.244.3.0/24', 'confirmed');
    store.writes.length = 0;
    const r = await a.ensureTunnelAddress(node('node-2'), 'vxlan');
    expect(r).toMatchObject({ address: '10.244.2.0', allocated: true });
    const name = affinityName('node-2', '10.244.2.0/26');
    // ipam.go getBlockFromAffinity: the affinity is written pending, then the block created
    // (the arbiter), then the affinity confirmed; no other block is claimed.
    expect(store.writes.filter((w) => !w.includes('IPAMHandle'))).toEqual([
      `update BlockAffinity ${name} pending`, 'create IPAMBlock 10-244-2-0-26', `update BlockAffinity ${name} confirmed`, 'update IPAMBlock 10-244-2-0-26',
    ]);
    const blocks = await store.list('IPAMBlock');
    expect(blocks.map((b) => [b.spec.cidr, b.spec.affinity])).toEqual([['10.244.2.0/26', 'host:node-2']]);
    expect((await store.list('BlockAffinity')).map((x) => [x.spec.cidr, x.spec.state])).toEqual([['10.244.2.0/26', 'confirmed'], ['10.244.3.0/24', 'confirmed']]);
    expect(await a.affineBlocks('node-2')).toContain('10.244.2.0/26');
    await auditStore(store);
  });

  it('a pending affinity with no IPAMBlock (a claim that died before creating it): exactly that CIDR is claimed and confirmed, for each family', async () => {
    const store = new RecordingStore();
    const a = mk([pool('p', '10.0.0.0/16'), pool('p6', 'fd00:10::/48')], store);
    await affinity(store, 'n', '10.0.7.64/26', 'pending');
    await affinity(store, 'n', 'fd00:10:0:5::/122', 'pending');
    const [ip4] = await a.autoAssign({ node: node('n'), handle: 'h4' });
    const [ip6] = await a.autoAssign({ node: node('n'), handle: 'h6', family: 6 });
    expect([ip4, ip6]).toEqual(['10.0.7.64', 'fd00:10:0:5::']);
    expect((await store.list('IPAMBlock')).map((b) => [b.spec.cidr, b.spec.affinity]).sort()).toEqual([['10.0.7.64/26', 'host:n'], ['fd00:10:0:5::/122', 'host:n']]);
    expect((await store.list('BlockAffinity')).map((x) => x.spec.state)).toEqual(['confirmed', 'confirmed']);
    await auditStore(store);
  });

  it('a pending affinity whose block is already the node\'s: confirmed after the block is rewritten for a new revision, and used', async () => {
    const store = new RecordingStore();
    const a = mk([pool('p', '10.0.0.0/16')], store);
    await affinity(store, 'n', '10.0.9.0/26', 'pending');
    const before = await store.create('IPAMBlock', blockName('10.0.9.0/26'), newBlock('10.0.9.0/26', 'host:n', new Date(), 7n));
    store.writes.length = 0;
    const [ip] = await a.autoAssign({ node: node('n'), handle: 'h' });
    expect(ip).toBe('10.0.9.0');
    const name = affinityName('n', '10.0.9.0/26');
    // ipam.go getBlockFromAffinity, "affinity has not been confirmed": pending, block CAS, confirmed.
    expect(store.writes.slice(0, 3)).toEqual([`update BlockAffinity ${name} pending`, 'update IPAMBlock 10-0-9-0-26', `update BlockAffinity ${name} confirmed`]);
    expect((await store.list('IPAMBlock')).map((b) => b.spec.cidr)).toEqual(['10.0.9.0/26']);
    expect((await store.get('IPAMBlock', before.name))?.revision).not.toBe(before.revision);
    expect((await store.get('BlockAffinity', name))?.spec.state).toBe('confirmed');
  });

  it('an affinity whose block belongs to another host: the block is left alone, the stale affinity deleted, and a new block claimed', async () => {
    const store = new RecordingStore();
    const a = mk([pool('p', '10.0.0.0/24', { blockSize: 28 })], store);
    const theirs = await store.create('IPAMBlock', blockName('10.0.0.16/28'), newBlock('10.0.0.16/28', 'host:other', new Date(), 1n));
    await affinity(store, 'other', '10.0.0.16/28', 'confirmed');
    await affinity(store, 'n', '10.0.0.16/28', 'confirmed');
    const [ip] = await a.autoAssign({ node: node('n'), handle: 'h' });
    expect(ip).not.toMatch(/^10\.0\.0\.(1[6-9]|2\d|3[01])$/);
    // ipam.go getBlockFromAffinity: "Block does not match the provided affinity, deleting stale affinity".
    expect(await store.get('IPAMBlock', theirs.name)).toEqual(theirs);
    expect(await store.get('BlockAffinity', affinityName('n', '10.0.0.16/28'))).toBeUndefined();
    expect((await store.get('BlockAffinity', affinityName('other', '10.0.0.16/28')))?.spec.state).toBe('confirmed');
    expect((await store.list('IPAMBlock')).filter((b) => b.spec.affinity === 'host:n')).toHaveLength(1);
    await auditStore(store);
  });

  it('compare-and-swap: an affinity rewritten between read and write is re-read and still claimed; one a release marked pendingDeletion is not taken back', async () => {
    // Another writer touches the affinity just before the allocator's first write to it.
    let armed = true;
    let store!: MemoryStore;
    const cidr = '10.0.3.0/26';
    store = new MemoryStore({
      beforeOp: async () => {
        if (!armed) return;
        const cur = store.table.objects.get(`BlockAffinity/${affinityName('n', cidr)}`);
        if (cur === undefined || (cur.spec as SpecOf['BlockAffinity']).state !== 'confirmed' || store.ops.get < 1) return;
        armed = false;
        await store.update('BlockAffinity', affinityName('n', cidr), { ...(cur.spec as SpecOf['BlockAffinity']) }, cur.revision);
      },
    });
    const a = mk([pool('p', '10.0.0.0/16')], store);
    await affinity(store, 'n', cidr, 'confirmed');
    const before = store.ops.update;
    expect(await a.autoAssign({ node: node('n'), handle: 'h' })).toEqual(['10.0.3.0']);
    expect(armed).toBe(false);
    expect(store.ops.update - before).toBeGreaterThanOrEqual(4);
    expect((await store.list('IPAMBlock')).map((b) => b.spec.cidr)).toEqual([cidr]);

    // A release under way (affinity pendingDeletion, block gone) is the releaser's to finish.
    const s2 = new MemoryStore();
    const a2 = mk([pool('p', '10.0.0.0/16')], s2);
    await affinity(s2, 'n', '10.0.4.0/26', 'pendingDeletion');
    await affinity(s2, 'n', '10.0.5.0/26', 'confirmed');
    expect(await a2.autoAssign({ node: node('n'), handle: 'h' })).toEqual(['10.0.5.0']);
    expect((await s2.list('IPAMBlock')).map((b) => b.spec.cidr)).toEqual(['10.0.5.0/26']);
    expect((await s2.get('BlockAffinity', affinityName('n', '10.0.4.0/26')))?.spec.state).toBe('pendingDeletion');
  });

  it('racing allocators on two nodes, each with an affinity and no block: every address from the node\'s own CIDR, no block claimed besides', async () => {
    const store = new MemoryStore({ beforeOp: () => new Promise((r) => setTimeout(r, Math.random() * 2)) });
    const pools = [pool('p', '10.0.0.0/16')];
    await affinity(store, 'n1', '10.0.1.0/26', 'confirmed');
    await affinity(store, 'n2', '10.0.2.0/26', 'pending');
    const allocs = [0, 1, 2, 3].map(() => mk(pools, store));
    const got = await Promise.all(allocs.map(async (a, i) => {
      const n = i % 2 === 0 ? 'n1' : 'n2';
      const ips: string[] = [];
      for (let k = 0; k < 5; k++) ips.push(...await a.autoAssign({ node: node(n), handle: `h-${i}-${k}` }));
      return { n, ips };
    }));
    for (const { n, ips } of got) for (const ip of ips) expect(ip.startsWith(n === 'n1' ? '10.0.1.' : '10.0.2.'), `${n} got ${ip}`).toBe(true);
    expect((await store.list('IPAMBlock')).map((b) => [b.spec.cidr, b.spec.affinity])).toEqual([['10.0.1.0/26', 'host:n1'], ['10.0.2.0/26', 'host:n2']]);
    expect((await store.list('BlockAffinity')).map((x) => x.spec.state)).toEqual(['confirmed', 'confirmed']);
    const { owners } = await auditStore(store);
    expect(owners.size).toBe(20);
  });
});
