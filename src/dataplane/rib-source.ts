// Reads the dataplane's remote-route input out of the Loc-RIB: for each prefix learned from a
// peer, the next hops of its best and equal-cost paths, each marked with the Calico node that owns
// the address (IPIP only ever goes to Calico nodes; the calc layer supplies which addresses are
// nodes). Locally originated prefixes are not remote.

import { parseAddr, type Prefix } from '../net/index.js';
import { LOCAL_PEER, type BestChangeListener, type Rib } from '../rib/rib.js';
import type { Dataplane } from './dataplane.js';
import type { NodeAddresses, RemoteNextHop } from './inputs.js';

/**
 * One next hop per interned attribute set (a full table shares a handful), valid for one node
 * map: parsing and canonicalising the next hop text once per attribute set instead of per prefix.
 */
const hopCache = new WeakMap<NodeAddresses, WeakMap<object, RemoteNextHop | null>>();

function hopOf(attrs: { nextHop: string; kernelPriority?: number }, nodes: NodeAddresses): RemoteNextHop | null {
  let byAttrs = hopCache.get(nodes);
  if (byAttrs === undefined) hopCache.set(nodes, (byAttrs = new WeakMap()));
  let hop = byAttrs.get(attrs);
  if (hop === undefined) {
    const ip = parseAddr(attrs.nextHop);
    hop = ip === null ? null : { address: ip.toString() };
    if (hop !== null) {
      const node = nodes.get(hop.address);
      if (node !== undefined) hop.calicoNode = node;
      if (attrs.kernelPriority !== undefined) hop.priority = attrs.kernelPriority;
    }
    byAttrs.set(attrs, hop);
  }
  return hop;
}

/** Next hops of the best and equal-cost paths of a slot, or null when none is learned from a peer. */
export function remoteNextHops(rib: Rib, slot: number, nodes: NodeAddresses): RemoteNextHop[] | null {
  const best = rib.best(slot);
  if (best < 0 || rib.pathPeer(best) === LOCAL_PEER) return null;
  const out: RemoteNextHop[] = [];
  for (const p of rib.equalCost(slot)) {
    if (rib.pathPeer(p) === LOCAL_PEER) continue;
    const hop = hopOf(rib.pathAttrs(p), nodes);
    if (hop === null || out.includes(hop) || out.some((h) => h.address === hop.address)) continue;
    out.push(hop);
  }
  return out.length > 0 ? out : null;
}

/** Every remote prefix of the RIB, for a full `dp.update({ remote })`. */
export function remoteRoutes(rib: Rib, nodes: NodeAddresses): Map<Prefix, RemoteNextHop[]> {
  const out = new Map<Prefix, RemoteNextHop[]>();
  rib.prefixes.forEach((slot) => {
    const hops = remoteNextHops(rib, slot, nodes);
    if (hops !== null) out.set(rib.prefixes.prefix(slot), hops);
  });
  return out;
}

/**
 * A best-change listener feeding one prefix at a time into the dataplane:
 * `rib.onBestChange(followRib(rib, dp, () => nodes))`. The prefix goes as the RIB holds it (an
 * IPv4 network is its 32-bit number): no text on the way to the kernel.
 */
export function followRib(rib: Rib, dp: Dataplane, nodes: () => NodeAddresses): BestChangeListener {
  return (slot, _old, newBest) => {
    dp.setRemoteRoute(rib.prefixes.prefix(slot), newBest < 0 ? null : remoteNextHops(rib, slot, nodes()));
  };
}
