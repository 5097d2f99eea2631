// Smoke test of `kite lab`: the real command (bin/kite, built dist/) brings the default lab up,
// reports status, and goes down; then the etcd-backed lab (--datastore etcd), the --dual-stack and --ipv6 labs, pinging in both families,
// and the ToR and VXLAN combinations (--tor with --vxlan, --ipv6, --dual-stack; --vxlan --ipv6). Asserts every pod pings every pod and that nothing of the lab
// (namespaces, processes, /run/kite-lab) is left afterwards. Needs root and netns; in CI
// (CI=true) their absence is a failure, elsewhere the test is skipped with the reason.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResources } from '../../src/datastore/file.js';
import { caliName, labConfigYaml, planLab, DEFAULT_OPTIONS } from '../../src/lab/topology.js';
import { torConfig } from '../../src/lab/tor.js';

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
    expect(() => planLab({ ...DEFAULT_OPTIONS, family: 'ipv6', routeReflector: true }, { ipip: false, vxlan: false, bridge: true })).toThrow(/IPv4-only/);
  });
  it('--tor with --ipv6 / --dual-stack: a /64 per node towards the ToR, a BGPPeer and an FRR session per family', () => {
    const k = { ipip: false, vxlan: false, bridge: true };
    const v6 = planLab({ ...DEFAULT_OPTIONS, family: 'ipv6', tor: true }, k);
    expect(v6.nodes[1]).toMatchObject({ ip: 'fd00:198:18:2::1', prefixLength: 64, gateway: 'fd00:198:18:2::fe', torIp6: 'fd00:198:18:2::fe', asNumber: 65002 });
    expect(v6.nodes[1]!.torIp).toBeUndefined();
    expect(v6.reasons.join('\n')).toMatch(/the FRR ToR peers eBGP over IPv6 with every node/);
    const v6rs = parseResources(labConfigYaml(v6), 'lab.yaml');
    expect(v6rs.bgpPeers.map((p) => `${p.metadata.name} ${p.spec.node} ${p.spec.peerIP}`)).toEqual([
      'node-1-tor-v6 node-1 fd00:198:18:1::fe', 'node-2-tor-v6 node-2 fd00:198:18:2::fe', 'node-3-tor-v6 node-3 fd00:198:18:3::fe']);
    const v6conf = torConfig(v6);
    expect(v6conf).toContain(' no bgp default ipv4-unicast\n');
    expect(v6conf).toContain(' neighbor fd00:198:18:2::1 remote-as 65002\n');
    expect(v6conf).toMatch(/ address-family ipv6 unicast\n {2}neighbor fd00:198:18:1::1 activate\n/);
    expect(v6conf).not.toContain('address-family ipv4');

    const dual = planLab({ ...DEFAULT_OPTIONS, family: 'dual', tor: true }, k);
    expect(dual.nodes[2]).toMatchObject({ ip: '198.18.3.1', torIp: '198.18.3.254', ip6: 'fd00:198:18:3::1', torIp6: 'fd00:198:18:3::fe', gateway6: 'fd00:198:18:3::fe' });
    const drs = parseResources(labConfigYaml(dual), 'lab.yaml');
    expect(drs.bgpPeers.filter((p) => p.spec.node === 'node-3').map((p) => p.spec.peerIP)).toEqual(['198.18.3.254', 'fd00:198:18:3::fe']);
    const dconf = torConfig(dual);
    expect(dconf).toMatch(/ address-family ipv4 unicast\n {2}neighbor 198\.18\.1\.1 activate\n/);
    expect(dconf).toMatch(/ address-family ipv6 unicast\n {2}neighbor fd00:198:18:1::1 activate\n/);
    // An IPv6 neighbour is never activated for IPv4, nor the reverse.
    expect(dconf).not.toMatch(/address-family ipv4 unicast\n(?: {2}.*\n)* {2}neighbor fd00/);
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

  it('--datastore etcd: the lab\'s resources in an etcd (Calico\'s etcdv3 keys), the Kites read them, every pod pings every pod, down removes etcd too', async () => {
    await kite(['lab', 'down']);
    const up = await kite(['lab', 'up', '--datastore', 'etcd', '--json']);
    expect(up.code, `kite lab up --datastore etcd failed:\n${up.stderr}`).toBe(0);
    expect(up.stderr).toMatch(/lab: etcd http:\/\/198\.18\.0\.\d+:2379 in kitelab-\S+: wrote \d+ keys under \/calico\//);
    const report = JSON.parse(up.stdout) as { nodes: { peers: { state: string }[] }[]; ping: { total: number; allOk: boolean } };
    for (const n of report.nodes) expect(n.peers.map((p) => p.state)).toEqual(['Established', 'Established']);
    expect(report.ping.total).toBe(30);
    expect(report.ping.allOk).toBe(true);
    // The Kites run on etcd, not on the file.
    const cmdlines = (await sh('sh', ['-c', 'for n in $(ip netns list | cut -d" " -f1 | grep ^kitelab-); do for p in $(ip netns pids $n); do tr "\\0" " " < /proc/$p/cmdline; echo; done; done'])).stdout;
    expect(cmdlines.split('\n').filter((l) => / run /.test(l) && l.includes('--datastore etcdv3'))).toHaveLength(3);
    expect(cmdlines).toMatch(/(^|\/)etcd --name lab /m);
    const down = await kite(['lab', 'down']);
    expect(down.code, down.stderr).toBe(0);
    expect((await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith('kitelab-'))).toEqual([]);
    expect(existsSync('/run/kite-lab')).toBe(false);
  }, 90_000);

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

  // The modes with the ToR (and IPv6 VXLAN): each builds, converges and passes the ping matrix,
  // its kernel routes have the shape the mode implies, and the lab says what it chose.
  const combos = [
    { flags: ['--tor', '--vxlan'], chose: /--vxlan with --tor: the ToR passes each block on with its node as next hop/, sessions: 1, pings: 30,
      routes: [/^10\.244\.\d+\.0\/26 via 10\.244\.\d+\.0 dev vxlan\.calico .*onlink/] },
    { flags: ['--tor', '--ipv6'], chose: /the FRR ToR peers eBGP over IPv6 with every node/, sessions: 1, pings: 30,
      routes: [/^fd00:10:244:\d+::\/122 via fd00:198:18:\d+::fe dev eth0/] },
    { flags: ['--tor', '--dual-stack'], chose: /the FRR ToR peers eBGP with every node once per family/, sessions: 2, pings: 60,
      routes: [/^10\.244\.\d+\.0\/26 via 198\.18\.\d+\.254 dev eth0/, /^fd00:10:244:\d+::\/122 via fd00:198:18:\d+::fe dev eth0/] },
    // The VTEPs from Kite's IPAM (none in the Nodes): each Kite allocates and writes its own to its
    // Node in etcd, the others read them; routes via those VTEPs prove the round trip.
    { flags: ['--vxlan', '--dual-stack', '--datastore', 'etcd'], chose: /--vxlan with --datastore etcd: the Nodes start without VTEPs/, sessions: 4, pings: 60,
      // Each VTEP is the first address of the node's affine block (Kite claims the affinity's
      // CIDR, libcalico-go getBlockFromAffinity), and no other block reaches any node.
      routes: [/^10\.244\.([1-3])\.0\/26 via 10\.244\.\1\.0 dev vxlan\.calico .*onlink/, /^fd00:10:244:([1-3])::\/122 via fd00:10:244:\1:: dev vxlan-v6\.calico .*onlink/],
      only: [/^10\.244\.[\d.]+\/\d+ /, /^fd00:10:244:[\da-f:]*\/\d+ /] },
    { flags: ['--vxlan', '--ipv6'], chose: /IPv6 pool vxlanMode Always: every IPv6 pod packet between nodes goes through vxlan-v6\.calico/, sessions: 2, pings: 30,
      routes: [/^fd00:10:244:\d+::\/122 via fd00:10:244:\d+:: dev vxlan-v6\.calico .*onlink/] },
  ] as const;
  for (const c of combos) {
    it(`${c.flags.join(' ')}: builds, converges, every pod pings every pod, and down removes everything`, async () => {
      await kite(['lab', 'down']);
      const up = await kite(['lab', 'up', ...c.flags, '--json']);
      expect(up.code, `kite lab up ${c.flags.join(' ')} failed:\n${up.stderr}`).toBe(0);
      expect(up.stderr).toMatch(c.chose);
      const report = JSON.parse(up.stdout) as {
        routeModeText: string; nodes: { peers: { state: string }[]; kernelRoutes: string[] }[];
        ping: { total: number; allOk: boolean; matrix: { from: string; toIp: string; ok: boolean }[] };
      };
      expect(report.routeModeText).toBe("routes programmed by Kite's dataplane");
      for (const n of report.nodes) {
        expect(n.peers.map((p) => p.state)).toEqual(Array(c.sessions).fill('Established'));
        // Both other nodes' blocks, per family, in the shape of the mode.
        for (const re of c.routes) expect(n.kernelRoutes.filter((l) => re.test(l)), n.kernelRoutes.join('\n')).toHaveLength(2);
        // Where the mode says so: the only block routes of each family (a prefix, not a pod's
        // address, not the node's own blackhole) are those two.
        for (const re of 'only' in c ? c.only : []) expect(n.kernelRoutes.filter((l) => re.test(l) && !l.startsWith('blackhole')), n.kernelRoutes.join('\n')).toHaveLength(2);
      }
      expect(report.ping.total).toBe(c.pings);
      expect(report.ping.matrix.filter((x) => !x.ok).map((x) => `${x.from}->${x.toIp}`)).toEqual([]);
      const down = await kite(['lab', 'down']);
      expect(down.code, down.stderr).toBe(0);
      expect(existsSync('/run/kite-lab')).toBe(false);
    }, 60_000);
  }
});
