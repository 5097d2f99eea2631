// Real IPIP (issue 4): Kite's Linux dataplane on a Debian kernel with the ipip module, under qemu.
// Two subnets joined by a router namespace, ipipMode CrossSubnet: same-subnet nodes route directly,
// cross-subnet nodes via tunl0 onlink, and pods ping across both (proved by tunl0 counters and a
// capture on the router). The guest script (ipip-crosssubnet.sh) records; this file asserts.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caliName } from '../../src/lab/topology.js';
import { clusterYaml } from '../helpers/cluster-config.js';
import { runInVm, type VmResult, vmPrereqs } from './qemu.js';

const execFileP = promisify(execFile);
const CI = process.env.CI === 'true';
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
/** Where the guest sees the repository (a read-only 9p share of REPO). */
const GUEST_REPO = '/kite-repo';
const SCRIPT = join(HERE, 'ipip-crosssubnet.sh');

// --- The cluster -----------------------------------------------------------------------------
const KITE_PROTO = 75;
/** Not 1500: the tunnel MTU must come from the host NIC (host MTU − 20), not the module default 1480. */
const UNDERLAY_MTU = 1450;
const TUNNEL_MTU = UNDERLAY_MTU - 20;
const POOL = '10.244.0.0/16';

interface Node { name: string; ip: string; gw: string; bridge: string; block: string; tunnel: string }
interface Pod { name: string; node: string; ip: string; mac: string; cali: string }

const NODES: Node[] = [
  { name: 'node-a', ip: '198.18.1.1', gw: '198.18.1.254', bridge: 'br1', block: '10.244.1.0/26', tunnel: '10.244.1.1' },
  { name: 'node-b', ip: '198.18.1.2', gw: '198.18.1.254', bridge: 'br1', block: '10.244.2.0/26', tunnel: '10.244.2.1' },
  { name: 'node-c', ip: '198.18.2.1', gw: '198.18.2.254', bridge: 'br2', block: '10.244.3.0/26', tunnel: '10.244.3.1' },
];
const pod = (name: string, node: string, ip: string): Pod => ({
  name, node, ip, cali: caliName('default', name),
  mac: '0a:58:' + ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':'),
});
const PODS: Pod[] = [
  pod('pod-a1', 'node-a', '10.244.1.2'),
  pod('pod-a2', 'node-a', '10.244.1.3'),
  pod('pod-b1', 'node-b', '10.244.2.2'),
  pod('pod-c1', 'node-c', '10.244.3.2'),
];
const byName = <T extends { name: string }>(xs: T[], n: string): T => xs.find((x) => x.name === n)!;
const A = byName(NODES, 'node-a'), B = byName(NODES, 'node-b'), C = byName(NODES, 'node-c');
const PA1 = byName(PODS, 'pod-a1'), PB1 = byName(PODS, 'pod-b1'), PC1 = byName(PODS, 'pod-c1');

/** Timed pings with tunl0 counters read after each: [step, from (pod or node), to, count]. */
const PROBES: [string, string, string, number][] = [
  ['direct', PA1.name, PB1.ip, 5], // node-a -> node-b, same subnet: no encapsulation
  ['tunnel', PA1.name, PC1.ip, 5], // node-a -> node-c, across the router: IPIP
  ['tunnel-back', PC1.name, PB1.ip, 5], // node-c -> node-b: IPIP the other way, to the other node
  ['node-tunnel', A.name, PC1.ip, 3], // from node-a itself: the source is the tunnel address
];

function configYaml(): string {
  return clusterYaml({
    bgp: { asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: 'Info' },
    nodes: NODES.map((n) => ({ name: n.name, ipv4: `${n.ip}/24`, ipv4IPIPTunnelAddr: n.tunnel, blocks: [n.block] })),
    pools: [{ name: 'default-ipv4-ippool', cidr: POOL, blockSize: 26, ipipMode: 'CrossSubnet', vxlanMode: 'Never', natOutgoing: false }],
    workloads: PODS.map((p) => ({ node: p.node, pod: p.name, ip: p.ip, interfaceName: p.cali, mac: p.mac })),
  });
}

