// Kite's IPAM: claims blocks for nodes and hands out addresses from them with calico-ipam's
// protocol and objects (libcalico-go lib/ipam ipam.go, ipam_block_reader_writer.go), so Kite,
// Calico's CNI plugin and calico-node can share one datastore. Every change is a compare-and-
// swap on a stored object; a lost race is re-read and retried, never overwritten:
// - a block belongs to whoever creates its IPAMBlock first (the BlockAffinity is only a claim);
// - an address belongs to whoever writes the IPAMBlock revision that marks it allocated.
import { parseAddr, parsePrefix } from '../net/index.js';
import { AffinityState, type IPPool } from '../datastore/resources.js';
import {
  assignFromBlock, assignOrdinal, blockAddressCount, freeCount, handleOrdinals, ipToOrdinal, isEmpty, newBlock, ordinalToIP, releaseOrdinals,
} from './block.js';
import { affinityName, blockName, handleName, hostAffinity, ipipTunnelHandle, vxlanTunnelHandle } from './names.js';
import type { AffinitySpec, BlockSpec, HandleSpec } from './objects.js';
import { blockCandidates, IpamUse, isBlockOf, judgePools, poolContaining, usablePools, type NodeInfo, type PoolFilter } from './pools.js';
import { isStoreError, type IpamStore, type Stored } from './store.js';

export const IpamErrorCode = {
  /** No enabled pool selects the node for this use and family. */
  NoPool: 'noPool',
  /** Every block of the usable pools is taken and none could be reclaimed or borrowed from. */
  Exhausted: 'exhausted',
  /** releaseBlock with requireEmpty on a block that still holds addresses. */
  NotEmpty: 'notEmpty',
  /** The block is affine to another node (a stale affinity was cleaned up). */
  AffinityMismatch: 'affinityMismatch',
  /** The node holds no affinity for the block. */
  NoAffinity: 'noAffinity',
  /** Too many lost races in a row (heavy contention or a broken store). */
  Contention: 'contention',
  /** The block changed since the caller read it (reclaim guard). */
  Changed: 'changed',
} as const;
export type IpamErrorCode = (typeof IpamErrorCode)[keyof typeof IpamErrorCode];

export class IpamError extends Error {
  override readonly name = 'IpamError';
  constructor(readonly code: IpamErrorCode, message: string) {
    super(message);
  }
}

export interface AllocatorOptions {
  store: IpamStore;
  /** The current IPPools; called on every request so pool changes apply at once. */
  pools: () => readonly IPPool[] | Promise<readonly IPPool[]>;
  now?: () => Date;
  /** Attempts per object before giving up with 'contention' (default 50). */
  maxRetries?: number;
  /**
   * An empty block affine to another node may be taken over once it has been held this long
   * (Calico: one minute, so two nodes never ping-pong a block before either can use it).
   */
  reclaimEmptyAfterMs?: number;
  /**
   * When no block can be claimed, take free addresses from other nodes' blocks (Calico does
   * unless the IPAM config sets strictAffinity). Default true.
   */
  borrow?: boolean;
}

export interface AssignRequest {
  node: NodeInfo;
  /** Handle ID, e.g. "k8s-pod-network.<container id>" (Calico CNI) or "ipip-tunnel-addr-<node>". */
  handle: string;
  /** Secondary attributes stored with the addresses (namespace, pod, node, type…). */
  attrs?: Record<string, string>;
  count?: number;
  family?: 4 | 6;
  use?: IpamUse;
  /** Restrict to these pools (names or CIDRs). */
  pools?: readonly string[];
}

/** Which tunnel address: IPIP (tunl0), the VXLAN VTEP (vxlan.calico) or the IPv6 VTEP (vxlan-v6.calico). */
export type TunnelKind = 'ipip' | 'vxlan' | 'vxlan-v6';

/** libcalico-go's IPAM attribute types for tunnel addresses (ipam.AttributeTypeIPIP, …VXLAN, …VXLANV6). */
const TUNNEL_ATTRIBUTE_TYPE: Readonly<Record<TunnelKind, string>> = {
  ipip: 'ipipTunnelAddress', vxlan: 'vxlanTunnelAddress', 'vxlan-v6': 'vxlanV6TunnelAddress',
};

