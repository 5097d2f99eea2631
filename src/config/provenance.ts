// Where each item of a node's derived configuration came from (`kite show config`): the Node,
// a BGPConfiguration (node-specific "node.<name>" before "default"), a BGPPeer, an IPPool, or a
// Calico default. Read next to node-config.ts, which applies the same order when it derives.
import { DEFAULTS, type BGPConfiguration, type Resources } from '../datastore/resources.js';
import { PeerKind, type NodeConfig, type PeerConfig } from './types.js';

/** calicoctl node status's peer types (calicoctl/commands/node/status.go: Mesh_, Node_, Global_), and ours for reflector clients. */
export type PeerTypeName = 'node-to-node mesh' | 'global' | 'node specific' | 'route-reflector client';

/**
 * The peer type as `calicoctl node status` prints it: confd names BIRD protocols Mesh_ for the
 * mesh, Global_ for BGPPeers that select every node (no node, no nodeSelector) and Node_ for the
 * rest; Kite adds "route-reflector client" for the peers it reflects to.
 */
export function peerType(p: PeerConfig): PeerTypeName {
  if (p.routeReflectorClient) return 'route-reflector client';
  if (p.kind === PeerKind.Mesh) return 'node-to-node mesh';
  const s = p.spec;
  return s?.node === undefined && (s?.nodeSelector === undefined || s.nodeSelector === '') && !p.reverse ? 'global' : 'node specific';
}

export interface Sourced<T> { value: T; source: string }

export interface ConfigProvenance {
  routerId: Sourced<string>;
  asNumber: Sourced<number>;
  ipv4Address: Sourced<string> | null;
  ipv6Address: Sourced<string> | null;
  listenPort: Sourced<number>;
  logSeverityScreen: Sourced<string>;
  nodeToNodeMesh: Sourced<boolean>;
  peers: { name: string; address: string; asNumber: number; peerType: PeerTypeName; source: string }[];
  originated: { prefix: string; source: string }[];
  pools: { name: string; cidr: string; ipipMode: string; vxlanMode: string; natOutgoing: boolean; disabled: boolean; source: string }[];
}

/** The configuration in force with its sources; `rs` is the snapshot it was derived from (null: sources unknown). */
export function explainConfig(cfg: NodeConfig, rs: Resources | null): ConfigProvenance {
  const node = rs?.nodes.find((n) => n.metadata.name === cfg.node);
  const bgp = node?.spec.bgp;
  const global = rs?.bgpConfigurations.find((c) => c.metadata.name === 'default');
  const perNode = rs?.bgpConfigurations.find((c) => c.metadata.name === `node.${cfg.node}`);
  const nodeField = (f: string): string => `Node ${cfg.node} spec.bgp.${f}`;
  const bgpConfig = <K extends keyof BGPConfiguration['spec']>(field: K, calicoDefault: string, nodeFirst: boolean): string => {
    if (nodeFirst && perNode?.spec[field] !== undefined) return `BGPConfiguration node.${cfg.node} spec.${field}`;
    if (global?.spec[field] !== undefined) return `BGPConfiguration default spec.${field}`;
    return `Calico default (${calicoDefault})`;
  };
  const v4 = bgp?.ipv4Address?.split('/')[0];
  return {
    routerId: { value: cfg.routerId, source: v4 === cfg.routerId ? `${nodeField('ipv4Address')} (Calico's router ID is the node's IPv4 address)` : 'set explicitly (--router-id / CALICO_ROUTER_ID)' },
    asNumber: { value: cfg.asNumber, source: bgp?.asNumber !== undefined ? nodeField('asNumber') : bgpConfig('asNumber', String(DEFAULTS.asNumber), false) },
    ipv4Address: cfg.ipv4Address ? { value: `${cfg.ipv4Address.address}/${cfg.ipv4Address.prefixLength}`, source: nodeField('ipv4Address') } : null,
    ipv6Address: cfg.ipv6Address ? { value: `${cfg.ipv6Address.address}/${cfg.ipv6Address.prefixLength}`, source: nodeField('ipv6Address') } : null,
    listenPort: { value: cfg.listenPort, source: bgpConfig('listenPort', String(DEFAULTS.listenPort), true) },
    logSeverityScreen: { value: cfg.logSeverityScreen, source: bgpConfig('logSeverityScreen', 'Info', true) },
    nodeToNodeMesh: { value: cfg.nodeToNodeMeshEnabled, source: bgpConfig('nodeToNodeMeshEnabled', String(DEFAULTS.nodeToNodeMeshEnabled), false) },
    peers: cfg.peers.map((p) => ({
      name: p.name, address: p.address, asNumber: p.asNumber, peerType: peerType(p),
      source: p.kind === PeerKind.Mesh
        ? `node-to-node mesh with Node ${p.peerNode ?? p.address} (BGPConfiguration nodeToNodeMeshEnabled)`
        : `BGPPeer ${p.resource ?? p.name}${p.reverse ? ' (automatic reverse peering: it selects this node as its peer)' : ''}`,
    })),
    originated: cfg.originate.map((o) => ({ prefix: o.prefix, source: `IPAM block affine to ${cfg.node}, IPPool ${o.pool}` })),
    pools: cfg.pools.map((p) => ({ name: p.name, cidr: p.cidr, ipipMode: p.ipipMode, vxlanMode: p.vxlanMode, natOutgoing: p.natOutgoing, disabled: p.disabled, source: `IPPool ${p.name}` })),
  };
}