function topologySh(): string {
  const arr = (name: string, rows: string[]): string => `${name}=(\n${rows.map((r) => `  "${r}"`).join('\n')}\n)\n`;
  const bridges = [...new Map(NODES.map((n) => [n.bridge, `${n.bridge} ${n.gw}/24`])).values()];
  return [
    `KITE_PROTO=${KITE_PROTO}\nUNDERLAY_MTU=${UNDERLAY_MTU}\nCONVERGE_TIMEOUT_S=120\nKITE_REPO=${GUEST_REPO}\n`,
    arr('SUBNETS', bridges),
    arr('NODES', NODES.map((n) => `${n.name} ${n.ip} 24 ${n.gw} ${n.bridge} ${n.tunnel}`)),
    arr('BLOCKS', NODES.map((n) => `${n.name} ${n.block}`)),
    arr('PODS', PODS.map((p) => `${p.name} ${p.node} ${p.ip} ${p.cali} ${p.mac}`)),
    // tunl0 as Kite finds it: node-a untouched (down, mtu 1480), node-b with a stray address that
    // must go, node-c already up with the module's MTU, which is wrong for a 1450 underlay.
    arr('TUNL0_BEFORE', [`${B.name} addr add 198.18.99.9/32 dev tunl0`, `${C.name} link set tunl0 up`]),
    arr('PROBES', PROBES.map((p) => p.join(' '))),
    arr('CAPTURES', [B.name, C.name]),
  ].join('');
}

// --- What the guest recorded -----------------------------------------------------------------
interface IpRoute { dst: string; type?: string; gateway?: string; dev?: string; scope?: string; flags?: string[]; metrics?: Record<string, number>[] }
interface IpAddr { family: string; local: string; prefixlen: number }
interface IpLink { ifname: string; flags: string[]; mtu: number; addr_info?: IpAddr[]; stats64?: { rx: { packets: number }; tx: { packets: number } } }
interface FibJson { enabled: boolean; inSync: boolean; routes: { prefix: string; state: string; reason: string }[] }

/** `ip route` wording of a route from `ip -j route`, as this test states its expectations. */
function shape(r: IpRoute): string {
  const parts: string[] = [];
  if (r.type !== undefined && r.type !== 'unicast') parts.push(r.type);
  parts.push(r.dst);
  if (r.gateway !== undefined) parts.push('via', r.gateway);
  if (r.dev !== undefined) parts.push('dev', r.dev);
  if (r.scope !== undefined && r.scope !== 'global') parts.push('scope', r.scope);
  parts.push(...(r.flags ?? []));
  const mtu = r.metrics?.find((m) => m.mtu !== undefined)?.mtu;
  if (mtu !== undefined) parts.push('mtu', String(mtu));
  return parts.join(' ');
}

/** What Calico programs on `n` (CALICO.md, "What a node programs into the kernel"). */
function expectedRoutes(n: Node): string[] {
  const out = [`blackhole ${n.block}`];
  for (const p of PODS.filter((p) => p.node === n.name)) out.push(`${p.ip} dev ${p.cali} scope link`);
  for (const o of NODES.filter((o) => o !== n)) {
    const sameSubnet = o.gw === n.gw; // each subnet has one gateway on the router
    out.push(sameSubnet ? `${o.block} via ${o.ip} dev eth0 onlink` : `${o.block} via ${o.ip} dev tunl0 onlink mtu ${TUNNEL_MTU}`);
  }
  return out.sort();
}

