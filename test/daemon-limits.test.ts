// The per-peer prefix limit (Kite extension, BGPPeer annotation kite.dev/max-prefixes): a peer
// sending more is told Cease/Maximum Number of Prefixes Reached, its routes are dropped, and
// both sides' `show peers` say why.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const world = new DaemonDir('limits');
const port = testPort(18500);

afterAll(() => world.close());

describe('maximum prefixes', () => {
  it('ceases a peer over its limit and says so on both sides', async () => {
    world.write(clusterYaml({
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
    const x = await world.start('x', '127.0.0.31');
    const y = await world.start('y', '127.0.0.32');
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
