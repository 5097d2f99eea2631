// Graceful restart (RFC 4724) between two Kite daemons on loopback: node b runs as a real
// process and is SIGKILLed; node a keeps b's routes (stale) while b is away, and after b
// returns and sends End-of-RIB, a keeps what b still announces and drops what it does not.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const root = resolve(import.meta.dirname, '..');
const world = new DaemonDir('gr');
const port = testPort(19000);
let a: Daemon | undefined;
let b: ChildProcess | undefined;

function config(bBlocks: string[]): string {
  return clusterYaml({
    bgp: { asNumber: 64512, listenPort: port },
    nodes: [{ name: 'a', ipv4: '127.0.0.41/8' }, { name: 'b', ipv4: '127.0.0.42/8', blocks: bBlocks }],
    pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
  });
}

function startB(): ChildProcess {
  const p = spawn(process.execPath, [join(root, 'bin/kite'), 'run', '--config', world.file, '--node', 'b',
    '--socket', join(world.dir, 'b.sock'), '--listen-address', '127.0.0.42', '--log-level', 'warn', '--http-port', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return p;
}

afterAll(async () => {
  b?.kill('SIGKILL');
  await world.close();
});

describe('graceful restart between Kite nodes', () => {
  it('keeps a SIGKILLed peer\'s routes until it returns and sends End-of-RIB', async () => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    world.write(config(['10.244.2.0/26', '10.244.2.64/26']));
    a = await world.start('a', '127.0.0.41');
    b = startB();
    const rib = () => a!.routes({}).map((r) => r.prefix).sort().join(' ');
    await eventually('b\'s routes at a', () => rib() === '10.244.2.0/26 10.244.2.64/26', 20_000);

    // Every change a sees from here on: a withdrawal of a b route before b's End-of-RIB is a failure.
    const seen: string[] = [];
    const timer = setInterval(() => seen.push(rib()), 20);
    b.kill('SIGKILL');
    await eventually('a to notice the lost session', () => a!.peers()[0]!.state !== 'Established', 20_000);
    expect(rib()).toBe('10.244.2.0/26 10.244.2.64/26'); // kept, stale
    expect(existsSync(join(world.dir, 'kite-b.running'))).toBe(true); // b left its marker: it will restart gracefully

    // b comes back with one block fewer: after its End-of-RIB, a drops the one not resent.
    world.write(config(['10.244.2.0/26']));
    await new Promise((r) => setTimeout(r, 300)); // a applies the edit (b's blocks are b's business)
    b = startB();
    await eventually('b re-established', () => a!.peers()[0]!.state === 'Established', 20_000);
    await eventually('stale route swept at End-of-RIB', () => rib() === '10.244.2.0/26', 20_000);
    clearInterval(timer);
    expect(seen.every((v) => v.includes('10.244.2.0/26'))).toBe(true);
  });
});
