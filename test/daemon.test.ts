// The composition root end to end on loopback: three in-process Kite daemons in a full mesh
// exchange their blocks, follow live config edits, survive an invalid edit, and tell their
// peers why when they stop.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { clusterYaml, type Named } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const world = new DaemonDir('daemon');
const port = testPort(17900, 500);

function config(blocks: Record<string, string[]>, peers: Named[] = []): string {
  return clusterYaml({
    bgp: { asNumber: 64512, listenPort: port, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] },
    nodes: ['a', 'b', 'c'].map((name, i) => ({ name, ipv4: `127.0.0.${21 + i}/8`, blocks: blocks[name] ?? [] })),
    pools: [{ name: 'pods', cidr: '10.244.0.0/16', blockSize: 26 }],
    peers,
  });
}

const daemons = new Map<string, Daemon>();

const prefixesOf = (d: Daemon) => d.routes({}).map((r) => r.prefix).sort();

describe('daemon on loopback (three-node mesh)', () => {
  beforeAll(async () => {
    world.write(config({ a: ['10.244.1.0/26'], b: ['10.244.2.0/26'], c: ['10.244.3.0/26'] }));
    for (const [n, i] of [['a', 0], ['b', 1], ['c', 2]] as const) daemons.set(n, await world.start(n, `127.0.0.${21 + i}`));
  });

  afterAll(() => world.close());

  it('establishes every mesh session and learns every block with the peer as next hop', async () => {
    await eventually('all sessions Established', () => [...daemons.values()].every((d) => d.peers().every((p) => p.state === 'Established') && d.peers().length === 2));
    await eventually('all routes', () => [...daemons.values()].every((d) => d.summary().ribIPv4 === 4));
    const a = daemons.get('a')!;
    expect(prefixesOf(a)).toEqual(['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26', '10.96.0.0/12']);
    // Every node originates the service CIDR (Calico's static route); the local path wins.
    const svc = a.routes({ prefix: '10.96.0.0/12' })[0]!;
    expect(svc.paths.map((p) => p.peer)).toEqual([null, '127.0.0.22', '127.0.0.23']);
    expect(svc.bestReason).toMatch(/^local-origin/);
    const [r] = a.routes({ prefix: '10.244.2.7' });
    expect(r!.prefix).toBe('10.244.2.0/26');
    // LOCAL_PREF carries Calico's route priority: 2147483647 − krt_metric (1024), as confd's mesh
    // export filter sets it (confd/tests compiled_templates bgpfilter/node_mesh/priority1/bird.cfg).
    expect(r!.paths).toEqual([{ nextHop: '127.0.0.22', asPath: [], origin: 'igp', localPref: 2147482623, med: null, communities: [],
      largeCommunities: [], originatorId: null, clusterList: [], peer: '127.0.0.22', best: true }]);
    expect(a.routes({ prefix: '10.244.1.0/26' })[0]!.paths[0]!.peer).toBeNull();
    const s = a.summary();
    expect(s).toMatchObject({ node: 'a', routerId: '127.0.0.21', asNumber: 64512, ribIPv4: 4, ribIPv6: 0 });
    expect(s.peers.map((p) => [p.address, p.prefixesReceived, p.prefixesAdvertised]).sort())
      .toEqual([['127.0.0.22', 2, 2], ['127.0.0.23', 2, 2]]);
  });

  it('applies a live edit: a moved block is withdrawn and the new one announced', async () => {
    world.write(config({ a: ['10.244.1.0/26'], b: ['10.244.2.64/26'], c: ['10.244.3.0/26'] }));
    await eventually('peers follow the edit', () => ['a', 'c'].every((n) => prefixesOf(daemons.get(n)!).join() === '10.244.1.0/26,10.244.2.64/26,10.244.3.0/26,10.96.0.0/12'));
  });

  it('rejects an invalid edit and keeps the last good configuration running', async () => {
    // The bad edit also drops c's block: had it been applied, every RIB would shrink to three.
    world.write(config({ a: ['10.244.1.0/26'], b: ['10.244.2.64/26'], c: [] }, [{ name: 'bad', peerIP: '10.0.0.300', asNumber: 65000 }]));
    await new Promise((r) => setTimeout(r, 1000));
    for (const d of daemons.values()) {
      expect(d.peers().every((p) => p.state === 'Established')).toBe(true);
      expect(d.summary().ribIPv4).toBe(4);
    }
  });

  it('a second daemon on a live control socket fails before opening its BGP port', async () => {
    world.write(config({ a: ['10.244.1.0/26'], b: ['10.244.2.64/26'], c: ['10.244.3.0/26'] })); // valid again
    const dup = world.daemon('a', '127.0.0.29');
    await expect(dup.start()).rejects.toThrow(/another kite is running/);
    const err = await new Promise<string>((resolve) => {
      const sock = net.connect({ host: '127.0.0.29', port }, () => { sock.destroy(); resolve('connected'); });
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(err).toBe('ECONNREFUSED');
    expect(daemons.get('a')!.summary().ribIPv4).toBe(4); // the running one is untouched
  });

  it('a stopping node sends Cease with its reason and its routes disappear from the others', async () => {
    await world.stop(daemons.get('c')!, 'maintenance');
    daemons.delete('c');
    const a = daemons.get('a')!;
    await eventually('c withdrawn at a', () => a.summary().ribIPv4 === 3);
    const pc = a.peers().find((p) => p.address === '127.0.0.23')!;
    expect(pc.state).not.toBe('Established');
    expect(pc.lastError).toContain('Administrative Shutdown');
    expect(pc.lastError).toContain('maintenance');
  });
});
