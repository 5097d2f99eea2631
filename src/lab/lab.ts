// `kite lab up|status|down`: builds a network-namespace cluster on this machine, runs one Kite
// per node from a generated file datastore, waits for BGP to converge, makes sure pod routes
// are in the kernels (Kite's dataplane, or the lab from Kite's BGP table) and pings pod to pod.
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createControlClient, type ControlClient } from '../api/client.js';
import type { PeerStatus, RouteStatus } from '../api/types.js';
import { buildPod, buildUnderlay, programLocalPods } from './build.js';
import type { PingResult } from './ping-worker.js';
import { Phase, readState, ROUTE_MODE_TEXT, RouteMode, STATE_FILE, writeState, type LabProcess, type LabState } from './state.js';
import { cmdline, exec, ipBatch, isAlive, kernelHasLinkType, labNamespaces, namespacePids, sleep, spawnInNs, terminate } from './sys.js';
import { ensureFrr, startTor, torSummary } from './tor.js';
import { LabFamily, labConfigYaml, nodeBlocks, planLab, podAddresses, POOL_CIDR, POOL_CIDR_V6, STATE_DIR, Underlay, type KernelFeatures, type LabOptions, type LabPlan, type NodePlan } from './topology.js';

export type Progress = (line: string) => void;

export const RouteChoice = { Auto: 'auto', Kite: 'kite', Lab: 'lab' } as const;
export type RouteChoice = (typeof RouteChoice)[keyof typeof RouteChoice];

export interface UpOptions extends LabOptions {
  /** auto: Kite's dataplane when `kite run --dataplane linux` works, else the lab's routes. */
  routes: RouteChoice;
  convergeTimeoutMs: number;
  /** Where the Kites read the lab's resources: the generated file (default) or an etcd in node-1's namespace. */
  datastore?: 'file' | 'etcd';
}

export interface PingCell {
  from: string;
  fromIp: string;
  to: string;
  toIp: string;
  ok: boolean;
  rttMs?: number;
  error?: string;
}

export interface NodeReport {
  name: string;
  ip: string;
  /** A dual-stack node's IPv6 address and block. */
  ip6?: string;
  block6?: string;
  asNumber: number;
  block: string;
  routeReflector: boolean;
  kiteRunning: boolean;
  pods: { name: string; ip: string; ip6?: string; netns: string; interface: string }[];
  peers: PeerStatus[];
  routes: RouteStatus[];
  /** `ip route` in the node namespace for the pool, as the kernel has it. */
  kernelRoutes: string[];
  error?: string;
}

export interface LabReport {
  phase: Phase;
  underlay: string;
  /** ipv4, ipv6 or dual (absent in reports of labs from before --ipv6). */
  family?: string;
  ipipMode: string;
  vxlanMode?: string;
  reasons: string[];
  kernel?: KernelFeatures;
  routeMode?: RouteMode;
  routeModeText?: string;
  routeModeReason?: string;
  /** From the last Kite answering on its control socket to every session and block in place. */
  convergenceMs?: number;
  /** Starting the Kites one after another, each until it answers on its control socket. */
  kiteStartMs?: number;
  nodes: NodeReport[];
  tor?: string;
  ping?: { ok: number; total: number; allOk: boolean; matrix: PingCell[] };
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository (or installed package) root: dist/lab/ -> ../.. */
export const REPO_ROOT = join(HERE, '..', '..');
const KITE_BIN = join(REPO_ROOT, 'bin', 'kite');
const PING_WORKER = join(HERE, 'ping-worker.js');

function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('kite lab needs root (it creates network namespaces): run it with sudo');
  }
}

/** What the running kernel can build, asked of the kernel itself (modules may be absent). */
export async function detectKernel(): Promise<KernelFeatures> {
  const [ipip, vxlan, bridge] = await Promise.all([
    kernelHasLinkType('ipip'),
    kernelHasLinkType('vxlan', ['id', '1', 'dstport', '4789']),
    kernelHasLinkType('bridge'),
  ]);
  return { ipip, vxlan, bridge };
}

/**
 * Whether `kite run --dataplane linux` is implemented: ask the real command with a config that
 * does not exist. An unavailable dataplane is refused before the config is looked at.
 */
