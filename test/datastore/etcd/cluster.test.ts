// Kite daemons reading a 3-member etcd cluster (members in Lab namespaces, the daemons in this
// process on loopback, reaching each member through its Unix-socket forwarder): resources
// created, changed and deleted reach the peers' routes; killing the leader, cutting Kite off from
// one member, cutting the member Kite watches off from the quorum, and a compaction while Kite is
// away lose no route and leave nothing stale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/daemon.js';
import { DaemonDir, testPort } from '../../helpers/daemons.js';
import { BLOCKS_PREFIX } from '../../../src/datastore/etcd/keys.js';
import { createEtcdClient } from '../../../src/datastore/etcd/client.js';
import { EtcdCluster, sleep, waitFor, type Member, etcdPrerequisites } from './cluster.js';


const R = '/calico/resources/v3/projectcalico.org';
const port = testPort(18900, 400);

/** An AllocationBlock value as libcalico-go writes it, for a /26 affine to `host` with one address used. */
const block = (cidr: string, host: string): object => ({
  cidr, affinity: `host:${host}`, strictAffinity: false,
  allocations: [0, ...Array.from({ length: 63 }, () => null)],
  unallocated: Array.from({ length: 63 }, (_, i) => i + 1),
  attributes: [{ handle_id: `k8s-pod-network.${host}`, secondary: { node: host } }], deleted: false,
});
const blockKey = (cidr: string): string => `/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`;

const missing = etcdPrerequisites('the 3-member etcd tests');

