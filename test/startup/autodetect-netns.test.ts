// calico-node's address autodetection (node/pkg/lifecycle/startup/autodetection) against a real
// network namespace with several interfaces: Docker's bridge, a workload veth and kube-ipvs0,
// which first-found must skip (DEFAULT_INTERFACES_TO_EXCLUDE), and three candidate NICs. Each
// method runs inside the namespace through the built module; then `kite run` itself detects
// its address there (interface=) and starts with it as its router ID.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml } from '../helpers/cluster-config.js';
import { must, run, waitFor } from '../interop/netns.js';
import { REPO_ROOT, requireInteropPrereqs } from '../interop/prereqs.js';
import { requireKiteBuilt } from '../interop/kite.js';

const NS = `kt${process.pid}-autodetect`;
const dir = mkdtempSync(join(tmpdir(), 'kite-autodetect-'));

async function inNs(args: string[]): Promise<void> { await must('ip', ['-n', NS, ...args]); }

/** Every method, detected inside the namespace by dist/startup/autodetect.js. */
async function detect(cases: Array<[string, 4 | 6, { ignored?: string[]; internalIPs?: string[] }?]>): Promise<string[]> {
  const script = `import { autodetect } from ${JSON.stringify(join(REPO_ROOT, 'dist/startup/autodetect.js'))};
const out = [];
for (const [m, v, o] of ${JSON.stringify(cases)}) {
  try { out.push((await autodetect(m, v, o ?? {})).cidr); } catch (e) { out.push('error: ' + e.message); }
}
console.log(JSON.stringify(out));`;
  const r = await run('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', script], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`autodetect in ${NS} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

describe('address autodetection in a namespace with several interfaces', () => {
  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await must('ip', ['netns', 'add', NS]);
    // Pairs, so that every end is up and running (this kernel has no dummy type): the first of
    // each pair gets the lower index, so the kernel order is docker0, eth0, eth1, cali…, eth2, kube-ipvs0.
    await inNs(['link', 'add', 'docker0', 'type', 'veth', 'peer', 'name', 'eth0']);
    await inNs(['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'cali1234567890a']);
    await inNs(['link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'kube-ipvs0']);
    for (const l of ['lo', 'docker0', 'eth0', 'eth1', 'cali1234567890a', 'eth2', 'kube-ipvs0']) await inNs(['link', 'set', l, 'up']);
    await inNs(['addr', 'add', '172.17.0.1/16', 'dev', 'docker0']);
    await inNs(['addr', 'add', '10.10.0.5/24', 'dev', 'eth0']);
    await inNs(['addr', 'add', '192.168.60.7/24', 'dev', 'eth1']);
    await inNs(['addr', 'add', 'fd60::7/64', 'dev', 'eth1', 'nodad']);
    await inNs(['addr', 'add', '169.254.1.1/32', 'dev', 'cali1234567890a']);
    await inNs(['addr', 'add', '10.20.0.9/24', 'dev', 'eth2']);
    await inNs(['addr', 'add', 'fd20::9/64', 'dev', 'eth2', 'nodad']);
    await inNs(['addr', 'add', '10.96.0.1/32', 'dev', 'kube-ipvs0']);
    await inNs(['route', 'add', '203.0.113.0/24', 'via', '10.20.0.1', 'dev', 'eth2']);
    await inNs(['-6', 'route', 'add', 'fd99::/64', 'via', 'fd60::1', 'dev', 'eth1']);
  }, 60_000);

  afterAll(async () => {
    await run('ip', ['netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds what calico-node finds with each method', async () => {
    expect(await detect([
      ['first-found', 4], // docker0 is excluded, eth0 is the first NIC
      ['first-found', 6], // eth1's global address (link-local ones never count)
      ['interface=eth2', 4],
      ['interface=nomatch,eth[12]', 4],
      ['skip-interface=eth0', 4],
      ['skip-interface=eth0,eth1', 4],
      ['cidr=10.20.0.0/16', 4],
      ['cidr=fd20::/16', 6],
      ['can-reach=203.0.113.10', 4],
      ['can-reach=fd99::1', 6],
      ['kubernetes-internal-ip', 4, { internalIPs: ['10.20.0.9', 'fd60::7'] }],
      ['kubernetes-internal-ip', 6, { internalIPs: ['10.20.0.9', 'fd60::7'] }],
      ['first-found', 4, { ignored: ['eth0'] }], // BGPConfiguration ignoredInterfaces
      ['interface=kube-ipvs0,docker0', 4], // interface= has no default exclusions
      ['cidr=10.30.0.0/16', 4],
    ])).toEqual([
      '10.10.0.5/24', 'fd60::7/64', '10.20.0.9/24', '192.168.60.7/24', '192.168.60.7/24', '10.20.0.9/24',
      '10.20.0.9/24', 'fd20::9/64', '10.20.0.9/24', 'fd60::7/64', '10.20.0.9/24', 'fd60::7/64', '192.168.60.7/24',
      '172.17.0.1/16', 'error: Unable to auto-detect an IPv4 address (cidr=10.30.0.0/16): no interface matches',
    ]);
  }, 30_000);

  it('kite run detects its address there and starts with it (IP_AUTODETECTION_METHOD, flag over variable)', async () => {
    const config = join(dir, 'cluster.yaml');
    writeFileSync(config, clusterYaml({ bgp: { asNumber: 64512 }, nodes: [{ name: 'n1' }], pools: [{ name: 'p', cidr: '10.244.0.0/16' }] }));
    const socket = join(dir, 'kite.sock');
    const { spawn } = await import('node:child_process');
    const p = spawn('ip', ['netns', 'exec', NS, process.execPath, join(REPO_ROOT, 'bin/kite'), 'run', '--config', config, '--node', 'n1', '--socket', socket,
      '--dataplane', 'none', '--ip-autodetection-method', 'interface=eth2', '--log-level', 'warn'],
    { env: { ...process.env, IP_AUTODETECTION_METHOD: 'interface=eth1' }, stdio: 'ignore' });
    try {
      const summary = await waitFor('kite summary', async () => {
        const r = await run(process.execPath, [join(REPO_ROOT, 'bin/kite'), 'show', 'summary', '--json', '--socket', socket]);
        return r.code === 0 ? (JSON.parse(r.stdout) as { routerId: string }) : undefined;
      }, { timeoutMs: 20_000, intervalMs: 300 });
      expect(summary.routerId).toBe('10.20.0.9');
      const health = await run('ip', ['netns', 'exec', NS, process.execPath, join(REPO_ROOT, 'bin/kite'), 'health', 'ready']);
      expect(health.stdout).toBe('ready\n'); // no peers: ready once in sync (calico-node -bird-ready)
    } finally {
      p.kill('SIGTERM');
    }
  }, 40_000);
});
