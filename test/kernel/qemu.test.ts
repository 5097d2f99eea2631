// Proves the qemu kernel-test harness (test/kernel/qemu.ts): the guest boots the Debian kernel,
// loads ipip (absent from the host kernel), routes between two namespaces over a veth pair, runs
// node from the shared host root, and reports exit codes, stderr and writable-share files.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInVm, VmError, vmPrereqs } from './qemu.js';

const CI = process.env.CI === 'true';
let missing: string | undefined;
let shareDir = '';

describe('qemu kernel harness', () => {
  beforeAll(async () => {
    missing = await vmPrereqs();
    if (missing && CI) throw new Error(`qemu prerequisites missing (CI=true: this is a failure): ${missing}`);
    if (missing) console.warn(`SKIPPING qemu kernel tests: ${missing}`);
    shareDir = await mkdtemp(join(tmpdir(), 'kite-vm-share-'));
  }, 600_000);

  afterAll(async () => {
    if (shareDir) await rm(shareDir, { recursive: true, force: true });
  });

  // One boot does most checks: each boot costs 10-20 s of emulated CPU.
  it('boots, loads ipip, pings across a veth pair between namespaces, runs node', async (ctx) => {
    if (missing) ctx.skip();
    const script = `
set -eu
echo "kernel $(uname -r)"
modprobe ipip
ip -o link show tunl0
ip netns add kt-a
ip netns add kt-b
ip link add kt-va type veth peer name kt-vb
ip link set kt-va netns kt-a
ip link set kt-vb netns kt-b
ip -n kt-a addr add 198.18.0.1/30 dev kt-va
ip -n kt-b addr add 198.18.0.2/30 dev kt-vb
ip -n kt-a link set kt-va up
ip -n kt-b link set kt-vb up
ip -n kt-a link set lo up
ip netns exec kt-a ping -c 1 -W 5 198.18.0.2 > /dev/null && echo "ping ok"
echo "node $(node -e 'console.log(process.version)')"
echo "written in the guest" > /out/result.txt
echo "to stderr" >&2
exit 7
`;
    const r = await runInVm(script, { shares: [{ host: shareDir, guest: '/out', writable: true }] });
    expect(r.stderr).toBe('to stderr\n');
    expect(r.code).toBe(7);
    expect(r.stdout).toMatch(/^kernel \S+-amd64$/m);
    expect(r.stdout).toContain(`kernel ${r.kernelVersion}`);
    expect(r.stdout).toMatch(/^\d+: tunl0@NONE: <NOARP> .* link\/ipip 0\.0\.0\.0/m);
    expect(r.stdout).toContain('ping ok\n');
    expect(r.stdout).toContain(`node ${process.version}\n`);
    expect(await readFile(join(shareDir, 'result.txt'), 'utf8')).toBe('written in the guest\n');
    expect(r.bootMs).toBeGreaterThan(0);
    console.log(`qemu guest: boot ${r.bootMs} ms, total ${r.totalMs} ms, kernel ${r.kernelVersion}`);
  }, 120_000);

  it('a failing script reports its code and stderr; read-only shares and the host stay untouched', async (ctx) => {
    if (missing) ctx.skip();
    const script = `
echo "env $GREETING"
pwd
touch /etc/kite-vm-overlay-probe && echo "overlay writable"
touch /ro/x 2>/dev/null || echo "share read-only"
ip link add kt-d0 type dummy && echo "dummy ok"
# No modprobe: the kernel autoloads ip_gre through the host root's /sbin/modprobe.
ip link add kt-g0 type gre local 198.18.0.1 remote 198.18.0.2 && grep -q '^ip_gre ' /proc/modules && echo "gre autoloaded"
ls /nonexistent
`;
    const r = await runInVm(script, {
      env: { GREETING: "it's here" },
      cwd: '/usr',
      modules: ['dummy'],
      shares: [{ host: shareDir, guest: '/ro' }],
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("env it's here\n/usr\noverlay writable\nshare read-only\ndummy ok\ngre autoloaded\n");
    expect(r.stderr).toMatch(/ls: cannot access '\/nonexistent'/);
    // The overlay's upper layer is guest memory: the host root must not have changed.
    await expect(readFile('/etc/kite-vm-overlay-probe')).rejects.toThrow();
  }, 120_000);

  it('a hung guest is killed at the timeout and reported as VmError', async (ctx) => {
    if (missing) ctx.skip();
    const started = Date.now();
    await expect(runInVm('sleep 600', { timeoutMs: 4_000 })).rejects.toThrow(/timed out after 4000 ms/);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('a guest kernel panic is a VmError carrying the console', async (ctx) => {
    if (missing) ctx.skip();
    // sysrq c crashes the kernel; panic=-1 plus -no-reboot make qemu exit without an exit code.
    const err = await runInVm('echo c > /proc/sysrq-trigger; sleep 60').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmError);
    expect((err as VmError).message).toMatch(/reported no exit code/);
    expect((err as VmError).console).toMatch(/Kernel panic|sysrq: Trigger a crash/);
  }, 60_000);

  it('rejects a share whose host directory does not exist, before booting', async () => {
    await expect(runInVm('true', { shares: [{ host: '/nonexistent-kite-dir', guest: '/x' }] })).rejects.toThrow(/not a directory/);
  });
});
