// calico-node's start-up in the daemon, against the local API server: a Node without addresses
// gets its autodetected (here: Kubernetes InternalIP) address and the AS written as Calico's
// annotations by merge patch, the default pool is created when no pool exists, a duplicate
// address is refused with calico-node's error (startup.go checkConflictingNodes), and with the
// file datastore the detected values are used in memory. IPv6-only with CALICO_ROUTER_ID=hash.
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Daemon } from '../src/daemon.js';
import { hashToIPv4 } from '../src/startup/index.js';
import { FakeApiServer } from './datastore/kubernetes/fake-apiserver.js';
import { calico, k8sNode } from './datastore/kubernetes/fixtures.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir } from './helpers/daemons.js';

const world = new DaemonDir('startup');
const servers: FakeApiServer[] = [];
const daemons: Daemon[] = [];
afterAll(async () => {
  for (const d of daemons) await d.stop('test over').catch(() => {});
  for (const s of servers) await s.close();
  await world.close();
});

async function cluster(objects: Record<string, unknown>[]): Promise<FakeApiServer> {
  const s = await FakeApiServer.start({ writable: true });
  servers.push(s);
  for (const o of objects) s.put(o);
  return s;
}

function k8sDaemon(server: FakeApiServer, node: string, startup: Record<string, string>): Daemon {
  return new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server.kubeconfig(), node, socket: `${world.dir}/${node}-${servers.length}.sock`,
    dataplane: 'none', listenAddress: '127.0.0.81', listenPort: 0, startup }, pino({ level: 'silent' }));
}

describe('start-up as calico-node (Kubernetes datastore)', () => {
  it('writes the detected address and AS as Node annotations and creates the default pool', async () => {
    const server = await cluster([calico('BGPConfiguration', 'default', { asNumber: 64512 }), k8sNode('node-1', {})]);
    const d = k8sDaemon(server, 'node-1', { IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip', AS: '64700', CALICO_IPV4POOL_CIDR: '10.250.0.0/16', CALICO_IPV4POOL_IPIP: 'Always' });
    await d.start();
    daemons.push(d);
    expect(d.summary()).toMatchObject({ node: 'node-1', routerId: '10.0.0.5', asNumber: 64700 });
    const patch = server.writes.find((w) => w.method === 'PATCH' && w.path === '/api/v1/nodes/node-1')!;
    // No interface holds the fixture's InternalIP here, so it is kept as a host address (as calico-node's GetLocalCIDR).
    expect(JSON.parse(patch.body)).toEqual({ metadata: { annotations: { 'projectcalico.org/IPv4Address': '10.0.0.5/32', 'projectcalico.org/ASNumber': '64700' } } });
    const pool = server.get('crd.projectcalico.org/v1', 'IPPool', 'default-ipv4-ippool') as { spec: Record<string, unknown> } | undefined;
    expect(pool?.spec).toMatchObject({ cidr: '10.250.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' });
  });

  it('refuses to start on an address another Node has, with calico-node\'s message, and writes nothing', async () => {
    const server = await cluster([
      calico('IPPool', 'p', { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }),
      k8sNode('node-1', {}), k8sNode('node-2', { 'projectcalico.org/IPv4Address': '10.0.0.5/24' }),
    ]);
    const d = k8sDaemon(server, 'node-1', { IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip' });
    await expect(d.start()).rejects.toThrow("Calico node 'node-2' is already using the IPv4 address 10.0.0.5.");
    expect(server.writes).toEqual([]);
  });

  it('NO_DEFAULT_POOLS creates none; an IPv6-only node starts with CALICO_ROUTER_ID=hash', async () => {
    const server = await cluster([k8sNode('node-6', {})]);
    const d = k8sDaemon(server, 'node-6', { IP: 'none', IP6: 'fd00:1::6/64', CALICO_ROUTER_ID: 'hash', NO_DEFAULT_POOLS: 'true' });
    await d.start();
    daemons.push(d);
    expect(d.summary().routerId).toBe(hashToIPv4('node-6'));
    expect(server.writes.map((w) => `${w.method} ${w.path}`)).toEqual(['PATCH /api/v1/nodes/node-6']);
    expect(JSON.parse(server.writes[0]!.body)).toEqual({ metadata: { annotations: { 'projectcalico.org/IPv6Address': 'fd00:1::6/64' } } });
  });
});

describe('start-up with the file datastore', () => {
  it('uses a detected address in memory and leaves the file alone', async () => {
    world.write(clusterYaml({ bgp: { asNumber: 64512 }, nodes: [{ name: 'f1' }], pools: [] }));
    const before = (await import('node:fs')).readFileSync(world.file, 'utf8');
    const d = world.daemon('f1', '127.0.0.82', { listenPort: 0, startup: { IP: '127.0.0.82' } });
    await d.start();
    daemons.push(d);
    expect(d.summary()).toMatchObject({ node: 'f1', routerId: '127.0.0.82' });
    // `kite show config` shows the address start-up decided.
    expect(JSON.stringify(d.configReport().ipv4Address)).toContain('127.0.0.82');
    expect((await import('node:fs')).readFileSync(world.file, 'utf8')).toBe(before);
  });
});
