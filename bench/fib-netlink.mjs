// Benchmark: install N routes (default 100,000) into a fresh network namespace with Kite's
// in-process netlink binding and with `ip -batch`, in the same run. Time is until every route is
// acknowledged by the kernel; each run is then verified by counting the routes in the kernel.
// Needs root and a built tree (npm run build). Usage: node bench/fib-netlink.mjs [N] [runs]

import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netlink } from '../dist/dataplane/netlink/index.js';

const N = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const PROTO = 80;
const sh = (...a) => execFileSync(a[0], a.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });

function lab(name) {
  try { sh('ip', 'netns', 'del', name); } catch { /* absent */ }
  sh('ip', 'netns', 'add', name);
  sh('ip', '-n', name, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  sh('ip', '-n', name, 'link', 'set', 'va', 'up');
  sh('ip', '-n', name, 'link', 'set', 'vb', 'up');
  sh('ip', '-n', name, 'addr', 'add', '198.18.0.1/24', 'dev', 'va');
}

const dst = (i) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function countKernel(ns) {
  // Independent of our binding: iproute2 lists them.
  return sh('ip', '-n', ns, 'route', 'show', 'proto', String(PROTO)).trim().split('\n').filter(Boolean).length;
}

async function viaNetlink(ns) {
  const nl = Netlink.open({ netns: ns });
  const specs = [];
  for (let i = 0; i < N; i++) specs.push({ dst: dst(i), dstLen: 32, gateway: '198.18.0.2', protocol: PROTO });
  const t0 = process.hrtime.bigint();
  const rs = await nl.addRoutes(specs);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const failed = rs.filter((r) => !r.ok).length;
  const td = process.hrtime.bigint();
  const dumped = (await nl.dumpRoutes({ protocol: PROTO })).length;
  const dumpMs = Number(process.hrtime.bigint() - td) / 1e6;
  nl.close();
  if (failed) throw new Error(`${failed} routes failed`);
  return { ms, dumped, dumpMs, window: nl.window, stalls: nl.stalls };
}

function viaIpBatch(ns, dir) {
  const file = join(dir, 'routes.batch');
  const lines = [];
  for (let i = 0; i < N; i++) lines.push(`route add ${dst(i)}/32 via 198.18.0.2 proto ${PROTO}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const t0 = process.hrtime.bigint();
  sh('ip', '-n', ns, '-batch', file);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const dir = mkdtempSync(join(tmpdir(), 'kite-fib-'));
const ns = `kfib${process.pid}`;
const rows = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    lab(ns);
    const a = await viaNetlink(ns);
    const countA = countKernel(ns);
    rows.push({ method: 'kite netlink (in-process)', run, ms: a.ms, count: countA, note: `window ${a.window}; own dump ${a.dumped} in ${a.dumpMs.toFixed(0)} ms; stalls ${a.stalls}` });
    lab(ns);
    const b = viaIpBatch(ns, dir);
    const countB = countKernel(ns);
    rows.push({ method: 'ip -batch', run, ms: b.ms, count: countB, note: '' });
  }
} finally {
  try { sh('ip', 'netns', 'del', ns); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${N.toLocaleString('en')} IPv4 /32 routes via a gateway, fresh namespace each run (node ${process.version})\n`);
console.log('| method | run | time (ms) | routes/s | in kernel | note |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.method} | ${r.run} | ${r.ms.toFixed(0)} | ${Math.round((N / r.ms) * 1000).toLocaleString('en')} | ${r.count} | ${r.note} |`);
}
const best = (m) => Math.min(...rows.filter((r) => r.method === m).map((r) => r.ms));
const med = (m) => rows.filter((r) => r.method === m).map((r) => r.ms).sort((x, y) => x - y)[Math.floor(RUNS / 2)];
for (const m of ['kite netlink (in-process)', 'ip -batch']) {
  console.log(`${m}: median ${med(m).toFixed(0)} ms (${Math.round((N / med(m)) * 1000).toLocaleString('en')} routes/s), best ${best(m).toFixed(0)} ms`);
}
if (rows.some((r) => r.count !== N)) {
  console.error('MISMATCH: not every route reached the kernel');
  process.exitCode = 1;
}
