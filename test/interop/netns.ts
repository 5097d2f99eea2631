// Network-namespace lab for interop tests: one bridge namespace per test file, one namespace per
// BGP speaker joined to the bridge by a veth pair, addresses in 198.18.0.0/15 and fd00:198:18::/48.
// Every name starts with `kt<pid>-` so a crashed run's leftovers can be found and removed later.

import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command on the host (no namespace) and collect its output; never throws on exit code. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 1 && !stderr ? String(err.message) : '') });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run() but throws with the command line and stderr when the exit code is not 0. */
export async function must(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${cmd} ${args.join(' ')}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Thrown by a waitFor probe when waiting longer cannot help (the daemon exited). */
export class FatalWaitError extends Error {}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `probe` until it returns a non-undefined value or the timeout passes. On timeout the error
 * names what was awaited and the last observed state (from `describe`) so a failure is readable.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastErr = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      lastErr = '';
    } catch (e) {
      if (e instanceof FatalWaitError) throw e;
      lastErr = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      let state = '';
      if (opts.describe) {
        try {
          state = await opts.describe();
        } catch (e) {
          state = `(describe failed: ${String(e)})`;
        }
      }
      throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${what}${lastErr ? `; last error: ${lastErr}` : ''}${state ? `\nlast state:\n${state}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** A long-running process inside a namespace, started as its own process group. */
export class NsProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  private exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(child: ChildProcess, logFile: string) {
    this.child = child;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('process did not start');
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Signal the whole process group (the daemon and anything it forked). */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** Signal only the leader (tshark must stop its own dumpcap child to flush the capture). */
  signalLeader(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT'); // a frozen process cannot handle SIGTERM
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
    // Children that ignored the group SIGTERM and outlived the leader.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* group empty */
    }
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}

export interface LabNode {
  name: string;
  /** Full namespace name, `kt<pid>-<lab>-<name>`. */
  ns: string;
  /** Host index on the lab subnet: 198.18.<subnet>.<index>. */
  index: number;
  ipv4: string;
  ipv6: string;
  /** Interface inside the node namespace (facing the bridge). */
  ifname: string;
}

export const RUN_PREFIX = `kt${process.pid}-`;

/**
 * A lab is one bridge namespace plus node namespaces. IPv4 198.18.<subnet>.<index>/24 and IPv6
 * fd00:198:18:<subnet>::<index>/64 on each node's eth0. Distinct subnets per test file keep the
 * address plans readable even though namespaces already isolate the files from each other.
 */
export class Lab {
  readonly name: string;
  readonly subnet: number;
  readonly dir: string;
  readonly nodes = new Map<string, LabNode>();
  private readonly procs: NsProcess[] = [];
  private readonly bridgeNs: string;
  private created = false;

  constructor(tag: string, subnet: number) {
    if (subnet < 0 || subnet > 255) throw new Error('subnet must be 0..255');
    this.name = `${RUN_PREFIX}${tag}`;
    this.subnet = subnet;
    this.bridgeNs = `${this.name}-br`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.name}-`));
  }

  v4(index: number): string {
    return `198.18.${this.subnet}.${index}`;
  }

  v6(index: number): string {
    return `fd00:198:18:${this.subnet}::${index}`;
  }

  async create(): Promise<void> {
    await must('ip', ['netns', 'add', this.bridgeNs]);
    this.created = true;
    registerForExitCleanup(this);
    await must('ip', ['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', 'lo', 'up']);
  }

  async addNode(name: string, index: number): Promise<LabNode> {
    if (!this.created) throw new Error('Lab.create() first');
    const ns = `${this.name}-${name}`;
    await must('ip', ['netns', 'add', ns]);
    const node: LabNode = { name, ns, index, ipv4: this.v4(index), ipv6: this.v6(index), ifname: 'eth0' };
    this.nodes.set(name, node);
    const port = `p${index}`;
    // Create the pair inside the node namespace and push the far end straight into the bridge
    // namespace: nothing ever touches the host's own interfaces.
    await must('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', this.bridgeNs]);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0']);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'up']);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // No DAD on the lab segment: a tentative link-local address is missing for the first second
    // or so, and BIRD then sends IPv6 routes without one ("Missing link-local address").
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0']);
    await must('ip', ['-n', ns, 'addr', 'add', `${node.ipv4}/24`, 'dev', 'eth0']);
    // nodad: duplicate address detection would keep the address tentative (unbindable) ~1 s.
    await must('ip', ['-n', ns, 'addr', 'add', `${node.ipv6}/64`, 'dev', 'eth0', 'nodad']);
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return node;
  }

  /**
   * Takes the node's port on the lab bridge down (`up` false) or up again: its eth0 loses carrier,
   * so it reaches no other node, while its own addresses still answer inside its namespace.
   */
  async setPort(node: LabNode, up: boolean): Promise<void> {
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', `p${node.index}`, up ? 'up' : 'down']);
  }

  node(name: string): LabNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no lab node ${name}`);
    return n;
  }

  /** Run a command to completion inside a node namespace. */
  exec(node: LabNode, cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', node.ns, cmd, ...args], opts);
  }

  mustExec(node: LabNode, cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    return must('ip', ['netns', 'exec', node.ns, cmd, ...args], opts);
  }

  /**
   * Start a long-running process in a namespace. `ip netns exec` execs the command, so the child
   * pid is the daemon's pid; detached makes it a process-group leader we can signal as a group.
   */
  spawn(node: LabNode, cmd: string, args: string[], opts: { logName?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): NsProcess {
    const logFile = join(this.dir, `${opts.logName ?? node.name}.out`);
    const fd = openSync(logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', node.ns, cmd, ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    closeSync(fd);
    const p = new NsProcess(child, logFile);
    this.procs.push(p);
    return p;
  }

  /** Stop every process this lab started, then delete its namespaces (bridge last). */
  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(3000)));
    for (const n of this.nodes.values()) await deleteNs(n.ns);
    if (this.created) await deleteNs(this.bridgeNs);
    this.nodes.clear();
    this.created = false;
    unregisterForExitCleanup(this);
    if (!process.env.KT_KEEP_LOGS) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last-resort cleanup for process exit handlers. */
  destroySync(): void {
    for (const p of this.procs) p.signal('SIGKILL');
    for (const ns of [...[...this.nodes.values()].map((n) => n.ns), this.bridgeNs]) {
      killNsPidsSync(ns);
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
  }
}

function killNsPidsSync(ns: string): void {
  try {
    const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  } catch {
    /* namespace gone */
  }
}

async function deleteNs(ns: string): Promise<void> {
  // Processes still holding the namespace (a daemon's forked helper) would keep its
  // interfaces alive after `ip netns del`; kill them first.
  const pids = await run('ip', ['netns', 'pids', ns]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await run('ip', ['netns', 'del', ns]);
}

const liveLabs = new Set<Lab>();
let exitHookInstalled = false;

function registerForExitCleanup(lab: Lab): void {
  liveLabs.add(lab);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const l of liveLabs) l.destroySync();
    liveLabs.clear();
  };
  process.once('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
}

function unregisterForExitCleanup(lab: Lab): void {
  liveLabs.delete(lab);
}

function pidAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/**
 * Remove `kt<pid>-*` namespaces left behind by earlier runs of this harness whose owning process
 * is gone. Namespaces of a live process (a parallel test file) are left alone; names that do not
 * match our pattern are never touched.
 */
export async function cleanupStaleNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  const removed: string[] = [];
  for (const line of out.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^kt(\d+)-[A-Za-z0-9-]+$/.exec(name);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || pidAlive(owner)) continue;
    await deleteNs(name);
    removed.push(name);
  }
  return removed;
}

/** True when this process may create namespaces (root, `ip` present). */
export async function canUseNetns(): Promise<string | undefined> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'interop tests need root (network namespaces)';
  const r = await run('ip', ['netns', 'list']);
  if (r.code !== 0) return `ip netns unavailable: ${r.stderr}`;
  return undefined;
}
