// Differential check (issue 11, part 2): the same seeded malformed or unusual OPEN, UPDATE and
// KEEPALIVE messages sent to Kite, BIRD 2 and FRR bgpd over live sessions, the reactions compared.
// Each daemon runs in its own network namespace, joined by a veth to one tester namespace where
// worker.mjs speaks BGP with the check's own bytes (bytes.mjs shares no code with src/).
//
//   npm run check:differential -- [--only kite,bird,frr] [--seed 11] [--random 1600] [--lanes 3]
//                                 [--limit N] [--match REGEX-on-class] [--ids 1,2] [--out file.md] [--json file]
//                                 [--kite DIR: another built Kite tree, e.g. an older commit's]

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DUT_AS, EBGP_AS, classOf, generate, prefixesOf } from './cases.mjs';
import { OBSERVER_AS } from './runner.mjs';
import { unexplained } from './judged.mjs';
import { family, kiteOnly, summarize } from './summary.mjs';
// Process and namespace plumbing only: nothing of Kite's (the check shares no code with src/).
import { addNs, cleanupStale, liveNs, liveProcs, must, sh, sleep, spawnIn } from '../netns.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ALL = ['kite', 'bird', 'frr'];
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt; };
const ONLY = opt('only', ALL.join(',')).split(',').filter(Boolean);
const SEED = Number(opt('seed', '11'));
const RANDOM = Number(opt('random', '1600'));
const LANES = Number(opt('lanes', '3'));
const LIMIT = Number(opt('limit', '0'));
const MATCH = opt('match', '');
const IDS = opt('ids', '');
const OUT = opt('out', '');
const JSON_OUT = opt('json', '');
// Another built Kite tree to test (a checkout of an older commit, to compare before and after).
const KITE_ROOT = opt('kite', ROOT);
const PREFIX = `kt${process.pid}-df`;

// Its own stop: 3 s of grace and no wait after SIGKILL (bench/netns.mjs's stopProc waits for the exit).
async function stopProc(p) {
  if (!p || p.exited) return;
  try { process.kill(-p.pid, 'SIGTERM'); } catch {}
  for (let i = 0; i < 60 && !p.exited; i++) await sleep(50);
  try { process.kill(-p.pid, 'SIGKILL'); } catch {}
}

/** The daemon once `ready()` says so (polled every 200 ms, 20 s at most); its log in the error when it exits first. */
async function started(p, name, logFile, ready) {
  for (let i = 0; i < 100; i++) {
    if (p.exited) throw new Error(`${name} exited:\n${readFileSync(logFile, 'utf8')}`);
    if (await ready()) return { proc: p, pids: [p.pid] };
    await sleep(200);
  }
  throw new Error(`${name} did not start`);
}

// --- addressing: daemon k on 198.18.(110+k).0/24, the daemon .1, eBGP peers .10-.49, iBGP .50-.89, observer .250
const net4 = (k) => `198.18.${110 + k}.`;
const net6 = (k) => `fd00:198:18:${110 + k}::`;
const EBGP = Array.from({ length: 40 }, (_, i) => 10 + i);
const IBGP = Array.from({ length: 40 }, (_, i) => 50 + i);
const OBS = 250;

