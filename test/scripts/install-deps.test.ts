// scripts/install-deps.sh is the one place that installs the programs tests, the lab and the
// benchmarks run (issue 9: a new machine needs nothing by hand). This checks its table against the
// code: every program run by name in src/, test/, bench/ and the qemu guest's scripts is either in
// the table or in the short list below of programs every Debian system has (Essential packages).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'install-deps.sh');

/** Programs from Debian's Essential packages (or Node itself): present on every machine. */
const ESSENTIAL = new Set([
  'sh', 'bash', // dash, bash
  'mkdir', 'uname', 'id', 'rm', 'cat', 'sleep', 'seq', 'date', 'touch', 'ls', 'pwd', 'chown', 'test', 'timeout', // coreutils
  'grep', 'awk', 'sed', // grep, mawk, sed
  'npx', 'node', 'npm', // Node.js, which runs the tests
  'apt-get', // apt
]);

/** What scripts/qemu/install.sh installs for the VM harness (test/kernel/qemu.ts). */
const VM = ['qemu-system-x86_64', 'busybox', 'modprobe', 'xz'];

/** What scripts/container-deps.sh installs for `npm run test:containers` (Docker, compose, debootstrap). */
const CONTAINER_SCRIPT = join(ROOT, 'scripts', 'container-deps.sh');
/** Programs the container scripts run inside the images, which the Dockerfiles install (kite and kite-stop are Kite's own). */
const IN_IMAGES = ['kite', 'kite-stop', 'vtysh', 'ip', 'ping'];

interface Row { program: string; path: string; pkg: string; usedBy: string }

function table(script = SCRIPT): Row[] {
  const out = execFileSync('sh', [script, '--list'], { encoding: 'utf8' });
  return out.trim().split('\n').map((line) => {
    const [program = '', path = '', pkg = '', usedBy = ''] = line.split('|');
    return { program, path, pkg, usedBy };
  });
}

function files(dir: string, exts: string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : files(p, exts);
    return exts.some((e) => name.endsWith(e)) ? [p] : [];
  });
}

