// Route-reflector benchmark: one reflector (Kite, then BIRD, in the same run), 100 iBGP clients,
// 10,000 routes. Measures the time from the originators' first announcement until every client
// holds every route, and the reflector's CPU time and memory. The clients are small BIRD
// processes in one namespace, one per address (see clientConfig for why not one BIRD); 4 of them
// originate 2,500 /26s each (inside the Calico pool, so Kite's export policy passes them).
//
//   npm run bench:reflect -- [--only kite,bird] [--clients 100] [--routes 10000] [--originators 4]
//                            [--timeout 300] [--json]
//   npm run bench:reflect -- --sim --clients 1000 [--only kite,bird]
//     (--sim: the clients are bench/rr-sim.mjs, one process with its own byte builder, up to
//     4,000 of them, each originating one /26 and checking exactly what it holds)
//   REFLECT_KITE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the Kite reflector.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { addNs, cleanupStale, deleteNs, liveProcs, must, sh, sleep, spawnIn, stopProc } from './netns.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['kite', 'bird'];

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ONLY = opt('only', ALL.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const CLIENTS = Number(opt('clients', '100'));
const SIM_MODE = process.argv.includes('--sim');
const ROUTES = SIM_MODE ? Number(opt('clients', '100')) : Number(opt('routes', '10000'));
const ORIGINATORS = SIM_MODE ? ROUTES : Number(opt('originators', '4'));
const TIMEOUT_S = Number(opt('timeout', '300'));
const JSON_OUT = argv.includes('--json');
// --sim: the clients are one simulator process (bench/rr-sim.mjs, its own byte builder) instead
// of a BIRD each, so 1,000 and 2,000 clients fit; every client originates one /26.
const SIM = argv.includes('--sim');
for (const r of ONLY) if (!ALL.includes(r)) die(`unknown reflector ${r} (choose from ${ALL.join(', ')})`);
if (!(CLIENTS >= 2 && CLIENTS <= (SIM ? 4000 : 200))) die(`--clients must be 2..${SIM ? 4000 : 200}`);
if (!SIM && !(ORIGINATORS >= 1 && ORIGINATORS < CLIENTS)) die('--originators must be 1..clients-1');
if (!SIM && !(ROUTES >= ORIGINATORS && ROUTES <= 1 << 18)) die('--routes must be originators..262144');

const AS = 64512;
const RR_IP = SIM_MODE ? '198.19.0.1' : '198.18.210.1';
const PLEN = SIM_MODE ? 16 : 24;
const clientIp = (i) => (SIM_MODE ? `198.19.${1 + (i >> 8)}.${i & 255}` : `198.18.210.${10 + i}`);
const CLUSTER_ID = '244.0.0.1';
const nextHopOf = (o) => `198.18.210.${200 + o}`;
const PREFIX = `kt${process.pid}-`;
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

/** Reflector namespace and client namespace joined by one veth pair; 100 addresses on the client side. */
async function makeLab(tag) {
  const rr = `${PREFIX}${tag}-rr`;
  const cl = `${PREFIX}${tag}-cl`;
  for (const ns of [rr, cl]) await addNs(ns);
  await must('ip', ['-n', rr, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cl]);
  await must('ip', ['-n', rr, 'addr', 'add', `${RR_IP}/${PLEN}`, 'dev', 'eth0']);
  const batch = [];
  for (let i = 0; i < CLIENTS; i++) batch.push(`addr add ${clientIp(i)}/${PLEN} dev eth0`);
  await must('ip', ['-n', cl, '-batch', writeTmp(batch.join('\n') + '\n')]);
  await must('ip', ['-n', rr, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', cl, 'link', 'set', 'eth0', 'up']);
  // Thousands of neighbours on one link: the ARP table's gc_thresh3 (1,024, a host-wide setting)
  // would refuse some (EHOSTUNREACH on connect), and the run would measure the neighbour table,
  // not BGP. Permanent entries are not garbage-collected nor counted against it: add one per client.
  if (CLIENTS > 500) {
    const mac = JSON.parse((await sh('ip', ['-n', cl, '-j', 'link', 'show', 'eth0'])).stdout)[0].address;
    const neigh = [];
    for (let i = 0; i < CLIENTS; i++) neigh.push(`neigh replace ${clientIp(i)} lladdr ${mac} dev eth0 nud permanent`);
    await must('ip', ['-n', rr, '-batch', writeTmp(neigh.join('\n') + '\n')]);
  }
  return { rr, cl };
}

let tmpDir;
function writeTmp(text) {
  const f = join(tmpDir, `batch-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, text);
  return f;
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // fields 14 and 15 (utime, stime), 0-based after comm
}

/** utime and stime apart, seconds. */
function cpuSplit(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(x[11]) / TICK, sys: Number(x[12]) / TICK };
}

/** Write-like system calls the process has made (write, writev...; /proc/<pid>/io syscw, root). */
function syscw(pid) {
  try {
    return Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** TCP segments sent from a namespace so far (nstat, absolute counters). */
async function tcpOutSegs(ns) {
  const r = await sh('ip', ['netns', 'exec', ns, 'nstat', '-az', '-j', 'TcpOutSegs']);
  try {
    const j = JSON.parse(r.stdout);
    return Number(j.kernel?.TcpOutSegs ?? NaN);
  } catch {
    return NaN;
  }
}

function memKiB(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1] ?? NaN), hwm: Number(/VmHWM:\s+(\d+) kB/.exec(s)?.[1] ?? NaN) };
}

/** The reflector's counters at one moment: CPU seconds (total, user and system), write syscalls, and its namespace's TCP segments out. */
async function counters(pid, ns) {
  return { cpu: cpuSeconds(pid), split: cpuSplit(pid), writes: syscw(pid), segs: await tcpOutSegs(ns) };
}

/** A result's CPU, write, segment and memory columns, from counters and memKiB read before and after the run. */
function usage(c0, c1, mem0, mem1) {
  return {
    cpuSeconds: round(c1.cpu - c0.cpu, 2),
    cpuTotalSeconds: round(c1.cpu, 2),
    cpuUserSeconds: round(c1.split.user - c0.split.user, 2),
    cpuSystemSeconds: round(c1.split.sys - c0.split.sys, 2),
    writeSyscalls: c1.writes - c0.writes,
    tcpSegmentsOut: c1.segs - c0.segs,
    rssBeforeMiB: round(mem0.rss / 1024, 1),
    rssAfterMiB: round(mem1.rss / 1024, 1),
    peakRssMiB: round(mem1.hwm / 1024, 1),
  };
}

// --- routes ---------------------------------------------------------------------------------------

/** Route k: a /26 in 10.16.0.0/12 (inside the 10.0.0.0/8 pool). */
function route(k) {
  return `10.${16 + (k >> 10)}.${(k >> 2) & 255}.${(k & 3) * 64}/26`;
}

/** How many routes originator o announces (ROUTES split as evenly as possible). */
const share = (o) => Math.floor(ROUTES / ORIGINATORS) + (o < ROUTES % ORIGINATORS ? 1 : 0);

// --- the client side: one small BIRD per client, all in one namespace -----------------------------
// One BIRD cannot hold 100 sessions to the same neighbour: BIRD 2.0 locks a BGP session on
// (neighbour address, port, interface), not on the local address, so all but one protocol wait
// in Idle. So each client is its own BIRD process (~2 MB each) with `strict bind` on its own
// address, passive (the reflector dials all of them: no connection collisions to resolve).

function clientConfig(i, logFile) {
  const orig = i < ORIGINATORS;
  const l = [`log "${logFile}" { warning, error, fatal };`, `router id ${clientIp(i)};`, 'protocol device { scan time 60; }'];
  if (orig) {
    let k = 0;
    for (let o = 0; o < i; o++) k += share(o);
    const routes = [];
    // Next hop: an unused on-link address. It must not be a client's own address: every client
    // lives in one namespace, and BIRD drops a route whose next hop is a local address.
    for (let j = 0; j < share(i); j++) routes.push(`  route ${route(k++)} via ${nextHopOf(i)};`);
    // Disabled until every session is up: `birdc enable st` is the benchmark's start signal.
    l.push('protocol static st {', '  disabled;', '  ipv4;', ...routes, '}');
  }
  l.push(
    'protocol bgp c {',
    `  local ${clientIp(i)} as ${AS};`,
    `  neighbor ${RR_IP} as ${AS};`,
    '  direct;',
    '  strict bind on;',
    '  passive on;',
    '  hold time 240; keepalive time 80;',
    `  ipv4 { import all; ${orig ? 'export where source = RTS_STATIC; next hop keep;' : 'export none;'} };`,
    '}',
  );
  return l.join('\n') + '\n';
}

/** `show protocols all c`: the session state and the imported route count. */
function parseProtocol(out) {
  const head = /^c\s+BGP\s+\S+\s+(\S+)\s+\S+\s+(\S+)/m.exec(out);
  const r = /^\s+Routes:\s+(\d+) imported/m.exec(out);
  return { up: head?.[1] === 'up' && head?.[2] === 'Established', imported: r ? Number(r[1]) : 0 };
}

/** Client i holds every route: an originator imports all but its own share. */
const wantOf = (i) => ROUTES - (i < ORIGINATORS ? share(i) : 0);

/** Run fn over items with at most `n` at a time (each birdc is a process). */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k], k);
    }
  }));
  return out;
}

// --- reflectors -------------------------------------------------------------------------------------

const reflectors = {
  kite: (ns, dir) => {
    const sock = join(dir, 'kite.sock');
    const conf = join(dir, 'kite.yaml');
    const docs = [
      `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: ${AS}\n  nodeToNodeMeshEnabled: false\n  logSeverityScreen: Warning`,
      `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: rr\n  labels:\n    route-reflector: "true"\nspec:\n  bgp:\n    ipv4Address: ${RR_IP}/${PLEN}\n    asNumber: ${AS}\n    routeReflectorClusterID: ${CLUSTER_ID}`,
      `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool\nspec:\n  cidr: 10.0.0.0/8\n  blockSize: 26`,
    ];
    for (let i = 0; i < CLIENTS; i++) {
      docs.push(`apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: client-${i}\nspec:\n  node: rr\n  peerIP: ${clientIp(i)}\n  asNumber: ${AS}`);
    }
    writeFileSync(conf, docs.join('\n---\n') + '\n');
    return {
      version: async () => `Kite ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} (Node ${process.versions.node})`,
      start: () => spawnIn(ns, process.execPath, [...(process.env.REFLECT_KITE_NODE_ARGS ?? '').split(' ').filter(Boolean), 'bin/kite', 'run', '--config', conf, '--node', 'rr', '--socket', sock, '--log-level', 'warn'], join(dir, 'kite.log')),
    };
  },
  bird: (ns, dir) => {
    const ctl = join(dir, 'rr.ctl');
    const conf = join(dir, 'rr.conf');
    const l = [`router id ${RR_IP};`, 'protocol device { scan time 60; }'];
    for (let i = 0; i < CLIENTS; i++) {
      l.push(
        `protocol bgp c${i} {`,
        `  local ${RR_IP} as ${AS};`,
        `  neighbor ${clientIp(i)} as ${AS};`,
        '  direct;',
        `  rr client; rr cluster id ${CLUSTER_ID};`,
        '  hold time 240; keepalive time 80; connect delay time 1; connect retry time 1;',
        '  ipv4 { import all; export all; };',
        '}',
      );
    }
    writeFileSync(conf, l.join('\n') + '\n');
    return {
      version: async () => (await sh('bird', ['--version'])).stderr.trim() || (await sh('bird', ['--version'])).stdout.trim(),
      start: () => spawnIn(ns, 'bird', ['-f', '-c', conf, '-s', ctl, '-P', join(dir, 'rr.pid')], join(dir, 'bird.log')),
    };
  },
};

/** --sim: the reflector and one simulator process with CLIENTS clients; the same measurements. */
async function runSim(name) {
  const dir = mkdtempSync(join(tmpDir, `${name}-`));
  const lab = await makeLab(`rs${name.slice(0, 2)}`);
  let rr, sim;
  const lines = [];
  try {
    const child = spawn('ip', ['netns', 'exec', lab.cl, process.execPath, join(ROOT, 'bench/rr-sim.mjs'), String(CLIENTS), String(AS), RR_IP],
      { detached: true, stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
    sim = { pid: child.pid, child, exited: false };
    child.once('exit', () => { sim.exited = true; liveProcs.delete(sim); });
    liveProcs.add(sim);
    let last = {};
    let finalLine = null; // the first report with every client complete (later lines may follow at once)
    createInterface({ input: child.stdout }).on('line', (l) => {
      try { last = JSON.parse(l); lines.push(last); if (last.final && !finalLine) finalLine = last; } catch {}
    });
    const deadline = Date.now() + TIMEOUT_S * 1000;
    while (!last.listening && !lines.some((x) => x.listening)) {
      if (sim.exited || Date.now() > deadline) throw new Error('simulator did not start');
      await sleep(50);
    }
    const r = reflectors[name](lab.rr, dir);
    const started = Date.now();
    rr = r.start();
    while ((last.up ?? 0) < CLIENTS) {
      if (rr.exited) throw new Error(`${name} exited:\n${readFileSync(join(dir, name === 'kite' ? 'kite.log' : 'bird.log'), 'utf8').slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`only ${last.up}/${CLIENTS} sessions Established after ${TIMEOUT_S} s`);
      await sleep(50);
    }
    const sessionsS = (Date.now() - started) / 1000;
    await sleep(2000); // let the reflector settle (End-of-RIBs of the empty initial tables)
    const c0 = await counters(rr.pid, lab.rr);
    const mem0 = memKiB(rr.pid);
    child.stdin.write('go\n');
    while (!finalLine) {
      if (rr.exited) throw new Error(`${name} exited during the run`);
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(last)}`);
      await sleep(20);
    }
    const c1 = await counters(rr.pid, lab.rr);
    const fin = finalLine;
    await sleep(1000);
    const mem1 = memKiB(rr.pid);
    child.stdin.write('report\n');
    await sleep(300);
    const after = lines.at(-1);
    return {
      reflector: name,
      version: await r.version(),
      clients: CLIENTS,
      routes: ROUTES,
      sessionsUpSeconds: round(sessionsS, 2),
      seconds: round(fin.ms / 1000, 2),
      secondsLowerBound: round(fin.ms / 1000, 2),
      ...usage(c0, c1, mem0, mem1),
      sessionDrops: after.drops,
      notifications: after.notifications,
      ownRoutesSentBack: after.ownReceived,
      problems: after.problems,
      routesHeld: after.held,
    };
  } finally {
    await stopProc(rr);
    await stopProc(sim);
    await deleteNs(lab.rr);
    await deleteNs(lab.cl);
    if (!process.env.KT_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: ${name} logs kept in ${dir}\n`);
  }
}

async function runOne(name) {
  if (SIM) return runSim(name);
  const dir = mkdtempSync(join(tmpDir, `${name}-`));
  const lab = await makeLab(`rf${name.slice(0, 2)}`);
  const ids = Array.from({ length: CLIENTS }, (_, i) => i);
  const ctl = (i) => join(dir, `c${i}.ctl`);
  const birdc = (i, ...args) => sh('birdc', ['-s', ctl(i), ...args], 30_000);
  const clients = [];
  let rr;
  try {
    for (const i of ids) {
      const conf = join(dir, `c${i}.conf`);
      writeFileSync(conf, clientConfig(i, join(dir, `c${i}.log`)));
      clients.push(spawnIn(lab.cl, 'bird', ['-f', '-c', conf, '-s', ctl(i), '-P', join(dir, `c${i}.pid`)], join(dir, `c${i}.out`)));
    }
    const deadline0 = Date.now() + 30_000;
    await pool(ids, 8, async (i) => {
      while ((await birdc(i, 'show', 'status')).code !== 0) {
        if (clients[i].exited || Date.now() > deadline0) throw new Error(`client BIRD ${i} did not start:\n${readFileSync(join(dir, `c${i}.out`), 'utf8')}`);
        await sleep(100);
      }
    });
    const r = reflectors[name](lab.rr, dir);
    const started = Date.now();
    rr = r.start();
    const deadline = Date.now() + TIMEOUT_S * 1000;
    // Every session Established (the reflector dials all of them).
    let pending = ids;
    while (pending.length) {
      const st = await pool(pending, 8, async (i) => parseProtocol((await birdc(i, 'show', 'protocols', 'all', 'c')).stdout));
      pending = pending.filter((_, k) => !st[k].up);
      if (!pending.length) break;
      if (rr.exited) throw new Error(`${name} exited:\n${readFileSync(join(dir, name === 'kite' ? 'kite.log' : 'bird.log'), 'utf8').slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`only ${CLIENTS - pending.length}/${CLIENTS} sessions Established after ${TIMEOUT_S} s`);
      await sleep(200);
    }
    const sessionsS = (Date.now() - started) / 1000;
    await sleep(1000); // let the reflector settle (End-of-RIBs of the empty initial tables)
    const c0 = await counters(rr.pid, lab.rr);
    const mem0 = memKiB(rr.pid);
    const t0 = performance.now();
    await Promise.all(ids.slice(0, ORIGINATORS).map((i) => birdc(i, 'enable', 'st')));
    // Poll only the clients not yet complete: a complete client stays complete (nothing withdraws).
    // A poll round over 100 clients takes a while (a birdc process each), so each client's
    // completion is bracketed by the start of its last incomplete poll (lower bound) and the start
    // of its first complete poll (upper bound); the result is the largest bound over all clients.
    pending = ids;
    let rounds = 0;
    let held = 0;
    let upper = 0;
    let lower = 0;
    const lastIncomplete = new Array(CLIENTS).fill(t0);
    while (pending.length) {
      const st = await pool(pending, 8, async (i) => {
        const at = performance.now();
        return { ...parseProtocol((await birdc(i, 'show', 'protocols', 'all', 'c')).stdout), at };
      });
      held = st.reduce((a, s, k) => a + Math.min(s.imported, wantOf(pending[k])), 0);
      st.forEach((x, k) => {
        const i = pending[k];
        if (x.imported < wantOf(i)) lastIncomplete[i] = x.at;
        else {
          upper = Math.max(upper, x.at - t0);
          lower = Math.max(lower, lastIncomplete[i] - t0);
        }
      });
      pending = pending.filter((i, k) => st[k].imported < wantOf(i));
      rounds++;
      if (!pending.length) break;
      if (rr.exited) throw new Error(`${name} exited during the run`);
      if (performance.now() - t0 > TIMEOUT_S * 1000) {
        throw new Error(`timed out: ${CLIENTS - pending.length}/${CLIENTS} clients complete; the others hold ${held} routes`);
      }
      await sleep(50);
    }
    const c1 = await counters(rr.pid, lab.rr);
    await sleep(1000);
    const mem1 = memKiB(rr.pid);
    return {
      reflector: name,
      version: await r.version(),
      clients: CLIENTS,
      routes: ROUTES,
      sessionsUpSeconds: round(sessionsS, 2),
      seconds: round(upper / 1000, 2),
      secondsLowerBound: round(lower / 1000, 2),
      pollRounds: rounds,
      ...usage(c0, c1, mem0, mem1),
    };
  } finally {
    await stopProc(rr);
    await Promise.all(clients.map((c) => stopProc(c)));
    await deleteNs(lab.rr);
    await deleteNs(lab.cl);
    if (!process.env.KT_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: ${name} logs kept in ${dir}\n`);
  }
}

const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;

async function main() {
  if (process.getuid?.() !== 0) die('needs root (network namespaces)');
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) die('Kite is not built: run npm run build');
  const inst = await sh('sh', [join(ROOT, 'scripts', 'install-deps.sh')], 600_000);
  if (inst.code !== 0) die(`scripts/install-deps.sh failed:\n${inst.stderr}${inst.stdout}`);
  await cleanupStale();
  tmpDir = mkdtempSync(join(tmpdir(), `${PREFIX}reflect-`));
  const results = [];
  try {
    for (const name of ONLY) {
      if (!JSON_OUT) process.stderr.write(`bench: ${name} as reflector, ${CLIENTS} clients, ${ROUTES} routes ...\n`);
      try {
        results.push(await runOne(name));
      } catch (e) {
        // One reflector failing (e.g. timing out at 2,000 clients) must not lose the others' rows.
        process.stderr.write(`bench: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
        results.push({ reflector: `${name} (failed)`, error: String(e instanceof Error ? e.message : e) });
      }
    }
  } finally {
    if (!process.env.KT_KEEP_LOGS) rmSync(tmpDir, { recursive: true, force: true });
  }
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  const cols = ['reflector', 'sessionsUpSeconds', 'secondsLowerBound', 'seconds', 'cpuSeconds', 'cpuUserSeconds', 'cpuSystemSeconds', 'writeSyscalls', 'tcpSegmentsOut', 'rssBeforeMiB', 'rssAfterMiB', 'peakRssMiB', ...(SIM ? ['sessionDrops', 'ownRoutesSentBack', 'problems'] : [])];
  const head = ['reflector', 'sessions up s', 'all held after > s', 'all held by s', 'RR CPU s', 'user s', 'system s', 'write syscalls', 'TCP segments out', 'RSS before MiB', 'RSS after MiB', 'peak RSS MiB', ...(SIM ? ['session drops', 'own routes sent back', 'wrong routes'] : [])];
  const rows = results.map((r) => cols.map((c) => String(r[c])));
  process.stdout.write(`| ${head.join(' | ')} |\n| ${head.map(() => '---').join(' | ')} |\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  for (const r of results) process.stdout.write(`${r.reflector}: ${r.version}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
