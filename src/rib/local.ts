// This node's own routes in the Loc-RIB (its affine blocks and the service CIDRs it
// originates), applied from the calc pipeline's route deltas, and which of them are blocks
// (the export policy treats blocks and service CIDRs differently).
import type { Interner } from './intern.js';
import { parsePrefix, type Prefix } from '../bgp/wire/prefix.js';
import { IPV4_UNICAST, Origin, type FamilyKey, type PathAttrs } from '../bgp/wire/types.js';
import type { BlockSet } from './policy.js';
import { LOCAL_PEER, type Rib } from './rib.js';

export class LocalRoutes implements BlockSet {
  /** Originated prefixes by canonical text. */
  private readonly routes = new Map<string, { prefix: Prefix; block: boolean }>();

  constructor(private readonly rib: Rib, private readonly interner: Interner) {}

  get size(): number { return this.routes.size; }

  isBlock(prefix: string): boolean { return this.routes.get(prefix)?.block ?? false; }

  /** Originates `prefix` (canonical text); one already originated only changes whether it is a block. */
  originate(prefix: string, block: boolean): void {
    const have = this.routes.get(prefix);
    if (have !== undefined) { have.block = block; return; }
    const p = parsePrefix(prefix);
    this.routes.set(prefix, { prefix: p, block });
    this.rib.announce(LOCAL_PEER, p.family, p.bytes, p.len, 0, this.localAttrs(p.family).id);
  }

  withdraw(prefix: string): void {
    const have = this.routes.get(prefix);
    if (have === undefined) return;
    this.routes.delete(prefix);
    const p = have.prefix;
    this.rib.withdraw(LOCAL_PEER, p.family, p.bytes, p.len, 0);
  }

  /** The Loc-RIB view of a local route: ORIGIN IGP, empty AS path, unspecified next hop. */
  private localAttrs(family: FamilyKey): PathAttrs {
    return this.interner.internAttrs({
      origin: Origin.IGP, asPath: [], nextHop: family === IPV4_UNICAST ? '0.0.0.0' : '::',
      atomicAggregate: false, unknown: [],
    });
  }
}