describe.skipIf(missing !== undefined)('Kite on a 3-member etcd cluster', () => {
  const cluster = new EtcdCluster('etcd3', 214, 3);
  const world = new DaemonDir('etcd');
  let a: Daemon;
  let b: Daemon;
  const prefixes = (d: Daemon): string => d.routes({}).map((r) => r.prefix).sort().join(',');

  beforeAll(async () => {
    await cluster.start();
    await cluster.put(`${R}/bgpconfigurations/default`, { kind: 'BGPConfiguration', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default' }, spec: { asNumber: 64512, listenPort: port, nodeToNodeMeshEnabled: true } });
    await cluster.put(`${R}/ippools/p`, { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'p' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' } });
    for (const [n, ip] of [['a', '127.0.0.71'], ['b', '127.0.0.72']] as const) {
      await cluster.put(`${R}/nodes/${n}`, { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: n }, spec: { bgp: { ipv4Address: `${ip}/8` } } });
    }
    await cluster.put(blockKey('10.244.1.0/26'), block('10.244.1.0/26', 'a'));
    await cluster.put(blockKey('10.244.2.0/26'), block('10.244.2.0/26', 'b'));
    await cluster.put('/calico/ipam/v2/host/a/ipv4/block/10.244.1.0-26', { state: 'confirmed', deleted: false });
    await cluster.put('/calico/ipam/v2/host/b/ipv4/block/10.244.2.0-26', { state: 'confirmed', deleted: false });
    const etcd = { endpoints: cluster.endpoints, keepaliveMs: 2000, keepaliveTimeoutMs: 1000, callTimeoutMs: 2000 };
    a = await world.start('a', '127.0.0.71', { datastore: 'etcdv3', etcd });
    b = await world.start('b', '127.0.0.72', { datastore: 'etcdv3', etcd });
    await waitFor('the mesh and both blocks', async () => (prefixes(a) === '10.244.1.0/26,10.244.2.0/26' && prefixes(b) === prefixes(a) ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
  }, 150_000);

  afterAll(async () => {
    await world.close();
    await cluster.destroy();
  });

  /** Samples both daemons' routes every 50 ms while `during` runs; returns every distinct view seen. */
  async function watchRoutes(during: () => Promise<void>): Promise<Set<string>> {
    const seen = new Set<string>();
    let on = true;
    const sampler = (async () => { while (on) { seen.add(`a:${prefixes(a)}`); seen.add(`b:${prefixes(b)}`); await sleep(50); } })();
    try { await during(); } finally { on = false; await sampler; }
    return seen;
  }

  it('a block created, changed to another node, and deleted in etcd reaches the peers\' routes', async () => {
    await cluster.put(blockKey('10.244.3.0/26'), block('10.244.3.0/26', 'b'));
    await waitFor('a learns b\'s new block', async () => (prefixes(a).includes('10.244.3.0/26') ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    // Moved to a: a originates it, b learns it from a.
    await cluster.put(blockKey('10.244.3.0/26'), block('10.244.3.0/26', 'a'));
    await waitFor('b learns the block from a', async () => (b.routes({ prefix: '10.244.3.0/26' })[0]?.paths.some((p) => p.peer !== null) ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    await cluster.del(blockKey('10.244.3.0/26'));
    await waitFor('the block gone everywhere', async () => (!prefixes(a).includes('10.244.3.0/26') && !prefixes(b).includes('10.244.3.0/26') ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  }, 40_000);

  it('killing the leader loses no route, and changes flow through the new leader', async () => {
    const leader = await cluster.leader();
    const seen = await watchRoutes(async () => {
      await cluster.kill(leader);
      await sleep(1500);
      await cluster.put(blockKey('10.244.4.0/26'), block('10.244.4.0/26', 'b'));
      await waitFor('a learns a block written after the leader died', async () => (prefixes(a).includes('10.244.4.0/26') ? true : undefined), { timeoutMs: 15_000, intervalMs: 50 });
    });
    const base = '10.244.1.0/26,10.244.2.0/26';
    // Only the two steady views and the one with the new block: nothing went missing in between.
    for (const v of seen) expect(v.slice(2), v).toMatch(new RegExp(`^${base.replaceAll('.', '\\.')}(,10\\.244\\.4\\.0/26)?$`));
    await cluster.restart(leader);
    await cluster.del(blockKey('10.244.4.0/26'));
    await waitFor('no stale block', async () => (prefixes(a) === base && prefixes(b) === base ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  }, 60_000);

  it('cut off from one member, Kite keeps its routes and follows changes through the others', async () => {
    const m = cluster.members[0]!;
    const base = '10.244.1.0/26,10.244.2.0/26';
    const seen = await watchRoutes(async () => {
      await cluster.disconnect(m);
      await sleep(2500);
      await cluster.put(blockKey('10.244.5.0/26'), block('10.244.5.0/26', 'a'));
      await waitFor('b learns a block written during the cut', async () => (prefixes(b).includes('10.244.5.0/26') ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
    });
    for (const v of seen) expect(v.slice(2), v).toMatch(new RegExp(`^${base.replaceAll('.', '\\.')}(,10\\.244\\.5\\.0/26)?$`));
    cluster.connect(m);
    await cluster.del(blockKey('10.244.5.0/26'));
    await waitFor('no stale block', async () => (prefixes(a) === base && prefixes(b) === base ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  }, 60_000);

  // etcd's require-leader (clientv3.WithRequireLeader; v3rpc's interceptor and monitorLeader): a
  // member without a leader for three election timeouts cancels the streams that asked for one,
  // so the watch moves to a member of the quorum. Without it the watch stays open and silent.
  it('the member Kite watches, cut off from the other two (not from Kite), hands the watch to the quorum: the change arrives, no route is lost', async () => {
    const peer = await waitFor('a\'s block watch streaming', async () => a.watchMembers().get(BLOCKS_PREFIX), { timeoutMs: 10_000, intervalMs: 50 });
    const m = cluster.byPeer(peer);
    expect(m, `a member for ${peer}`).toBeDefined();
    const cut = m as Member;
    const majority = cluster.members.filter((x) => x !== cut);
    const base = '10.244.1.0/26,10.244.2.0/26';
    let moved = '';
    // The watch moves and resumes from its revision: no relist, so the status never leaves in-sync.
    const statuses = new Set<string>();
    const seen = await watchRoutes(async () => {
      const sampler = setInterval(() => statuses.add(a.syncStatus), 20);
      await cluster.partition(cut);
      try {
        // Written through the majority (it may be electing a leader if the cut member led).
        await waitFor('a write through the majority', async () => {
          for (const via of majority) {
            const ok = await cluster.put(blockKey('10.244.8.0/26'), block('10.244.8.0/26', 'a'), via).then(() => true, () => false);
            if (ok) return true;
          }
          return undefined;
        }, { timeoutMs: 15_000, intervalMs: 200 });
        // a's block becomes a's own route (a local path) only through a's own watch, not from b.
        await waitFor('a originates the block written during the partition', async () => (a.routes({ prefix: '10.244.8.0/26' })[0]?.paths.some((p) => p.peer === null) ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
        moved = a.watchMembers().get(BLOCKS_PREFIX) ?? '';
        // A read on the cut member is refused at once ("no leader"), not left to run out its
        // deadline there (etcd's unary interceptor honours the same metadata).
        const only = createEtcdClient({ endpoints: [cut.socket], callTimeoutMs: 60_000 });
        try {
          await expect(only.get('/calico/x').string()).rejects.toThrow(/no leader/);
        } finally {
          only.close();
        }
      } finally {
        clearInterval(sampler);
        await cluster.heal(cut);
      }
    });
    expect(cluster.byPeer(moved), `a's block watch now on ${moved}`).not.toBe(cut);
    expect([...statuses]).toEqual(['in-sync']);
    for (const v of seen) expect(v.slice(2), v).toMatch(new RegExp(`^${base.replaceAll('.', '\\.')}(,10\\.244\\.8\\.0/26)?$`));
    await waitFor('the cut member healthy again', async () => { await cluster.waitHealthy(cut); return true; }, { timeoutMs: 30_000 });
    await cluster.del(blockKey('10.244.8.0/26'));
    await waitFor('no stale block', async () => (prefixes(a) === base && prefixes(b) === base ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  }, 90_000);

  it('a compaction while Kite is away forces a relist; no route flaps and nothing stale stays', async () => {
    const base = '10.244.1.0/26,10.244.2.0/26';
    const seen = await watchRoutes(async () => {
      for (const m of cluster.members) await cluster.disconnect(m);
      await sleep(2500);
      // Churn that ends where it began, one real deletion, then compact past all of it.
      await cluster.put(blockKey('10.244.6.0/26'), block('10.244.6.0/26', 'b'));
      await cluster.del(blockKey('10.244.6.0/26'));
      await cluster.put(blockKey('10.244.7.0/26'), block('10.244.7.0/26', 'b'));
      await cluster.compact();
      for (const m of cluster.members) cluster.connect(m);
      await waitFor('the block written while away', async () => (prefixes(a).includes('10.244.7.0/26') ? true : undefined), { timeoutMs: 30_000, intervalMs: 50 });
    });
    for (const v of seen) expect(v.slice(2), v).toMatch(new RegExp(`^${base.replaceAll('.', '\\.')}(,10\\.244\\.7\\.0/26)?$`));
    await cluster.del(blockKey('10.244.7.0/26'));
    await waitFor('no stale block', async () => (prefixes(a) === base && prefixes(b) === base ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  }, 60_000);
});
