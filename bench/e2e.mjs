// Propagation-latency benchmark (issue 16, item 5): a block added in the datastore until its route
// is in a remote node's kernel, through a Kite route reflector, with the Kubernetes datastore (the
// project's local API server, test/datastore/kubernetes/fake-apiserver.ts) and with the file
// datastore (an edit to the shared YAML). Many samples; p50/p90/p99 reported per hop.
//
//   npm run build && npm run bench:e2e -- [--samples 100] [--only kubernetes,file] [--json]
//   E2E_KITE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles every Kite.
//
// The lab (names kt<pid>-e2e-*): a hub namespace with a bridge (198.18.230.254/24, where the API
// server listens), a route reflector rr (198.18.230.10) and three nodes n1..n3 (198.18.230.1-3),
// each a namespace with a veth into the bridge. Every node is `node bin/kite run` with the Linux
// dataplane; rr is a Calico route reflector (routeReflectorClusterID, label route-reflector=true),
// the nodes peer only with it (BGPPeer peerSelector, mesh off). The driver runs inside the hub
// namespace (it re-executes itself with `ip netns exec`), so the API server is reachable from
// every node; the outer process only makes and removes the namespaces.
//
// One sample: wait 250-350 ms (--spacing), then add one /26 for n1 the way calico-ipam claims a block
// (BlockAffinity pending, IPAMBlock, then the BlockAffinity confirmed: the clock starts just before
// the confirming write), or, with the file datastore, write the YAML with one more confirmed
// BlockAffinity (to a temporary file renamed over the original, as config tools do; the clock
// starts before the write). The clock stops at the RTM_NEWROUTE for that /26 seen by a netlink
// monitor in each other namespace (rr, n2, n3), opened by this process (same clock).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadFakeApiServer } from './fake-apiserver.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SAMPLES = Number(opt('samples', '100'));
const ONLY = opt('only', 'kubernetes,file').split(',').filter(Boolean);
const JSON_OUT = argv.includes('--json');
// Between samples: more than the datastores' rate-limit window (100 ms Kubernetes, 200 ms file),
// so each sample is a lone edit; --spacing 0 measures back-to-back edits instead.
const SPACING_MS = Number(opt('spacing', '250'));
const INNER = opt('inner', '');
const PREFIX = INNER || `kt${process.pid}-e2e-`;
const HUB = `${PREFIX}hub`;
const NODES = [
  { name: 'rr', ip: '198.18.230.10', rr: true },
  { name: 'n1', ip: '198.18.230.1' },
  { name: 'n2', ip: '198.18.230.2' },
  { name: 'n3', ip: '198.18.230.3' },
];
const HUB_IP = '198.18.230.254';
const AS = 64512;
const KITE_PROTO = 75;
for (const d of ONLY) if (d !== 'kubernetes' && d !== 'file') die(`unknown datastore ${d}`);
if (!(SAMPLES >= 1 && SAMPLES <= 4000)) die('--samples must be 1..4000');

