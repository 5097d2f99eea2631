// IPIP tunnel address allocation by the daemon (as calico-node does): with an IPIP pool and a
// Node without ipv4IPIPTunnelAddr, Kite claims a block through its IPAM (file state), originates
// it, and after a restart keeps the same address and block.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir } from './helpers/daemons.js';

const world = new DaemonDir('ipam');
const saved = process.env['KITE_STATE_DIR'];

afterAll(async () => {
  if (saved === undefined) delete process.env['KITE_STATE_DIR']; else process.env['KITE_STATE_DIR'] = saved;
  await world.close();
});

describe('IPIP tunnel address', () => {
  it('is allocated from the IPIP pool, its block originated, and kept across a restart', async () => {
    process.env['KITE_STATE_DIR'] = join(world.dir, 'state');
    world.write(clusterYaml({
      bgp: { asNumber: 64512 },
      nodes: [{ name: 't', ipv4: '127.0.0.71/8' }],
      pools: [{ name: 'tunnel-pool', cidr: '10.250.0.0/16', blockSize: 26, ipipMode: 'Always' }],
    }));
    const run = async () => {
      const d = await world.start('t', '127.0.0.71', { listenPort: 0 });
      const prefixes = d.routes({}).map((r) => r.prefix);
      await world.stop(d, 'test');
      return prefixes;
    };
    const first = await run();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^10\.250\.\d+\.\d+\/26$/);
    const state = readFileSync(join(world.dir, 'state', 'ipam', 'ipam-state.json'), 'utf8');
    expect(state).toContain('ipip-tunnel-addr-t'); // Calico's handle for the tunnel address
    expect(await run()).toEqual(first); // same block after a restart, nothing new claimed
  });
});