/** One tcpdump line: outer header for IPIP, inner (or only) header, ICMP kind. */
interface Pkt { outer?: [string, string]; src: string; dst: string; kind: 'request' | 'reply' }
function parseCapture(text: string): Pkt[] {
  const pkts: Pkt[] = [];
  for (const line of text.split('\n')) {
    const ipip = /IP (\S+) > (\S+): IP (\S+) > (\S+): ICMP echo (request|reply)/.exec(line);
    if (ipip) {
      pkts.push({ outer: [ipip[1]!, ipip[2]!], src: ipip[3]!, dst: ipip[4]!, kind: ipip[5] as Pkt['kind'] });
      continue;
    }
    const plain = /IP (\S+) > (\S+): ICMP echo (request|reply)/.exec(line);
    if (plain) pkts.push({ src: plain[1]!, dst: plain[2]!, kind: plain[3] as Pkt['kind'] });
  }
  return pkts;
}
const count = (pkts: Pkt[], f: (p: Pkt) => boolean): number => pkts.filter(f).length;

// --- The test --------------------------------------------------------------------------------
let missing: string | undefined;
let out = '';

/** dist/ must be current: the guest runs bin/kite from the shared root. */
async function ensureBuilt(): Promise<string | undefined> {
  const main = join(REPO, 'dist', 'cli', 'main.js');
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }, 0);
  if (!existsSync(main) || statSync(main).mtimeMs < newest(join(REPO, 'src'))) {
    // tsc emits despite type errors in files being edited elsewhere; what matters is a current dist.
    await execFileP('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO }).catch(() => undefined);
  }
  if (!existsSync(main)) return 'dist/cli/main.js is missing after npx tsc -p tsconfig.json';
  if (!existsSync(join(REPO, 'build', 'Release', 'kite_netlink.node'))) return 'the netlink addon build/Release/kite_netlink.node is not built (npm install)';
  return undefined;
}