// A program named by a string literal where something runs it: spawn('x'), execFile('x'),
// run('x'), must('x'), lab.exec(node, 'x'), ['netns', 'exec', ns, 'x'], ...
const CALL = /\b(?:spawn|spawnSync|spawnIn|spawnInNs|execFile|execFileSync|execFileP|exec|mustExec|run|must|sh|trySh|stream)\(\s*(?:[\w.!?()[\]]+\s*,\s*)?['"]([\w./-]+)['"]/g;
const NETNS = /'netns',\s*'exec',\s*[\w.!?()[\]]+,\s*'([\w./-]+)'/g;
// In the guest's shell scripts: a command after `ip netns exec <ns>`, and commands that start a line.
const SH_NETNS = /ip netns exec (?:"\$\([^)]*\)"|\S+) ([a-z][\w.-]*)/g;

function programsRunBy(code: string, shell: boolean): Set<string> {
  const found = new Set<string>();
  for (const re of shell ? [SH_NETNS] : [CALL, NETNS]) for (const m of code.matchAll(re)) found.add(m[1]!);
  return found;
}

describe('scripts/install-deps.sh', () => {
  const rows = table();

  it('lists each program with its path, Debian package and users', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) {
      expect(r.program, JSON.stringify(r)).toMatch(/^[\w.-]+$/);
      expect(r.path, JSON.stringify(r)).toMatch(/^\/usr\/(s?bin|lib\/frr)\/[\w.-]+$/);
      expect(r.pkg, JSON.stringify(r)).toMatch(/^[a-z0-9][a-z0-9.+-]+$/);
      expect(r.usedBy.length, JSON.stringify(r)).toBeGreaterThan(5);
    }
    // The ones issue 9 found missing on a new machine, and the guest's capture tool.
    expect(rows.map((r) => r.program)).toEqual(expect.arrayContaining(['ping', 'tcpdump', 'ip', 'openssl', 'bird', 'bgpd', 'gobgpd', 'tshark']));
  });

  it('names every program that src/, test/, bench/ and the guest scripts run', () => {
    const listed = new Set(rows.map((r) => r.program));
    const unlisted: string[] = [];
    const ts = [...files(join(ROOT, 'src'), ['.ts']), ...files(join(ROOT, 'test'), ['.ts']), ...files(join(ROOT, 'bench'), ['.mjs'])];
    const shell = [...files(join(ROOT, 'test'), ['.sh']), ...files(join(ROOT, 'scripts'), ['.sh'])];
    for (const [list, isShell] of [[ts, false], [shell, true]] as const) {
      for (const f of list) {
        if (f === fileURLToPath(import.meta.url)) continue;
        for (const p of programsRunBy(readFileSync(f, 'utf8'), isShell)) {
          const name = p.split('/').pop()!;
          if (!listed.has(name) && !ESSENTIAL.has(name) && !VM.includes(name) && !p.startsWith('.') && p !== 'process.execPath') unlisted.push(`${relative(ROOT, f)}: ${p}`);
        }
      }
    }
    expect(unlisted, 'programs run by name that scripts/install-deps.sh does not install').toEqual([]);
  });

  it('finds the scan working: the known runners are seen', () => {
    // Guards the test above against a regex that matches nothing.
    const sample = "lab.exec(pods.get(from)!, 'ping', ['-c', '1']); execFileSync('openssl', []);\n" +
      "spawn('ip', ['netns', 'exec', ns, 'sysctl', '-w']); must('tshark', ['-r'])";
    expect([...programsRunBy(sample, false)].sort()).toEqual(['ip', 'openssl', 'ping', 'sysctl', 'tshark']);
    expect([...programsRunBy('  ip netns exec "$(ns "$spod")" ping -n -q -c 1 "$dip"\nip netns exec ki-router tcpdump -n', true)].sort())
      .toEqual(['ping', 'tcpdump']);
  });

  it('has installed everything on this machine (the global set-up ran it; CI runs as root)', () => {
    let out = '';
    try {
      execFileSync('sh', [SCRIPT, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      out = String((e as { stderr?: string }).stderr ?? e);
    }
    expect(out).toBe('');
  });

  it('leaves the VM harness\'s programs to scripts/qemu/install.sh, which checks each', () => {
    const vm = readFileSync(join(ROOT, 'scripts', 'qemu', 'install.sh'), 'utf8');
    for (const p of VM) expect(vm, p).toContain(p);
    expect(vm).toContain('install-deps.sh'); // the guest runs the host's ping, ip, tcpdump
  });

  it('leaves the container tooling to scripts/container-deps.sh, whose table names what the container test runs', () => {
    const rows2 = table(CONTAINER_SCRIPT);
    for (const r of rows2) {
      expect(r.path, JSON.stringify(r)).toMatch(/^\/usr\/s?bin\/[\w.-]+$/);
      expect(r.pkg, JSON.stringify(r)).toMatch(/^[a-z0-9][a-z0-9.+-]+$/);
    }
    expect(rows2.map((r) => r.program)).toEqual(expect.arrayContaining(['docker', 'dockerd', 'docker-compose', 'debootstrap']));
    const listed = new Set([...rows2, ...rows].map((r) => r.program));
    const code = [join(ROOT, 'scripts', 'test-containers.mjs'), ...files(join(ROOT, 'containers'), ['.mjs'])];
    const unlisted = code.flatMap((f) => [...programsRunBy(readFileSync(f, 'utf8'), false)]
      .filter((p) => !listed.has(p) && !ESSENTIAL.has(p) && !IN_IMAGES.includes(p)).map((p) => `${relative(ROOT, f)}: ${p}`));
    expect(unlisted, 'programs the container test runs that no installer installs').toEqual([]);
    // Guards the scan: the orchestrator's own runs are seen.
    expect([...programsRunBy(readFileSync(code[0]!, 'utf8'), false)]).toEqual(expect.arrayContaining(['docker', 'git', 'sh']));
  });

  it('rejects an unknown option', () => {
    expect(() => execFileSync('sh', [SCRIPT, '--bogus'], { stdio: 'pipe' })).toThrow(/usage/);
  });
});
