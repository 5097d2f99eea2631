// Process and network-namespace plumbing the namespace benchmarks and check:differential share:
// commands run without a shell, namespaces named kt<pid>-… and processes spawned in them, all
// removed on every exit (importing this module installs the exit and signal handlers), and the
// namespaces of earlier runs whose process is gone removed at start. Nothing here knows BGP or Kite.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the working folder of every process spawned here. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `cmd` (no shell); resolves with its exit code (1 for a signal or a spawn error), stdout and stderr. */
export function sh(cmd, args, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** As sh, but a non-zero exit throws with the command and its output; resolves with stdout. */
export async function must(cmd, args) {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Namespaces this run made (add each after `ip netns add`); deleted at exit. */
export const liveNs = new Set();
/** Processes this run spawned ({ pid, child, exited }, process-group leaders); killed at exit. */
export const liveProcs = new Set();

function cleanupSync() {
  for (const p of liveProcs) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {}
  }
  for (const ns of liveNs) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {}
  }
}
process.once('exit', cleanupSync);
for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => process.exit(130));

/** Namespace `ns` with its loopback up, deleted at exit. */
export async function addNs(ns) {
  await must('ip', ['netns', 'add', ns]);
  liveNs.add(ns);
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Remove `kt<pid>-*` namespaces of earlier runs whose process is gone (never anyone else's). */
export async function cleanupStale() {
  const out = await sh('ip', ['netns', 'list']);
  for (const line of out.stdout.split('\n')) {
    const name = line.split(' ')[0];
    const m = /^kt(\d+)-[A-Za-z0-9-]+$/.exec(name ?? '');
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    await deleteNs(name);
  }
}

/** Kill every process in `ns`, then delete it. */
export async function deleteNs(ns) {
  const pids = await sh('ip', ['netns', 'pids', ns]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
  await sh('ip', ['netns', 'del', ns]);
  liveNs.delete(ns);
}

/**
 * `cmd` in namespace `ns`, in its own process group, stderr (and stdout unless piped) appended to
 * `logFile`. `pipe`: stdout stays readable on `child.stdout`; `onLine`: it is also split into lines.
 */
export function spawnIn(ns, cmd, args, logFile, { pipe = false, onLine } = {}) {
  const fd = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
    detached: true,
    stdio: ['ignore', pipe || onLine ? 'pipe' : fd, fd],
    cwd: ROOT,
  });
  closeSync(fd);
  const p = { pid: child.pid, child, exited: false };
  child.once('exit', () => {
    p.exited = true;
    liveProcs.delete(p);
  });
  liveProcs.add(p);
  if (onLine) {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }
  return p;
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProc(p, graceMs = 5000) {
  if (!p || p.exited) return;
  try {
    process.kill(-p.pid, 'SIGTERM');
  } catch {}
  const deadline = Date.now() + graceMs;
  while (!p.exited && Date.now() < deadline) await sleep(50);
  try {
    process.kill(-p.pid, 'SIGKILL');
  } catch {}
  while (!p.exited) await sleep(20);
}
