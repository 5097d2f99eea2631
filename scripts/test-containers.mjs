// `npm run test:containers`: the packaging built and run for real. From the checkout's files only
// (tracked and untracked, nothing git ignores: no node_modules, dist or build), it builds the kite
// and kite-tor images, brings the compose cluster up (docker-compose.yml: three Kite nodes with
// pods, an FRR ToR), checks the sessions, routes and kernel routes through `kite show … --json`,
// the ToR's through vtysh, pod-to-pod and ToR-to-pod pings and the health checks, stops a node as
// the DaemonSet stops a pod (a graceful restart); then deploys containers/lab.clab.yml as
// containerlab would (plain Docker: containerlab is not in Debian) and runs the same checks; tears
// it all down, and prints the image sizes and how long each step took.
//
// It installs what it runs (scripts/container-deps.sh), starts a Docker engine when none answers
// and stops the one it started (scripts/docker-engine.sh), and builds the base images when no
// registry gives them (scripts/container-base.sh). Whatever fails fails the run with the reason,
// in CI as anywhere: nothing is skipped. The compose project is `kite-test`; every container,
// network and scratch file it makes is removed, even on failure. Root only.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT = 'kite-test';
const NODES = ['node-1', 'node-2', 'node-3'];
const NODE_IP = { 'node-1': '198.19.0.1', 'node-2': '198.19.0.2', 'node-3': '198.19.0.3' };
const TOR_IP = '198.19.0.254';
const BLOCK = { 'node-1': '10.244.1.0/26', 'node-2': '10.244.2.0/26', 'node-3': '10.244.3.0/26' };
const PODS = {
  'node-1': { 'pod-1a': '10.244.1.10', 'pod-1b': '10.244.1.11' },
  'node-2': { 'pod-2a': '10.244.2.10', 'pod-2b': '10.244.2.11' },
  'node-3': { 'pod-3a': '10.244.3.10', 'pod-3b': '10.244.3.11' },
};
const CONVERGE_S = 180;
/** The containerlab topology's containers, as containerlab would name them but for the prefix. */
const CLAB_PREFIX = 'kite-test-clab-';
const CLAB_LABEL = 'kite-test=clab';
/** `--keep`: leave the containerlab cluster, the engine and the scratch copy as they are, to look at. */
const KEEP = process.argv.includes('--keep');

