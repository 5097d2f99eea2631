// Benchmark: 100,000 desired routes -> time until all are in the kernel, for Kite (routes received
// over BGP and programmed by its Linux dataplane), for BIRD (static routes exported by its kernel
// protocol) and for `ip -batch`, in the same run, each into fresh network namespaces.
// Needs root, bird, and a built tree (npm run build). Usage: npm run bench:fib [-- N [runs]]
//
// How "in the kernel" is observed, the same way for Kite and BIRD: a netlink monitor (RTNLGRP_IPV4_ROUTE,
// 32 MiB receive buffer) in the node's namespace counts distinct prefixes added with the daemon's
// route protocol (Kite 75, BIRD 12); the clock stops at the event that completes the set. Every
// run is then checked with `ip route show proto P | wc -l` (iproute2, independent of our code).
//   Kite:  clock starts when the independent BGP sender (bench/sender.mjs) sees the session
//          Established; it then streams N /24s (1.0.0.0/24 upward, next hop = the sender, on the
//          node's subnet) inside the pools 1.0.0.0/8 and 2.0.0.0/8 (ipipMode Never).
//          Also: Kite's dataplane alone (createDataplane over the netlink binding, in its own process,
//          one update() of N remote routes; timed until flush() resolves, i.e. every route acked).
//   BIRD:  clock starts when the bird process is spawned (config parse of N static routes included).
//   ip -batch: wall time of `ip -n NS -batch FILE` (fork + parse + N RTM_NEWROUTE).
//   VXLAN (issue 15): N remote block routes "via <VTEP> dev vxlan.calico onlink" spread over
//          FIB_BENCH_VTEPS remote nodes (default 1000, 100 blocks each), each node with a permanent
//          neighbour (VTEP -> MAC) and FDB entry (MAC -> node address). Kite: its dataplane alone
//          in its own process (vxlan.calico created first, untimed), one update() of the VTEPs and
//          the routes, timed until flush() resolves (every neighbour, FDB entry and route acked).
//          ip: the same device made by `ip link add`, then `bridge -batch` (FDB) and `ip -batch`
//          (neighbours, routes), wall time of both processes.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetlinkMonitor, Netlink } from '../dist/dataplane/netlink/index.js';
import { createDataplane, openKernel, systemClock } from '../dist/dataplane/index.js';
import { Prefix } from '../dist/net/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--dataplane-child NS N`: the dataplane-alone method, run in a fresh process (see below).
const CHILD = process.argv[2] === '--dataplane-child';
const CHILD_VXLAN = CHILD && process.argv[5] === 'vxlan';
const VTEPS = Number(process.env.FIB_BENCH_VTEPS ?? 1000);
const N = Number((CHILD ? process.argv[4] : process.argv[2]) ?? 100_000);
const RUNS = CHILD ? 1 : Number(process.argv[3] ?? 1);
const KITE_PROTO = 75;
const BIRD_PROTO = 12; // RTPROT_BIRD
const NODE_IP = '198.18.250.1';
const PEER_IP = '198.18.250.2';
const TIMEOUT_MS = Number(process.env.FIB_BENCH_TIMEOUT_MS ?? 180_000);

