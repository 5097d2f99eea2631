// Datastore resources and this node's config -> the Linux dataplane's inputs (src/dataplane/
// inputs.ts): pools with their encapsulation modes, this node's addresses, blocks and tunnel
// address, service ranges, local workloads, and which addresses belong to Calico nodes. The arrow
// runs one way: the calc layer knows both vocabularies, the dataplane only its own.

import type { NodeConfig } from '../config/node-config.js';
import { parseAddr, parsePrefix } from '../net/index.js';
import type { Node, Resources, WorkloadEndpoint } from '../datastore/resources.js';
import type { DataplaneConfig, LocalWorkload, NodeAddresses, RemoteVtep } from '../dataplane/inputs.js';
import { vxlanMac } from '../ipam/names.js';

/** The node-wide dataplane inputs from the derived node config. */
export function dataplaneConfig(cfg: NodeConfig): DataplaneConfig {
  const out: DataplaneConfig = {
    pools: cfg.pools.map((p) => ({ name: p.name, cidr: p.cidr, family: p.family, ipipMode: p.ipipMode, vxlanMode: p.vxlanMode })),
    blocks: cfg.originate.map((o) => (o.pool === undefined ? { prefix: o.prefix } : { prefix: o.prefix, pool: o.pool })),
    // Whether the node advertises them or not, service ranges are kube-proxy's to route.
    serviceRanges: [...cfg.services.clusterIPs, ...cfg.services.externalIPs, ...cfg.services.loadBalancerIPs],
  };
  if (cfg.ipv4Address !== undefined) out.ipv4Address = { ...cfg.ipv4Address };
  if (cfg.ipv6Address !== undefined) out.ipv6Address = { ...cfg.ipv6Address };
  if (cfg.ipv4IPIPTunnelAddr !== undefined) out.ipv4IPIPTunnelAddr = cfg.ipv4IPIPTunnelAddr;
  if (cfg.ignoredInterfaces.length > 0) out.ignoredInterfaces = [...cfg.ignoredInterfaces];
  if (cfg.clusterRoutes !== undefined && (!cfg.clusterRoutes.ipip || !cfg.clusterRoutes.noEncap)) out.clusterRoutes = { ...cfg.clusterRoutes };
  const peerRoutes = cfg.peers.flatMap((p) => (p.reachableBy === undefined ? [] : [{ peer: p.address, gateway: p.reachableBy }]));
  if (peerRoutes.length > 0) out.peerRoutes = peerRoutes;
  // A VTEP without a MAC in the Node gets the one Kite derives from the node name (and writes
  // with the address), so the device and every peer's FDB agree on it.
  if (cfg.ipv4VXLANTunnelAddr !== undefined) out.vxlan4 = { address: cfg.ipv4VXLANTunnelAddr, mac: cfg.vxlanTunnelMACAddr ?? vxlanMac(cfg.node, 4) };
  if (cfg.ipv6VXLANTunnelAddr !== undefined) out.vxlan6 = { address: cfg.ipv6VXLANTunnelAddr, mac: cfg.vxlanTunnelMACAddrV6 ?? vxlanMac(cfg.node, 6) };
  return out;
}

/**
 * Other nodes' VTEPs from their Node resources (as Felix's VXLAN resolver reads them): a VTEP
 * needs the tunnel address and the node's underlay address of the same family; its MAC is the
 * Node's, else the one Kite derives from the node name.
 */
export function remoteVteps(nodes: readonly Node[], self: string): RemoteVtep[] {
  const out: RemoteVtep[] = [];
  for (const n of nodes) {
    if (n.metadata.name === self) continue;
    const s = n.spec;
    const rows = [
      { family: 4 as const, address: s.ipv4VXLANTunnelAddr, mac: s.vxlanTunnelMACAddr, under: s.bgp?.ipv4Address },
      { family: 6 as const, address: s.ipv6VXLANTunnelAddr, mac: s.vxlanTunnelMACAddrV6, under: s.bgp?.ipv6Address },
    ];
    for (const r of rows) {
      if (r.address === undefined || r.under === undefined) continue;
      const under = r.under.includes('/') ? parsePrefix(r.under)?.addr : parseAddr(r.under);
      if (!under) continue;
      out.push({ node: n.metadata.name, family: r.family, address: r.address, mac: r.mac ?? vxlanMac(n.metadata.name, r.family), nodeAddress: under.toString() });
    }
  }
  return out;
}

/** The node's workloads among WorkloadEndpoint resources (those naming an interface). */
export function localWorkloads(weps: readonly WorkloadEndpoint[], node: string): LocalWorkload[] {
  const out: LocalWorkload[] = [];
  for (const w of weps) {
    if (w.spec.node !== node || w.spec.interfaceName === undefined) continue;
    const lw: LocalWorkload = { name: w.metadata.name, interfaceName: w.spec.interfaceName, ipNetworks: w.spec.ipNetworks };
    if (w.spec.mac !== undefined) lw.mac = w.spec.mac;
    out.push(lw);
  }
  return out;
}

/** Calico node addresses (IPv4 and IPv6, canonical text) -> node name. */
export function calicoNodeAddresses(nodes: readonly Node[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) {
    for (const a of [n.spec.bgp?.ipv4Address, n.spec.bgp?.ipv6Address]) {
      if (a === undefined) continue;
      const ip = a.includes('/') ? parsePrefix(a)?.addr : parseAddr(a);
      if (ip) out.set(ip.toString(), n.metadata.name);
    }
  }
  return out;
}

/** Everything the dataplane is fed from one accepted snapshot. */
export interface DataplaneFeed {
  config: DataplaneConfig;
  workloads: LocalWorkload[];
  nodes: NodeAddresses;
}

export function dataplaneFeed(cfg: NodeConfig, resources: Pick<Resources, 'nodes' | 'workloadEndpoints'> | null | undefined): DataplaneFeed {
  return {
    config: { ...dataplaneConfig(cfg), vteps: remoteVteps(resources?.nodes ?? [], cfg.node) },
    workloads: localWorkloads(resources?.workloadEndpoints ?? [], cfg.node),
    nodes: calicoNodeAddresses(resources?.nodes ?? []),
  };
}
