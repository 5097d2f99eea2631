// Ingest benchmark: how fast, and at what memory cost, does each receiver (Kite, BIRD, FRR bgpd,
// GoBGP) take in one eBGP feed of N IPv4 /24s from bench/sender.mjs (a sender that shares no code
// with Kite). Each receiver runs fresh in its own network namespace pair; prints a table.
//
//   npm run bench:ingest -- [--only kite,bird,frr,gobgp] [--count 1000000] [--timeout 300] [--json]
//                           [--kite-dataplane linux|none]

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addNs, cleanupStale, deleteNs, must, sh, sleep, spawnIn, stopProc } from './netns.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['kite', 'bird', 'frr', 'gobgp'];

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ONLY = opt('only', ALL.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const COUNT = Number(opt('count', '1000000'));
// --attr-sets N: the feed carries N attribute sets (MED 0..N-1), each on a contiguous block of prefixes.
const ATTR_SETS = Number(opt('attr-sets', '1'));
const TIMEOUT_S = Number(opt('timeout', '300'));
const JSON_OUT = argv.includes('--json');
// Kite's default on Linux programs every route into the kernel (as BIRD's kernel protocol would
// with export all): RSS then includes the dataplane's state. `none` measures the RIB alone, as the
// first runs of this benchmark did (before the dataplane became the default).
const KITE_DATAPLANE = opt('kite-dataplane', 'linux');
for (const r of ONLY) if (!ALL.includes(r)) die(`unknown receiver ${r} (choose from ${ALL.join(', ')})`);

const RECV_IP = '198.18.200.1';
const SEND_IP = '198.18.200.2';
const RECV_AS = 65000;
const SEND_AS = 65001;
const PREFIX = `kt${process.pid}-`;

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

async function makePair(tag) {
  const recv = `${PREFIX}${tag}-r`;
  const send = `${PREFIX}${tag}-s`;
  for (const ns of [recv, send]) await addNs(ns);
  await must('ip', ['-n', recv, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', send]);
  await must('ip', ['-n', recv, 'addr', 'add', `${RECV_IP}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', send, 'addr', 'add', `${SEND_IP}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', recv, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', send, 'link', 'set', 'eth0', 'up']);
  return { recv, send };
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

// --- receivers ---------------------------------------------------------------------------------
// Each returns { start(ns, dir) -> proc, ready(), count() -> number of IPv4 prefixes held }.

const receivers = {
  kite: (ns, dir) => {
    const sock = join(dir, 'kite.sock');
    const conf = join(dir, 'kite.yaml');
    writeFileSync(
      conf,
      [
        `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: ${RECV_AS}\n  nodeToNodeMeshEnabled: false\n  logSeverityScreen: Warning`,
        `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: bench\nspec:\n  bgp:\n    ipv4Address: ${RECV_IP}/24\n    asNumber: ${RECV_AS}`,
        `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool\nspec:\n  cidr: 10.244.0.0/16\n  blockSize: 26`,
        `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: sender\nspec:\n  peerIP: ${SEND_IP}\n  asNumber: ${SEND_AS}`,
      ].join('\n---\n') + '\n',
    );
    const kite = ['bin/kite'];
    return {
      // INGEST_KITE_NODE_ARGS: Node flags for the Kite receiver (--cpu-prof, V8 heap flags).
      start: () => spawnIn(ns, process.execPath, [...(process.env.INGEST_KITE_NODE_ARGS ?? '').split(' ').filter(Boolean), ...kite, 'run', '--config', conf, '--node', 'bench', '--socket', sock, '--dataplane', KITE_DATAPLANE], join(dir, 'kite.log')),
      ready: async () => (await sh(process.execPath, [...kite, 'show', 'summary', '--json', '--socket', sock])).code === 0,
      count: async () => {
        const r = await sh(process.execPath, [...kite, 'show', 'summary', '--json', '--socket', sock]);
        return r.code === 0 ? JSON.parse(r.stdout).ribIPv4 : -1;
      },
    };
  },
  bird: (ns, dir) => {
    const ctl = join(dir, 'bird.ctl');
    const conf = join(dir, 'bird.conf');
    writeFileSync(
      conf,
      `router id ${RECV_IP};\nprotocol device {}\nprotocol bgp sender {\n  local ${RECV_IP} as ${RECV_AS};\n  neighbor ${SEND_IP} as ${SEND_AS};\n  ipv4 { import all; export none; };\n}\n`,
    );
    return {
      start: () => spawnIn(ns, 'bird', ['-f', '-c', conf, '-s', ctl, '-P', join(dir, 'bird.pid')], join(dir, 'bird.log')),
      ready: async () => (await sh('birdc', ['-s', ctl, 'show', 'status'])).code === 0,
      count: async () => {
        const r = await sh('birdc', ['-s', ctl, 'show', 'route', 'count', 'table', 'master4']);
        const m = /(\d+) of (\d+) routes/.exec(r.stdout);
        return m ? Number(m[1]) : -1;
      },
    };
  },
  frr: (ns, dir) => {
    const conf = join(dir, 'bgpd.conf');
    writeFileSync(
      conf,
      [
        'frr defaults traditional',
        'hostname bench',
        `log file ${join(dir, 'bgpd-file.log')} warnings`,
        `router bgp ${RECV_AS}`,
        ` bgp router-id ${RECV_IP}`,
        ' no bgp ebgp-requires-policy',
        ' no bgp default ipv4-unicast',
        ` neighbor ${SEND_IP} remote-as ${SEND_AS}`,
        ' address-family ipv4 unicast',
        `  neighbor ${SEND_IP} activate`,
        ' exit-address-family',
        '',
      ].join('\n'),
    );
    const vty = ['--vty_socket', dir, '-d', 'bgpd'];
    return {
      start: () =>
        spawnIn(ns, '/usr/lib/frr/bgpd', ['-Z', '-S', '-n', '-f', conf, '-i', join(dir, 'bgpd.pid'), '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-A', '127.0.0.1', '-P', '0'], join(dir, 'bgpd.log')),
      ready: async () => (await sh('vtysh', [...vty, '-c', 'show bgp summary json'])).code === 0,
      count: async () => {
        const r = await sh('vtysh', [...vty, '-c', 'show bgp ipv4 unicast summary json']);
        if (r.code !== 0) return -1;
        const j = JSON.parse(r.stdout);
        const peers = j.peers ?? j.ipv4Unicast?.peers ?? {};
        return peers[SEND_IP]?.pfxRcd ?? 0;
      },
    };
  },
  gobgp: (ns, dir) => {
    const conf = join(dir, 'gobgpd.toml');
    writeFileSync(
      conf,
      `[global.config]\n  as = ${RECV_AS}\n  router-id = "${RECV_IP}"\n  port = 179\n[global.apply-policy.config]\n  default-import-policy = "accept-route"\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "${SEND_IP}"\n    peer-as = ${SEND_AS}\n  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n`,
    );
    const api = ['-p', '50051'];
    return {
      start: () => spawnIn(ns, 'gobgpd', ['-f', conf, '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable', '-l', 'warn'], join(dir, 'gobgpd.log')),
      ready: async () => (await sh('ip', ['netns', 'exec', ns, 'gobgp', ...api, 'global'])).code === 0,
      count: async () => {
        const r = await sh('ip', ['netns', 'exec', ns, 'gobgp', ...api, 'global', 'rib', 'summary', '-a', 'ipv4']);
        const m = /Destination:\s*(\d+)/.exec(r.stdout);
        return m ? Number(m[1]) : -1;
      },
    };
  },
};

async function waitUntil(what, fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

async function benchOne(name) {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}bench-${name}-`));
  const { recv, send } = await makePair(name);
  let daemon;
  let sender;
  try {
    const r = receivers[name](recv, dir);
    daemon = r.start();
    await waitUntil(`${name} to start`, async () => {
      if (daemon.exited) throw new Error(`${name} exited; log:\n${readFileSync(join(dir, readLogName(name)), 'utf8').slice(-2000)}`);
      return r.ready();
    }, 30_000, 200);
    await sleep(1000); // let start-up allocation settle before the baseline
    const rssBefore = rssKiB(daemon.pid);

    let established;
    let senderError;
    sender = spawnIn(send, process.execPath, [join(ROOT, 'bench', 'sender.mjs'), '--peer', RECV_IP, '--local', SEND_IP, '--as', String(SEND_AS), '--count', String(COUNT), '--attr-sets', String(ATTR_SETS)], join(dir, 'sender.log'), { onLine: (line) => {
      try {
        const ev = JSON.parse(line);
        if (ev.event === 'established') established = ev.t;
        if (ev.event === 'error') senderError = ev.message;
      } catch {}
    } });
    await waitUntil('session Established', async () => {
      if (senderError) throw new Error(`sender: ${senderError}`);
      if (sender.exited && !established) throw new Error(`sender exited before Established; see ${join(dir, 'sender.log')}`);
      return established !== undefined;
    }, 60_000, 20);

    let held = 0;
    await waitUntil(`${name} to hold ${COUNT} prefixes (last count ${held})`, async () => {
      if (senderError) throw new Error(`sender: ${senderError}`);
      if (daemon.exited) throw new Error(`${name} exited during ingest`);
      held = await r.count();
      return held >= COUNT;
    }, TIMEOUT_S * 1000, name === 'kite' ? 0 : 50);
    const seconds = (Date.now() - established) / 1000;
    await sleep(1000);
    const rssAfter = rssKiB(daemon.pid);
    const growthKiB = rssAfter - rssBefore;
    return { receiver: name, seconds, rssBeforeMiB: rssBefore / 1024, rssAfterMiB: rssAfter / 1024, growthMiB: growthKiB / 1024, bytesPerRoute: (growthKiB * 1024) / COUNT };
  } catch (e) {
    return { receiver: name, error: e instanceof Error ? e.message : String(e) };
  } finally {
    await stopProc(sender, 2000);
    await stopProc(daemon, 5000);
    await deleteNs(recv);
    await deleteNs(send);
    if (!process.env.KT_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: logs kept in ${dir}\n`);
  }
}

function readLogName(name) {
  return { kite: 'kite.log', bird: 'bird.log', frr: 'bgpd.log', gobgp: 'gobgpd.log' }[name];
}

async function main() {
  if (process.getuid?.() !== 0) die('needs root (network namespaces)');
  const inst = await sh('sh', [join(ROOT, 'scripts', 'install-deps.sh')], 600_000);
  if (inst.code !== 0) die(`scripts/install-deps.sh failed:\n${inst.stderr}`);
  if (ONLY.includes('kite') && !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) die('Kite is not built: run npm run build');
  await cleanupStale();

  const results = [];
  for (const name of ONLY) {
    process.stderr.write(`bench: ${name} ingesting ${COUNT} prefixes...\n`);
    const res = await benchOne(name);
    results.push(res);
    process.stderr.write(res.error ? `bench: ${name} FAILED: ${res.error}\n` : `bench: ${name} ${res.seconds.toFixed(2)} s\n`);
  }

  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), count: COUNT, results }, null, 2) + '\n');
  } else {
    const rows = [['receiver', 'seconds to hold all', 'RSS before MiB', 'RSS after MiB', 'RSS growth MiB', 'bytes/route']];
    for (const r of results) {
      rows.push(
        r.error
          ? [r.receiver, `FAILED: ${r.error.split('\n')[0]}`, '', '', '', '']
          : [r.receiver, r.seconds.toFixed(2), r.rssBeforeMiB.toFixed(1), r.rssAfterMiB.toFixed(1), r.growthMiB.toFixed(1), r.bytesPerRoute.toFixed(0)],
      );
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
    const fmt = (row) => '| ' + row.map((v, c) => String(v).padEnd(widths[c])).join(' | ') + ' |';
    process.stdout.write(`${COUNT} IPv4 /24s in ${ATTR_SETS} attribute set(s), one eBGP session, ${new Date().toISOString().slice(0, 10)}\n`);
    process.stdout.write(fmt(rows[0]) + '\n' + '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |\n');
    for (const row of rows.slice(1)) process.stdout.write(fmt(row) + '\n');
  }
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