describe('real IPIP under qemu: CrossSubnet across a router', () => {
  beforeAll(async () => {
    if (process.getuid?.() !== 0) missing = 'needs root (qemu, namespaces)';
    missing ??= await vmPrereqs();
    missing ??= await ensureBuilt();
    if (missing && CI) throw new Error(`real-IPIP prerequisites missing (CI=true: this is a failure): ${missing}`);
    if (missing) console.warn(`SKIPPING real-IPIP kernel test: ${missing}`);
    out = await mkdtemp(join(tmpdir(), 'kite-ipip-'));
  }, 900_000);

  afterAll(async () => {
    if (out && process.env.KITE_IPIP_KEEP !== '1') await rm(out, { recursive: true, force: true });
    else if (out) console.warn(`kept ${out}`);
  });

  it('routes same-subnet blocks directly and cross-subnet blocks via tunl0; pods ping across both', async (ctx) => {
    if (missing) ctx.skip();
    await writeFile(join(out, 'kite.yaml'), configYaml());
    await writeFile(join(out, 'topology.sh'), topologySh());
    const r: VmResult = await runInVm(await readFile(SCRIPT, 'utf8'), {
      modules: ['ipip', 'bridge'],
      memoryMb: 1536,
      timeoutMs: 280_000,
      // The repo is shared on its own: the guest's /tmp, /run and /var/tmp are fresh tmpfs, and a
      // clone there (as CI may make) would be invisible through the shared root.
      shares: [{ host: out, guest: '/out', writable: true }, { host: REPO, guest: GUEST_REPO }],
      env: { KITE_OUT: '/out' },
    });
    const file = (name: string): Promise<string> => readFile(join(out, name), 'utf8').catch(() => '');
    const json = async <T>(name: string): Promise<T> => JSON.parse((await file(name)) || 'null') as T;
    const diag = async (n: string): Promise<string> => {
      const log = (await file(`kite-${n}.log`)).trimEnd().split('\n').slice(-40).join('\n');
      return `\n--- ${n}: ip link/addr/route/neigh ---\n${await file(`diag-${n}.txt`)}\n--- kite ${n} log (last 40 lines) ---\n${log}\n`;
    };
    const all = async (): Promise<string> => `\n--- guest stdout ---\n${r.stdout}\n--- guest stderr ---\n${r.stderr}` +
      (await Promise.all(NODES.map((n) => diag(n.name)))).join('') + `\n--- router ---\n${await file('diag-router.txt')}`;
    console.log(`real IPIP: boot ${r.bootMs} ms, total ${r.totalMs} ms, kernel ${r.kernelVersion}\n${r.stdout}`);

    expect(r.code, `guest script failed (exit ${r.code}, phase ${await file('phase')})${await all()}`).toBe(0);
    expect((await file('converged')).trim(), `the kernels did not reach the expected routes within 120 s${await all()}`).toBe('yes');

    // The ipip module gives every new namespace a fallback tunl0 (down, mtu 1480): Kite adopts it.
    for (const n of NODES) {
      const before = await json<IpLink[]>(`tunl0-before-${n.name}.json`);
      expect(before?.[0]?.ifname, `no tunl0 in ${n.name} before Kite started`).toBe('tunl0');
      expect(before[0]!.mtu).toBe(1480);
    }
    expect((await json<IpLink[]>(`tunl0-before-${B.name}.json`))[0]!.addr_info?.map((a) => a.local)).toEqual(['198.18.99.9']);

    for (const n of NODES) {
      // Routes: exactly Calico's shapes, nothing more under protocol 75.
      const routes = (await json<IpRoute[]>(`routes-${n.name}.json`)).map(shape).sort();
      expect(routes, `kernel routes (proto ${KITE_PROTO}) of ${n.name}${await diag(n.name)}`).toEqual(expectedRoutes(n));
      // tunl0: up, host MTU − 20, its only address the tunnel address /32 (node-b's stray one removed).
      const [t] = await json<IpLink[]>(`tunl0-${n.name}.json`);
      const tunl0 = `tunl0 of ${n.name}: ${JSON.stringify(t)}${await diag(n.name)}`;
      expect(t?.flags, tunl0).toContain('UP');
      expect(t?.mtu, tunl0).toBe(TUNNEL_MTU);
      expect(t?.addr_info?.map((a) => `${a.family} ${a.local}/${a.prefixlen}`), tunl0).toEqual([`inet ${n.tunnel}/32`]);
      // Kite's own report agrees: in sync, every route programmed.
      const fib = await json<FibJson | null>(`fib-${n.name}.json`);
      const fibText = `kite show fib --json on ${n.name}: ${await file(`fib-${n.name}.json`)}${await file(`fib-${n.name}.err`)}`;
      expect(fib?.inSync, fibText).toBe(true);
      expect(fib!.routes.filter((x) => x.state !== 'programmed'), fibText).toEqual([]);
    }

    // Every pod reaches every other pod: same node, same subnet and across the router.
    const pings = (await file('pings.txt')).trim().split('\n');
    expect(pings.length, `ping matrix:\n${pings.join('\n')}`).toBe(PODS.length * (PODS.length - 1));
    expect(pings.filter((l) => !/ ok \d$/.test(l)), `failed pod pings${await all()}`).toEqual([]);
    for (const [step] of PROBES) {
      expect(await file(`ping-${step}.txt`), `ping ${step}`).toMatch(/ 0% packet loss[\s\S]*exit 0/);
    }

    // tunl0 counters around each probe: same subnet never touches the tunnel, across subnets does.
    const stats = async (n: Node, step: string): Promise<{ rx: number; tx: number }> => {
      const [l] = await json<IpLink[]>(`stats-${n.name}-${step}.json`);
      return { rx: l!.stats64!.rx.packets, tx: l!.stats64!.tx.packets };
    };
    const delta = async (n: Node, from: string, to: string): Promise<{ rx: number; tx: number }> => {
      const [a, b] = [await stats(n, from), await stats(n, to)];
      return { rx: b.rx - a.rx, tx: b.tx - a.tx };
    };
    expect(await delta(A, '0', 'direct'), 'node-a tunl0 during pod-a1 -> pod-b1 (same subnet)').toEqual({ rx: 0, tx: 0 });
    expect(await delta(B, '0', 'direct'), 'node-b tunl0 during pod-a1 -> pod-b1 (same subnet)').toEqual({ rx: 0, tx: 0 });
    const aTun = await delta(A, 'direct', 'tunnel');
    const cTun = await delta(C, 'direct', 'tunnel');
    expect(aTun.tx, 'node-a tunl0 tx during pod-a1 -> pod-c1').toBeGreaterThanOrEqual(5);
    expect(aTun.rx, 'node-a tunl0 rx (replies) during pod-a1 -> pod-c1').toBeGreaterThanOrEqual(5);
    expect(cTun.rx, 'node-c tunl0 rx during pod-a1 -> pod-c1').toBeGreaterThanOrEqual(5);
    expect(cTun.tx, 'node-c tunl0 tx (replies) during pod-a1 -> pod-c1').toBeGreaterThanOrEqual(5);
    expect((await delta(B, 'tunnel', 'tunnel-back')).rx, 'node-b tunl0 rx during pod-c1 -> pod-b1').toBeGreaterThanOrEqual(5);

    // The wire, seen by the router: on node-c's port every pod packet is inside IPIP between
    // node IPs; on node-b's port node-a's pod traffic is plain, node-c's is IPIP.
    const capC = parseCapture(await file(`cap-${C.name}.txt`));
    const capB = parseCapture(await file(`cap-${B.name}.txt`));
    const capText = `\n--- capture on r-node-c ---\n${await file(`cap-${C.name}.txt`)}\n--- capture on r-node-b ---\n${await file(`cap-${B.name}.txt`)}`;
    const is = (p: Pkt, outer: [string, string] | undefined, src: string, dst: string, kind: Pkt['kind']): boolean =>
      p.src === src && p.dst === dst && p.kind === kind && (outer === undefined ? p.outer === undefined : p.outer?.[0] === outer[0] && p.outer[1] === outer[1]);
    expect(count(capC, (p) => p.outer === undefined), `unencapsulated pod traffic on node-c's link${capText}`).toBe(0);
    expect(count(capC, (p) => is(p, [A.ip, C.ip], PA1.ip, PC1.ip, 'request')), `IPIP requests pod-a1 -> pod-c1${capText}`).toBeGreaterThanOrEqual(5);
    expect(count(capC, (p) => is(p, [C.ip, A.ip], PC1.ip, PA1.ip, 'reply')), `IPIP replies pod-c1 -> pod-a1${capText}`).toBeGreaterThanOrEqual(5);
    expect(count(capC, (p) => is(p, [A.ip, C.ip], A.tunnel, PC1.ip, 'request')), `node-a's own pings leave from its tunnel address${capText}`).toBeGreaterThanOrEqual(3);
    expect(count(capB, (p) => p.outer !== undefined && [p.outer[0], p.outer[1]].every((x) => x === A.ip || x === B.ip)), `IPIP between same-subnet nodes${capText}`).toBe(0);
    expect(count(capB, (p) => is(p, undefined, PA1.ip, PB1.ip, 'request')), `plain requests pod-a1 -> pod-b1${capText}`).toBeGreaterThanOrEqual(5);
    expect(count(capB, (p) => is(p, undefined, PB1.ip, PA1.ip, 'reply')), `plain replies pod-b1 -> pod-a1${capText}`).toBeGreaterThanOrEqual(5);
    expect(count(capB, (p) => is(p, [C.ip, B.ip], PC1.ip, PB1.ip, 'request')), `IPIP requests pod-c1 -> pod-b1${capText}`).toBeGreaterThanOrEqual(5);

    // SIGTERM: every Kite stopped by itself.
    const exits = (await file('kite-exit.txt')).trim().split('\n').sort();
    expect(exits, `Kite exit statuses after SIGTERM${await all()}`).toEqual(NODES.map((n) => `${n.name} 0`));
  }, 300_000);
});
