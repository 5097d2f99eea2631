// Idle footprint benchmark (issue 16, item 4): `kite run` with no peers and no routes, measured
// a few seconds after start: VmRSS from /proc beside the daemon's own process.memoryUsage()
// (heap used/total, external, array buffers), and which packages it loaded.
//
//   npm run build && npm run bench:idle -- [--runs 3] [--wait 4] [--only file-none,file-linux,kubernetes] [--json]
//
// Modes: file-none (file datastore, --dataplane none), file-linux (file datastore, the Linux
// dataplane, in a fresh network namespace kt<pid>-idle), kubernetes (the project's local API
// server, test/datastore/kubernetes/fake-apiserver.ts compiled with the project's tsc, on
// 127.0.0.1; --dataplane none). The daemon is started with `node --import bench/idle-probe.mjs`,
// which writes process.memoryUsage() and the loaded node_modules packages to a file when asked
// (SIGUSR2), so the numbers are the daemon's own, not a wrapper's.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFakeApiServer } from './fake-apiserver.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const MODES = ['file-none', 'file-linux', 'kubernetes'];
const ONLY = opt('only', MODES.join(',')).split(',').filter(Boolean);
const RUNS = Number(opt('runs', '3'));
const WAIT_S = Number(opt('wait', '4'));
const JSON_OUT = argv.includes('--json');
for (const m of ONLY) if (!MODES.includes(m)) die(`unknown mode ${m} (choose from ${MODES.join(', ')})`);
if (ONLY.includes('file-linux') && process.getuid?.() !== 0) die('file-linux needs root (a network namespace)');

function die(msg) {
  process.stderr.write(`bench:idle: ${msg}\n`);
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const NS = `kt${process.pid}-idle`;
const tmp = mkdtempSync(join(tmpdir(), 'kite-bench-idle-'));
let nsMade = false;
const live = new Set();
process.once('exit', () => {
  for (const c of live) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {}
  }
  if (nsMade) {
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {}
  }
  rmSync(tmp, { recursive: true, force: true });
});
for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => process.exit(130));

const YAML = (ip) => `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {asNumber: 64512, nodeToNodeMeshEnabled: false, logSeverityScreen: Warning}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: default-ipv4-ippool}
spec: {cidr: 10.244.0.0/16, blockSize: 26, ipipMode: Never, vxlanMode: Never, natOutgoing: true, nodeSelector: all()}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: idle}
spec: {bgp: {ipv4Address: ${ip}/24}}
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: {name: idle-10-244-0-0-26}
spec: {node: idle, cidr: 10.244.0.0/26, state: confirmed, deleted: "false"}
`;

let server;
async function kubeconfig() {
  if (server) return server.kubeconfig();
  const dir = join(tmp, 'fa');
  const { FakeApiServer, calico, k8sNode } = await loadFakeApiServer(dir);
  server = await FakeApiServer.start({ writable: true });
  server.put(calico('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Warning' }));
  server.put(calico('IPPool', 'default-ipv4-ippool', { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' }));
  server.put(k8sNode('idle', { 'projectcalico.org/IPv4Address': '127.0.0.91/8' }));
  server.put(calico('BlockAffinity', 'idle-10-244-0-0-26', { node: 'idle', cidr: '10.244.0.0/26', state: 'confirmed', deleted: 'false' }));
  return server.kubeconfig();
}

async function measure(mode, run) {
  const out = join(tmp, `${mode}-${run}.json`);
  const common = ['run', '--node', 'idle', '--socket', join(tmp, `${mode}-${run}.sock`), '--http-port', '0', '--log-level', 'warn', '--listen-port', '0'];
  let cmd = [process.execPath, '--import', join(ROOT, 'bench/idle-probe.mjs'), join(ROOT, 'bin/kite')];
  let args;
  if (mode === 'file-none' || mode === 'kubernetes') {
    args = [...common, '--dataplane', 'none', '--listen-address', '127.0.0.91'];
    if (mode === 'file-none') {
      writeFileSync(join(tmp, 'none.yaml'), YAML('127.0.0.91'));
      args.push('--config', join(tmp, 'none.yaml'));
    } else args.push('--datastore', 'kubernetes', '--kubeconfig', await kubeconfig());
  } else {
    if (!nsMade) {
      execFileSync('ip', ['netns', 'add', NS]);
      nsMade = true;
      execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
      execFileSync('ip', ['-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      execFileSync('ip', ['-n', NS, 'link', 'set', 'eth1', 'up']);
      execFileSync('ip', ['-n', NS, 'addr', 'add', '198.18.240.1/24', 'dev', 'eth0']);
      execFileSync('ip', ['-n', NS, 'link', 'set', 'eth0', 'up']);
    }
    writeFileSync(join(tmp, 'linux.yaml'), YAML('198.18.240.1'));
    args = [...common, '--dataplane', 'linux', '--config', join(tmp, 'linux.yaml')];
    cmd = ['ip', 'netns', 'exec', NS, ...cmd];
  }
  const logFile = join(tmp, `${mode}-${run}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd[0], [...cmd.slice(1), ...args], { detached: true, stdio: ['ignore', fd, fd], cwd: ROOT,
    env: { ...process.env, KITE_IDLE_PROBE_OUT: out, KITE_STATE_DIR: tmp } });
  closeSync(fd);
  live.add(child);
  await sleep(WAIT_S * 1000);
  // The daemon's pid: the child itself, or (ip netns exec) the node process it became.
  const pid = child.pid;
  if (child.exitCode !== null) die(`${mode}: kite exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100 && !existsSync(out); i++) await sleep(20);
  const probe = JSON.parse(readFileSync(out, 'utf8'));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) await sleep(50);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  live.delete(child);
  const mib = (b) => b / (1 << 20);
  return {
    mode, run, vmRssMiB: kb('VmRSS') / 1024, vmHwmMiB: kb('VmHWM') / 1024,
    heapUsedMiB: mib(probe.mem.heapUsed), heapTotalMiB: mib(probe.mem.heapTotal), externalMiB: mib(probe.mem.external),
    arrayBuffersMiB: mib(probe.mem.arrayBuffers), packages: probe.packages,
  };
}

const rows = [];
for (let run = 1; run <= RUNS; run++) for (const mode of ONLY) rows.push(await measure(mode, run));
await server?.close();
if (JSON_OUT) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
else {
  const f = (x) => x.toFixed(1);
  const lines = ['| mode | run | VmRSS MiB | VmHWM MiB | heapUsed | heapTotal | external | arrayBuffers |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.mode} | ${r.run} | ${f(r.vmRssMiB)} | ${f(r.vmHwmMiB)} | ${f(r.heapUsedMiB)} | ${f(r.heapTotalMiB)} | ${f(r.externalMiB)} | ${f(r.arrayBuffersMiB)} |`);
  lines.push('');
  for (const mode of ONLY) lines.push(`${mode} loaded: ${rows.find((r) => r.mode === mode).packages.join(' ')}`);
  process.stdout.write(lines.join('\n') + '\n');
}
process.exit(0);