function die(msg) {
  process.stderr.write(`bench:e2e: ${msg}\n`);
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sh = (cmd, ...args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const log = (s) => process.stderr.write(`${s}\n`);

if (!INNER) await outer();
else await inner();

// --- outer: namespaces, then the driver inside the hub -----------------------------------------

async function outer() {
  if (process.getuid?.() !== 0) die('needs root (network namespaces)');
  const made = [];
  const cleanup = () => {
    for (const ns of made) {
      try {
        for (const pid of sh('ip', 'netns', 'pids', ns).split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {}
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {}
    }
    made.length = 0;
  };
  process.once('exit', cleanup);
  for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => process.exit(130));
  // Stale labs of earlier runs whose process is gone (only our own kt<pid>-e2e- names).
  for (const line of sh('ip', 'netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^kt(\d+)-e2e-[a-z0-9]+$/.exec(name);
    if (m && !existsPid(Number(m[1]))) {
      try {
        for (const pid of sh('ip', 'netns', 'pids', name).split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
        sh('ip', 'netns', 'del', name);
      } catch {}
    }
  }
  const ns = (n) => `${PREFIX}${n}`;
  sh('ip', 'netns', 'add', HUB);
  made.push(HUB);
  sh('ip', '-n', HUB, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', HUB, 'link', 'add', 'br0', 'type', 'bridge');
  sh('ip', '-n', HUB, 'addr', 'add', `${HUB_IP}/24`, 'dev', 'br0');
  sh('ip', '-n', HUB, 'link', 'set', 'br0', 'up');
  for (const [i, n] of NODES.entries()) {
    sh('ip', 'netns', 'add', ns(n.name));
    made.push(ns(n.name));
    sh('ip', '-n', ns(n.name), 'link', 'set', 'lo', 'up');
    sh('ip', '-n', HUB, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(n.name));
    sh('ip', '-n', HUB, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
    sh('ip', '-n', ns(n.name), 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
    sh('ip', '-n', ns(n.name), 'link', 'set', 'eth0', 'up');
  }
  const child = spawn('ip', ['netns', 'exec', HUB, process.execPath, fileURLToPath(import.meta.url), ...argv, '--inner', PREFIX],
    { stdio: 'inherit', cwd: ROOT });
  const code = await new Promise((r) => child.once('exit', (c) => r(c ?? 1)));
  cleanup();
  process.exit(code);
}

function existsPid(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// --- inner: the API server, the Kites, the samples ---------------------------------------------

async function inner() {
  const { NetlinkMonitor } = await import(pathToFileURL(join(ROOT, 'dist/dataplane/netlink/index.js')).href);
  const tmp = mkdtempSync(join(tmpdir(), 'kite-bench-e2e-'));
  const procs = [];
  const stopAll = async () => {
    for (const p of procs.splice(0)) {
      try {
        process.kill(-p.pid, 'SIGTERM');
      } catch {}
      const t = Date.now();
      while (p.exitCode === null && p.signalCode === null && Date.now() - t < 5000) await sleep(50);
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {}
    }
  };
  process.once('exit', () => {
    for (const p of procs) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {}
    }
  });
  const results = [];
  try {
    for (const ds of ONLY) {
      log(`bench:e2e: ${ds} datastore, ${SAMPLES} samples`);
      results.push(await runOne(ds));
      await stopAll();
      // Kite's routes stay in the kernel after a restart-mode stop: flush them before the next run.
      for (const n of NODES) sh('ip', '-n', `${PREFIX}${n.name}`, 'route', 'flush', 'proto', String(KITE_PROTO));
    }
  } finally {
    await stopAll();
    if (!process.env.KT_KEEP_LOGS) rmSync(tmp, { recursive: true, force: true });
    else log(`logs kept in ${tmp}`);
  }
  report(results);

  async function runOne(ds) {
    const blockOf = (i) => `10.244.${(i >> 2) & 255}.${(i & 3) * 64}/26`; // i ≥ 8 for the samples
    const initial = { n1: 0, n2: 1, n3: 2 }; // one block each at start (proves every session up)
    const nodeObjs = NODES.map((n) => ({
      name: n.name, ip: n.ip,
      labels: n.rr ? { 'route-reflector': 'true' } : {},
      clusterId: n.rr ? '244.0.0.1' : undefined,
    }));
    const peerSpec = { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" };
    const poolSpec = { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' };
    const bgpSpec = { asNumber: AS, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Warning' };
    const affName = (node, cidr) => `${node}-${cidr.replace(/[./]/g, '-')}`;
    const kiteArgs = (n) => ['run', '--node', n.name, '--dataplane', 'linux', '--socket', join(tmp, `${ds}-${n.name}.sock`),
      '--http-port', 'off', '--log-level', process.env.E2E_LOG_LEVEL ?? 'warn', '--listen-address', n.ip, '--on-stop', 'restart'];

    let server;
    let addBlock; // (node, cidr) => void, synchronous up to the write that makes it routable
    const starts = [];
    if (ds === 'kubernetes') {
      const dir = join(tmp, 'fa');
      const { FakeApiServer, calico, k8sNode } = await loadFakeApiServer(dir);
      server = await FakeApiServer.start({ writable: true, host: HUB_IP });
      server.put(calico('BGPConfiguration', 'default', bgpSpec));
      server.put(calico('IPPool', 'default-ipv4-ippool', poolSpec));
      server.put(calico('BGPPeer', 'to-rr', peerSpec));
      for (const n of nodeObjs) {
        const ann = { 'projectcalico.org/IPv4Address': `${n.ip}/24` };
        if (n.clusterId) ann['projectcalico.org/RouteReflectorClusterID'] = n.clusterId;
        const o = k8sNode(n.name, ann, n.labels);
        o.status.addresses = [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }];
        server.put(o);
      }
      let seq = 0;
      addBlock = (node, cidr, timed) => {
        const name = affName(node, cidr);
        const aff = (state) => calico('BlockAffinity', name, { node, cidr, state, deleted: 'false' });
        server.put(aff('pending'));
        server.put(calico('IPAMBlock', cidr.replace(/[./]/g, '-'), {
          cidr, affinity: `host:${node}`, strictAffinity: false, allocations: new Array(64).fill(null), unallocated: [...Array(64).keys()],
          attributes: [], deleted: false, sequenceNumber: ++seq,
        }));
        const t0 = timed ? performance.now() : 0;
        server.put(aff('confirmed'));
        return t0;
      };
      for (const [node, i] of Object.entries(initial)) addBlock(node, blockOf(i), false);
      const kubeconfig = server.kubeconfig();
      for (const n of NODES) starts.push(spawnKite(n, [...kiteArgs(n), '--datastore', 'kubernetes', '--kubeconfig', kubeconfig], `${ds}-${n.name}.log`));
    } else {
      const { stringify } = await import(pathToFileURL(join(ROOT, 'node_modules/yaml/dist/index.js')).href);
      const file = join(tmp, 'cluster.yaml');
      const v3 = (kind, name, spec, extra = {}) => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...extra }, spec });
      const docs = [
        v3('BGPConfiguration', 'default', bgpSpec),
        v3('IPPool', 'default-ipv4-ippool', poolSpec),
        v3('BGPPeer', 'to-rr', peerSpec),
        ...nodeObjs.map((n) => v3('Node', n.name, { bgp: { ipv4Address: `${n.ip}/24`, ...(n.clusterId ? { routeReflectorClusterID: n.clusterId } : {}) } },
          Object.keys(n.labels).length ? { labels: n.labels } : {})),
      ];
      let text = docs.map((d) => stringify(d)).join('---\n');
      const write = () => {
        writeFileSync(`${file}.tmp`, text);
        renameSync(`${file}.tmp`, file);
      };
      addBlock = (node, cidr, timed) => {
        text += '---\n' + stringify(v3('BlockAffinity', affName(node, cidr), { node, cidr, state: 'confirmed', deleted: 'false' }));
        const t0 = timed ? performance.now() : 0;
        write();
        return t0;
      };
      for (const [node, i] of Object.entries(initial)) text += '---\n' + stringify(v3('BlockAffinity', affName(node, blockOf(i)), { node, cidr: blockOf(i), state: 'confirmed', deleted: 'false' }));
      write();
      for (const n of NODES) starts.push(spawnKite(n, [...kiteArgs(n), '--config', file], `${ds}-${n.name}.log`));
    }

    // Monitors in every namespace, opened before anything is measured (n1: its own blackhole route).
    const watchers = ['n1', 'rr', 'n2', 'n3'];
    const waiting = new Map(); // prefix -> { t0, at: {ns: t} , done }
    const mons = [];
    for (const w of watchers) {
      const mon = await NetlinkMonitor.open({ netns: `${PREFIX}${w}`, groups: ['ipv4-route'], rcvbuf: 4 << 20 });
      mon.on((ev) => {
        if (ev.kind === 'overflow') die('route monitor overflowed');
        if (ev.kind !== 'route' || ev.action !== 'new' || ev.route.family !== 4) return;
        const t = performance.now();
        const s = waiting.get(`${ev.route.dst}/${ev.route.dstLen}`);
        if (!s || s.at[w] !== undefined) return;
        s.at[w] = t;
        if (watchers.every((x) => s.at[x] !== undefined)) s.done();
      });
      mons.push(mon);
    }

    // Everyone up: each node's initial block in every other node's kernel.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = NODES.every((n) => {
        const have = sh('ip', '-n', `${PREFIX}${n.name}`, '-4', 'route', 'show', 'proto', String(KITE_PROTO));
        return Object.entries(initial).every(([node, i]) => node === n.name || have.includes(blockOf(i)));
      });
      if (ok) break;
      for (const p of starts) if (p.exitCode !== null) die(`${p.label} exited (${p.exitCode}); see KT_KEEP_LOGS=1 ${p.logFile}`);
      if (Date.now() > deadline) die(`sessions not up within 60 s (KT_KEEP_LOGS=1 keeps ${tmp})`);
      await sleep(100);
    }
    await sleep(500);

    const samples = [];
    for (let k = 0; k < SAMPLES; k++) {
      await sleep(SPACING_MS + Math.random() * 100);
      const prefix = blockOf(8 + k);
      const s = { at: {}, done: () => {} };
      const done = new Promise((r) => { s.done = r; });
      waiting.set(prefix, s);
      s.t0 = addBlock('n1', prefix, true);
      const timeout = sleep(10_000).then(() => 'timeout');
      if ((await Promise.race([done, timeout])) === 'timeout') die(`${ds}: ${prefix} not in every kernel after 10 s (seen in ${Object.keys(s.at).join(',') || 'none'})`);
      waiting.delete(prefix);
      samples.push({ n1: s.at.n1 - s.t0, rr: s.at.rr - s.t0, n2: s.at.n2 - s.t0, n3: s.at.n3 - s.t0 });
    }
    for (const m of mons) m.close();
    await server?.close();
    return { datastore: ds, samples };
  }

  function spawnKite(n, args, logName) {
    const logFile = join(tmp, logName);
    const fd = openSync(logFile, 'a');
    const nodeArgs = (process.env.E2E_KITE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn('ip', ['netns', 'exec', `${PREFIX}${n.name}`, process.execPath, ...nodeArgs, join(ROOT, 'bin/kite'), ...args],
      { detached: true, stdio: ['ignore', fd, fd], cwd: ROOT });
    closeSync(fd);
    child.label = `kite ${n.name}`;
    child.logFile = logFile;
    procs.push(child);
    return child;
  }
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function report(results) {
  const rows = [];
  for (const r of results) {
    for (const [hop, label] of [['n1', 'n1\'s own kernel (its blackhole)'], ['rr', 'route reflector\'s kernel'], ['n2', 'remote node n2\'s kernel'], ['n3', 'remote node n3\'s kernel'], ['all', 'both remote nodes\' kernels']]) {
      const xs = r.samples.map((s) => (hop === 'all' ? Math.max(s.n2, s.n3) : s[hop]));
      rows.push({ datastore: r.datastore, until: label, samples: xs.length, p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), max: Math.max(...xs) });
    }
  }
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ rows, raw: results }, null, 2) + '\n');
    return;
  }
  const f = (x) => x.toFixed(1);
  const out = ['| datastore | block added → route in | samples | p50 ms | p90 ms | p99 ms | max ms |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) out.push(`| ${r.datastore} | ${r.until} | ${r.samples} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.max)} |`);
  process.stdout.write(out.join('\n') + '\n');
}


