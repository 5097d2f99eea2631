// Which IPPools may hand out addresses to a node, and which blocks a node tries first, with
// Calico's rules (libcalico-go lib/ipam pools.go, ipam_block_reader_writer.go): disabled pools
// are skipped, the pool's nodeSelector must select the node, allowedUses must include the use
// (default Workload and Tunnel), and blocks are blockSize-long slices of the pool.
import { IpAddr, parsePrefix } from '../net/index.js';
import { blockRange, type Range } from './range.js';
import type { AllowedUse, IPPool } from '../datastore/resources.js';
import { parseSelector, SelectorError, type Labels } from '../datastore/selector.js';

export interface NodeInfo {
  name: string;
  /** The node's labels, which pools' nodeSelectors are evaluated against. */
  labels: Labels;
}

export const IpamUse = { Workload: 'Workload', Tunnel: 'Tunnel' } as const satisfies Record<string, AllowedUse>;
export type IpamUse = (typeof IpamUse)[keyof typeof IpamUse];

/** Calico's default when a pool does not say: pods and tunnel addresses, not LoadBalancer. */
const DEFAULT_USES: readonly AllowedUse[] = ['Workload', 'Tunnel'];

export interface PoolVerdict {
  pool: IPPool;
  usable: boolean;
  /** Why not, when not usable. */
  reason: string;
}

export interface PoolFilter {
  family: 4 | 6;
  use: IpamUse;
  /** Restrict to these pools (by metadata.name or CIDR), as the CNI plugin's ipv4_pools does. */
  only?: readonly string[];
  /** Extra condition (the tunnel address wants IPIP pools only). */
  extra?: (p: IPPool) => string | undefined;
}

/** Every pool with whether it may serve this node for this use, and why not. */
export function judgePools(pools: readonly IPPool[], node: NodeInfo, f: PoolFilter): PoolVerdict[] {
  return pools.map((pool) => {
    const no = (reason: string): PoolVerdict => ({ pool, usable: false, reason });
    const c = parsePrefix(pool.spec.cidr);
    if (c === null) return no(`cidr ${pool.spec.cidr} is not a CIDR`);
    if (c.family !== f.family) return no(`IPv${c.family} pool, IPv${f.family} wanted`);
    if (f.only !== undefined && !f.only.includes(pool.metadata.name) && !f.only.includes(c.network().toString())) return no('not among the requested pools');
    if (pool.spec.disabled) return no('disabled');
    const uses = pool.spec.allowedUses ?? DEFAULT_USES;
    if (!uses.includes(f.use)) return no(`allowedUses [${uses.join(', ')}] does not include ${f.use}`);
    if (pool.spec.blockSize < c.len) return no(`blockSize ${pool.spec.blockSize} is shorter than the pool's /${c.len}`);
    const sel = pool.spec.nodeSelector;
    if (sel !== undefined && sel.trim() !== '') {
      try {
        if (!parseSelector(sel).matches(node.labels)) return no(`nodeSelector "${sel}" does not select node ${node.name}`);
      } catch (e) {
        if (e instanceof SelectorError) return no(`nodeSelector does not parse: ${e.message}`);
        throw e;
      }
    }
    const extra = f.extra?.(pool);
    if (extra !== undefined) return no(extra);
    return { pool, usable: true, reason: '' };
  });
}

export function usablePools(pools: readonly IPPool[], node: NodeInfo, f: PoolFilter): IPPool[] {
  return judgePools(pools, node, f).filter((v) => v.usable).map((v) => v.pool);
}

/** FNV-1 32-bit, as Go's hash/fnv New32 (the seed Calico derives from the host name). */
function fnv1(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h;
}

/**
 * The pool's blocks in the order this node tries them: starting at a point derived from the
 * node name and wrapping around, so nodes starting together spread over the pool instead of
 * all fighting for the first block (Calico seeds its random start from the host name for the
 * same reason; the exact order differs, which only changes which free block is picked).
 */
export function* blockCandidates(pool: IPPool, nodeName: string): Generator<string> {
  let c: Range;
  try { c = blockRange(pool.spec.cidr); } catch { return; }
  const bits = c.family === 4 ? 32 : 128;
  const bs = pool.spec.blockSize;
  if (bs < c.len || bs > bits) return;
  const count = 1n << BigInt(bs - c.len);
  const step = 1n << BigInt(bits - bs);
  const start = BigInt(fnv1(nodeName)) % count;
  for (let i = 0n; i < count; i++) {
    const idx = (start + i) % count;
    yield `${IpAddr.fromBigInt(c.family, c.start + idx * step).toString()}/${bs}`;
  }
}

/** The pool containing `cidr` (a block or an address), if any. */
export function poolContaining(pools: readonly IPPool[], cidr: string): IPPool | undefined {
  const inner = parsePrefix(cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
  if (inner === null) return undefined;
  return pools.find((p) => parsePrefix(p.spec.cidr)?.contains(inner) === true);
}

/**
 * Whether `cidr` is one of the pool's blocks: its prefix length is the pool's blockSize and it
 * starts on a block boundary. An affinity for anything else was not written by an allocator
 * (a pool's blockSize cannot change), so none is claimed for it.
 */
export function isBlockOf(pool: IPPool, cidr: string): boolean {
  const p = parsePrefix(cidr);
  return p !== null && p.len === pool.spec.blockSize && p.isAligned();
}
