// Per-service routes end to end (issue 15 item 3): three Kite nodes on the Kubernetes datastore
// (the local list/watch server, fake-apiserver.ts) peer with an FRR ToR in namespaces. A Service
// with externalTrafficPolicy Local gets its /32 from exactly the nodes with a ready endpoint, as
// Calico's confd routeGenerator decides (confd/pkg/backends/calico/routes.go
// advertiseThisService): endpoints appear, move and disappear through the API and the ToR's table
// follows, with a multipath (ECMP) set across the nodes that have endpoints; a dual-stack
// Service's /128 follows its IPv6 endpoints; a Cluster Service adds nothing beyond the CIDRs. The API server runs in the test process; each node namespace
// reaches it at 127.0.0.1 through a TCP-to-unix-socket relay (a unix socket is not bound to a
// network namespace), so its certificate and kubeconfig work unchanged. Needs root, netns, FRR.
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../datastore/kubernetes/fake-apiserver.js';
import { calico, endpointSlice, k8sNode, service } from '../datastore/kubernetes/fixtures.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, waitFor, type LabNode } from '../interop/netns.js';
import { FrrPeer, waitPeerState } from '../interop/peers.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const AS = 64512;
const TOR_AS = 65000;
const CLUSTER_CIDR = '10.96.0.0/12';
const LB_CIDR = '198.51.100.0/24';
const NODES = ['node-1', 'node-2', 'node-3'];
const LOCAL_IP = '10.96.0.10';
const LB_IP = '198.51.100.10';
const CLUSTER_IP = '10.96.0.20';
const CLUSTER_CIDR_V6 = 'fd00:96::/108';
/** The dual-stack Local Service's IPv6 cluster IP: a /128 from the nodes with a ready IPv6 endpoint. */
const LOCAL_IP_V6 = 'fd00:96::10';

/** The ToR's paths for a prefix: next hops, and whether FRR uses each (best or multipath). */
async function torPaths(tor: FrrPeer, prefix: string): Promise<{ nextHop: string; used: boolean }[]> {
  const out = JSON.parse(await tor.vtysh(`show bgp ${prefix.includes(':') ? 'ipv6' : 'ipv4'} unicast ${prefix} json`)) as {
    paths?: { nexthops?: { ip: string }[]; bestpath?: { overall?: boolean }; multipath?: boolean }[];
  };
  return (out.paths ?? []).map((p) => ({ nextHop: p.nexthops?.[0]?.ip ?? '', used: p.bestpath?.overall === true || p.multipath === true }))
    .sort((a, b) => a.nextHop.localeCompare(b.nextHop));
}

