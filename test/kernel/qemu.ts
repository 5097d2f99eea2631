// Test harness that runs a bash script inside a real Debian kernel under qemu (TCG, no KVM), so
// dataplane tests can use kernel modules the host kernel lacks (ipip, gre, dummy ...).
// The guest shares the host root read-only over 9p under a tmpfs overlay; see docs/qemu.md.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS = join(REPO_ROOT, 'scripts', 'qemu');
const QBOOT = '/usr/share/qemu/qboot.rom';

/** A host directory mounted into the guest over 9p (read-only unless writable). */
export interface VmShare {
  host: string;
  guest: string;
  writable?: boolean;
}

export interface VmOptions {
  /** Whole-run limit (boot + script + power-off); qemu is killed past it. Default 120 000. */
  timeoutMs?: number;
  /** Guest memory. Default 1024. */
  memoryMb?: number;
  /** Guest vCPUs (multi-threaded TCG: one host thread each). Default 2. */
  cpus?: number;
  /** Extra 9p shares, mounted after the guest's fresh /tmp, /run and /var/tmp. */
  shares?: VmShare[];
  /** Modules to `modprobe -a` before the script; a failure exits 125 with modprobe's stderr. */
  modules?: string[];
  /** Extra environment for the script (PATH, HOME, KITE_VM=1 are always set). */
  env?: Record<string, string>;
  /** Working directory of the script inside the guest. Default '/'. */
  cwd?: string;
  /** Kernel version under /boot and /lib/modules; default: newest with modules installed. */
  kernelVersion?: string;
  /** Called with every chunk of the serial console (kernel messages, kite-init lines). */
  onConsole?: (text: string) => void;
}

export interface VmResult {
  /** Exit code of the script (125: a module in opts.modules or opts.cwd failed). */
  code: number;
  stdout: string;
  stderr: string;
  /** The serial console: firmware noise, kernel warnings, kite-init messages. */
  console: string;
  /** Host milliseconds from starting qemu to the guest starting the script. */
  bootMs: number;
  /** Host milliseconds from starting qemu to qemu exiting. */
  totalMs: number;
  kernelVersion: string;
}

/** The VM did not produce an exit code: boot failure, crash or timeout. Carries the console. */
export class VmError extends Error {
  constructor(
    message: string,
    readonly console: string,
  ) {
    super(`${message}\n--- guest console (last 4000 chars) ---\n${console.slice(-4000)}`);
    this.name = 'VmError';
  }
}

interface VmImage {
  kernel: string;
  initramfs: string;
  version: string;
}

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e) });
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

const images = new Map<string, Promise<VmImage>>();

/** Builds (or finds in /tmp/kite-qemu-<version>/) the initramfs; memoized per process. */
export function prepareVm(kernelVersion?: string): Promise<VmImage> {
  const key = kernelVersion ?? '';
  let p = images.get(key);
  if (!p) {
    p = (async () => {
      const args = [join(SCRIPTS, 'build-initramfs.sh')];
      if (kernelVersion) args.push(kernelVersion);
      const r = await exec('bash', args, 120_000);
      const [kernel, initramfs, version] = r.stdout.trim().split(' ');
      if (r.code !== 0 || !kernel || !initramfs || !version) {
        throw new Error(`scripts/qemu/build-initramfs.sh failed (${r.code}): ${r.stderr}${r.stdout}`);
      }
      return { kernel, initramfs, version };
    })();
    // A failed build is not cached: the caller may install the missing packages and retry.
    p.catch(() => images.delete(key));
    images.set(key, p);
  }
  return p;
}

/**
 * Makes sure qemu, a Debian kernel and busybox are there (running scripts/qemu/install.sh when
 * root) and the initramfs builds. Returns why the VM cannot run, or undefined when it can.
 */