/** Runs a program; resolves with its stdout, rejects with its stderr (or stdout) in the message. */
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeout ?? 900_000, cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || stdout || err.message).trim().split('\n').slice(-15).join('\n')}`));
        else resolve(stdout);
      });
  });
}

/** Runs a program with its output going to ours (long steps whose progress a reader wants). */
function stream(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stdout.write(`test:containers: ${msg}\n`);

const timings = [];
const results = { passed: 0, failed: 0 };
const failures = [];

/** One timed step; a failure is recorded and ends the run (the teardown still happens). */
async function step(name, fn) {
  const t0 = Date.now();
  log(`--- ${name}`);
  try {
    const out = await fn();
    timings.push({ name, s: (Date.now() - t0) / 1000, ok: true });
    return out;
  } catch (e) {
    timings.push({ name, s: (Date.now() - t0) / 1000, ok: false });
    throw e;
  }
}

/** One named check: counted, and the run goes on to the next check. */
function check(name, ok, detail = '') {
  if (ok) {
    results.passed++;
    log(`ok   ${name}`);
  } else {
    results.failed++;
    failures.push(`${name}${detail ? `: ${detail}` : ''}`);
    log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
}

let compose = ['docker-compose'];
let src = '';
const composeArgs = (...args) => [...compose.slice(1), '-p', PROJECT, '-f', join(src, 'docker-compose.yml'), '--project-directory', src, ...args];
const dc = (args, opts) => run(compose[0], composeArgs(...args), opts);
/** Runs a command in one of the cluster's containers: compose's first, containerlab's after. */
const composeExec = (service, cmd) => dc(['exec', '-T', service, ...cmd], { timeout: 60_000 });
const clabExec = (service, cmd) => run('docker', ['exec', `${CLAB_PREFIX}${service}`, ...cmd], { timeout: 60_000 });
let execIn = composeExec;
const showJson = async (node, what) => JSON.parse(await execIn(node, ['kite', 'show', what, '--json']));

/** The checks both clusters pass: convergence, sessions, RIB and kernel routes, the ToR, pings. */
async function checkCluster(where) {
  const converged = await step(`${where}: converge (every peer Established, kernel routes in sync; at most ${CONVERGE_S} s)`, async () => {
    const deadline = Date.now() + CONVERGE_S * 1000;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const states = await Promise.all(NODES.map(async (n) => {
          const [s, f] = await Promise.all([showJson(n, 'summary'), showJson(n, 'fib')]);
          return { n, ok: s.peers.length === 3 && s.peers.every((p) => p.state === 'Established') && f.inSync, s };
        }));
        last = states.map(({ n, s }) => `${n}: ${s.peers.map((p) => `${p.address} ${p.state}`).join(', ')}`).join('; ');
        if (states.every((x) => x.ok)) return true;
      } catch (e) {
        last = e.message;
      }
      await sleep(1000);
    }
    log(`not converged: ${last}`);
    return false;
  });
  check(`${where}: the cluster converges`, converged);

  await step(`${where}: sessions and routes (kite show summary|routes|fib --json)`, async () => {
    for (const n of NODES) {
      const s = await showJson(n, 'summary');
      const want = [...NODES.filter((m) => m !== n).map((m) => NODE_IP[m]), TOR_IP].sort();
      const got = s.peers.map((p) => p.address).sort();
      check(`${where} ${n}: peers are the mesh and the ToR`, JSON.stringify(got) === JSON.stringify(want), `${got}`);
      check(`${where} ${n}: every session Established`, s.peers.every((p) => p.state === 'Established'), s.peers.map((p) => `${p.address} ${p.state} ${p.lastError}`).join('; '));
      check(`${where} ${n}: ToR session is eBGP to AS 65000`, s.peers.some((p) => p.address === TOR_IP && p.asNumber === 65000));

      const routes = await showJson(n, 'routes');
      for (const m of NODES) {
        const r = routes.find((x) => x.prefix === BLOCK[m]);
        const best = r?.paths.find((p) => p.best);
        const want = m === n ? null : NODE_IP[m];
        check(`${where} ${n}: ${BLOCK[m]} in the RIB, best via ${want ?? 'itself'}`, best !== undefined && (m === n ? best.peer === null : best.nextHop === want), JSON.stringify(r ?? null));
      }

      const fib = await showJson(n, 'fib');
      for (const m of NODES.filter((x) => x !== n)) {
        const r = fib.routes.find((x) => x.prefix === BLOCK[m]);
        check(`${where} ${n}: kernel route ${BLOCK[m]} via ${NODE_IP[m]} programmed`, r?.state === 'programmed' && JSON.stringify(r).includes(NODE_IP[m]), JSON.stringify(r ?? null));
      }
      for (const ip of Object.values(PODS[n])) {
        const r = fib.routes.find((x) => x.prefix === `${ip}/32`);
        check(`${where} ${n}: workload route ${ip}/32 programmed`, r?.state === 'programmed', JSON.stringify(r ?? null));
      }
      const kernel = await execIn(n, ['ip', 'route', 'show', 'proto', '75']);
      check(`${where} ${n}: ip route shows Kite's routes (proto 75)`, NODES.every((m) => kernel.includes(BLOCK[m])), kernel);
    }
  });

  await step(`${where}: ToR (vtysh)`, async () => {
    const summary = JSON.parse(await execIn('tor', ['vtysh', '-c', 'show bgp ipv4 unicast summary json']));
    const peers = summary.peers ?? summary.ipv4Unicast?.peers ?? {};
    for (const n of NODES) check(`${where} tor: session with ${n} Established`, peers[NODE_IP[n]]?.state === 'Established', JSON.stringify(peers[NODE_IP[n]] ?? null));
    const rib = JSON.parse(await execIn('tor', ['vtysh', '-c', 'show ip route bgp json']));
    for (const n of NODES) {
      const entries = rib[BLOCK[n]] ?? [];
      const installed = entries.some((e) => e.selected && e.installed && e.nexthops?.some((h) => h.ip === NODE_IP[n] && h.fib));
      check(`${where} tor: ${BLOCK[n]} installed via ${NODE_IP[n]}`, installed, JSON.stringify(entries));
    }
  });

  await step(`${where}: pings (every pod to every pod on the other nodes; the ToR to every pod)`, async () => {
    const script = (targets) => targets.map((ip) => `if ping -n -q -c 1 -W 2 ${ip} >/dev/null 2>&1; then echo "${ip} ok"; else echo "${ip} FAIL"; fi`).join('; ');
    const all = Object.entries(PODS).flatMap(([n, pods]) => Object.entries(pods).map(([pod, ip]) => ({ n, pod, ip })));
    await Promise.all(all.map(async ({ n, pod }) => {
      const targets = all.filter((t) => t.n !== n);
      const out = await execIn(n, ['ip', 'netns', 'exec', pod, 'sh', '-c', script(targets.map((t) => t.ip))]);
      for (const t of targets) check(`${where} ping ${pod}@${n} → ${t.pod}@${t.n} (${t.ip})`, out.includes(`${t.ip} ok`));
    }));
    const out = await execIn('tor', ['sh', '-c', script(all.map((t) => t.ip))]);
    for (const t of all) check(`${where} ping tor → ${t.pod}@${t.n} (${t.ip})`, out.includes(`${t.ip} ok`));
  });

}