describe('per-service routes on the Kubernetes datastore, seen from an FRR ToR', () => {
  const lab = new Lab('svc', 79);
  const nodes = new Map<string, LabNode>();
  let api: FakeApiServer;
  let relay: Server;
  let tor: FrrPeer;
  const kites: Kite[] = [];
  const nodeIp = (name: string): string => lab.v4(NODES.indexOf(name) + 1);
  const nodeIp6 = (name: string): string => lab.v6(NODES.indexOf(name) + 1);

  const slice = (nodesWithEndpoints: [string, boolean][]): void => {
    api.put(endpointSlice('shop', 'web-1', 'web', 'IPv4', nodesWithEndpoints.map(([n, ready], i) => [`10.244.${NODES.indexOf(n) + 1}.${10 + i}`, n, ready])));
  };
  const slice6 = (nodesWithEndpoints: [string, boolean][]): void => {
    api.put(endpointSlice('shop', 'web-6', 'web', 'IPv6', nodesWithEndpoints.map(([n, ready], i) => [`fd00:10:244:${NODES.indexOf(n) + 1}::${10 + i}`, n, ready])));
  };

  /** Waits until the ToR's used paths for `prefix` are exactly via these nodes (none: no route). */
  async function torFollows(prefix: string, via: string[]): Promise<void> {
    const want = via.map(prefix.includes(':') ? nodeIp6 : nodeIp).sort();
    await waitFor(`the ToR's paths for ${prefix} via [${via.join(', ')}]`, async () => {
      const got = await torPaths(tor, prefix);
      const ok = got.length === want.length && got.every((p, i) => p.nextHop === want[i] && p.used);
      return ok ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200, describe: async () => JSON.stringify(await torPaths(tor, prefix)) });
  }

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    api = await FakeApiServer.start();
    const port = Number(new URL(api.url).port);
    await lab.create();
    const sock = join(lab.dir, 'apiserver.sock');
    relay = createServer((c) => {
      const u = createConnection(port, '127.0.0.1');
      c.pipe(u).pipe(c);
      u.on('error', () => c.destroy());
      c.on('error', () => u.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(sock, resolve));
    const relayScript = `const net=require('net');net.createServer((c)=>{const u=net.connect(${JSON.stringify(sock)});c.pipe(u).pipe(c);u.on('error',()=>c.destroy());c.on('error',()=>u.destroy());}).listen(${port},'127.0.0.1');`;
    for (const [i, name] of NODES.entries()) {
      const ln = await lab.addNode(name, i + 1);
      nodes.set(name, ln);
      lab.spawn(ln, process.execPath, ['-e', relayScript], { logName: `relay-${name}` });
    }
    const torNode = await lab.addNode('tor', 10);
    tor = new FrrPeer({ lab, node: torNode, asNumber: TOR_AS,
      neighbors: NODES.flatMap((n) => [{ address: nodeIp(n), asNumber: AS }, { address: nodeIp6(n), asNumber: AS }]) });
    await tor.start();
    // ECMP at the ToR: eBGP multipath across the nodes (FRR: maximum-paths).
    for (const af of ['ipv4', 'ipv6']) await tor.vtysh('configure terminal', `router bgp ${TOR_AS}`, `address-family ${af} unicast`, 'maximum-paths 8');

    api.put(calico('BGPConfiguration', 'default', {
      asNumber: AS, nodeToNodeMeshEnabled: false, serviceClusterIPs: [{ cidr: CLUSTER_CIDR }, { cidr: CLUSTER_CIDR_V6 }], serviceLoadBalancerIPs: [{ cidr: LB_CIDR }],
    }));
    api.put(calico('BGPPeer', 'tor', { peerIP: lab.v4(10), asNumber: TOR_AS }));
    api.put(calico('BGPPeer', 'tor-v6', { peerIP: lab.v6(10), asNumber: TOR_AS }));
    api.put(calico('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }));
    // Dual-stack nodes: with no IPv6 pool, start-up would create one as calico-node does.
    api.put(calico('IPPool', 'default-ipv6-ippool', { cidr: 'fd00:10:244::/48', blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' }));
    for (const [i, name] of NODES.entries()) {
      api.put(k8sNode(name, { 'projectcalico.org/IPv4Address': `${nodeIp(name)}/24`, 'projectcalico.org/IPv6Address': `${nodeIp6(name)}/64` }));
      api.put(calico('BlockAffinity', `${name}-10-244-${i + 1}-0-26`, { node: name, cidr: `10.244.${i + 1}.0/26`, state: 'confirmed', deleted: 'false' }));
    }
    api.put(service('shop', 'web', { type: 'LoadBalancer', clusterIP: LOCAL_IP, clusterIPs: [LOCAL_IP, LOCAL_IP_V6], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', externalTrafficPolicy: 'Local' }, [LB_IP]));
    api.put(service('shop', 'api', { type: 'LoadBalancer', clusterIP: CLUSTER_IP, clusterIPs: [CLUSTER_IP], externalTrafficPolicy: 'Cluster' }, ['198.51.100.20']));
    slice([['node-1', true]]);
    const kubeconfig = api.kubeconfig();
    for (const name of NODES) {
      const k = new Kite({ lab, node: nodes.get(name)!, nodeName: name, asNumber: AS, peers: [], blocks: [], dataplane: 'none',
        args: ['--datastore', 'kubernetes', '--kubeconfig', kubeconfig] });
      kites.push(k);
      await k.start();
    }
    for (const name of NODES) {
      await waitPeerState(tor, nodeIp(name));
      await waitPeerState(tor, nodeIp6(name));
    }
  }, 120_000);

  afterAll(async () => {
    await lab.destroy();
    relay?.close();
    await api?.close();
  }, 60_000);

  it('a Local Service\'s cluster and LB /32s come only from the node with a ready endpoint; the CIDRs from every node', async () => {
    await torFollows(`${LOCAL_IP}/32`, ['node-1']);
    await torFollows(`${LB_IP}/32`, ['node-1']);
    await torFollows(CLUSTER_CIDR, NODES);
    await torFollows(LB_CIDR, NODES);
  }, 60_000);

  it('follows the endpoints: a second node (ECMP across both), a move, a not-ready one, and the last one gone', async () => {
    slice([['node-1', true], ['node-3', true]]);
    await torFollows(`${LB_IP}/32`, ['node-1', 'node-3']);
    await torFollows(`${LOCAL_IP}/32`, ['node-1', 'node-3']);
    slice([['node-2', true], ['node-3', true]]);
    await torFollows(`${LB_IP}/32`, ['node-2', 'node-3']);
    slice([['node-2', true], ['node-3', false]]);
    await torFollows(`${LB_IP}/32`, ['node-2']);
    api.remove('discovery.k8s.io/v1', 'EndpointSlice', 'web-1', 'shop');
    await torFollows(`${LB_IP}/32`, []);
    await torFollows(`${LOCAL_IP}/32`, []);
    // The CIDRs stay: they never depended on endpoints.
    await torFollows(LB_CIDR, NODES);
  }, 90_000);

  it('a dual-stack Local Service: the /128 follows the IPv6 endpoints, independently of the IPv4 ones', async () => {
    await torFollows(CLUSTER_CIDR_V6, NODES);
    await torFollows(`${LOCAL_IP_V6}/128`, []);
    slice6([['node-2', true], ['node-3', true]]);
    await torFollows(`${LOCAL_IP_V6}/128`, ['node-2', 'node-3']);
    // No IPv4 endpoint anywhere now: no /32.
    await torFollows(`${LOCAL_IP}/32`, []);
    api.remove('discovery.k8s.io/v1', 'EndpointSlice', 'web-6', 'shop');
    await torFollows(`${LOCAL_IP_V6}/128`, []);
  }, 60_000);

  it('a Cluster Service adds no /32: the ToR reaches it through the CIDRs alone', async () => {
    expect(await torPaths(tor, `${CLUSTER_IP}/32`)).toEqual([]);
    expect(await torPaths(tor, '198.51.100.20/32')).toEqual([]);
  });
});
