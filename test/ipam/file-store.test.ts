// The file store: the lock (exclusive, stale-lock recovery), the state file in Calico's CRD
// shapes, and two child processes plus in-process allocators racing on one state file.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Allocator } from '../../src/ipam/allocator.js';
import { FileLock, FileStore, LOCK_FILE, STATE_FILE } from '../../src/ipam/file-store.js';
import { isStoreError } from '../../src/ipam/store.js';
import { auditStore, node, pool } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'kite-ipam-file-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });
let n = 0;
const freshDir = (): string => join(tmp, `s${++n}`);

describe('FileLock', () => {
  it('is exclusive: a second holder waits until the first releases', async () => {
    const path = join(tmp, 'x.lock');
    const l = new FileLock(path, 2000, 30_000);
    const release = await l.acquire();
    let second = false;
    const p = l.acquire().then((r) => { second = true; return r; });
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBe(false);
    await release();
    await (await p)();
    expect(second).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('breaks a lock whose holder process is dead, and names a live holder on timeout', async () => {
    const path = join(tmp, 'y.lock');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(path, `${hostname()} ${dead.pid ?? 0} token\n`);
    await (await new FileLock(path, 2000, 30_000).acquire())();
    writeFileSync(path, `${hostname()} ${process.pid} token\n`);
    await expect(new FileLock(path, 100, 30_000).acquire()).rejects.toThrow(`held by pid ${process.pid}`);
    rmSync(path);
  });
});

describe('FileStore', () => {
  it('stores Calico CRD shapes and keeps compare-and-swap semantics', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    const a = new Allocator({ store: s, pools: () => [pool('p', '10.7.0.0/24')] });
    const [ip] = await a.autoAssign({ node: node('n1'), handle: 'h' });
    const doc = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { kind: string; objects: { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, unknown> }[] };
    expect(doc.kind).toBe('KiteIPAMState');
    expect(doc.objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`).sort()).toEqual([
      `crd.projectcalico.org/v1 BlockAffinity n1-${ip!.replace(/\./g, '-')}-26`,
      'crd.projectcalico.org/v1 IPAMBlock ' + `${ip!.replace(/\./g, '-')}-26`,
      'crd.projectcalico.org/v1 IPAMHandle h',
    ]);
    expect(doc.objects.find((o) => o.kind === 'BlockAffinity')!.spec['deleted']).toBe('false');
    expect(readFileSync(join(dir, STATE_FILE), 'utf8')).toMatch(/"sequenceNumber": \d{19}/);
    const h = await s.get('IPAMHandle', 'h');
    await s.update('IPAMHandle', 'h', { ...h!.spec, block: {} }, h!.revision);
    await expect(s.update('IPAMHandle', 'h', h!.spec, h!.revision)).rejects.toSatisfy((e) => isStoreError(e, 'conflict'));
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('an affinity in the state file without its block: that CIDR is claimed, not a new one (libcalico-go getBlockFromAffinity)', async () => {
    const dir = freshDir();
    const s = new FileStore(dir);
    await s.create('BlockAffinity', 'n1-10-7-0-64-26', { node: 'n1', cidr: '10.7.0.64/26', state: 'confirmed', deleted: false });
    const a = new Allocator({ store: new FileStore(dir), pools: () => [pool('p', '10.7.0.0/24')] });
    expect(await a.autoAssign({ node: node('n1'), handle: 'h' })).toEqual(['10.7.0.64']);
    expect((await s.list('IPAMBlock')).map((b) => [b.spec.cidr, b.spec.affinity])).toEqual([['10.7.0.64/26', 'host:n1']]);
    expect((await s.list('BlockAffinity')).map((x) => [x.name, x.spec.state])).toEqual([['n1-10-7-0-64-26', 'confirmed']]);
  });

  it('refuses a state file that is not one', async () => {
    const dir = freshDir();
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, STATE_FILE), '{"hello": 1}');
    await expect(new FileStore(dir).list('IPAMBlock')).rejects.toThrow('is not a Kite IPAM state file');
  });

  it('in-process allocators on separate FileStore instances never share an address', async () => {
    const dir = freshDir();
    const pools = [pool('p', '10.6.0.0/27', { blockSize: 29 })];
    const got = await Promise.all([0, 1, 2].map(async (i) => {
      const a = new Allocator({ store: new FileStore(dir), pools: () => pools });
      const out: string[] = [];
      for (let k = 0; k < 8; k++) out.push(...await a.autoAssign({ node: node(`n${i}`), handle: `h${i}-${k}` }));
      return out;
    }));
    const all = got.flat();
    expect(new Set(all).size).toBe(24);
    expect((await auditStore(new FileStore(dir))).owners.size).toBe(24);
  });

  it('two child processes and this one racing on one state file never share a block or an address', async () => {
    const build = join(tmp, 'build');
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', build, '--sourceMap', 'false'], { cwd: ROOT, stdio: 'pipe' });
    } catch { /* tsc emits despite type errors in other folders; the import below tells */ }
    writeFileSync(join(build, 'package.json'), '{"type":"module"}');
    // The built modules import packages (ip-cidr): let Node find them from the copy.
    symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'));
    const dir = freshDir();
    const run = promisify(execFile);
    const worker = join(ROOT, 'test', 'ipam', 'file-worker.mjs');
    const pools = [pool('p', '10.5.0.0/26', { blockSize: 29 })];
    const local = new Allocator({ store: new FileStore(dir), pools: () => pools });
    const [w1, w2, mine] = await Promise.all([
      run(process.execPath, [worker, build, dir, 'node-a', '30']),
      run(process.execPath, [worker, build, dir, 'node-b', '30']),
      (async () => {
        const out: string[] = [];
        for (let k = 0; k < 10; k++) out.push(...await local.autoAssign({ node: node('node-c'), handle: `local-${k}` }));
        return out;
      })(),
    ]);
    const a = JSON.parse(w1.stdout) as string[];
    const b = JSON.parse(w2.stdout) as string[];
    const all = [...a, ...b, ...mine];
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
    const { owners, blocks } = await auditStore(new FileStore(dir));
    expect([...owners.keys()].sort()).toEqual([...all].sort());
    expect(blocks.size).toBeLessThanOrEqual(8);
  }, 120_000);
});