const sh = (cmd, ...args) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
const trySh = (cmd, ...args) => { try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return ''; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Wall clock in ms: Kite's log lines and the sender's events carry Date.now(), so one clock for all.
const now = () => performance.timeOrigin + performance.now();

/** Prefix i exactly as bench/sender.mjs encodes it: (1.0.0.0 + i*256)/24. */
function prefix(i) {
  const v = (1 << 16) + i;
  return `${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}.0`;
}

const dir = mkdtempSync(join(tmpdir(), 'kite-bench-fib-'));
const TAG = `kbf${process.pid}`;
const namespaces = new Set();
const children = new Set();

/** Node namespace (eth0 NODE_IP/24) and, with a peer, a second namespace at PEER_IP on a veth pair. */
function makeNamespaces(name, withPeer) {
  const node = `${TAG}-${name}`;
  const peer = `${TAG}-${name}-p`;
  for (const ns of withPeer ? [node, peer] : [node]) {
    trySh('ip', 'netns', 'del', ns);
    sh('ip', 'netns', 'add', ns);
    namespaces.add(ns);
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  if (withPeer) {
    sh('ip', '-n', node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer);
    sh('ip', '-n', peer, 'addr', 'add', `${PEER_IP}/24`, 'dev', 'eth0');
    sh('ip', '-n', peer, 'link', 'set', 'eth0', 'up');
  } else {
    // The gateway must be on-link for BIRD's static routes and for iproute2: a veth with no peer namespace.
    sh('ip', '-n', node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    sh('ip', '-n', node, 'link', 'set', 'eth1', 'up');
  }
  sh('ip', '-n', node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
  sh('ip', '-n', node, 'link', 'set', 'eth0', 'up');
  return { node, peer };
}

function dropNamespaces() {
  for (const ns of namespaces) {
    for (const pid of trySh('ip', 'netns', 'pids', ns).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    trySh('ip', 'netns', 'del', ns);
  }
  namespaces.clear();
}

function countKernel(ns, proto) {
  return sh('ip', '-n', ns, '-4', 'route', 'show', 'proto', String(proto)).split('\n').filter(Boolean).length;
}

/**
 * Counts distinct IPv4 prefixes added with `proto` in `ns` from now on. Resolves `done` with the
 * time of the event that completes N. If the kernel drops events (overflow), falls back to
 * counting with dumps, and says so.
 */
async function watchRoutes(ns, proto) {
  const mon = await NetlinkMonitor.open({ netns: ns, groups: ['ipv4-route'], rcvbuf: 32 << 20 });
  const seen = new Set();
  let first = null;
  let overflow = false;
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  const finish = (t) => { mon.close(); resolveDone({ t, first, overflow }); };
  mon.on((ev) => {
    if (ev.kind === 'overflow') {
      if (overflow) return;
      overflow = true;
      // Events lost: poll dumps until the count is reached (coarser, but still correct).
      const nl = Netlink.open({ netns: ns });
      const poll = async () => {
        const n = (await nl.dumpRoutes({ protocol: proto })).filter((r) => r.family === 4).length;
        if (n >= N) { nl.close(); finish(now()); } else setTimeout(poll, 20);
      };
      void poll();
      return;
    }
    if (ev.kind !== 'route' || overflow) return;
    const r = ev.route;
    if (r.protocol !== proto || r.family !== 4) return;
    const key = `${r.dst}/${r.dstLen}`;
    if (ev.action === 'new') {
      first ??= now();
      seen.add(key);
      if (seen.size === N) finish(now());
    } else seen.delete(key);
  });
  return { done, close: () => mon.close() };
}

function withTimeout(p, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${TIMEOUT_MS} ms: ${what}`)), TIMEOUT_MS); })])
    .finally(() => clearTimeout(t));
}

function spawnIn(ns, cmd, args, logName) {
  const log = join(dir, logName);
  const fd = openSync(log, 'a');
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', fd, fd], cwd: ROOT });
  closeSync(fd);
  children.add(child);
  const exited = new Promise((r) => child.once('exit', (code, sig) => { children.delete(child); r(code ?? sig); }));
  return { child, log, exited, stop: async () => {
    if (!children.has(child)) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exited;
    clearTimeout(t);
  } };
}

// ---- ip -batch --------------------------------------------------------------------------------

async function benchIpBatch() {
  const { node } = makeNamespaces('ipb', false);
  const file = join(dir, 'routes.batch');
  const lines = [];
  for (let i = 0; i < N; i++) lines.push(`route add ${prefix(i)}/24 via ${PEER_IP} dev eth0 onlink proto ${KITE_PROTO}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const t0 = now();
  sh('ip', '-n', node, '-batch', file);
  const ms = now() - t0;
  const count = countKernel(node, KITE_PROTO);
  dropNamespaces();
  return { method: 'ip -batch', ms, count, note: 'wall time of one `ip -batch` process' };
}

// ---- BIRD -------------------------------------------------------------------------------------

async function benchBird() {
  const { node } = makeNamespaces('bird', false);
  const conf = join(dir, 'bird.conf');
  const routes = [];
  for (let i = 0; i < N; i++) routes.push(`  route ${prefix(i)}/24 via ${PEER_IP};`);
  writeFileSync(conf, [
    `router id ${NODE_IP};`,
    'protocol device { scan time 60; }',
    'protocol static bench { ipv4;',
    ...routes,
    '}',
    'protocol kernel { ipv4 { export all; }; scan time 60; }',
    '',
  ].join('\n'));
  const w = await watchRoutes(node, BIRD_PROTO);
  const t0 = now();
  const p = spawnIn(node, 'bird', ['-f', '-c', conf, '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], 'bird.out');
  let res;
  try {
    res = await withTimeout(Promise.race([w.done, p.exited.then((c) => { throw new Error(`bird exited (${c}): ${readFileSync(p.log, 'utf8')}`); })]), 'BIRD routes in the kernel');
  } finally {
    w.close();
  }
  const count = countKernel(node, BIRD_PROTO);
  await p.stop();
  dropNamespaces();
  return {
    method: 'BIRD 2 (static -> kernel protocol)', ms: res.t - t0, count,
    note: `from spawning bird (config with ${N.toLocaleString('en')} static routes); first route after ${(res.first - t0).toFixed(0)} ms${res.overflow ? '; monitor overflowed, counted by dumps' : ''}`,
  };
}

// ---- Kite -------------------------------------------------------------------------------------

function kiteYaml() {
  const pool = (name, cidr) => `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: ${name}
spec:
  cidr: ${cidr}
  blockSize: 26
  ipipMode: Never
  vxlanMode: Never`;
  return [
    `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 64512
  nodeToNodeMeshEnabled: false
  logSeverityScreen: Info`,
    `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec:
  bgp:
    ipv4Address: ${NODE_IP}/24`,
    pool('bench-1', '1.0.0.0/8'),
    pool('bench-2', '2.0.0.0/8'),
    `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: sender
spec:
  peerIP: ${PEER_IP}
  asNumber: 65001`,
  ].join('\n---\n') + '\n';
}

async function waitKiteUp(socket, proc) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!children.has(proc.child)) throw new Error(`kite exited:\n${readFileSync(proc.log, 'utf8')}`);
    try {
      const out = sh(process.execPath, join(ROOT, 'bin', 'kite'), 'show', 'summary', '--json', '--socket', socket);
      if (JSON.parse(out).node) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`kite did not answer on ${socket}:\n${readFileSync(proc.log, 'utf8')}`);
    await sleep(200);
  }
}

/** Pino lines of a Kite log, with wall-clock `time` (ms). */
function kiteLog(file) {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
}

async function benchKite(run) {
  const { node, peer } = makeNamespaces('kite', true);
  const conf = join(dir, 'kite.yaml');
  const socket = join(dir, 'kite.sock');
  writeFileSync(conf, kiteYaml());
  const extra = process.env.FIB_BENCH_KITE_NODE_ARGS ? process.env.FIB_BENCH_KITE_NODE_ARGS.split(' ') : [];
  const kite = spawnIn(node, process.execPath, [...extra, join(ROOT, 'bin', 'kite'), 'run', '--config', conf, '--node', 'node-1', '--socket', socket], `kite-${run}.log`);
  await waitKiteUp(socket, kite);
  const w = await watchRoutes(node, KITE_PROTO);
  // The sender prints JSON events; `established` carries its wall clock, which we map to ours.
  const sender = spawn('ip', ['netns', 'exec', peer, process.execPath, join(ROOT, 'bench', 'sender.mjs'), '--peer', NODE_IP, '--local', PEER_IP, '--as', '65001', '--count', String(N)], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(sender);
  sender.once('exit', () => children.delete(sender));
  let tEst = null;
  let buf = '';
  const established = new Promise((resolve, reject) => {
    sender.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const ev = JSON.parse(line);
          if (ev.event === 'established') { tEst = ev.t; resolve(); }
          if (ev.event === 'error') reject(new Error(`sender: ${ev.message}`));
        } catch { /* not JSON */ }
      }
    });
  });
  let res;
  try {
    await withTimeout(established, 'BGP session Established');
    res = await withTimeout(Promise.race([w.done, kite.exited.then((c) => { throw new Error(`kite exited (${c})`); })]), 'Kite routes in the kernel');
  } catch (e) {
    throw new Error(`${e.message}\n--- kite log tail ---\n${readFileSync(kite.log, 'utf8').split('\n').slice(-20).join('\n')}`);
  } finally {
    w.close();
  }
  const count = countKernel(node, KITE_PROTO);
  try { process.kill(-sender.pid, 'SIGTERM'); } catch { /* gone */ }
  await kite.stop();
  // Kite's own account (read after it exited, so every line is flushed): the "dataplane routes
  // applied" lines and the moment the sender's End-of-RIB was seen (the BGP part is over then).
  const lines = kiteLog(kite.log);
  const applied = lines.filter((l) => l.msg === 'dataplane routes applied');
  const added = applied.reduce((s, l) => s + (l.added ?? 0), 0);
  // pino's time: an ISO-8601 string (src/logger.ts), epoch ms in older builds.
  const eorTime = lines.find((l) => /End-of-RIB received from every peer/.test(l.why ?? ''))?.time;
  const eor = typeof eorTime === 'string' ? Date.parse(eorTime) : eorTime;
  dropNamespaces();
  const after = eor === undefined ? 'End-of-RIB not logged' : `BGP Established -> End-of-RIB processed ${(eor - tEst).toFixed(0)} ms, End-of-RIB -> all in kernel ${(res.t - eor).toFixed(0)} ms`;
  return {
    method: 'Kite (BGP -> RIB -> linux dataplane)', ms: res.t - tEst, count,
    note: `from Established; ${after}; first route in kernel after ${(res.first - tEst).toFixed(0)} ms; ${applied.length} applies logged (${added} added)${res.overflow ? '; monitor overflowed, counted by dumps' : ''}`,
    log: kite.log,
  };
}

// ---- Kite's dataplane alone -------------------------------------------------------------------

/**
 * The dataplane without BGP: createDataplane over the real netlink binding in a fresh namespace,
 * one update() with N remote routes (what the RIB would feed), clock from update() to the last
 * route event. Sysctl writes go to a no-op (they would hit this process's namespace, the host's).
 */
async function benchKiteDataplane() {
  // In its own process, like BIRD: this one holds the earlier methods' garbage and monitors.
  const { node } = makeNamespaces('kdp', false);
  let r;
  try {
    r = JSON.parse(sh(process.execPath, fileURLToPath(import.meta.url), '--dataplane-child', node, String(N)).trim().split('\n').pop());
  } catch (e) {
    dropNamespaces();
    throw e;
  }
  const count = countKernel(node, KITE_PROTO);
  dropNamespaces();
  return {
    method: 'Kite dataplane alone (one update of N routes, own process)', ms: r.ms, count,
    note: `until every route was acknowledged; desired state for the first slice ${r.firstAdd.toFixed(0)} ms, then slices computed while the kernel installs; flush() resolved after ${r.flush.toFixed(0)} ms`,
  };
}

/** The child side: the dataplane over the real netlink binding in namespace `ns`; prints timings as JSON. */
async function dataplaneChild(ns) {
  const kernel = openKernel({ netns: ns });
  // When the dataplane first hands routes to netlink, and when the kernel has acknowledged N
  // added routes (an acknowledgement means the route is installed).
  let tAdd;
  let tAcked;
  let acked = 0;
  const ops = {
    ...kernel.ops,
    addRoutes: async (rs) => {
      tAdd ??= now();
      const results = await kernel.ops.addRoutes(rs);
      acked += results.filter((x) => x.ok).length;
      if (acked >= N) tAcked ??= now();
      return results;
    },
  };
  const quiet = { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o) };
  const dp = createDataplane({ ops, sysctl: { write: async () => {} }, clock: systemClock(), log: quiet });
  const pool = (name, cidr) => ({ name, cidr, family: 4, ipipMode: 'Never', vxlanMode: 'Never' });
  const config = { ipv4Address: { address: NODE_IP, prefixLength: 24, subnet: '198.18.250.0/24' }, pools: [pool('bench-1', '1.0.0.0/8'), pool('bench-2', '2.0.0.0/8')], blocks: [], serviceRanges: [] };
  // A first apply with no routes does the initial dumps, as the daemon's start does.
  dp.update({ config, remote: new Map(), workloads: [] });
  await dp.flush();
  const remote = new Map();
  // Prefixes as the RIB hands them (IPv4 as numbers): (1.0.0.0 + i*256)/24.
  for (let i = 0; i < N; i++) remote.set(Prefix.v4((((1 << 16) + i) << 8) >>> 0, 24), [{ address: PEER_IP }]);
  // No route monitor here: it would compete with the dataplane for the one thread. The clock
  // stops when netlink has acknowledged all N adds.
  const t0 = now();
  try {
    dp.update({ remote });
    await withTimeout(dp.flush(), 'Kite dataplane flush');
  } finally {
    dp.stop();
    kernel.close();
  }
  return { ms: tAcked - t0, firstAdd: tAdd - t0, flush: now() - t0 };
}

