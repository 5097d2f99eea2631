// Smoke test of `kite lab`: the real command (bin/kite, built dist/) brings the default lab up,
// reports status, and goes down; then the --dual-stack and --ipv6 labs, pinging in both families. Asserts every pod pings every pod and that nothing of the lab
// (namespaces, processes, /run/kite-lab) is left afterwards. Needs root and netns; in CI
// (CI=true) their absence is a failure, elsewhere the test is skipped with the reason.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { caliName, labConfigYaml, planLab, DEFAULT_OPTIONS } from '../../src/lab/topology.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KITE = join(ROOT, 'bin', 'kite');

interface Run { code: number; stdout: string; stderr: string }

function kite(args: string[], timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KITE, ...args], { timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function sh(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
  });
}

async function prerequisites(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'kite lab needs root';
  const probe = `kitelab-testprobe-${process.pid}`;
  const add = await sh('ip', ['netns', 'add', probe]);
  if (add.code !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  await sh('ip', ['netns', 'del', probe]);
  if (!existsSync(join(ROOT, 'dist', 'lab', 'lab.js'))) return 'Kite is not built (dist/lab/lab.js): run npm run build';
  return null;
}

const missing = await prerequisites();
if (missing !== null && process.env['CI'] === 'true') {
  describe('kite lab (prerequisites)', () => {
    it('has root, network namespaces and a build', () => {
      expect.fail(`CI must run the lab smoke test: ${missing}`);
    });
  });
}

describe('kite lab naming', () => {
  it('names host veths as Calico does: cali + sha1("<namespace>.<pod>")[:11]', () => {
    // sha1("default.pod-1-1") = a0150fc09e0… (computed independently with sha1sum).
    expect(caliName('default', 'pod-1-1')).toBe('calia0150fc09e0');
    expect(caliName('default', 'pod-1-1')).toHaveLength(15); // IFNAMSIZ - 1
  });
  it('puts a WorkloadEndpoint per pod and a BlockAffinity per node in the config', () => {
    const plan = planLab(DEFAULT_OPTIONS, { ipip: false, vxlan: false, bridge: true });
    const yaml = labConfigYaml(plan);
    expect(yaml.match(/kind: WorkloadEndpoint/g)).toHaveLength(6);
    expect(yaml.match(/kind: BlockAffinity/g)).toHaveLength(3);
    expect(yaml).toContain('ipipMode: Never');
    expect(yaml).toContain('interfaceName: calia0150fc09e0');
    expect(plan.nodes.every((n) => n.ip.startsWith('198.18.'))).toBe(true);
  });
  it('--dual-stack: an IPv6 address, /122 block and /128 per pod beside the IPv4 ones; --ipv6: IPv6 alone', () => {
    const dual = planLab({ ...DEFAULT_OPTIONS, family: 'dual' }, { ipip: false, vxlan: false, bridge: true });
    expect(dual.nodes[0]).toMatchObject({ ip: '198.18.0.1', ip6: 'fd00:198:18::1', block: '10.244.1.0/26', block6: 'fd00:10:244:1::/122' });
    expect(dual.nodes[0]?.pods[0]).toMatchObject({ ip: '10.244.1.2', ip6: 'fd00:10:244:1::2' });
    const dy = labConfigYaml(dual);
    expect(dy).toContain('ipv6Address: fd00:198:18::1/64');
    expect(dy).toContain('cidr: fd00:10:244::/48');
    expect(dy.match(/kind: BlockAffinity/g)).toHaveLength(6);
    expect(dy).toMatch(/ {4}- 10\.244\.1\.2\/32\n {4}- fd00:10:244:1::2\/128/);
    const v6 = planLab({ ...DEFAULT_OPTIONS, family: 'ipv6' }, { ipip: true, vxlan: false, bridge: true });
    expect(v6.nodes[1]).toMatchObject({ ip: 'fd00:198:18::2', prefixLength: 64, block: 'fd00:10:244:2::/122' });
    expect(v6.reasons.join(' ')).toMatch(/--ip none --router-id hash/);
    const vy = labConfigYaml(v6);
    expect(vy).not.toContain('ipv4Address');
    expect(vy).not.toContain('10.244.0.0/16');
    expect(() => planLab({ ...DEFAULT_OPTIONS, family: 'ipv6', tor: true }, { ipip: false, vxlan: false, bridge: true })).toThrow(/IPv4-only/);
  });
  it('chooses CrossSubnet only when the kernel has ipip', () => {
    expect(planLab(DEFAULT_OPTIONS, { ipip: true, vxlan: true, bridge: true }).encap).toBe('CrossSubnet');
    expect(planLab(DEFAULT_OPTIONS, { ipip: false, vxlan: true, bridge: true }).encap).toBe('Never');
  });
});

describe.skipIf(missing !== null)('kite lab up / status / down (smoke)', () => {
  afterAll(async () => {
    // Whatever happened above, leave nothing behind.
    await kite(['lab', 'down']);
  });

  it('brings up the default lab, every pod pings every pod, and down removes everything', async () => {
    // A lab left by an earlier, interrupted run would make `up` refuse.
    await kite(['lab', 'down']);

    const up = await kite(['lab', 'up', '--json']);
    expect(up.stderr).toMatch(/lab: chose: /);
    expect(up.stderr).toMatch(/lab: converged [\d.]+ s after the last Kite started/);
    expect(up.code, `kite lab up failed:\n${up.stderr}`).toBe(0);
    const report = JSON.parse(up.stdout) as {
      phase: string; routeModeText: string; convergenceMs: number;
      nodes: { name: string; peers: { state: string }[]; kernelRoutes: string[] }[];
      ping: { ok: number; total: number; allOk: boolean; matrix: { from: string; to: string; ok: boolean }[] };
    };
    expect(report.phase).toBe('up');
    expect(report.routeModeText).toMatch(/^routes programmed by (Kite's dataplane|the lab from Kite's BGP table)$/);
    expect(report.nodes).toHaveLength(3);
    for (const n of report.nodes) {
      expect(n.peers.map((p) => p.state)).toEqual(['Established', 'Established']);
      // Both other nodes' blocks are in this node's kernel.
      expect(n.kernelRoutes.filter((l) => /^10\.244\.\d+\.0\/26 via 198\.18\.0\.\d+/.test(l))).toHaveLength(2);
    }
    // 6 pods, each pinging the 5 others.
    expect(report.ping.total).toBe(30);
    const failed = report.ping.matrix.filter((c) => !c.ok).map((c) => `${c.from}->${c.to}`);
    expect(failed).toEqual([]);
    expect(report.ping.allOk).toBe(true);

    const status = await kite(['lab', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const st = JSON.parse(status.stdout) as { phase: string; nodes: { kiteRunning: boolean }[] };
    expect(st.phase).toBe('up');
    expect(st.nodes.map((n) => n.kiteRunning)).toEqual([true, true, true]);

    const pids = (await sh('sh', ['-c', 'for n in $(ip netns list | cut -d" " -f1 | grep ^kitelab-); do ip netns pids $n; done'])).stdout
      .split(/\s+/).filter((s) => s !== '');
    expect(pids.length).toBeGreaterThanOrEqual(3);

    const down = await kite(['lab', 'down']);
    expect(down.code, down.stderr).toBe(0);
    const ns = await sh('ip', ['netns', 'list']);
    expect(ns.stdout.split('\n').filter((l) => l.startsWith('kitelab-'))).toEqual([]);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid} still runs`).toBe(false);
    expect(existsSync('/run/kite-lab')).toBe(false);

    // Idempotent: a second down finds nothing and succeeds.
    const again = await kite(['lab', 'down']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to remove/);
  }, 60_000);

  for (const [flag, perPair, sessions] of [['--dual-stack', 2, 4], ['--ipv6', 1, 2]] as const) {
    it(`${flag}: every pod pings every pod over ${perPair === 2 ? 'IPv4 and IPv6' : 'IPv6'}, and down removes everything`, async () => {
      await kite(['lab', 'down']);
      const up = await kite(['lab', 'up', flag, '--json']);
      expect(up.code, `kite lab up ${flag} failed:\n${up.stderr}`).toBe(0);
      expect(up.stderr).toMatch(flag === '--ipv6' ? /lab: chose: IPv6 only/ : /lab: chose: dual-stack/);
      const report = JSON.parse(up.stdout) as {
        family: string; nodes: { peers: { state: string }[]; kernelRoutes: string[] }[];
        ping: { total: number; allOk: boolean; matrix: { from: string; toIp: string; ok: boolean }[] };
      };
      expect(report.family).toBe(flag === '--ipv6' ? 'ipv6' : 'dual');
      for (const n of report.nodes) {
        expect(n.peers.map((p) => p.state)).toEqual(Array(sessions).fill('Established'));
        expect(n.kernelRoutes.filter((l) => /^fd00:10:244:\d+::\/122 via fd00:198:18::\d+/.test(l))).toHaveLength(2);
      }
      expect(report.ping.total).toBe(30 * perPair);
      expect(report.ping.matrix.filter((c) => !c.ok).map((c) => `${c.from}->${c.toIp}`)).toEqual([]);
      expect(report.ping.matrix.filter((c) => c.toIp.includes(':'))).toHaveLength(30);
      const down = await kite(['lab', 'down']);
      expect(down.code, down.stderr).toBe(0);
      expect(existsSync('/run/kite-lab')).toBe(false);
    }, 60_000);
  }
});