export interface TunnelResult {
  /** The tunnel address the node should carry (undefined when no IPIP pool selects it). */
  address: string | undefined;
  /** True when this call allocated the address, so the caller must write it to the Node. */
  allocated: boolean;
  reason: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number): Promise<void> => sleep(Math.random() * Math.min(10, 1 + attempt));

export class Allocator {
  private readonly store: IpamStore;
  private readonly now: () => Date;
  private readonly maxRetries: number;
  private readonly reclaimAfterMs: number;
  private readonly borrow: boolean;

  constructor(private readonly opts: AllocatorOptions) {
    this.store = opts.store;
    this.now = opts.now ?? (() => new Date());
    this.maxRetries = opts.maxRetries ?? 50;
    this.reclaimAfterMs = opts.reclaimEmptyAfterMs ?? 60_000;
    this.borrow = opts.borrow ?? true;
  }

  private async pools(node: NodeInfo, f: PoolFilter): Promise<IPPool[]> {
    const all = await this.opts.pools();
    const usable = usablePools(all, node, f);
    if (usable.length === 0) {
      const why = judgePools(all, node, f).map((v) => `${v.pool.metadata.name} (${v.pool.spec.cidr}): ${v.reason}`);
      throw new IpamError('noPool', `no IP pool can give node ${node.name} an IPv${f.family} ${f.use} address${why.length > 0 ? `: ${why.join('; ')}` : ': there are no IP pools'}`);
    }
    return usable;
  }

  private contention(what: string): IpamError {
    return new IpamError('contention', `${what}: gave up after ${this.maxRetries} conflicting attempts`);
  }

  // ---- affinities and blocks -------------------------------------------------------------

  /** CIDRs of the blocks the node holds (confirmed affinities), optionally one family only. */
  async affineBlocks(nodeName: string, family?: 4 | 6): Promise<string[]> {
    const affs = await this.store.list('BlockAffinity');
    return affs
      .filter((a) => a.spec.node === nodeName && a.spec.state === AffinityState.Confirmed && !a.spec.deleted)
      .map((a) => a.spec.cidr)
      .filter((c) => family === undefined || (c.includes(':') ? 6 : 4) === family);
  }

  /**
   * CIDRs of every affinity the node holds that allocation may use: confirmed, pending (a claim
   * that may not have finished) or no state (old Calico: confirmed), as libcalico-go's
   * getAffineBlocks lists them. An affinity marked pendingDeletion is a release under way and
   * is left to the releaser (Calico would take it back; Kite does not fight a release).
   */
  private async affineCidrs(nodeName: string, family: 4 | 6): Promise<string[]> {
    const affs = await this.store.list('BlockAffinity');
    return affs
      .filter((a) => a.spec.node === nodeName && a.spec.state !== AffinityState.PendingDeletion && !a.spec.deleted)
      .map((a) => a.spec.cidr)
      .filter((c) => (c.includes(':') ? 6 : 4) === family);
  }

  /**
   * Makes the node's affinity for `cidr` usable, as libcalico-go's getBlockFromAffinity does,
   * and says whether it is (the block exists, is the node's, and the affinity is confirmed):
   * - no IPAMBlock: the affinity is written pending (compare-and-swap on the revision read, so
   *   a release that marked it meanwhile wins), then exactly this CIDR is claimed: the block is
   *   created affine to the node and the affinity confirmed (claimAffineBlock). A block another
   *   node created first makes the affinity stale: it is withdrawn.
   * - the block is another node's (or no one's): the affinity is stale. The block is left alone;
   *   the affinity is deleted, as Calico does (errStaleAffinity), so the node stops claiming it.
   * - the block is the node's and the affinity pending: pending is written again, the block
   *   rewritten unchanged (a new revision, so anyone holding the old one re-reads) and the
   *   affinity confirmed.
   * A lost race re-reads both objects and tries again.
   */
  private async blockFromAffinity(nodeName: string, cidr: string): Promise<boolean> {
    const name = affinityName(nodeName, cidr);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const aff = await this.store.get('BlockAffinity', name);
      if (aff === undefined || aff.spec.deleted || aff.spec.state === AffinityState.PendingDeletion) return false;
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      try {
        if (b === undefined) {
          const pending = await this.store.update('BlockAffinity', name, { ...aff.spec, state: AffinityState.Pending }, aff.revision);
          return await this.claimWith(nodeName, cidr, pending);
        }
        if (b.spec.affinity !== hostAffinity(nodeName)) {
          await this.store.delete('BlockAffinity', name, aff.revision);
          return false;
        }
        if (aff.spec.state !== AffinityState.Confirmed) {
          const pending = await this.store.update('BlockAffinity', name, { ...aff.spec, state: AffinityState.Pending }, aff.revision);
          await this.store.update('IPAMBlock', b.name, b.spec, b.revision);
          await this.confirmAffinity(pending);
        }
        return true;
      } catch (e) {
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`using block ${cidr} of node ${nodeName}`);
  }