// ---- VXLAN: Kite's dataplane alone and ip/bridge -batch ----------------------------------------

/** Remote node j: its underlay address, VTEP and MAC (the same for both methods). */
const vxNode = (j) => ({
  name: `n${j}`,
  address: `172.16.${j >> 8}.${j & 255}`,
  vtep: `100.64.${j >> 8}.${j & 255}`,
  mac: `66:00:00:00:${((j >> 8) & 255).toString(16).padStart(2, '0')}:${(j & 255).toString(16).padStart(2, '0')}`,
});

function vxCounts(node) {
  return {
    routes: countKernel(node, KITE_PROTO),
    neigh: sh('ip', '-n', node, '-4', 'neigh', 'show', 'dev', 'vxlan.calico').split('\n').filter((l) => l.includes('PERMANENT')).length,
    fdb: sh('ip', 'netns', 'exec', node, 'bridge', 'fdb', 'show', 'dev', 'vxlan.calico').split('\n').filter((l) => l.includes(' dst ')).length,
  };
}

async function benchKiteVxlan() {
  const { node } = makeNamespaces('kvx', false);
  let r;
  try {
    r = JSON.parse(sh(process.execPath, fileURLToPath(import.meta.url), '--dataplane-child', node, String(N), 'vxlan').trim().split('\n').pop());
  } catch (e) {
    dropNamespaces();
    throw e;
  }
  const c = vxCounts(node);
  dropNamespaces();
  return {
    method: `VXLAN: Kite dataplane alone (${VTEPS} VTEPs, own process)`, ms: r.ms, count: c.routes,
    note: `until flush() resolved: ${c.neigh} neighbours and ${c.fdb} FDB entries on vxlan.calico, then the routes via the VTEPs`,
  };
}

