// The lab's side effects on the machine: iproute2 commands, sysctls, namespace listing and
// process signalling. Kept in one place so the orchestration (lab.ts) reads as a plan, and so
// every command that fails says which command it was.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { NS_PREFIX } from './topology.js';

export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface ExecResult { stdout: string; stderr: string }

/** Runs a command; rejects with the command line and its stderr when it exits non-zero. */
export function exec(file: string, args: readonly string[], input?: string, timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const detail = stderr.trim() || err.message;
        reject(new CommandError(`${file} ${args.join(' ')}: ${detail}`));
        return;
      }
      resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `ip -n NS -batch -`: many iproute2 commands in one process (one fork instead of dozens). */
export async function ipBatch(ns: string | null, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const args = ns === null ? ['-batch', '-'] : ['-n', ns, '-batch', '-'];
  await exec('ip', args, lines.join('\n') + '\n');
}

/** Sets sysctls inside a namespace (`ip netns exec` so /proc/sys/net is that namespace's). */
export async function sysctls(ns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const args = ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)];
  await exec('ip', args);
}

/** Every network namespace whose name starts with the lab prefix. */
export async function labNamespaces(): Promise<string[]> {
  const { stdout } = await exec('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(NS_PREFIX));
}

/** Pids of the processes whose network namespace is `ns` (iproute2 compares /proc/<pid>/ns/net). */
export async function namespacePids(ns: string): Promise<number[]> {
  try {
    const { stdout } = await exec('ip', ['netns', 'pids', ns]);
    return stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
  } catch {
    return [];
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process, "" when it is gone. Used to avoid signalling a reused pid. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** SIGTERM, then SIGKILL after `graceMs` for whatever still runs. Resolves when all are gone. */
export async function terminate(pids: readonly number[], graceMs = 3000): Promise<void> {
  const live = pids.filter(isAlive);
  for (const pid of live) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  const deadline = Date.now() + graceMs;
  while (live.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of live.filter(isAlive)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  const hard = Date.now() + 2000;
  while (live.some(isAlive) && Date.now() < hard) await sleep(20);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts a long-running process in a namespace, detached from this process (its own session,
 * stdio to a log file), so it outlives `kite lab up` and is found later by its namespace.
 */
export function spawnInNs(ns: string, argv: readonly string[], logFd: number, env?: NodeJS.ProcessEnv): number {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', logFd, logFd], ...(env !== undefined ? { env } : {}) });
  child.unref();
  if (child.pid === undefined) throw new CommandError(`could not start ${argv.join(' ')} in ${ns}`);
  return child.pid;
}

/** Asks the kernel whether it can create a link of this type (in a scratch namespace). */
export async function kernelHasLinkType(type: string, extra: readonly string[] = []): Promise<boolean> {
  const ns = `${NS_PREFIX}probe-${type}-${process.pid}`;
  try {
    await exec('ip', ['netns', 'add', ns]);
    await exec('ip', ['-n', ns, 'link', 'add', 'probe0', 'type', type, ...extra]);
    return true;
  } catch {
    return false;
  } finally {
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}
