// Multi-node Calico clusters for the routing-semantics interop tests: one Calico YAML for the
// whole cluster (Nodes with labels and route-reflector cluster IDs, BGPPeers with selectors,
// service CIDRs), Kite nodes started from it, and BIRD / FRR variants (route reflector, RR
// client, graceful-restart helper) built on the launchers in test/interop.

import { renameSync, writeFileSync } from 'node:fs';
import type { PathStatus, RouteStatus } from '../../src/api/types.js';
import { createControlClient, type ControlClient } from '../../src/api/client.js';
import { type Lab, type LabNode, sleep, waitFor } from '../interop/netns.js';
import { BirdPeer, FrrPeer, type PeerSpec } from '../interop/peers.js';
import { Kite } from '../interop/kite.js';
import { clusterYaml as calicoYaml } from '../helpers/cluster-config.js';

export const CALICO_AS = 64512;
export const POOL_V4 = '10.244.0.0/16';
export const RR_CLUSTER_ID = '244.0.0.1';

export interface ClusterNode {
  /** Calico node name. */
  name: string;
  lab: LabNode;
  /** Confirmed affine /26 blocks. */
  blocks: string[];
  labels?: Record<string, string>;
  routeReflectorClusterID?: string;
}

export interface ClusterPeer {
  name: string;
  node?: string;
  nodeSelector?: string;
  peerSelector?: string;
  peerIP?: string;
  asNumber?: number;
  maxRestartTime?: string;
}

export interface ClusterSpec {
  asNumber: number;
  mesh: boolean;
  nodes: ClusterNode[];
  peers: ClusterPeer[];
  pools?: string[];
  serviceClusterIPs?: string[];
  serviceLoadBalancerIPs?: string[];
  /** nodeMeshMaxRestartTime, e.g. "120s". */
  nodeMeshMaxRestartTime?: string;
}

const cidrs = (list: string[] | undefined) => (list && list.length ? list.map((cidr) => ({ cidr })) : undefined);