export async function detectKiteDataplane(): Promise<{ available: boolean; reason: string }> {
  const args = [KITE_BIN, 'run', '--dataplane', 'linux', '--config', join(STATE_DIR, 'no-such-config.yaml'), '--node', 'probe', '--socket', join(STATE_DIR, 'probe.sock')];
  try {
    await exec(process.execPath, args, undefined, 15_000);
    return { available: false, reason: 'the dataplane probe unexpectedly ran' };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/does not exist/.test(msg) && !/dataplane/i.test(msg.replace(/^.*?:/, ''))) {
      return { available: true, reason: '`kite run --dataplane linux` is available' };
    }
    const said = /kite: (.*)$/m.exec(msg)?.[1] ?? msg;
    return { available: false, reason: `\`kite run --dataplane linux\` is not usable here (${said.trim()})` };
  }
}

/** Builds the lab and returns the report; throws (leaving the lab for inspection) on failure. */
export async function labUp(opts: UpOptions, progress: Progress): Promise<LabReport> {
  requireRoot();
  const t0 = Date.now();
  const leftovers = await labNamespaces();
  if (readState() !== null || leftovers.length > 0) {
    throw new Error(`a lab already exists (${leftovers.length} namespaces${existsSync(STATE_FILE) ? `, ${STATE_FILE}` : ''}): run 'kite lab down' first`);
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'daemon.js')) || !existsSync(PING_WORKER)) {
    throw new Error('Kite is not built (dist/ is missing): run npm run build');
  }

  progress('checking what this kernel offers (ipip, vxlan, bridge)');
  const kernel = await detectKernel();
  progress(`kernel: ipip ${yes(kernel.ipip)}, vxlan ${yes(kernel.vxlan)}, bridge ${yes(kernel.bridge)}`);
  const plan = planLab({ ...opts, ...(opts.vxlan === true && opts.datastore === 'etcd' ? { vtepsFromIpam: true } : {}) }, kernel);
  for (const r of plan.reasons) progress(`chose: ${r}`);

  let routeMode: RouteMode = RouteMode.Lab;
  let routeModeReason = 'asked for with --routes lab';
  if (opts.routes !== RouteChoice.Lab) {
    const dp = await detectKiteDataplane();
    if (dp.available) { routeMode = RouteMode.Kite; routeModeReason = dp.reason; }
    else if (opts.routes === RouteChoice.Kite) throw new Error(dp.reason);
    else routeModeReason = `${dp.reason}; falling back`;
  }
  // VXLAN is Kite's dataplane's work (vxlan.calico, FDB, neighbours): the lab's own routes cannot stand in.
  if (plan.vxlanMode !== undefined && routeMode !== RouteMode.Kite) throw new Error(`--vxlan needs Kite's linux dataplane: ${routeModeReason}`);
  progress(`routes: ${ROUTE_MODE_TEXT[routeMode]} (${routeModeReason})`);

  mkdirSync(STATE_DIR, { recursive: true });
  const state: LabState = {
    version: 1, phase: Phase.Building, startedAt: new Date().toISOString(), plan,
    routeMode, routeModeReason, processes: [],
  };
  writeState(state);
  try {
    if (plan.torNs !== undefined) await ensureFrr(REPO_ROOT, progress);
    progress(plan.underlay === Underlay.OneSubnet
      ? `building the underlay: ${plan.nodes.length} node namespaces on bridge br0 in ${plan.fabricNs}`
      : `building the underlay: ${plan.nodes.length} node namespaces, each on its own /24 to ${plan.torNs}`);
    await buildUnderlay(plan);
    for (const n of plan.nodes) {
      progress(`${n.name}: ${n.ip}/${n.prefixLength}${n.ip6 !== undefined ? ` ${n.ip6}/64` : ''}, block ${nodeBlocks(n).join(' ')}, pods ${n.pods.map((p) => `${p.name} ${podAddresses(p).join(' ')} (${p.hostIf})`).join(', ')}`);
      for (const p of n.pods) await buildPod(n, p);
    }
    writeFileSync(plan.configPath, labConfigYaml(plan));
    progress(`wrote the Calico resources to ${plan.configPath}`);
    const etcdHost = plan.nodes[0];
    if (opts.datastore === 'etcd' && etcdHost !== undefined) {
      const { startLabEtcd } = await import('./etcd.js');
      const { proc, url } = await startLabEtcd(etcdHost, STATE_DIR, labConfigYaml(plan), progress);
      state.processes.push(proc);
      state.etcd = url;
      writeState(state);
    }

    if (plan.torNs !== undefined) {
      progress(`starting the FRR ToR (zebra + bgpd, AS 65000) in ${plan.torNs}`);
      state.processes.push(...await startTor(plan));
      writeState(state);
    }

    const tKite = Date.now();
    const clients = new Map(plan.nodes.map((n) => [n.name, createControlClient(n.socket, { timeoutMs: 2000 })]));
    try {
      // One at a time, node-1 first, each answering on its control socket before the next
      // starts: in Calico's mesh the node with the greater IP dials, so the earlier nodes are
      // listening when it does. Starting all at once loses the race and costs a 5 s
      // ConnectRetry (RFC 4271 §8.2.2) in the convergence time.
      try {
        await startKites(plan, state, routeMode, clients);
      } catch (e) {
        // The probe said the linux dataplane exists, but a Kite with it did not come up (a
        // netlink or permission failure at start): with --routes auto, carry on without it.
        // VXLAN has no fallback: the lab's own routes cannot make vxlan devices.
        if (routeMode !== RouteMode.Kite || opts.routes !== RouteChoice.Auto || plan.vxlanMode !== undefined) throw e;
        const kites = state.processes.filter((p) => p.match === 'kite');
        await terminate(kites.map((p) => p.pid));
        state.processes = state.processes.filter((p) => p.match !== 'kite');
        routeMode = RouteMode.Lab;
        routeModeReason = `Kite with --dataplane linux failed to start (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); falling back`;
        state.routeMode = routeMode;
        state.routeModeReason = routeModeReason;
        writeState(state);
        progress(`routes: ${ROUTE_MODE_TEXT[routeMode]} (${routeModeReason})`);
        await startKites(plan, state, routeMode, clients);
      }
      state.kiteStartMs = Date.now() - tKite;
      const tStarted = Date.now();
      progress(`started ${plan.nodes.length} Kites (${routeMode === RouteMode.Kite ? '--dataplane linux' : '--dataplane none'}) in ${((Date.now() - tKite) / 1000).toFixed(2)} s; waiting for BGP to converge`);
      await waitConverged(plan, state, clients, opts.convergeTimeoutMs, progress);
      state.convergenceMs = Date.now() - tStarted;
      progress(`converged ${(state.convergenceMs / 1000).toFixed(2)} s after the last Kite started: every session Established, every node has every other node's block`);

      if (plan.torNs !== undefined) await waitTorRoutes(plan, plan.torNs, 10_000);
      if (routeMode === RouteMode.Kite) {
        const missing = await waitKernelRoutes(plan, 15_000);
        if (missing.length > 0) {
          routeMode = RouteMode.Lab;
          routeModeReason = `Kite's dataplane did not install ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''} within 15 s; falling back`;
          state.routeMode = routeMode;
          state.routeModeReason = routeModeReason;
          progress(`routes: ${ROUTE_MODE_TEXT[routeMode]} (${routeModeReason})`);
        } else {
          progress("Kite's dataplane installed every remote block and pod route");
        }
      }
      if (routeMode === RouteMode.Lab) {
        progress("programming routes from Kite's BGP table (ip route replace <block> via <next hop>, pod /32s, proxy ARP)");
        await programFromBgp(plan, clients);
      }

      progress(`pinging every pod from every pod (${plan.nodes.reduce((a, n) => a + n.pods.length, 0)} pods, net-ping)`);
      const ping = await pingMatrix(plan);
      state.phase = Phase.Up;
      writeState(state);
      const report = await collectReport(state, clients);
      report.kernel = kernel;
      report.ping = ping;
      progress(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s; 'kite lab status' shows it, 'kite lab down' removes it`);
      return report;
    } finally {
      for (const c of clients.values()) c.close();
    }
  } catch (e) {
    state.phase = Phase.Failed;
    state.error = e instanceof Error ? e.message : String(e);
    writeState(state);
    throw new Error(`${state.error}\n(the lab is left as it is for inspection: logs in ${STATE_DIR}; 'kite lab down' removes it)`);
  }
}

function yes(b: boolean): string {
  return b ? 'yes' : 'no';
}

function startKite(plan: LabPlan, n: NodePlan, mode: RouteMode, etcd?: string): LabProcess {
  const log = openSync(n.log, 'a');
  const family = plan.options.family ?? LabFamily.IPv4;
  const source = etcd !== undefined ? ['--datastore', 'etcdv3'] : ['--config', plan.configPath];
  const argv = [process.execPath, KITE_BIN, 'run', ...source, '--node', n.name, '--socket', n.socket,
    '--dataplane', mode === RouteMode.Kite ? 'linux' : 'none', '--log-level', 'info'];
  // One listen address only for an IPv4 lab: a dual-stack node takes sessions on both addresses.
  if (family === LabFamily.IPv4) argv.push('--listen-address', n.ip);
  // calico-node's IP=none and CALICO_ROUTER_ID=hash: no IPv4 address, a router ID from the node name.
  if (family === LabFamily.IPv6) argv.push('--ip', 'none', '--router-id', 'hash');
  const pid = spawnInNs(n.netns, argv, log, etcd !== undefined ? { ...process.env, ETCD_ENDPOINTS: etcd } : undefined);
  return { name: `kite ${n.name}`, pid, netns: n.netns, match: 'kite' };
}

async function startKites(plan: LabPlan, state: LabState, mode: RouteMode, clients: Map<string, ControlClient>): Promise<void> {
  for (const n of plan.nodes) {
    const proc = startKite(plan, n, mode, state.etcd);
    state.processes.push(proc);
    writeState(state);
    await waitControl(n, proc, clients.get(n.name));
  }
}

async function waitControl(n: NodePlan, proc: LabProcess, c: ControlClient | undefined): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!isAlive(proc.pid)) throw new Error(`${proc.name} exited at start: ${tail(n.log)}`);
    try {
      if (c && existsSync(n.socket)) { await c.summary(); return; }
    } catch { /* not serving yet */ }
    if (Date.now() > deadline) throw new Error(`${proc.name} did not answer on ${n.socket} within 15 s: ${tail(n.log)}`);
    await sleep(50);
  }
}

/** Peers each node must have Established: the mesh, the RR's clients, or the ToR. */
function expectedPeers(plan: LabPlan, n: NodePlan): number {
  if (plan.underlay === Underlay.TorRouted) return plan.options.family === LabFamily.Dual ? 2 : 1;
  if (plan.options.routeReflector) return n.routeReflector ? plan.nodes.length - 1 : 1;
  // The mesh: one session per family to every other node.
  return (plan.nodes.length - 1) * (plan.options.family === LabFamily.Dual ? 2 : 1);
}

async function waitConverged(plan: LabPlan, state: LabState, clients: Map<string, ControlClient>, timeoutMs: number, progress: Progress): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let lastShown = 0;
  for (;;) {
    for (const p of state.processes) {
      if (!isAlive(p.pid)) throw new Error(`${p.name} exited: ${tail(p.name.startsWith('kite ') ? join(STATE_DIR, `${p.name.slice(5)}.log`) : join(STATE_DIR, 'tor', 'daemons.log'))}`);
    }
    const lines: string[] = [];
    let done = true;
    for (const n of plan.nodes) {
      const c = clients.get(n.name);
      if (!c) continue;
      try {
        const [peers, routes] = await Promise.all([c.peers(), c.routes()]);
        const est = peers.filter((p) => p.state === 'Established').length;
        const want = expectedPeers(plan, n);
        const have = new Set(routes.filter((r) => r.paths.some((p) => p.best)).map((r) => r.prefix));
        const blocks = plan.nodes.filter((o) => o !== n).flatMap(nodeBlocks);
        const got = blocks.filter((b) => have.has(b)).length;
        if (est < want || got < blocks.length) done = false;
        lines.push(`${n.name} ${est}/${want} peers, ${got}/${blocks.length} blocks`);
      } catch {
        done = false;
        lines.push(`${n.name} starting`);
      }
    }
    if (done) return;
    const now = Date.now();
    const text = lines.join('; ');
    if (text !== last && now - lastShown > 500) { progress(`  ${text}`); last = text; lastShown = now; }
    if (now > deadline) throw new Error(`BGP did not converge within ${timeoutMs / 1000} s: ${text}`);
    await sleep(200);
  }
}

function tail(path: string, lines = 5): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${path})`;
  }
}

/** Kernel routes of a node namespace inside the pod pool, one `ip route` line each. */
async function kernelRoutes(n: NodePlan): Promise<string[]> {
  const out: string[] = [];
  const v6 = n.ip.includes(':') || n.ip6 !== undefined;
  for (const [fam, pool] of [['-4', POOL_CIDR], ...(v6 ? [['-6', POOL_CIDR_V6]] : [])] as const) {
    const { stdout } = await exec('ip', ['-n', n.netns, fam, 'route', 'show', 'root', pool]);
    out.push(...stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''));
  }
  return out;
}

