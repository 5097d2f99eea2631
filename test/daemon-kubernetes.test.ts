// The daemon on the Kubernetes datastore: node-1's identity comes from its Node annotations,
// its block from a BlockAffinity CRD, peers from BGPPeer/mesh, all served by the local
// list/watch server; an edit made through the API reaches the running daemon.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Daemon } from '../src/daemon.js';
import { FakeApiServer } from './datastore/kubernetes/fake-apiserver.js';
import { baseCluster, calico } from './datastore/kubernetes/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kite-k8s-'));
let server: FakeApiServer | undefined;
let daemon: Daemon | undefined;

afterAll(async () => {
  await daemon?.stop('test over').catch(() => {});
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('daemon with --datastore kubernetes', () => {
  it('derives node-1 from the cluster and follows changes made through the API', async () => {
    server = await FakeApiServer.start();
    for (const o of baseCluster()) server.put(o as Record<string, unknown>);
    daemon = new Daemon({ config: '', datastore: 'kubernetes', kubeconfig: server.kubeconfig(), node: 'node-1',
      socket: join(dir, 'k.sock'), dataplane: 'none', listenAddress: '127.0.0.61', listenPort: 0 }, pino({ level: 'silent' }));
    await daemon.start();
    expect(daemon.syncStatus).toBe('in-sync');
    const s = daemon.summary();
    expect(s).toMatchObject({ node: 'node-1', routerId: '10.0.0.5', asNumber: 64512 });
    // node-1 is in rack a, so the ToR BGPPeer applies; node-2 is a route reflector, so no mesh session to it.
    expect(s.peers.map((p) => p.address)).toContain('10.0.0.1');
    const prefixes = () => daemon!.routes({}).map((r) => r.prefix).sort().join(' ');
    expect(prefixes()).toBe('10.244.1.0/26 10.96.0.0/12');
    // A second block claimed through the API is originated live.
    server.put(calico('BlockAffinity', 'node-1-10-244-1-64-26', { node: 'node-1', cidr: '10.244.1.64/26', state: 'confirmed', deleted: 'false' }));
    await until('the new block', () => prefixes() === '10.244.1.0/26 10.244.1.64/26 10.96.0.0/12');
  });
});
