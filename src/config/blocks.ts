// What a node originates and which pools it knows: its affine blocks (BlockAffinity, or an
// IPAMBlock with affinity host:<node>) unless an IPPool with disableBGPExport holds them, and
// every pool with Calico's defaults applied.
import { familyOfText, parsePrefix } from '../net/index.js';
import type { Ctx } from './context.js';
import { selector } from './context.js';
import type { OriginatedBlock, PoolConfig } from './types.js';

export function originate(ctx: Ctx): OriginatedBlock[] {
  const { me, notes, rs } = ctx;
  const poolCidrs = rs.ipPools.map((p) => ({ pool: p, cidr: parsePrefix(p.spec.cidr) }));
  const out: OriginatedBlock[] = [];
  const seen = new Set<string>();
  const consider = (prefix: string, from: string): void => {
    if (seen.has(prefix)) return;
    seen.add(prefix);
    const c = parsePrefix(prefix);
    if (c === null) return;
    // The most specific pool wins when pools nest.
    const pool = poolCidrs
      .filter((p) => p.cidr !== null && p.cidr.contains(c))
      .sort((a, b) => (b.cidr?.len ?? 0) - (a.cidr?.len ?? 0))[0]?.pool;
    if (pool === undefined) {
      // Calico advertises it all the same: confd's bird_aggr.cfg accepts every confirmed (or
      // implicit) affine block in calico_aggr() before any pool check (bird_ipam.cfg
      // calico_export_to_bgp_peers), e.g. the blocks of a pool deleted while still in use.
      notes.push(`block ${prefix} (${from}) is outside every IPPool; advertised as Calico does (its affinity stands)`);
      out.push({ prefix: c.network().toString() });
      return;
    }
    if (pool.spec.disableBGPExport) {
      notes.push(`block ${prefix} is in IPPool "${pool.metadata.name}", which has disableBGPExport; not advertised`);
      return;
    }
    // A disabled pool only stops new allocations: its existing blocks are still advertised.
    out.push({ prefix: c.network().toString(), pool: pool.metadata.name });
  };
  for (const ba of rs.blockAffinities) {
    if (ba.spec.node !== me.name) continue;
    const name = `BlockAffinity "${ba.metadata.name}"`;
    if (ba.spec.deleted) { notes.push(`block ${ba.spec.cidr} (${name}) is marked deleted; not advertised`); continue; }
    if (ba.spec.state !== undefined && ba.spec.state !== 'confirmed') {
      notes.push(`block ${ba.spec.cidr} (${name}) is ${ba.spec.state}, not confirmed; not advertised`);
      continue;
    }
    consider(ba.spec.cidr, name);
  }
  // IPAM blocks carry the same affinity ("host:<node>"); include any without a BlockAffinity.
  for (const b of rs.ipamBlocks) {
    if (b.spec.affinity !== `host:${me.name}` || b.spec.deleted) continue;
    consider(b.spec.cidr, `IPAMBlock "${b.metadata.name}"`);
  }
  return out;
}

/**
 * Borrowed addresses (issue 15): this node's workload addresses that lie outside its own affine
 * blocks but inside a pool (calico-ipam borrows from another node's block when this node's are
 * full). Calico's BIRD learns each as a kernel /32 (/128) on its cali interface and exports it
 * (bird_ipam.cfg: `net ~ block` rejects only inside own blocks; `net ~ pool` accepts); the block
 * owner keeps advertising the block, so longest match delivers to this node. Canonical prefixes.
 */
export function borrowed(ctx: Ctx): string[] {
  const { me, rs } = ctx;
  const own = [
    ...rs.blockAffinities.filter((b) => b.spec.node === me.name && !b.spec.deleted).map((b) => b.spec.cidr),
    ...rs.ipamBlocks.filter((b) => b.spec.affinity === `host:${me.name}` && !b.spec.deleted).map((b) => b.spec.cidr),
  ].map((c) => parsePrefix(c)).filter((p) => p !== null);
  const pools = rs.ipPools.map((p) => parsePrefix(p.spec.cidr)).filter((p) => p !== null);
  const out = new Set<string>();
  for (const w of rs.workloadEndpoints) {
    if (w.spec.node !== me.name) continue;
    for (const text of w.spec.ipNetworks) {
      const p = parsePrefix(text.includes('/') ? text : `${text}/${familyOfText(text) === 6 ? 128 : 32}`);
      if (p === null || p.len !== (p.family === 4 ? 32 : 128)) continue;
      if (own.some((b) => b.contains(p)) || !pools.some((q) => q.contains(p))) continue;
      out.add(p.network().toString());
    }
  }
  return [...out].sort();
}

export function pools(ctx: Ctx): PoolConfig[] {
  return ctx.rs.ipPools.map((p) => {
    const s = p.spec;
    const sel = s.nodeSelector ?? 'all()';
    return {
      name: p.metadata.name,
      cidr: s.cidr,
      family: familyOfText(s.cidr),
      blockSize: s.blockSize,
      ipipMode: s.ipipMode,
      vxlanMode: s.vxlanMode,
      natOutgoing: s.natOutgoing,
      disabled: s.disabled,
      disableBGPExport: s.disableBGPExport,
      nodeSelector: sel,
      selectsThisNode: selector(ctx, sel).matches(ctx.me.labels),
      allowedUses: s.allowedUses ?? ['Workload', 'Tunnel'],
    };
  });
}