async function makeLab(dir) {
  const t = `${PREFIX}-t`;
  await addNs(t);
  for (const [k, name] of ALL.entries()) {
    if (!ONLY.includes(name)) continue;
    const ns = `${PREFIX}-${name}`;
    await addNs(ns);
    await must('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `d${k}`, 'netns', t]);
    await must('ip', ['-n', ns, 'addr', 'add', `${net4(k)}1/24`, 'dev', 'eth0']);
    await must('ip', ['-n', ns, 'addr', 'add', `${net6(k)}1/64`, 'dev', 'eth0', 'nodad']);
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    const batch = [...EBGP, ...IBGP, OBS].flatMap((h) => [`addr add ${net4(k)}${h}/24 dev d${k}`, `addr add ${net6(k)}${h}/64 dev d${k} nodad`]).join('\n') + `\nlink set d${k} up\n`;
    const f = join(dir, `addrs-${k}`);
    writeFileSync(f, batch);
    await must('ip', ['-n', t, '-batch', f]);
  }
  return t;
}

// --- the daemons' configurations: AS 65000, every address of the pools a passive neighbour ------
function kiteYaml(k) {
  const docs = [
    `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: ${DUT_AS}\n  nodeToNodeMeshEnabled: false\n  logSeverityScreen: Warning`,
    `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: dut\nspec:\n  bgp:\n    ipv4Address: ${net4(k)}1/24\n    ipv6Address: ${net6(k)}1/64\n    asNumber: ${DUT_AS}`,
    // Calico exports what lies inside an IPPool (a disabled pool still exports): these cover everything.
    ...[['all4', '0.0.0.0/0', 26], ['all6', '::/0', 122]].map(([n, cidr, bs]) =>
      `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${n}\nspec:\n  cidr: ${cidr}\n  blockSize: ${bs}\n  disabled: true`),
    // Each of our addresses twice, over IPv4 and over IPv6: a Calico session carries one family.
    ...[...EBGP.map((h) => [h, EBGP_AS]), ...IBGP.map((h) => [h, DUT_AS]), [OBS, OBSERVER_AS]].flatMap(([h, as]) => [
      `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: p${h}\nspec:\n  peerIP: ${net4(k)}${h}\n  asNumber: ${as}`,
      `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: p${h}-v6\nspec:\n  peerIP: ${net6(k)}${h}\n  asNumber: ${as}`]),
  ];
  return docs.join('\n---\n') + '\n';
}

// Every session carries one family, as Calico's BIRD configuration has it (bird.cfg / bird6.cfg).
function birdConf(k, dir) {
  const l = [
    `log "${join(dir, 'bird.log')}" { warning, error, fatal };`,
    `router id ${net4(k)}1;`,
    'protocol device { scan time 10; }',
    `template bgp T { local as ${DUT_AS}; passive on; direct; hold time 180; error wait time 1, 2; error forget time 1; }`,
  ];
  for (const [fam, net] of [['ipv4', net4(k)], ['ipv6', net6(k)]]) {
    const tag = fam === 'ipv6' ? '6' : '';
    const quiet = `  local ${net}1; ${fam} { import all; export none; gateway direct; };`;
    for (const h of EBGP) l.push(`protocol bgp e${tag}${h} from T { neighbor ${net}${h} as ${EBGP_AS};`, quiet, '}');
    for (const h of IBGP) l.push(`protocol bgp i${tag}${h} from T { neighbor ${net}${h} as ${DUT_AS};`, quiet, '}');
    l.push(`protocol bgp obs${tag} from T { local ${net}1; neighbor ${net}${OBS} as ${OBSERVER_AS}; ${fam} { import all; export all; }; }`);
  }
  return l.join('\n') + '\n';
}

function frrConf(k, dir) {
  const l = [
    'frr defaults traditional', 'hostname dut', `log file ${join(dir, 'bgpd.log')} warnings`, '!', `router bgp ${DUT_AS}`,
    ` bgp router-id ${net4(k)}1`, ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast', ' no bgp network import-check',
  ];
  for (const [g, as] of [['E', EBGP_AS], ['I', DUT_AS], ['O', OBSERVER_AS], ['E6', EBGP_AS], ['I6', DUT_AS], ['O6', OBSERVER_AS]]) {
    l.push(` neighbor ${g} peer-group`, ` neighbor ${g} remote-as ${as}`, ` neighbor ${g} passive`, ` neighbor ${g} timers 60 180`,
      ` neighbor ${g} disable-connected-check`, ` neighbor ${g} advertisement-interval 0`);
  }
  for (const [tag, net] of [['', net4(k)], ['6', net6(k)]]) {
    for (const h of EBGP) l.push(` neighbor ${net}${h} peer-group E${tag}`);
    for (const h of IBGP) l.push(` neighbor ${net}${h} peer-group I${tag}`);
    l.push(` neighbor ${net}${OBS} peer-group O${tag}`);
  }
  // One family per session, as Calico's: the IPv4 groups in IPv4 unicast, the IPv6 ones in IPv6 unicast.
  for (const [fam, tag] of [['ipv4', ''], ['ipv6', '6']]) {
    l.push(` address-family ${fam} unicast`);
    for (const g of ['E', 'I', 'O']) l.push(`  neighbor ${g}${tag} activate`);
    l.push(`  neighbor E${tag} route-map NONE out`, `  neighbor I${tag} route-map NONE out`, ' exit-address-family');
  }
  l.push('!', 'route-map NONE deny 10', '!', 'line vty', '!');
  return l.join('\n') + '\n';
}

const daemons = {
  kite: {
    async start(k, ns, dir) {
      const conf = join(dir, 'kite.yaml');
      writeFileSync(conf, kiteYaml(k));
      const sock = join(dir, 'kite.sock');
      const p = spawnIn(ns, process.execPath, [join(KITE_ROOT, 'bin', 'kite'), 'run', '--config', conf, '--node', 'dut', '--socket', sock, '--dataplane', 'none'], join(dir, 'kite.log'));
      return started(p, 'kite', join(dir, 'kite.log'),
        async () => (await sh(process.execPath, [join(KITE_ROOT, 'bin', 'kite'), 'show', 'summary', '--json', '--socket', sock])).code === 0);
    },
  },
  bird: {
    async start(k, ns, dir) {
      const conf = join(dir, 'bird.conf');
      writeFileSync(conf, birdConf(k, dir));
      const ctl = join(dir, 'bird.ctl');
      const p = spawnIn(ns, 'bird', ['-f', '-c', conf, '-s', ctl, '-P', join(dir, 'bird.pid')], join(dir, 'bird.out'));
      return started(p, 'bird', join(dir, 'bird.out'),
        async () => /Daemon is up/.test((await sh('ip', ['netns', 'exec', ns, 'birdc', '-s', ctl, 'show', 'status'])).stdout));
    },
  },
  frr: {
    async start(k, ns, dir) {
      const conf = join(dir, 'bgpd.conf');
      writeFileSync(conf, frrConf(k, dir));
      const p = spawnIn(ns, '/usr/lib/frr/bgpd', ['-Z', '-S', '-n', '-f', conf, '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-A', '127.0.0.1', '-P', '0'], join(dir, 'bgpd.out'));
      return started(p, 'bgpd', join(dir, 'bgpd.out'),
        async () => (await sh('ip', ['netns', 'exec', ns, 'vtysh', '--vty_socket', dir, '-d', 'bgpd', '-c', 'show bgp summary json'])).stdout.includes('{'));
    },
  },
};

/** Runs the worker for one daemon (restarting the daemon after a crash) until every case has a result. */
async function runDaemon(name, k, t, dir, ids) {
  const ns = `${PREFIX}-${name}`;
  const ddir = join(dir, name);
  mkdirSync(ddir, { recursive: true });
  const results = new Map();
  let crashes = 0;
  while (results.size < ids.length && crashes < 100) {
    const d = await daemons[name].start(k, ns, ddir);
    const todo = ids.filter((id) => !results.has(id));
    const cfgFile = join(ddir, `worker-${crashes}.json`);
    writeFileSync(cfgFile, JSON.stringify({
      seed: SEED, random: RANDOM, ids: todo, lanes: LANES, settleMs: 60, caseTimeoutMs: 4000, pids: d.pids,
      dut: { name, dut: `${net4(k)}1`, dut6: `${net6(k)}1`, port: 179, observer: `${net4(k)}${OBS}`, observer6: `${net6(k)}${OBS}`, other: `${net4(k)}200`, v6prefix: net6(k), ebgp: EBGP.map((h) => `${net4(k)}${h}`), ibgp: IBGP.map((h) => `${net4(k)}${h}`) },
    }));
    const w = spawnIn(t, process.execPath, [join(ROOT, 'bench', 'differential', 'worker.mjs'), cfgFile], join(ddir, 'worker.err'), { pipe: true });
    let buf = '';
    let done = 0;
    w.child.stdout.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const r = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        results.set(r.id, r);
        if (++done % 250 === 0) process.stderr.write(`  ${name}: ${results.size}/${ids.length}\n`);
      }
    });
    await new Promise((r) => w.child.once('exit', r));
    const crashed = [...results.values()].some((r) => r.reaction === 'crash' && !r.counted);
    for (const r of results.values()) r.counted = true;
    await stopProc(d.proc);
    if (!crashed && results.size < ids.length) throw new Error(`${name}: worker stopped after ${results.size}/${ids.length} cases:\n${readFileSync(join(ddir, 'worker.err'), 'utf8')}`);
    if (crashed) crashes++;
  }
  return results;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('the differential check needs root (network namespaces)');
  if (!existsSync(join(KITE_ROOT, 'dist', 'daemon.js'))) throw new Error(`Kite is not built in ${KITE_ROOT}: npm run build`);
  await cleanupStale();
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
  const started = Date.now();
  let cases = generate({ seed: SEED, random: RANDOM });
  if (MATCH) {
    const re = new RegExp(MATCH);
    const ctx = { local: '198.18.0.10', local6: 'fd00::10', dut: '198.18.0.1', dut6: 'fd00::1', other: '198.18.0.200' };
    cases = cases.filter((c) => re.test(classOf(c, { ...ctx, ...prefixesOf(c.id), ibgp: c.ibgp, as4: c.as4, peerAs: c.ibgp ? DUT_AS : EBGP_AS })));
  }
  if (IDS) { const want = new Set(IDS.split(',').map(Number)); cases = cases.filter((c) => want.has(c.id)); }
  if (LIMIT) cases = cases.slice(0, LIMIT);
  const ids = cases.map((c) => c.id);
  process.stderr.write(`differential: ${cases.length} cases (seed ${SEED}) against ${ONLY.join(', ')}; logs in ${dir}\n`);
  try {
    const t = await makeLab(dir);
    const per = {};
    await Promise.all(ALL.map(async (name, k) => {
      if (!ONLY.includes(name)) return;
      per[name] = await runDaemon(name, k, t, dir, ids);
    }));
    const seconds = Math.round((Date.now() - started) / 1000);
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(Object.fromEntries(Object.entries(per).map(([n, m]) => [n, [...m.values()]])), null, 0));
    const text = summarize(cases, per, { seed: SEED, seconds, versions: await versions() });
    process.stdout.write(text);
    if (OUT) writeFileSync(OUT, text);
    // A check, not statistics: Kite crashing or hanging, or a Kite-only divergence nobody has judged, fails it.
    const problems = [];
    if (per.kite) {
      const bad = [...per.kite.values()].filter((r) => /^(crash|hang|stalled|harness error|setup failed)/.test(r.reaction));
      if (bad.length) problems.push(`Kite: ${bad.length} cases crashed, hung or could not run (#${bad.slice(0, 5).map((r) => r.id).join(', #')})`);
      if (per.bird && per.frr) {
        const left = unexplained(kiteOnly(cases, per), family);
        if (left.length) problems.push(`${left.length} Kite-only divergences not judged in bench/differential/judged.mjs (#${left.slice(0, 5).map((d) => d.id).join(', #')})`);
      }
    }
    if (problems.length) { process.stderr.write(`differential: FAILED: ${problems.join('; ')}\n`); process.exitCode = 1; }
    else process.stderr.write('differential: passed (no Kite crash or hang; every Kite-only divergence is judged right in judged.mjs)\n');
  } finally {
    for (const p of [...liveProcs]) await stopProc(p);
    for (const ns of [...liveNs]) { await sh('ip', ['netns', 'del', ns]); liveNs.delete(ns); }
    if (!process.env.KT_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  }
}

async function versions() {
  const bird = (await sh('bird', ['--version'])).stderr.trim() || 'BIRD ?';
  const frr = ((await sh('/usr/lib/frr/bgpd', ['--version'])).stdout.split('\n')[0] ?? '').trim();
  return { bird, frr };
}

main().catch((e) => { process.stderr.write(`differential: ${e.stack ?? e}\n`); process.exitCode = 1; });
