// Shared test helpers for IPAM: IPPool objects built by hand (as the datastore's validator
// would produce them) and a checker that no address or block is held twice.
import type { IPPool, IPPoolSpec } from '../../src/datastore/resources.js';
import { checkBlock, ordinalToIP } from '../../src/ipam/block.js';
import type { IpamStore } from '../../src/ipam/store.js';

export function pool(name: string, cidr: string, spec: Partial<IPPoolSpec> = {}): IPPool {
  return {
    apiVersion: 'projectcalico.org/v3', kind: 'IPPool',
    metadata: { name, labels: {}, annotations: {} },
    spec: { cidr, blockSize: cidr.includes(':') ? 122 : 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false, disableBGPExport: false, ...spec },
    origin: { file: 'test', document: 1 },
  };
}

export const node = (name: string, labels: Record<string, string> = {}): { name: string; labels: Record<string, string> } => ({ name, labels });

/** Every allocated address in the store → its handle; fails on any inconsistency. */
export async function auditStore(store: IpamStore): Promise<{ owners: Map<string, string>; blocks: Map<string, string | null> }> {
  const owners = new Map<string, string>();
  const blocks = new Map<string, string | null>();
  for (const b of await store.list('IPAMBlock')) {
    const problems = checkBlock(b.spec);
    if (problems.length > 0) throw new Error(`block ${b.spec.cidr}: ${problems.join('; ')}`);
    blocks.set(b.spec.cidr, b.spec.affinity);
    b.spec.allocations.forEach((a, o) => {
      if (a === null) return;
      const ip = ordinalToIP(b.spec.cidr, o);
      if (owners.has(ip)) throw new Error(`${ip} appears twice`);
      owners.set(ip, b.spec.attributes[a]?.handle_id ?? '');
    });
  }
  // Each confirmed affinity must match its block's affinity.
  for (const a of await store.list('BlockAffinity')) {
    if (a.spec.state !== 'confirmed') continue;
    const owner = blocks.get(a.spec.cidr);
    if (owner !== undefined && owner !== `host:${a.spec.node}`) throw new Error(`affinity ${a.name} says ${a.spec.node}, block says ${String(owner)}`);
  }
  return { owners, blocks };
}