/**
 * Deploys containers/lab.clab.yml the way containerlab does, with plain Docker (containerlab itself
 * is not packaged for Debian): the management network from `mgmt` (eth0 in every node, with its
 * default route: the pods' proxy ARP for 169.254.1.1 needs the node to have a route to it), each
 * node's container from its group and node settings (image, entrypoint, cmd, env, binds relative
 * to the file, sysctls), one veth pair per link straight between the two containers' namespaces,
 * then each node's exec commands. The
 * nodes get NET_ADMIN, NET_RAW and SYS_ADMIN where containerlab would make them privileged (an
 * engine lacking a capability cannot start privileged containers). Checks the topology file's
 * startup path: nodes waiting for the underlay address exec adds, the ToR bridging its links.
 */
async function clabUp(file) {
  const topo = parse(readFileSync(file, 'utf8'));
  const dir = dirname(file);
  const nodes = topo.topology.nodes;
  await run('docker', ['network', 'create', '--label', CLAB_LABEL, '--subnet', topo.mgmt['ipv4-subnet'], `${CLAB_PREFIX}${topo.mgmt.network}`]);
  for (const [name, own] of Object.entries(nodes)) {
    const n = { ...(own.group ? topo.topology.groups[own.group] : {}), ...own };
    const args = ['run', '-d', '--name', `${CLAB_PREFIX}${name}`, '--hostname', name, '--label', CLAB_LABEL, '--network', `${CLAB_PREFIX}${topo.mgmt.network}`,
      '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--cap-add', 'SYS_ADMIN'];
    for (const [k, v] of Object.entries(n.env ?? {})) args.push('-e', `${k}=${v}`);
    for (const [k, v] of Object.entries(n.sysctls ?? {})) args.push('--sysctl', `${k}=${v}`);
    for (const b of n.binds ?? []) {
      const [host, ...rest] = b.split(':');
      args.push('-v', [resolve(dir, host), ...rest].join(':'));
    }
    if (n.entrypoint) args.push('--entrypoint', n.entrypoint);
    args.push(n.image, ...(n.cmd ? n.cmd.split(' ') : []));
    await run('docker', args);
  }
  const pid = async (name) => (await run('docker', ['inspect', '-f', '{{.State.Pid}}', `${CLAB_PREFIX}${name}`])).trim();
  for (const { endpoints: [a, b] } of topo.topology.links) {
    const [na, ia] = a.split(':');
    const [nb, ib] = b.split(':');
    await run('ip', ['link', 'add', ia, 'netns', await pid(na), 'type', 'veth', 'peer', 'name', ib, 'netns', await pid(nb)]);
    await clabExec(na, ['ip', 'link', 'set', ia, 'up']);
    await clabExec(nb, ['ip', 'link', 'set', ib, 'up']);
  }
  for (const [name, own] of Object.entries(nodes)) {
    for (const cmd of own.exec ?? []) await clabExec(name, ['sh', '-c', cmd]);
  }
  log(`containerlab topology ${topo.name}: ${Object.keys(nodes).length} nodes, ${topo.topology.links.length} links`);
}

let failuresLogged = 0;
/** Prints each container's last log lines when checks failed since the last call (before it is removed). */
async function dumpLogsIfFailed(where, force = false) {
  if (results.failed === failuresLogged && !force) return;
  failuresLogged = results.failed;
  for (const s of [...NODES, 'tor']) {
    const out = where === 'containerlab'
      ? await run('docker', ['logs', '--tail', '25', `${CLAB_PREFIX}${s}`]).catch((e) => e.message)
      : await dc(['logs', '--no-color', '--tail', '25', s]).catch((e) => e.message);
    process.stdout.write(`--- ${where}: logs of ${s}\n${out}\n`);
  }
}

