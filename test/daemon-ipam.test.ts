// IPIP tunnel address allocation by the daemon (as calico-node does): with an IPIP pool and a
// Node without ipv4IPIPTunnelAddr, Kite claims a block through its IPAM (file state), originates
// it, and after a restart keeps the same address and block.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Daemon } from '../src/daemon.js';
import { clusterYaml } from './helpers/cluster-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kite-ipam-'));
const file = join(dir, 'cluster.yaml');
const saved = process.env['KITE_STATE_DIR'];

afterAll(() => {
  if (saved === undefined) delete process.env['KITE_STATE_DIR']; else process.env['KITE_STATE_DIR'] = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('IPIP tunnel address', () => {
  it('is allocated from the IPIP pool, its block originated, and kept across a restart', async () => {
    process.env['KITE_STATE_DIR'] = join(dir, 'state');
    writeFileSync(file, clusterYaml({
      bgp: { asNumber: 64512 },
      nodes: [{ name: 't', ipv4: '127.0.0.71/8' }],
      pools: [{ name: 'tunnel-pool', cidr: '10.250.0.0/16', blockSize: 26, ipipMode: 'Always' }],
    }));
    const run = async () => {
      const d = new Daemon({ config: file, node: 't', socket: join(dir, 't.sock'), dataplane: 'none', listenAddress: '127.0.0.71', listenPort: 0 }, pino({ level: 'silent' }));
      await d.start();
      const prefixes = d.routes({}).map((r) => r.prefix);
      await d.stop('test');
      return prefixes;
    };
    const first = await run();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^10\.250\.\d+\.\d+\/26$/);
    const state = readFileSync(join(dir, 'state', 'ipam', 'ipam-state.json'), 'utf8');
    expect(state).toContain('ipip-tunnel-addr-t'); // Calico's handle for the tunnel address
    expect(await run()).toEqual(first); // same block after a restart, nothing new claimed
  });
});
