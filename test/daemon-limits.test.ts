// The per-peer prefix limit (Kite extension, BGPPeer annotation kite.dev/max-prefixes): a peer
// sending more is told Cease/Maximum Number of Prefixes Reached, its routes are dropped, and
// both sides' `show peers` say why.
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Daemon } from '../src/daemon.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { eventually } from './helpers/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'kite-limits-'));
const file = join(dir, 'cluster.yaml');
const port = 18500 + (process.pid % 400);
const daemons: Daemon[] = [];

afterAll(async () => {
  for (const d of daemons) await d.stop('test over').catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('maximum prefixes', () => {
  it('ceases a peer over its limit and says so on both sides', async () => {
    writeFileSync(file, clusterYaml({
      bgp: { asNumber: 64512, listenPort: port },
      nodes: [
        { name: 'x', ipv4: '127.0.0.31/8' },
        { name: 'y', ipv4: '127.0.0.32/8', blocks: ['10.244.2.0/26', '10.244.2.64/26', '10.244.2.128/26'] },
      ],
      pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
      peers: [{
        name: 'x-to-y', annotations: { 'kite.dev/max-prefixes': '2', 'kite.dev/max-prefixes-restart': '300' },
        node: 'x', peerIP: '127.0.0.32', asNumber: 64512,
      }],
    }));
    for (const [n, a] of [['x', '127.0.0.31'], ['y', '127.0.0.32']] as const) {
      const d = new Daemon({ config: file, node: n, socket: join(dir, `${n}.sock`), dataplane: 'none', listenAddress: a }, pino({ level: 'silent' }));
      await d.start();
      daemons.push(d);
    }
    const [x, y] = daemons as [Daemon, Daemon];
    await eventually('x to cease the session', () => x.peers()[0]!.lastError.includes('maximum prefixes'));
    const px = x.peers()[0]!;
    expect(px.state).not.toBe('Established');
    expect(px.lastError).toContain('limit 2');
    expect(x.summary().ribIPv4).toBe(0);
    await eventually('y to see the NOTIFICATION', () => y.peers()[0]!.lastError.includes('Maximum Number of Prefixes'));
    // The hold-down (300 s here) refuses y's connections: a dial from y's address is closed
    // before x sends an OPEN.
    const got = await new Promise<number>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.31', port, localAddress: '127.0.0.32' });
      let n = 0;
      s.on('data', (d) => { n += d.length; });
      s.on('error', reject);
      s.on('close', () => resolve(n));
      setTimeout(() => { s.destroy(); resolve(n); }, 2000);
    });
    expect(got).toBe(0);
    expect(x.peers()[0]!.state).not.toBe('Established');
  });
});
