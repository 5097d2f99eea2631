// The cache both next-hop-to-interface resolvers use (connected.ts, kernel-routes.ts): a table of
// prefixes read again once it is ttlMs old, and each next hop's answer kept until then, so a burst
// of routes with the same next hop costs one scan.
import { parseAddr } from './addr.js';
import type { Prefix } from './prefix.js';

export interface TableResolverOptions {
  /** The table, in the order to search it (the first entry holding the address wins). */
  read(): { net: Prefix; name: string }[];
  /** How long one reading is used, in ms. */
  ttlMs: number;
  now: () => number;
}

/** A resolver from next-hop text to the name of the first table entry holding it, or undefined (none does, or not an address). */
export function tableResolver(o: TableResolverOptions): (nextHop: string) => string | undefined {
  let readAt = -Infinity;
  let table: { net: Prefix; name: string }[] = [];
  const memo = new Map<string, string | undefined>();
  return (nextHop) => {
    if (o.now() - readAt > o.ttlMs) {
      readAt = o.now();
      memo.clear();
      table = o.read();
    }
    if (memo.has(nextHop)) return memo.get(nextHop);
    const a = parseAddr(nextHop);
    const name = a === null ? undefined : table.find((s) => s.net.has(a))?.name;
    if (memo.size > 10_000) memo.clear();
    memo.set(nextHop, name);
    return name;
  };
}