async function benchIpVxlan() {
  const { node } = makeNamespaces('ivx', false);
  sh('ip', '-n', node, 'link', 'add', 'vxlan.calico', 'address', '66:00:00:ff:ff:ff', 'type', 'vxlan', 'id', '4096', 'dstport', '4789', 'dev', 'eth0', 'local', NODE_IP, 'nolearning');
  sh('ip', '-n', node, 'link', 'set', 'vxlan.calico', 'mtu', '1450', 'up');
  sh('ip', '-n', node, 'addr', 'add', '100.64.255.255/32', 'dev', 'vxlan.calico');
  const fdb = [];
  const ipb = [];
  for (let j = 0; j < VTEPS; j++) {
    const n = vxNode(j);
    fdb.push(`fdb replace ${n.mac} dev vxlan.calico dst ${n.address} self permanent`);
    ipb.push(`neigh replace ${n.vtep} lladdr ${n.mac} dev vxlan.calico nud permanent`);
  }
  for (let i = 0; i < N; i++) ipb.push(`route add ${prefix(i)}/24 via ${vxNode(i % VTEPS).vtep} dev vxlan.calico onlink proto ${KITE_PROTO}`);
  const fdbFile = join(dir, 'fdb.batch');
  const ipFile = join(dir, 'vxlan.batch');
  writeFileSync(fdbFile, fdb.join('\n') + '\n');
  writeFileSync(ipFile, ipb.join('\n') + '\n');
  const t0 = now();
  sh('ip', 'netns', 'exec', node, 'bridge', '-batch', fdbFile);
  sh('ip', '-n', node, '-batch', ipFile);
  const ms = now() - t0;
  const c = vxCounts(node);
  dropNamespaces();
  return { method: `VXLAN: bridge -batch + ip -batch (${VTEPS} VTEPs)`, ms, count: c.routes, note: `wall time of both processes: ${c.fdb} FDB entries, ${c.neigh} neighbours, the routes` };
}