/** The whole cluster as one multi-document Calico YAML (projectcalico.org/v3 resources). */
export function clusterYaml(c: ClusterSpec): string {
  return calicoYaml({
    bgp: {
      asNumber: c.asNumber, nodeToNodeMeshEnabled: c.mesh, logSeverityScreen: 'Info', nodeMeshMaxRestartTime: c.nodeMeshMaxRestartTime || undefined,
      serviceClusterIPs: cidrs(c.serviceClusterIPs), serviceLoadBalancerIPs: cidrs(c.serviceLoadBalancerIPs),
    },
    nodes: c.nodes.map((n) => ({
      name: n.name, ipv4: `${n.lab.ipv4}/24`, asNumber: c.asNumber, labels: n.labels, routeReflectorClusterID: n.routeReflectorClusterID || undefined, blocks: n.blocks,
    })),
    pools: (c.pools ?? [POOL_V4]).map((cidr, i) => ({ name: `pool-${i}`, cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never' })),
    // Only the fields a peer sets (empty strings and 0 count as unset, as before).
    peers: c.peers.map((p) => ({
      name: p.name, node: p.node || undefined, nodeSelector: p.nodeSelector || undefined, peerSelector: p.peerSelector || undefined,
      peerIP: p.peerIP || undefined, asNumber: p.asNumber || undefined, maxRestartTime: p.maxRestartTime || undefined,
    })),
  });
}

/**
 * A Kite node of a cluster: the base launcher (test/interop/kite.ts) with the whole cluster's
 * YAML as its config, plus an in-process control-API client for fast polling (a `kite show`
 * process costs ~0.2 s; the graceful-restart test polls every 50 ms).
 */
export class ClusterKite extends Kite {
  private client: ControlClient | undefined;

  constructor(lab: Lab, readonly cnode: ClusterNode, readonly cluster: ClusterSpec) {
    super({ lab, node: cnode.lab, nodeName: cnode.name, asNumber: cluster.asNumber, peers: [], blocks: [] });
  }

  override writeConfig(): void {
    writeFileSync(this.configFile, clusterYaml(this.cluster));
  }

  /** Replace the YAML atomically while Kite runs (it watches the file and applies edits live). */
  rewriteConfigLive(): void {
    const tmp = `${this.configFile}.tmp`;
    writeFileSync(tmp, clusterYaml(this.cluster));
    renameSync(tmp, this.configFile);
  }

  get api(): ControlClient {
    this.client ??= createControlClient(this.socket, { timeoutMs: 3000 });
    return this.client;
  }

  /** Routes through the gRPC API directly (same JSON shapes as `kite show routes --json`). */
  async fastRoutes(prefix?: string): Promise<RouteStatus[]> {
    return this.api.routes(prefix ? { prefix } : {});
  }

  closeApi(): void {
    this.client?.close();
    this.client = undefined;
  }

  /** Paths for `prefix` learned from a peer (not our own origination). */
  async receivedPaths(prefix: string): Promise<PathStatus[]> {
    const r = (await this.routes()).find((x) => x.prefix === prefix);
    return (r?.paths ?? []).filter((p) => p.peer !== null);
  }

  async waitReceived(prefix: string, pred: (p: PathStatus[]) => boolean, what: string, timeoutMs = 45_000): Promise<PathStatus[]> {
    return waitFor(`Kite ${this.nodeName}: ${prefix} ${what}`, async () => {
      const p = await this.receivedPaths(prefix);
      return pred(p) ? p : undefined;
    }, { timeoutMs, intervalMs: 500, describe: async () => JSON.stringify(await this.routes(), null, 1) + '\n--- log tail ---\n' + this.log().split('\n').slice(-20).join('\n') });
  }
}

/** Start Kite nodes one after another (each waits for its control socket). */
export async function startAll(kites: ClusterKite[]): Promise<void> {
  for (const k of kites) await k.start();
}

/** A Kite (not started) for every node of the cluster. */
export const clusterKites = (lab: Lab, cluster: ClusterSpec): ClusterKite[] => cluster.nodes.map((n) => new ClusterKite(lab, n, cluster));

/** Every cluster suite's afterAll: the API clients closed, the lab (and every process in it) removed. */
export async function destroyLab(lab: Lab, kites: readonly ClusterKite[]): Promise<void> {
  for (const k of kites) k.closeApi();
  await lab.destroy();
}

// ---------------------------------------------------------------------------------------------
// BIRD with route-reflection and graceful-restart options. The base BirdPeer exports only its
// static routes with next hop self; a reflector must pass BGP routes on unchanged.

export interface BirdOptions {
  /** Neighbour addresses that are this BIRD's route-reflector clients (RFC 4456). */
  rrClients?: string[];
  rrClusterId?: string;
  /** RFC 4724 graceful restart (BIRD helper and restarting-speaker modes). */
  gracefulRestart?: boolean;
  /** Seconds for `graceful restart time`. */
  restartTime?: number;
  /** Export BGP-learned routes too (a reflector). */
  exportAll?: boolean;
  /** RFC 7911: `add paths rx` so several paths of a prefix can be received. */
  addPathsRx?: boolean;
}

export class RrBirdPeer extends BirdPeer {
  constructor(spec: PeerSpec, readonly opts: BirdOptions = {}) {
    super(spec);
  }

  override config(): string {
    const o = this.opts;
    const statics = [...this.announced].map((p) => `route ${p} blackhole;`).join(' ');
    const lines = [
      `log "${this.dir}/bird.log" all;`,
      `router id ${this.spec.node.ipv4};`,
      'protocol device { scan time 5; }',
      'protocol direct { ipv4; }',
      `protocol static s4 { ipv4; ${statics} }`,
    ];
    this.spec.neighbors.forEach((n, i) => {
      const client = o.rrClients?.includes(n.address) ?? false;
      const hold = n.holdTime ?? 9;
      const exp = o.exportAll ? 'export all;' : 'export where source = RTS_STATIC;';
      lines.push(
        `protocol bgp ${BirdPeer.protoName(i)} {`,
        `  local ${this.spec.node.ipv4} as ${this.spec.asNumber};`,
        `  neighbor ${n.address} as ${n.asNumber};`,
        '  direct;',
        `  hold time ${hold}; keepalive time ${n.keepalive ?? Math.max(1, Math.floor(hold / 3))};`,
        '  connect retry time 1; connect delay time 1; error wait time 1, 2;',
        ...(client ? ['  rr client;', `  rr cluster id ${o.rrClusterId ?? RR_CLUSTER_ID};`] : []),
        ...(o.gracefulRestart ? ['  graceful restart on;', `  graceful restart time ${o.restartTime ?? 120};`] : []),
        // iBGP toward a non-client: our own statics with next hop self; a reflector keeps the
        // originator's next hop (RFC 4456 §10: reflection does not change NEXT_HOP).
        `  ipv4 { import all; ${exp}${o.exportAll ? '' : ' next hop self;'}${o.addPathsRx ? ' add paths rx;' : ''} };`,
        '}',
      );
    });
    return lines.join('\n') + '\n';
  }

  /** Every BGP path of `prefix` in master4, with the RFC 4456 attributes as BIRD prints them. */
  async paths(prefix: string): Promise<Array<{ nextHop: string; originatorId: string; clusterList: string[]; from: string }>> {
    const out = await this.birdc('show', 'route', prefix, 'table', 'master4', 'all');
    return parseBirdPaths(out);
  }
}

/** Parse `birdc show route <net> all`: one entry per path, BGP.next_hop/originator_id/cluster_list. */
export function parseBirdPaths(out: string): Array<{ nextHop: string; originatorId: string; clusterList: string[]; from: string }> {
  const res: Array<{ nextHop: string; originatorId: string; clusterList: string[]; from: string }> = [];
  let cur: { nextHop: string; originatorId: string; clusterList: string[]; from: string } | undefined;
  for (const line of out.split('\n')) {
    // "10.244.1.0/26        unicast [n0 10:00:01.123 from 198.18.61.1] * (100) [i]" or a
    // continuation line without the prefix for a second path of the same net.
    const head = /^(?:\S+\/\d+)?\s+(unicast|unreachable|blackhole)\s+\[(\S+)[^\]]*?(?:from (\S+))?\]/.exec(line);
    if (head) {
      cur = { nextHop: '', originatorId: '', clusterList: [], from: head[3] ?? '' };
      res.push(cur);
      continue;
    }
    if (!cur) continue;
    // BIRD prints "from X" only when X differs from the gateway, so "via X" stands for it then.
    const via = /^\s+via (\S+)/.exec(line);
    if (via && cur.from === '') cur.from = via[1]!;
    const a = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!a) continue;
    if (a[1] === 'next_hop') cur.nextHop = a[2]!.trim().split(/\s+/)[0] ?? '';
    if (a[1] === 'originator_id') cur.originatorId = a[2]!.trim();
    if (a[1] === 'cluster_list') cur.clusterList = a[2]!.trim().split(/\s+/).filter(Boolean);
  }
  return res;
}

/** FRR bgpd with optional graceful restart; per-prefix JSON for ORIGINATOR_ID / CLUSTER_LIST. */
export class GrFrrPeer extends FrrPeer {
  constructor(spec: PeerSpec, readonly gracefulRestart = false) {
    super(spec);
  }

  override config(): string {
    const base = super.config();
    if (!this.gracefulRestart) return base;
    return base.replace(/^( bgp router-id .*)$/m, '$1\n bgp graceful-restart');
  }

  /** `show bgp ipv4 unicast <prefix> json` paths, normalised. */
  async paths(prefix: string): Promise<Array<{ nextHop: string; originatorId: string; clusterList: string[]; asPath: number[]; from: string }>> {
    const out = JSON.parse(await this.vtysh(`show bgp ipv4 unicast ${prefix} json`)) as {
      paths?: Array<{
        originatorId?: string; clusterList?: { list?: string[] }; nexthops?: Array<{ ip: string }>;
        aspath?: { string?: string; segments?: Array<{ list?: number[] }> }; peer?: { peerId?: string };
      }>;
    };
    return (out.paths ?? []).map((p) => ({
      nextHop: p.nexthops?.[0]?.ip ?? '',
      originatorId: p.originatorId ?? '',
      clusterList: p.clusterList?.list ?? [],
      asPath: (p.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
      from: p.peer?.peerId ?? '',
    }));
  }
}

export { sleep };