/** Waits for each node's kernel to route every remote block and every local pod; returns what is missing. */
async function waitKernelRoutes(plan: LabPlan, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing: string[] = [];
    for (const n of plan.nodes) {
      const have = new Set((await kernelRoutes(n)).map((l) => l.replace(/^blackhole /, '').split(' ')[0]));
      for (const o of plan.nodes) for (const b of nodeBlocks(o)) if (o !== n && !have.has(b)) missing.push(`${b} on ${n.name}`);
      for (const p of n.pods) for (const a of podAddresses(p)) if (!have.has(a)) missing.push(`${a}/${a.includes(':') ? 128 : 32} on ${n.name}`);
    }
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await sleep(250);
  }
}

/** The ToR forwards pod traffic only once zebra has put every block (of both families) into its kernel. */
async function waitTorRoutes(plan: LabPlan, ns: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = plan.nodes.flatMap(nodeBlocks);
  for (;;) {
    const have = new Set<string>();
    for (const [fam, pool] of [['-4', POOL_CIDR], ['-6', POOL_CIDR_V6]] as const) {
      const { stdout } = await exec('ip', ['-n', ns, fam, 'route', 'show', 'root', pool]);
      for (const l of stdout.split('\n')) have.add(l.split(' ')[0] ?? '');
    }
    const missing = want.filter((b) => !have.has(b));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the ToR has no kernel route for ${missing.join(', ')} after ${timeoutMs / 1000} s (see ${STATE_DIR}/tor/frr.log)`);
    await sleep(200);
  }
}

/** The fallback: each node's remote blocks via the best path's next hop, plus local pod routes. */
async function programFromBgp(plan: LabPlan, clients: Map<string, ControlClient>): Promise<void> {
  for (const n of plan.nodes) {
    const c = clients.get(n.name);
    if (!c) continue;
    await programLocalPods(n);
    const routes = await c.routes();
    const cmds: string[] = [];
    for (const o of plan.nodes) {
      if (o === n) continue;
      for (const block of nodeBlocks(o)) {
        const best = routes.find((r) => r.prefix === block)?.paths.filter((p) => p.best) ?? [];
        const hops = [...new Set(best.map((p) => p.nextHop))];
        if (hops.length === 0) throw new Error(`${n.name} has no best path for ${block}`);
        cmds.push(hops.length === 1
          ? `route replace ${block} via ${hops[0]}`
          : `route replace ${block} ${hops.map((h) => `nexthop via ${h}`).join(' ')}`);
      }
    }
    await ipBatch(n.netns, cmds);
  }
}

/** Every pod pings every other pod, from inside its own namespace, all pods at once. */
export async function pingMatrix(plan: LabPlan): Promise<{ ok: number; total: number; allOk: boolean; matrix: PingCell[] }> {
  const pods = plan.nodes.flatMap((n) => n.pods);
  const byIp = new Map(pods.flatMap((p) => podAddresses(p).map((a) => [a, p] as const)));
  const rows = await Promise.all(pods.map(async (src) => {
    // Every address of every other pod: a dual-stack lab pings over IPv4 and over IPv6.
    const targets = pods.filter((p) => p !== src).flatMap(podAddresses);
    let results: PingResult[];
    try {
      const { stdout } = await exec('ip', ['netns', 'exec', src.netns, process.execPath, PING_WORKER, ...targets], undefined, 30_000);
      results = JSON.parse(stdout) as PingResult[];
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      results = targets.map((target) => ({ target, ok: false, error }));
    }
    return results.map((r): PingCell => {
      const fromIp = r.target.includes(':') ? podAddresses(src).find((a) => a.includes(':')) ?? src.ip : src.ip;
      const cell: PingCell = { from: src.name, fromIp, to: byIp.get(r.target)?.name ?? r.target, toIp: r.target, ok: r.ok };
      if (r.rttMs !== undefined) cell.rttMs = r.rttMs;
      if (r.error !== undefined) cell.error = r.error;
      return cell;
    });
  }));
  const matrix = rows.flat();
  const ok = matrix.filter((c) => c.ok).length;
  return { ok, total: matrix.length, allOk: ok === matrix.length && matrix.length > 0, matrix };
}

async function collectReport(state: LabState, clients: Map<string, ControlClient>): Promise<LabReport> {
  const plan = state.plan;
  const report: LabReport = {
    phase: state.phase, underlay: plan.underlay, ipipMode: plan.encap, reasons: plan.reasons, nodes: [],
  };
  if (plan.vxlanMode !== undefined) report.vxlanMode = plan.vxlanMode;
  if (plan.options.family !== undefined) report.family = plan.options.family;
  if (state.routeMode !== undefined) { report.routeMode = state.routeMode; report.routeModeText = ROUTE_MODE_TEXT[state.routeMode]; }
  if (state.routeModeReason !== undefined) report.routeModeReason = state.routeModeReason;
  if (state.convergenceMs !== undefined) report.convergenceMs = state.convergenceMs;
  if (state.kiteStartMs !== undefined) report.kiteStartMs = state.kiteStartMs;
  for (const n of plan.nodes) {
    const proc = state.processes.find((p) => p.name === `kite ${n.name}`);
    const nr: NodeReport = {
      name: n.name, ip: n.ip, asNumber: n.asNumber, block: n.block, routeReflector: n.routeReflector,
      kiteRunning: proc !== undefined && isAlive(proc.pid) && cmdline(proc.pid).includes(proc.match),
      pods: n.pods.map((p) => ({ name: p.name, ip: p.ip, ...(p.ip6 !== undefined ? { ip6: p.ip6 } : {}), netns: p.netns, interface: p.hostIf })),
      peers: [], routes: [], kernelRoutes: [],
    };
    if (n.ip6 !== undefined) nr.ip6 = n.ip6;
    if (n.block6 !== undefined) nr.block6 = n.block6;
    try {
      const c = clients.get(n.name);
      if (c) { nr.peers = await c.peers(); nr.routes = await c.routes(); }
    } catch (e) {
      nr.error = e instanceof Error ? e.message : String(e);
    }
    try { nr.kernelRoutes = await kernelRoutes(n); } catch { /* namespace gone */ }
    report.nodes.push(nr);
  }
  if (plan.torNs !== undefined) report.tor = await torSummary();
  return report;
}

/** The recorded lab as it is now: processes, sessions, routes; with `ping`, the matrix again. */
export async function labStatus(opts: { ping: boolean }): Promise<LabReport | null> {
  requireRoot();
  const state = readState();
  if (state === null) return null;
  const clients = new Map(state.plan.nodes.map((n) => [n.name, createControlClient(n.socket, { timeoutMs: 2000 })]));
  try {
    const report = await collectReport(state, clients);
    if (state.error !== undefined) report.reasons = [...report.reasons, `up failed: ${state.error}`];
    if (opts.ping) report.ping = await pingMatrix(state.plan);
    return report;
  } finally {
    for (const c of clients.values()) c.close();
  }
}

export interface DownReport {
  killed: string[];
  namespaces: string[];
  stateRemoved: boolean;
}

/**
 * Removes everything a lab made, whether or not `up` finished: the recorded processes (checked
 * against their command line, so a reused pid is left alone), anything still running inside a
 * kitelab- namespace, every kitelab- namespace, and /run/kite-lab. Running it twice is harmless.
 */
export async function labDown(progress: Progress): Promise<DownReport> {
  requireRoot();
  const state = readState();
  const killed: string[] = [];
  const recorded = (state?.processes ?? []).filter((p) => isAlive(p.pid) && cmdline(p.pid).includes(p.match));
  if (recorded.length > 0) {
    progress(`stopping ${recorded.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
    await terminate(recorded.map((p) => p.pid));
    killed.push(...recorded.map((p) => `${p.name} (pid ${p.pid})`));
  }
  const namespaces = await labNamespaces();
  // Whatever still runs inside a lab namespace was started by the lab (or by someone poking at
  // it with ip netns exec): it would keep the namespace's interfaces alive, so it goes too.
  const strays: number[] = [];
  for (const ns of namespaces) for (const pid of await namespacePids(ns)) if (pid !== process.pid) strays.push(pid);
  if (strays.length > 0) {
    progress(`stopping ${strays.length} other process(es) inside lab namespaces: ${strays.map((p) => `${p} (${cmdline(p).slice(0, 60)})`).join(', ')}`);
    await terminate(strays);
    killed.push(...strays.map((p) => `pid ${p}`));
  }
  if (namespaces.length > 0) progress(`removing ${namespaces.length} namespaces (${namespaces.join(', ')})`);
  for (const ns of namespaces) await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  const left = await labNamespaces();
  if (left.length > 0) throw new Error(`could not remove namespaces: ${left.join(', ')}`);
  const stateRemoved = existsSync(STATE_DIR);
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (!state && namespaces.length === 0 && killed.length === 0) progress('no lab to remove');
  return { killed, namespaces, stateRemoved };
}