/** The child side for VXLAN: vxlan.calico made by the dataplane (untimed), then VTEPs and routes in one update. */
async function vxlanChild(ns) {
  const kernel = openKernel({ netns: ns });
  const quiet = { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o) };
  const dp = createDataplane({ ops: kernel.ops, sysctl: { write: async () => {} }, clock: systemClock(), log: quiet });
  const pool = (name, cidr) => ({ name, cidr, family: 4, ipipMode: 'Never', vxlanMode: 'Always' });
  const base = {
    ipv4Address: { address: NODE_IP, prefixLength: 24, subnet: '198.18.250.0/24' }, pools: [pool('bench-1', '1.0.0.0/8'), pool('bench-2', '2.0.0.0/8')],
    blocks: [], serviceRanges: [], vxlan4: { address: '100.64.255.255', mac: '66:00:00:ff:ff:ff' }, vteps: [],
  };
  dp.update({ config: base, remote: new Map(), workloads: [] });
  await dp.flush();
  const nodes = Array.from({ length: VTEPS }, (_, j) => vxNode(j));
  const vteps = nodes.map((n) => ({ node: n.name, family: 4, address: n.vtep, mac: n.mac, nodeAddress: n.address }));
  // One next-hop object per node, shared by its prefixes, as the RIB source shares them.
  const hops = nodes.map((n) => [{ address: n.address, calicoNode: n.name }]);
  const remote = new Map();
  for (let i = 0; i < N; i++) remote.set(Prefix.v4((((1 << 16) + i) << 8) >>> 0, 24), hops[i % VTEPS]);
  const t0 = now();
  try {
    dp.update({ config: { ...base, vteps }, remote });
    await withTimeout(dp.flush(), 'Kite dataplane flush (VXLAN)');
  } finally {
    dp.stop();
    kernel.close();
  }
  return { ms: now() - t0 };
}