export async function vmPrereqs(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs linux/x64, this is ${process.platform}/${process.arch}`;
  const inst = await exec('bash', [join(SCRIPTS, 'install.sh')], 600_000);
  if (inst.code !== 0) return `scripts/qemu/install.sh failed: ${inst.stderr.trim() || inst.stdout.trim()}`;
  try {
    await prepareVm();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** bash single-quoting: safe for any string without NUL. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** qemu's option syntax doubles commas inside a value. */
function qv(s: string): string {
  return s.replace(/,/g, ',,');
}

function validate(opts: VmOptions): void {
  for (const name of Object.keys(opts.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`runInVm: bad env name ${JSON.stringify(name)}`);
  }
  for (const m of opts.modules ?? []) {
    if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new Error(`runInVm: bad module name ${JSON.stringify(m)}`);
  }
  for (const s of opts.shares ?? []) {
    if (!isAbsolute(s.guest) || /[\n\0]/.test(s.guest) || s.guest === '/') {
      throw new Error(`runInVm: share guest path must be absolute, not '/', one line: ${JSON.stringify(s.guest)}`);
    }
  }
  if (opts.cwd !== undefined && !isAbsolute(opts.cwd)) throw new Error(`runInVm: cwd must be absolute: ${opts.cwd}`);
}

/**
 * Boots the VM, runs `script` with bash as root inside the host's root filesystem (writable
 * through a throw-away overlay), and returns its exit code and output once the VM powered off.
 * Throws VmError when the guest never reports an exit code (boot failure, panic, timeout).
 */
export async function runInVm(script: string, opts: VmOptions = {}): Promise<VmResult> {
  validate(opts);
  for (const s of opts.shares ?? []) {
    const st = await stat(s.host).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`runInVm: share host path is not a directory: ${s.host}`);
  }
  const image = await prepareVm(opts.kernelVersion);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const runDir = await mkdtemp(join(tmpdir(), 'kite-vm-'));
  try {
    const env = [
      'export KITE_VM=1 HOME=/root TERM=dumb LANG=C.UTF-8',
      'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...Object.entries(opts.env ?? {}).map(([k, v]) => `export ${k}=${shq(v)}`),
    ];
    if (opts.modules?.length) {
      env.push(`modprobe -a ${opts.modules.join(' ')} || { echo "kite-vm: modprobe ${opts.modules.join(' ')} failed" >&2; exit 125; }`);
    }
    env.push(`cd ${shq(opts.cwd ?? '/')} || exit 125`);
    await writeFile(join(runDir, 'env.sh'), env.join('\n') + '\n');
    await writeFile(join(runDir, 'script.sh'), script);

    const args = [
      '-accel', process.env.KITE_QEMU_ACCEL ?? 'tcg',
      // 'max' gives the guest every instruction TCG emulates (SSE4, AVX2, RDRAND): node's V8
      // wants more than the default qemu64 model.
      '-cpu', 'max',
      '-m', String(opts.memoryMb ?? 1024),
      '-smp', String(opts.cpus ?? 2),
      '-nographic', '-nodefaults', '-no-reboot',
      '-serial', 'stdio',
      '-kernel', image.kernel,
      '-initrd', image.initramfs,
      // panic=-1 reboots at once on a panic, and -no-reboot turns that into qemu exiting.
      // mitigations=off: spectre thunks only slow emulated code; i8042.*: no PS/2 probing.
      '-append', [
        'console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off i8042.noaux i8042.nokbd i8042.nopnp',
        process.env.KITE_QEMU_TRACE === '1' ? 'kite.trace=1' : '',
        process.env.KITE_QEMU_APPEND ?? '',
      ].join(' ').trim(),
      // qboot: a minimal firmware that jumps straight to the kernel; SeaBIOS is the fallback.
      ...(existsSync(QBOOT) ? ['-bios', QBOOT] : []),
      '-device', 'virtio-rng-pci',
      // multidevs=remap: the host root spans several filesystems; without it inode numbers
      // from different devices can collide in the guest.
      '-fsdev', 'local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap',
      '-device', 'virtio-9p-pci,fsdev=fsroot,mount_tag=kiteroot',
      '-fsdev', `local,id=fsrun,path=${qv(runDir)},security_model=none,multidevs=remap`,
      '-device', 'virtio-9p-pci,fsdev=fsrun,mount_tag=kiterun',
    ];
    const shareLines: string[] = [];
    for (const [i, s] of (opts.shares ?? []).entries()) {
      const tag = `kite${i}`;
      const ro = s.writable ? '' : ',readonly=on';
      args.push('-fsdev', `local,id=fs${i},path=${qv(s.host)},security_model=none,multidevs=remap${ro}`);
      args.push('-device', `virtio-9p-pci,fsdev=fs${i},mount_tag=${tag}`);
      shareLines.push(`${tag} ${s.writable ? 'rw' : 'ro'} ${s.guest}`);
    }
    await writeFile(join(runDir, 'shares'), shareLines.map((l) => l + '\n').join(''));

    const started = Date.now();
    let bootMs = -1;
    let consoleText = '';
    const exit = await new Promise<{ code: number | null; signal: string | null; timedOut: boolean; error?: Error }>((resolve) => {
      const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        q.kill('SIGKILL');
      }, timeoutMs);
      const onData = (d: Buffer): void => {
        const text = d.toString();
        consoleText += text;
        if (bootMs < 0 && consoleText.includes('kite-init: script start')) bootMs = Date.now() - started;
        opts.onConsole?.(text);
      };
      q.stdout.on('data', onData);
      q.stderr.on('data', onData);
      q.on('error', (error) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, timedOut, error });
      });
      q.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut });
      });
    });
    const totalMs = Date.now() - started;
    if (exit.error) throw new VmError(`runInVm: cannot start qemu-system-x86_64: ${exit.error.message}`, consoleText);
    if (exit.timedOut) throw new VmError(`runInVm: timed out after ${timeoutMs} ms; qemu killed`, consoleText);
    const codeText = await readFile(join(runDir, 'code'), 'utf8').catch(() => undefined);
    const code = codeText === undefined ? NaN : Number.parseInt(codeText.trim(), 10);
    if (!Number.isInteger(code)) {
      throw new VmError(`runInVm: the guest reported no exit code (qemu exit ${exit.code ?? exit.signal})`, consoleText);
    }
    const [stdout, stderr] = await Promise.all([
      readFile(join(runDir, 'stdout'), 'utf8').catch(() => ''),
      readFile(join(runDir, 'stderr'), 'utf8').catch(() => ''),
    ]);
    return { code, stdout, stderr, console: consoleText, bootMs, totalMs, kernelVersion: image.version };
  } finally {
    if (process.env.KITE_QEMU_KEEP === '1') process.stderr.write(`runInVm: kept run directory ${runDir}\n`);
    else await rm(runDir, { recursive: true, force: true });
  }
}
