// Shared state for deriving one node's configuration: what is known about every Calico node
// (cluster defaults applied) and cached selectors. Used by peers.ts and blocks.ts.
import { parsePrefix, type Family, type IpAddr, type Prefix } from '../net/index.js';
import type { BGPConfiguration, Node, Resources } from '../datastore/resources.js';
import { parseSelector, type Labels, type Selector } from '../datastore/selector.js';

/** What is known about a Calico node, with cluster defaults applied. */
export interface NodeInfo {
  name: string;
  labels: Labels;
  /** The node's address and subnet ("198.18.0.1/24", host part kept). */
  v4?: Prefix;
  v6?: Prefix;
  asNumber: number;
  listenPort: number;
  rrClusterID?: string;
}

export const addrOf = (n: NodeInfo, f: Family): IpAddr | undefined => (f === 4 ? n.v4?.addr : n.v6?.addr);
export const describeNode = (n: NodeInfo): string => `node "${n.name}"`;

export interface Ctx {
  rs: Resources;
  me: NodeInfo;
  infos: Map<string, NodeInfo>;
  globalAS: number;
  notes: string[];
  global: BGPConfiguration | undefined;
  selectors: Map<string, Selector>;
}

export function nodeInfo(n: Node, globalAS: number, listenPort: number): NodeInfo {
  const b = n.spec.bgp;
  const info: NodeInfo = { name: n.metadata.name, labels: n.metadata.labels, asNumber: b?.asNumber ?? globalAS, listenPort };
  const v4 = b?.ipv4Address === undefined ? null : parsePrefix(b.ipv4Address);
  const v6 = b?.ipv6Address === undefined ? null : parsePrefix(b.ipv6Address);
  if (v4 !== null) info.v4 = v4;
  if (v6 !== null) info.v6 = v6;
  if (b?.routeReflectorClusterID !== undefined) info.rrClusterID = b.routeReflectorClusterID;
  return info;
}

export function selector(ctx: Ctx, text: string): Selector {
  let s = ctx.selectors.get(text);
  if (s === undefined) {
    s = parseSelector(text); // validated when the file was loaded
    ctx.selectors.set(text, s);
  }
  return s;
}

/** Nodes selected by a selector, in file order. */
export function nodesMatching(ctx: Ctx, text: string): NodeInfo[] {
  const s = selector(ctx, text);
  return [...ctx.infos.values()].filter((n) => s.matches(n.labels));
}