if (CHILD) {
  const r = CHILD_VXLAN ? await vxlanChild(process.argv[3]) : await dataplaneChild(process.argv[3]);
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(r));
  process.exit(0);
}

// ---- main -------------------------------------------------------------------------------------

const rows = [];
let failed = false;
process.on('SIGINT', () => { dropNamespaces(); process.exit(130); });
try {
  // BIRD (and ip) come from the project's installer when missing.
  execFileSync('sh', [join(ROOT, 'scripts', 'install-deps.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  sh('bird', '--version');
} catch {
  console.error('bench:fib needs bird and ip: scripts/install-deps.sh could not install them (see above)');
  process.exit(1);
}
// FIB_BENCH_ONLY=kite,dataplane,bird,ip,vxlan,ipvxlan picks methods (default: all, in this order).
const ALL = { kite: benchKite, dataplane: benchKiteDataplane, bird: benchBird, ip: benchIpBatch, vxlan: benchKiteVxlan, ipvxlan: benchIpVxlan };
const METHODS = (process.env.FIB_BENCH_ONLY ?? Object.keys(ALL).join(',')).split(',').map((k) => {
  if (!ALL[k]) { console.error(`FIB_BENCH_ONLY: unknown method ${k} (${Object.keys(ALL).join(', ')})`); process.exit(2); }
  return ALL[k];
});
try {
  for (let run = 1; run <= RUNS; run++) {
    for (const f of METHODS) {
      const r = await f(run);
      rows.push({ run, ...r });
      if (r.count !== N) failed = true;
      process.stderr.write(`${r.method} run ${run}: ${r.ms.toFixed(0)} ms, ${r.count} in kernel\n`);
    }
  }
} finally {
  for (const c of children) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  dropNamespaces();
  if (!process.env.FIB_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.error(`kept ${dir}`);
}

const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU';
console.log(`\n${N.toLocaleString('en')} IPv4 /24 routes via a gateway on the node's subnet, fresh namespaces per method (${new Date().toISOString().slice(0, 10)}, node ${process.version}, kernel ${sh('uname', '-r').trim()}, ${cpu})\n`);
console.log('| method | run | time to all in kernel (ms) | routes/s | in kernel | note |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.method} | ${r.run} | ${r.ms.toFixed(0)} | ${Math.round((N / r.ms) * 1000).toLocaleString('en')} | ${r.count} | ${r.note} |`);
}
if (failed) {
  console.error('MISMATCH: not every route reached the kernel');
  process.exitCode = 1;
}