async function clabDown() {
  await run('sh', ['-c', `docker ps -aq --filter label=${CLAB_LABEL} | xargs -r docker rm -f`]);
  await run('sh', ['-c', `docker network ls -q --filter label=${CLAB_LABEL} | xargs -r docker network rm`]);
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('needs root (the Docker engine, debootstrap, apt-get)');

  await step('install container tooling (scripts/container-deps.sh)', () => run('sh', [join(ROOT, 'scripts', 'container-deps.sh')]));
  const engine = await step('Docker engine (scripts/docker-engine.sh)', async () => {
    const out = (await run('sh', [join(ROOT, 'scripts', 'docker-engine.sh'), 'start'])).trim();
    log(`engine: ${out}; ${(await run('docker', ['version', '-f', 'server {{.Server.Version}}, client {{.Client.Version}}'])).trim()}`);
    return out;
  });
  startedEngine = engine.startsWith('started');
  compose = await run('docker', ['compose', 'version']).then(() => ['docker', 'compose'], () => ['docker-compose']);
  log(`compose: ${compose.join(' ')} ${(await run(compose[0], [...compose.slice(1), 'version', '--short']).catch(() => '?')).trim()}`);
  // A cluster left by an interrupted run would hold the network's addresses.
  await run('sh', ['-c', `docker ps -aq --filter label=com.docker.compose.project=${PROJECT} | xargs -r docker rm -f`]);
  await run('sh', ['-c', `docker network ls -q --filter label=com.docker.compose.project=${PROJECT} | xargs -r docker network rm`]);
  await clabDown();

  await step('clean checkout (git ls-files into a scratch directory)', async () => {
    src = mkdtempSync(join(tmpdir(), 'kite-containers.'));
    const files = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']))
      .split('\0').filter((f) => f && existsSync(join(ROOT, f)));
    writeFileSync(join(src, '.files'), files.join('\0'));
    await run('sh', ['-c', 'tar -C "$1" --null -T "$2/.files" -cf - | tar -C "$2" -xf -', 'sh', ROOT, src]);
    rmSync(join(src, '.files'));
    log(`${files.length} files in ${src}`);
  });
  await step('base images (scripts/container-base.sh)', () => stream('sh', [join(src, 'scripts', 'container-base.sh')]));
  const revision = (await run('git', ['rev-parse', '--short', 'HEAD'])).trim();
  await step('build kite and kite-tor (scripts/container-build.sh)', () => stream('sh', [join(src, 'scripts', 'container-build.sh'), src], { env: { KITE_REVISION: revision } }));
  const sizes = {};
  for (const image of ['kite:0.1.0', 'kite-tor:0.1.0']) sizes[image] = Number(await run('docker', ['image', 'inspect', '-f', '{{.Size}}', image]));

  await step('compose up (images built once, not rebuilt)', () => dc(['up', '-d', '--no-build']));

  await checkCluster('compose');

  await step('health (kite health live|ready, the image HEALTHCHECK)', async () => {
    for (const n of NODES) {
      for (const mode of ['live', 'ready']) {
        const ok = await execIn(n, ['kite', 'health', mode]).then(() => true, (e) => (log(e.message), false));
        check(`${n}: kite health ${mode}`, ok);
      }
    }
    // Docker runs the HEALTHCHECK every 15 s: wait for its verdict.
    const deadline = Date.now() + 60_000;
    let status = {};
    while (Date.now() < deadline) {
      for (const n of [...NODES, 'tor']) {
        const id = (await dc(['ps', '-q', n])).trim();
        status[n] = (await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', id])).trim();
      }
      if (Object.values(status).every((s) => s === 'healthy')) break;
      await sleep(2000);
    }
    for (const [n, s] of Object.entries(status)) check(`${n}: Docker reports healthy`, s === 'healthy', s);
  });

  await step('graceful restart (kite-stop restart on node-2, as the DaemonSet stops a pod)', async () => {
    const gone = BLOCK['node-2'];
    const routeOn = async (n) => (await showJson(n, 'routes')).some((r) => r.prefix === gone);
    // Kite is the container's only child of its init, so the container stops with it, and the engine
    // may end the `exec` that ran kite-stop before kite-stop itself exits: a non-zero exit is
    // expected then, as long as kite-stop said it was killing Kite (it says so before the signal).
    const stopped = await execIn('node-2', ['kite-stop', 'restart']).then(() => 'exit 0', (e) => e.message);
    check('kite-stop restart killed Kite', stopped === 'exit 0' || stopped.includes('killing kite run'), stopped);
    // Killed without a NOTIFICATION: node-1 sees the session drop and keeps node-2's block as stale.
    let down = false;
    for (let i = 0; i < 30 && !down; i++) {
      const s = await showJson('node-1', 'summary');
      down = s.peers.some((p) => p.address === NODE_IP['node-2'] && p.state !== 'Established');
      if (!down) await sleep(500);
    }
    check('node-1 sees node-2 go', down);
    check(`node-1 keeps ${gone} while node-2 restarts (RFC 4724 helper)`, await routeOn('node-1'));
    const kernel = await execIn('node-1', ['ip', 'route', 'show', gone]);
    check(`node-1's kernel keeps ${gone}`, kernel.includes(NODE_IP['node-2']), kernel);
    const tor = JSON.parse(await execIn('tor', ['vtysh', '-c', `show ip route ${gone} json`]));
    check(`the ToR keeps ${gone}`, Object.keys(tor).includes(gone), JSON.stringify(tor));
    // The container exited with Kite; starting it again is the new pod.
    await dc(['start', 'node-2']);
    const deadline = Date.now() + CONVERGE_S * 1000;
    let back = false;
    while (!back && Date.now() < deadline) {
      back = await Promise.all(NODES.map(async (n) => {
        const [s, f] = await Promise.all([showJson(n, 'summary'), showJson(n, 'fib')]);
        return s.peers.every((p) => p.state === 'Established') && f.inSync;
      })).then((all) => all.every(Boolean), () => false);
      if (!back) await sleep(1000);
    }
    check('node-2 is back and every session Established again', back);
    const logs = await dc(['logs', '--no-color', 'node-2']);
    check('node-2 restarted gracefully (its .running marker survived: Restart State announced)', logs.includes('announcing graceful restart'), 'no graceful-restart line in its log');
    const out = await execIn('node-1', ['ip', 'netns', 'exec', 'pod-1a', 'ping', '-n', '-q', '-c', '1', '-W', '2', PODS['node-2']['pod-2a']]).then(() => 'ok', (e) => e.message);
    check('pod-1a reaches pod-2a again', out === 'ok', out);
  });

  await dumpLogsIfFailed('compose');
  await step('compose down', () => dc(['down', '-v', '--remove-orphans', '-t', '15'], { timeout: 120_000 }));

  await step('containerlab topology up (containers/lab.clab.yml, wired as containerlab wires it)', () => clabUp(join(src, 'containers', 'lab.clab.yml')));
  execIn = clabExec;
  await checkCluster('containerlab');
  await dumpLogsIfFailed('containerlab');

  return sizes;
}

let startedEngine = false;
let sizes = {};
let error = null;
const t0 = Date.now();
try {
  sizes = await main();
} catch (e) {
  error = e;
  log(`ERROR: ${e.message}`);
}

// Teardown, whatever happened: logs of a failed run first, then the cluster, the scratch copy and
// the engine this run started.
if (src && !KEEP) {
  if (error) await dumpLogsIfFailed(execIn === clabExec ? 'containerlab' : 'compose', true).catch(() => {});
  await step('clean up', async () => {
    await dc(['down', '-v', '--remove-orphans', '-t', '15'], { timeout: 120_000 }).catch((e) => log(`compose down: ${e.message}`));
    await clabDown().catch((e) => log(`containerlab down: ${e.message}`));
    const left = (await run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`])).trim()
      + (await run('docker', ['ps', '-aq', '--filter', `label=${CLAB_LABEL}`])).trim()
      + (await run('docker', ['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`])).trim()
      + (await run('docker', ['network', 'ls', '-q', '--filter', `label=${CLAB_LABEL}`])).trim();
    check('nothing of either cluster is left (containers, network)', left === '', left);
  }).catch((e) => { error ??= e; });
  rmSync(src, { recursive: true, force: true });
}
if (startedEngine && !KEEP) await run('sh', [join(ROOT, 'scripts', 'docker-engine.sh'), 'stop']).catch((e) => log(e.message));

process.stdout.write('\nStep timings:\n');
for (const t of timings) process.stdout.write(`  ${t.s.toFixed(1).padStart(7)} s  ${t.ok ? '  ' : '✗ '}${t.name}\n`);
process.stdout.write(`  ${((Date.now() - t0) / 1000).toFixed(1).padStart(7)} s  total\n`);
for (const [image, bytes] of Object.entries(sizes)) process.stdout.write(`Image ${image}: ${(bytes / 1e6).toFixed(0)} MB\n`);
if (error) failures.push(`error: ${error.message}`);
if (failures.length > 0) process.stdout.write(`\nFailures:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
process.stdout.write(`\ncontainers: ${results.passed} passed, ${results.failed + (error ? 1 : 0)} failed\n`);
process.exit(error || results.failed > 0 ? 1 : 0);
