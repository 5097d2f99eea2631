// A stop for a restart versus a decommission, between two in-process Kite daemons on loopback.
// Restart (what SIGTERM does by default): Cease/Administrative Reset, which with the N bit both
// Kites set is a graceful restart (RFC 8538 §4), the restart marker stays, the peer keeps
// our routes as stale (RFC 4724 §4.2), and the Kite that comes back announces Restart State
// until every peer's End-of-RIB, even though its datastore was in sync before any peer existed
// (the bug this pins: the restart ended at that first in-sync). Decommission: Cease inside Hard
// Reset (RFC 8538 §3), routes gone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const world = new DaemonDir('restart');
const port = testPort(21800, 400);
world.write(clusterYaml({
  bgp: { asNumber: 64512, listenPort: port },
  nodes: [{ name: 'a', ipv4: '127.0.0.71/8', blocks: ['10.244.1.0/26'] }, { name: 'b', ipv4: '127.0.0.72/8', blocks: ['10.244.2.0/26'] }],
  pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
}));
afterAll(() => world.close());

const marker = join(world.dir, 'kite-b.running');

describe('stopping for a restart and for good', () => {
  it('a restart stop leaves b\'s routes at a, and the returning b takes over in graceful restart', async () => {
    const a = await world.start('a', '127.0.0.71');
    let b: Daemon = world.daemon('b', '127.0.0.72');
    await b.start();
    const rib = () => a.routes({}).map((r) => r.prefix).sort().join(' ');
    await eventually('b\'s block at a', () => rib() === '10.244.1.0/26 10.244.2.0/26');
    const seen: string[] = [];
    const timer = setInterval(() => seen.push(rib()), 10);

    await b.stop('restarting', { restart: true });
    await eventually('a notices', () => a.peers()[0]!.state !== 'Established');
    expect(a.peers()[0]!.lastError).toBe('received NOTIFICATION Cease/Administrative Reset: "restarting"'); // not a Hard Reset
    expect(rib()).toBe('10.244.1.0/26 10.244.2.0/26'); // kept as stale
    expect(existsSync(marker)).toBe(true);

    b = world.daemon('b', '127.0.0.72');
    await b.start();
    // The datastore was in sync before b had any peer: the restart must not have ended there.
    expect(b.healthInputs().restarting).toBe(true);
    expect(b.readiness().ok).toBe(false);
    await eventually('b back and its restart over', () => a.peers()[0]!.state === 'Established' && !b.healthInputs().restarting);
    await eventually('b ready', () => b.readiness().ok);
    clearInterval(timer);
    expect(seen.every((v) => v === '10.244.1.0/26 10.244.2.0/26')).toBe(true); // never a flap at a

    // A decommission: Cease, a withdraws b's block at once, and the next start is a fresh one.
    await b.stop('node retired');
    await eventually('a drops b\'s routes', () => rib() === '10.244.1.0/26');
    expect(a.peers()[0]!.lastError).toBe('received NOTIFICATION Cease/Hard Reset (Cease/Administrative Shutdown: "node retired")');
    expect(existsSync(marker)).toBe(false);
  });
});