  /**
   * Claims a free block for the node from its usable pools and returns the block CIDR.
   * Steps as calico-ipam: a pending BlockAffinity, then the IPAMBlock (creation decides who
   * wins), then the affinity confirmed. A block lost to another node is given up and the next
   * candidate tried.
   */
  async claimBlock(node: NodeInfo, opts: { family?: 4 | 6; use?: IpamUse; pools?: readonly string[] } = {}): Promise<string> {
    const f: PoolFilter = { family: opts.family ?? 4, use: opts.use ?? IpamUse.Workload };
    if (opts.pools !== undefined) f.only = opts.pools;
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const pools = await this.pools(node, f);
      const blocks = new Map((await this.store.list('IPAMBlock')).map((b) => [b.spec.cidr, b]));
      let cidr: string | undefined;
      for (const p of pools) {
        for (const c of blockCandidates(p, node.name)) if (!blocks.has(c)) { cidr = c; break; }
        if (cidr !== undefined) break;
      }
      cidr ??= await this.reclaimEmptyBlock(node.name, pools, [...blocks.values()]);
      if (cidr === undefined) {
        throw new IpamError('exhausted', `no free block for node ${node.name} in ${pools.map((p) => `${p.metadata.name} (${p.spec.cidr})`).join(', ')}`);
      }
      if (await this.claim(node.name, cidr)) return cidr;
      await backoff(attempt);
    }
    throw this.contention(`claiming a block for node ${node.name}`);
  }

  /** Finds an empty block another node has held long enough and releases that node's hold. */
  private async reclaimEmptyBlock(nodeName: string, pools: IPPool[], blocks: Stored<'IPAMBlock'>[]): Promise<string | undefined> {
    const now = this.now().getTime();
    for (const b of blocks) {
      const owner = b.spec.affinity?.startsWith('host:') === true ? b.spec.affinity.slice(5) : undefined;
      if (owner === undefined || owner === nodeName || !isEmpty(b.spec) || poolContaining(pools, b.spec.cidr) === undefined) continue;
      const claimed = b.spec.affinityClaimTime === undefined ? 0 : Date.parse(b.spec.affinityClaimTime);
      if (now - claimed < this.reclaimAfterMs) continue;
      try {
        // Only if the block is unchanged since listed: otherwise its owner just used it.
        await this.releaseBlock(owner, b.spec.cidr, { requireEmpty: true, requiredSequenceNumber: b.spec.sequenceNumber });
        return b.spec.cidr;
      } catch (e) {
        if (e instanceof IpamError || isStoreError(e)) continue;
        throw e;
      }
    }
    return undefined;
  }

  /** One claim attempt on one block; false when another node got it first. */
  private async claim(nodeName: string, cidr: string): Promise<boolean> {
    return this.claimWith(nodeName, cidr, await this.pendingAffinity(nodeName, cidr));
  }

  /**
   * Creates the IPAMBlock for `cidr` affine to the node, holding the pending affinity `aff`
   * (libcalico-go claimAffineBlock): the create decides who owns the block. Confirms the
   * affinity when the block is the node's; withdraws it and returns false when it is not.
   */
  private async claimWith(nodeName: string, cidr: string, aff: Stored<'BlockAffinity'>): Promise<boolean> {
    const affinity = hostAffinity(nodeName);
    try {
      await this.store.create('IPAMBlock', blockName(cidr), newBlock(cidr, affinity, this.now(), BigInt(this.now().getTime()) * 1_000_000n));
    } catch (e) {
      if (!isStoreError(e, 'exists')) throw e;
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      if (b?.spec.affinity !== affinity) {
        // Someone else's block: withdraw our claim so it does not linger as a pending affinity.
        await this.store.delete('BlockAffinity', aff.name, aff.revision).catch(() => undefined);
        return false;
      }
      // Already ours (another process for this node won the same race): just confirm.
    }
    await this.confirmAffinity(aff);
    return true;
  }

  private async pendingAffinity(nodeName: string, cidr: string): Promise<Stored<'BlockAffinity'>> {
    const name = affinityName(nodeName, cidr);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      try {
        return await this.store.create('BlockAffinity', name, { node: nodeName, cidr, state: AffinityState.Pending, deleted: false });
      } catch (e) {
        if (!isStoreError(e, 'exists')) throw e;
      }
      const cur = await this.store.get('BlockAffinity', name);
      if (cur === undefined) continue;
      if (cur.spec.state === AffinityState.Confirmed) return cur;
      try {
        return await this.store.update('BlockAffinity', name, { ...cur.spec, state: AffinityState.Pending }, cur.revision);
      } catch (e) {
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`claiming BlockAffinity ${name}`);
  }

  private async confirmAffinity(aff: Stored<'BlockAffinity'>): Promise<void> {
    if (aff.spec.state === AffinityState.Confirmed) return;
    try {
      await this.store.update('BlockAffinity', aff.name, { ...aff.spec, state: AffinityState.Confirmed }, aff.revision);
    } catch (e) {
      if (!isStoreError(e)) throw e;
      const cur = await this.store.get('BlockAffinity', aff.name);
      if (cur?.spec.state === AffinityState.Confirmed) return;
      if (cur !== undefined && cur.spec.state === AffinityState.Pending) {
        await this.confirmAffinity(cur);
        return;
      }
      throw e;
    }
  }

  /**
   * Gives up the node's hold on a block (calico-ipam releaseBlockAffinity): the affinity goes to
   * pendingDeletion, an empty block is deleted, a block still in use loses its affinity (its
   * addresses stay valid), and the affinity is deleted.
   */
  async releaseBlock(nodeName: string, cidr: string, opts: { requireEmpty?: boolean; requiredSequenceNumber?: bigint } = {}): Promise<void> {
    const affName = affinityName(nodeName, cidr);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const aff = await this.store.get('BlockAffinity', affName);
      if (aff === undefined) throw new IpamError('noAffinity', `node ${nodeName} holds no affinity for block ${cidr}`);
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      if (opts.requiredSequenceNumber !== undefined && b !== undefined && b.spec.sequenceNumber !== opts.requiredSequenceNumber) {
        throw new IpamError('changed', `block ${cidr} changed since it was read`);
      }
      if (b !== undefined && b.spec.affinity !== null && b.spec.affinity !== hostAffinity(nodeName)) {
        await this.store.delete('BlockAffinity', affName, aff.revision).catch(() => undefined);
        throw new IpamError('affinityMismatch', `block ${cidr} is affine to ${b.spec.affinity}, not node ${nodeName}; removed the stale affinity`);
      }
      if (b !== undefined && opts.requireEmpty === true && !isEmpty(b.spec)) {
        throw new IpamError('notEmpty', `block ${cidr} still holds ${blockAddressCount(cidr) - freeCount(b.spec)} addresses`);
      }
      try {
        const marked = aff.spec.state === AffinityState.PendingDeletion ? aff
          : await this.store.update('BlockAffinity', affName, { ...aff.spec, state: AffinityState.PendingDeletion }, aff.revision);
        if (b !== undefined) {
          if (isEmpty(b.spec)) {
            await this.store.delete('IPAMBlock', b.name, b.revision).catch((e: unknown) => { if (!isStoreError(e, 'notFound')) throw e; });
          } else {
            const spec: BlockSpec = { ...b.spec, affinity: null, sequenceNumber: b.spec.sequenceNumber + 1n };
            delete spec.affinityClaimTime;
            await this.store.update('IPAMBlock', b.name, spec, b.revision);
          }
        }
        await this.store.delete('BlockAffinity', affName, marked.revision).catch((e: unknown) => { if (!isStoreError(e, 'notFound')) throw e; });
        return;
      } catch (e) {
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`releasing block ${cidr} of node ${nodeName}`);
  }

  // ---- addresses -------------------------------------------------------------------------

  /**
   * Hands out `count` addresses to `handle` from the node's blocks, claiming new blocks as the
   * held ones fill up, then (unless borrowing is off) from other nodes' blocks. All or nothing:
   * when not enough can be found, what was taken is released and 'exhausted' thrown.
   */
  async autoAssign(req: AssignRequest): Promise<string[]> {
    const count = req.count ?? 1;
    const f: PoolFilter = { family: req.family ?? 4, use: req.use ?? IpamUse.Workload };
    if (req.pools !== undefined) f.only = req.pools;
    const pools = await this.pools(req.node, f);
    const out: string[] = [];
    const mine = hostAffinity(req.node.name);
    const take = async (cidr: string, affinity: string | undefined): Promise<void> => {
      out.push(...await this.assignInBlock(cidr, count - out.length, req.handle, req.attrs, affinity));
    };
    // The node's affine CIDRs first, each made usable as Calico does (findOrClaimBlock tries
    // every affinity through getBlockFromAffinity before it looks for a new block).
    for (const cidr of await this.affineCidrs(req.node.name, f.family)) {
      if (out.length >= count) return out;
      const p = poolContaining(pools, cidr);
      if (p !== undefined && isBlockOf(p, cidr) && await this.blockFromAffinity(req.node.name, cidr)) await take(cidr, mine);
    }
    for (let rounds = 0; out.length < count && rounds < this.maxRetries; rounds++) {
      let cidr: string;
      try {
        cidr = await this.claimBlock(req.node, { family: f.family, use: f.use, ...(req.pools !== undefined ? { pools: req.pools } : {}) });
      } catch (e) {
        if (e instanceof IpamError && e.code === 'exhausted') break;
        throw e;
      }
      await take(cidr, mine);
    }
    if (out.length < count && this.borrow) {
      for (const b of await this.store.list('IPAMBlock')) {
        if (out.length >= count) break;
        if (b.spec.strictAffinity || freeCount(b.spec) === 0 || poolContaining(pools, b.spec.cidr) === undefined) continue;
        await take(b.spec.cidr, undefined);
      }
    }
    if (out.length < count) {
      if (out.length > 0) await this.releaseIPs(out);
      throw new IpamError('exhausted', `only ${out.length} of ${count} IPv${f.family} addresses available for node ${req.node.name} in ${pools.map((p) => p.spec.cidr).join(', ')}`);
    }
    return out;
  }

  /** Takes up to `want` addresses from one block; [] when the block is full, gone or not `affinity`'s. */
  private async assignInBlock(cidr: string, want: number, handle: string, attrs: Record<string, string> | undefined, affinity: string | undefined): Promise<string[]> {
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      if (b === undefined || want <= 0 || freeCount(b.spec) === 0) return [];
      if (affinity !== undefined && b.spec.affinity !== affinity) return [];
      const spec = structuredClone(b.spec);
      const ords = assignFromBlock(spec, want, handle, attrs);
      // Record the handle first (as Calico does): a crash between the two writes then leaves a
      // handle count too high, never an address nobody can release.
      await this.adjustHandle(handle, cidr, ords.length);
      spec.sequenceNumber += 1n;
      try {
        await this.store.update('IPAMBlock', b.name, spec, b.revision);
        return ords.map((o) => ordinalToIP(cidr, o));
      } catch (e) {
        await this.adjustHandle(handle, cidr, -ords.length);
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`assigning from block ${cidr}`);
  }

  /** Adds `delta` to the handle's count for the block; deletes the handle when nothing is left. */
  private async adjustHandle(handle: string, cidr: string, delta: number): Promise<void> {
    if (delta === 0) return;
    const name = handleName(handle);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const cur = await this.store.get('IPAMHandle', name);
      try {
        if (cur === undefined) {
          if (delta < 0) return;
          await this.store.create('IPAMHandle', name, { handleID: handle, block: { [cidr]: delta }, deleted: false });
          return;
        }
        const spec: HandleSpec = { ...cur.spec, block: { ...cur.spec.block } };
        const n = (spec.block[cidr] ?? 0) + delta;
        if (n > 0) spec.block[cidr] = n;
        else delete spec.block[cidr];
        if (Object.keys(spec.block).length === 0) await this.store.delete('IPAMHandle', name, cur.revision);
        else await this.store.update('IPAMHandle', name, spec, cur.revision);
        return;
      } catch (e) {
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`updating IPAMHandle ${name}`);
  }

  /** The addresses held by a handle. */
  async addressesOf(handle: string): Promise<string[]> {
    const out: string[] = [];
    for (const cidr of await this.blocksOf(handle)) {
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      if (b !== undefined) out.push(...handleOrdinals(b.spec, handle).map((o) => ordinalToIP(cidr, o)));
    }
    return out;
  }

  private async blocksOf(handle: string): Promise<string[]> {
    const h = await this.store.get('IPAMHandle', handleName(handle));
    if (h !== undefined) return Object.keys(h.spec.block);
    // No handle object (written by something that keeps none): look through every block.
    return (await this.store.list('IPAMBlock')).filter((b) => handleOrdinals(b.spec, handle).length > 0).map((b) => b.spec.cidr);
  }

  /** Releases every address of a handle (a pod deleted); returns them. */
  async releaseByHandle(handle: string): Promise<string[]> {
    const out: string[] = [];
    for (const cidr of await this.blocksOf(handle)) {
      const freed = await this.releaseInBlock(cidr, (spec) => handleOrdinals(spec, handle));
      out.push(...freed.ips);
      await this.adjustHandle(handle, cidr, -freed.ips.length);
      // The handle may count addresses its block no longer has (a crash mid-assign): drop them.
      const h = await this.store.get('IPAMHandle', handleName(handle));
      if (h !== undefined && h.spec.block[cidr] !== undefined && freed.ips.length === 0) await this.adjustHandle(handle, cidr, -(h.spec.block[cidr] ?? 0));
    }
    return out;
  }

  /** Releases the given addresses whoever holds them; returns those that were allocated. */
  async releaseIPs(ips: readonly string[]): Promise<string[]> {
    const blocks = await this.store.list('IPAMBlock');
    const byBlock = new Map<string, number[]>();
    for (const ip of ips) {
      if (parseAddr(ip) === null) throw new Error(`"${ip}" is not an IP address`);
      for (const b of blocks) {
        const o = ipToOrdinal(b.spec.cidr, ip);
        if (o !== undefined) { byBlock.set(b.spec.cidr, [...(byBlock.get(b.spec.cidr) ?? []), o]); break; }
      }
    }
    const out: string[] = [];
    for (const [cidr, ords] of byBlock) {
      const freed = await this.releaseInBlock(cidr, () => ords);
      out.push(...freed.ips);
      for (const [handle, n] of freed.byHandle) await this.adjustHandle(handle, cidr, -n);
    }
    return out;
  }

  private async releaseInBlock(cidr: string, pick: (b: BlockSpec) => number[]): Promise<{ ips: string[]; byHandle: Map<string, number> }> {
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      if (b === undefined) return { ips: [], byHandle: new Map() };
      const spec = structuredClone(b.spec);
      const byHandle = new Map<string, number>();
      const wanted = pick(spec).filter((o) => spec.allocations[o] !== null);
      for (const o of wanted) {
        const h = spec.attributes[spec.allocations[o] ?? -1]?.handle_id;
        if (h !== undefined) byHandle.set(h, (byHandle.get(h) ?? 0) + 1);
      }
      const freed = releaseOrdinals(spec, wanted);
      if (freed.length === 0) return { ips: [], byHandle };
      spec.sequenceNumber += 1n;
      try {
        // A block nobody holds and nothing uses is deleted, as calico-ipam does.
        if (spec.affinity === null && isEmpty(spec)) await this.store.delete('IPAMBlock', b.name, b.revision);
        else await this.store.update('IPAMBlock', b.name, spec, b.revision);
        return { ips: freed.map((o) => ordinalToIP(cidr, o)), byHandle };
      } catch (e) {
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`releasing addresses in block ${cidr}`);
  }

  /**
   * Who holds `ip` (libcalico-go GetAssignmentAttributes): its handle and secondary attributes,
   * or undefined when no block holds it allocated.
   */
  async assignmentOf(ip: string): Promise<{ handle: string | undefined; attrs: Record<string, string> } | undefined> {
    for (const b of await this.store.list('IPAMBlock')) {
      const o = ipToOrdinal(b.spec.cidr, ip);
      if (o === undefined) continue;
      const i = b.spec.allocations[o];
      if (i === null || i === undefined) return undefined;
      const attr = b.spec.attributes[i];
      return { handle: attr?.handle_id, attrs: { ...(attr?.secondary ?? {}) } };
    }
    return undefined;
  }

  /**
   * Assigns exactly `ip` to `handle` (libcalico-go AssignIP): the block of the enabled pool
   * holding it is claimed for the node when it does not exist yet; the handle is counted before
   * the block is written. False when the address is already allocated; IpamError 'noPool' when
   * no enabled pool holds it.
   */
  async assignIP(req: { ip: string; handle: string; attrs?: Record<string, string>; node: string }): Promise<boolean> {
    const addr = parseAddr(req.ip);
    if (addr === null) throw new Error(`"${req.ip}" is not an IP address`);
    const p = poolContaining((await this.opts.pools()).filter((x) => !x.spec.disabled), addr.toString());
    if (p === undefined) throw new IpamError('noPool', `no enabled IP pool holds ${req.ip}`);
    const cidr = parsePrefix(`${addr.toString()}/${p.spec.blockSize}`, { hostBits: 'clear' })?.toString() ?? '';
    if (await this.store.get('IPAMBlock', blockName(cidr)) === undefined) await this.claim(req.node, cidr);
    const ordinal = ipToOrdinal(cidr, req.ip) ?? 0;
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const b = await this.store.get('IPAMBlock', blockName(cidr));
      if (b === undefined) throw new IpamError('contention', `block ${cidr} vanished while assigning ${req.ip}`);
      const spec = structuredClone(b.spec);
      if (!assignOrdinal(spec, ordinal, req.handle, req.attrs)) return false;
      await this.adjustHandle(req.handle, cidr, 1);
      spec.sequenceNumber += 1n;
      try {
        await this.store.update('IPAMBlock', b.name, spec, b.revision);
        return true;
      } catch (e) {
        await this.adjustHandle(req.handle, cidr, -1);
        if (!isStoreError(e)) throw e;
      }
      await backoff(attempt);
    }
    throw this.contention(`assigning ${req.ip}`);
  }

  // ---- the node's tunnel addresses -------------------------------------------------------

  /**
   * What calico-node's allocateip does for one tunnel (IPIP; VXLAN: pools with vxlanMode Always
   * or CrossSubnet, handle "vxlan-tunnel-addr-<node>", type vxlanTunnelAddress; the IPv6 VTEP:
   * an IPv6 VXLAN pool, "vxlan-v6-tunnel-addr-<node>", vxlanV6TunnelAddress). The usable pools:
   * enabled, of the family, with that encapsulation, selecting the node, allowing Tunnel use.
   * `node.tunnelAddress` (or ipv4IPIPTunnelAddr) is the address the Node carries for that tunnel.
   * The current address is judged by who holds it in IPAM (ensureHostTunnelAddress):
   * - held with this node's attributes of this tunnel type: kept when inside a usable pool;
   *   otherwise the handle is released and a new address assigned;
   * - held without attributes and without a handle (written before Calico used either): released
   *   and assigned again, exactly, to the handle with the attributes (correctAllocationWithHandle);
   *   if someone takes it meanwhile (or no pool holds it) a new address is assigned;
   * - held without attributes but with a handle (a workload's), or with someone else's
   *   attributes: a new address is assigned; the holder keeps its address;
   * - not allocated at all: the handle is released and a new address assigned.
   * With no current address Kite first reuses an address the handle already holds in a usable
   * pool (a run that died before writing the Node, or the file datastore, whose Nodes Kite never
   * rewrites); calico-node would release it and assign another. Writing a new address to the
   * Node (`allocated: true`) is the caller's job.
   */
  async ensureTunnelAddress(node: NodeInfo & { ipv4IPIPTunnelAddr?: string | undefined; tunnelAddress?: string | undefined }, kind: TunnelKind = 'ipip'): Promise<TunnelResult> {
    const vx = kind !== 'ipip';
    const family = kind === 'vxlan-v6' ? 6 : 4;
    const K = kind === 'ipip' ? 'IPIP' : kind === 'vxlan' ? 'VXLAN' : 'IPv6 VXLAN';
    const f: PoolFilter = vx
      ? { family, use: IpamUse.Tunnel, extra: (p) => (p.spec.vxlanMode === 'Never' ? 'vxlanMode is Never' : undefined) }
      : { family, use: IpamUse.Tunnel, extra: (p) => (p.spec.ipipMode === 'Never' ? 'ipipMode is Never' : undefined) };
    const all = await this.opts.pools();
    const pools = usablePools(all, node, f);
    const current = node.tunnelAddress ?? node.ipv4IPIPTunnelAddr;
    if (pools.length === 0) {
      const why = judgePools(all, node, f).map((v) => `${v.pool.metadata.name}: ${v.reason}`).join('; ');
      return { address: current, allocated: false, reason: `no ${K} pool can give node ${node.name} a tunnel address${why !== '' ? ` (${why})` : ''}` };
    }
    const handle = kind === 'ipip' ? ipipTunnelHandle(node.name) : vxlanTunnelHandle(node.name, family);
    const attrs = { node: node.name, type: TUNNEL_ATTRIBUTE_TYPE[kind] };
    const inPool = (ip: string): boolean => poolContaining(pools, ip) !== undefined;
    const assignNew = async (release: boolean, why: string): Promise<TunnelResult> => {
      if (release) await this.releaseByHandle(handle);
      const [ip] = await this.autoAssign({
        node, handle, count: 1, family, use: IpamUse.Tunnel, pools: pools.map((p) => p.metadata.name), attrs,
      });
      return { address: ip, allocated: true, reason: `${why}: allocated ${ip ?? ''} from ${poolContaining(pools, ip ?? '')?.metadata.name ?? ''}` };
    };
    if (current === undefined || current === '') {
      const held = (await this.addressesOf(handle)).filter(inPool)[0];
      if (held !== undefined) return { address: held, allocated: true, reason: `${held} is already allocated to ${handle}` };
      return assignNew(true, `node ${node.name} has no ${K} tunnel address`);
    }
    const ca = parseAddr(current);
    if (ca === null || ca.family !== family) {
      return { address: undefined, allocated: false, reason: `the Node's ${K} tunnel address ${JSON.stringify(current)} is not an IPv${family} address` };
    }
    const owner = await this.assignmentOf(current);
    if (owner === undefined) return assignNew(true, `${current} is not allocated in IPAM`);
    if (owner.attrs['type'] === attrs.type && owner.attrs['node'] === node.name) {
      if (inPool(current)) return { address: current, allocated: false, reason: `keeps ${current}, inside an ${K} pool` };
      return assignNew(true, `${current} is not inside an ${K} pool`);
    }
    if (Object.keys(owner.attrs).length === 0 && owner.handle === undefined) {
      // An address from before handles and attributes: take it back under the handle.
      await this.releaseIPs([current]);
      try {
        if (await this.assignIP({ ip: current, handle, attrs, node: node.name })) {
          return { address: current, allocated: false, reason: `re-registered ${current} in IPAM under ${handle}` };
        }
      } catch (e) {
        if (!(e instanceof IpamError && e.code === 'noPool')) throw e;
      }
      return assignNew(false, `${current} could not be re-registered (taken meanwhile, or in no enabled pool)`);
    }
    return assignNew(false, `${current} is held by ${owner.handle ?? 'an allocation without a handle'}${Object.keys(owner.attrs).length > 0 ? ` (${Object.entries(owner.attrs).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`);
  }
}
