// The kite executable end to end: bin/kite (running the compiled dist/) against a fake
// control server on a temporary socket. Checks stdout byte for byte for --json, the rows of
// the tables, and the exit codes: 0 ok, 1 error, 2 usage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlServer, type ControlServer } from '../../src/api/server.js';
import type { PeerStatus, RouteStatus, StatusProvider, Summary } from '../../src/api/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'kite');

const PEERS: PeerStatus[] = [
  { address: '198.18.0.2', asNumber: 64512, state: 'Established', prefixesReceived: 3, prefixesAccepted: 2, prefixesAdvertised: 1, lastError: '' },
  { address: 'fd00::3', asNumber: 4200000000, state: 'Active', prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0, lastError: 'connect ECONNREFUSED' },
];
const SUMMARY: Summary = { node: 'node-1', routerId: '198.18.0.1', asNumber: 64512, peers: PEERS, ribIPv4: 2, ribIPv6: 1 };
const ROUTES: RouteStatus[] = [
  {
    prefix: '10.244.1.0/26',
    paths: [
      {
        nextHop: '198.18.0.2', asPath: [], origin: 'igp', localPref: 100, med: 0, communities: ['64512:100'],
        largeCommunities: [], originatorId: null, clusterList: [], peer: '198.18.0.2', best: true,
      },
      {
        nextHop: '198.18.0.3', asPath: [64513, 64514], origin: 'incomplete', localPref: null, med: null, communities: [],
        largeCommunities: ['64512:1:2'], originatorId: '198.18.0.9', clusterList: ['198.18.0.9'], peer: '198.18.0.3', best: false,
      },
    ],
    bestReason: 'as-path-length: RFC 4271 §9.1.2.2 a: shortest AS_PATH',
  },
  {
    prefix: '10.244.7.0/26',
    paths: [{
      nextHop: '0.0.0.0', asPath: [], origin: 'igp', localPref: null, med: null, communities: [],
      largeCommunities: [], originatorId: null, clusterList: [], peer: null, best: true,
    }],
    bestReason: 'only-path: the only path to this prefix',
  },
];

const filters: Array<{ prefix?: string }> = [];
const provider: StatusProvider = {
  summary: () => SUMMARY,
  peers: () => PEERS,
  routes: (f) => {
    filters.push(f);
    return f.prefix === undefined ? ROUTES : ROUTES.filter((r) => r.prefix === f.prefix);
  },
};

let dir: string;
let socket: string;
let server: ControlServer | undefined;

/** Rebuilds dist/ when it is missing or older than the CLI and API sources it runs. */
function ensureBuilt(): void {
  const newest = (d: string, ext: string): number => readdirSync(d)
    .filter((f) => f.endsWith(ext))
    .reduce((m, f) => Math.max(m, statSync(join(d, f)).mtimeMs), 0);
  const stale = !existsSync(join(ROOT, 'dist', 'cli', 'main.js')) || ['cli', 'api'].some((sub) => {
    const out = join(ROOT, 'dist', sub);
    return !existsSync(out) || newest(join(ROOT, 'src', sub), '.ts') > newest(out, '.js');
  });
  if (!stale) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // tsc emits despite type errors elsewhere in the tree; what matters is that our output exists.
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('npx tsc did not produce dist/cli/main.js');
}

interface Result { code: number; stdout: string; stderr: string }

function kite(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  // Asynchronous on purpose: the fake server runs in this process and must keep answering.
  return new Promise((ok) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'], ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      ok({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kite-cli-'));
  socket = join(dir, 'kite.sock');
  server = await startControlServer(provider, socket, { info: () => {}, warn: () => {} });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kite show --json', () => {
  it('prints exactly the API shapes', async () => {
    const [summary, peers, routes] = await Promise.all([
      kite(['show', 'summary', '--json', '--socket', socket]),
      kite(['show', 'peers', '--json', '--socket', socket]),
      kite(['show', 'routes', '--json', '--socket', socket]),
    ]);
    expect(summary).toEqual({ code: 0, stdout: `${JSON.stringify(SUMMARY, null, 2)}\n`, stderr: '' });
    expect(peers).toEqual({ code: 0, stdout: `${JSON.stringify(PEERS, null, 2)}\n`, stderr: '' });
    expect(routes).toEqual({ code: 0, stdout: `${JSON.stringify(ROUTES, null, 2)}\n`, stderr: '' });
    // Spot-check the hand-visible details: null survives, an empty list stays a list.
    expect(routes.stdout).toContain('"localPref": null');
    expect(routes.stdout).toContain('"asPath": []');
  });

  it('passes --prefix to the daemon', async () => {
    filters.length = 0;
    const r = await kite(['show', 'routes', '--prefix', '10.244.7.0/26', '--json', '--socket', socket]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([ROUTES[1]]);
    expect(filters).toEqual([{ prefix: '10.244.7.0/26' }]);
  });
});

describe('kite show tables', () => {
  it('summary: identity, RIB counts and one row per peer', async () => {
    const r = await kite(['show', 'summary', '--socket', socket]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Node node-1, router id 198.18.0.1, local AS 64512');
    expect(r.stdout).toContain('RIB: 2 IPv4 routes, 1 IPv6 route');
    expect(r.stdout).toMatch(/^Peer\s+AS\s+State\s+Rcvd\s+Accepted\s+Adv\s+Last error$/m);
    expect(r.stdout).toMatch(/^198\.18\.0\.2\s+64512\s+Established\s+3\s+2\s+1$/m);
    expect(r.stdout).toMatch(/^fd00::3\s+4200000000\s+Active\s+0\s+0\s+0\s+connect ECONNREFUSED$/m);
  });

  it('peers: the peer table alone', async () => {
    const r = await kite(['show', 'peers', '--socket', socket]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(3);
    expect(r.stdout).toMatch(/^198\.18\.0\.2\s+64512\s+Established/m);
  });

  it('routes: best marker, prefix on the first path only, "-" for absent attributes', async () => {
    const r = await kite(['show', 'routes', '--socket', socket]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\*>\s+10\.244\.1\.0\/26\s+198\.18\.0\.2\s+-\s+i\s+100\s+0\s+64512:100\s+198\.18\.0\.2$/m);
    expect(r.stdout).toMatch(/^\*\s{3,}198\.18\.0\.3\s+64513 64514\s+\?\s+-\s+-\s+64512:1:2\s+198\.18\.0\.3$/m);
    expect(r.stdout).toMatch(/^\*>\s+10\.244\.7\.0\/26\s+0\.0\.0\.0\s.*\slocal$/m);
    expect(r.stdout).toContain('2 prefixes, 3 paths');
  });
});

describe('kite exit codes', () => {
  it('exits 1 with one line when the daemon is not running', async () => {
    const missing = join(dir, 'nobody.sock');
    const r = await kite(['show', 'summary', '--socket', missing]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `kite: cannot reach kite at ${missing}: is \`kite run\` running? (ENOENT)\n` });
  });

  it('exits 2 on bad usage, with one line on stderr', async () => {
    const cases = [
      ['frobnicate'],
      ['--frobnicate'],
      ['show'],
      ['show', 'everything', '--socket', socket],
      ['show', 'routes', '--frobnicate', '--socket', socket],
      ['show', 'peers', '--prefix', '10.0.0.0/8', '--socket', socket],
      ['show', 'routes', '--socket'],
      // (No --node is no longer a usage error: the host name stands in, as in calico-node.)
      ['run', '--config', 'x.yaml', '--node', 'n', '--on-stop', 'later'],
      ['run', '--config', 'x.yaml', '--node', 'n', '--dataplane', 'ebpf'],
      ['run', '--config', 'x.yaml', '--node', 'n', '--listen-port', '179x'],
      ['run', '--config', 'x.yaml', '--node', 'n', 'extra'],
    ];
    const results = await Promise.all(cases.map((c) => kite(c)));
    results.forEach((r, i) => {
      expect({ args: cases[i], code: r.code, lines: r.stderr.trimEnd().split('\n').length }).toEqual({ args: cases[i], code: 2, lines: 1 });
      expect(r.stderr).toMatch(/^kite( \w+)?: .*\(see 'kite help( \w+)?'\)\n$/);
      expect(r.stdout).toBe('');
    });
  });

  it('kite run: a bad --dataplane is a usage error, and NODENAME stands in for --node', async () => {
    const [linux, noConfig] = await Promise.all([
      kite(['run', '--config', 'x.yaml', '--node', 'n', '--dataplane', 'vpp']),
      kite(['run', '--config', join(dir, 'absent.yaml')], { NODENAME: 'node-9' }),
    ]);
    expect(linux.code).toBe(2);
    expect(linux.stderr).toContain("--dataplane must be none or linux, not 'vpp'");
    // Got past the node check thanks to NODENAME, then stopped at the missing file.
    expect(noConfig).toEqual({ code: 1, stdout: '', stderr: `kite: config file ${join(dir, 'absent.yaml')} does not exist\n` });
  });

  it('help and version exit 0', async () => {
    const [top, help, runHelp, showHelp, version] = await Promise.all([
      kite(['--help']), kite(['help', 'show']), kite(['run', '--help']), kite(['show', 'routes', '-h']), kite(['version']),
    ]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: kite <command>/);
    expect(help.stdout).toMatch(/^Usage: kite show summary\|peers\|routes/);
    expect(runHelp.stdout).toContain('--config FILE');
    expect(showHelp.stdout).toBe(help.stdout);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toEqual({ code: 0, stdout: `kite ${pkg.version}\n`, stderr: '' });
    for (const r of [help, runHelp, showHelp]) expect(r.code).toBe(0);
  });
});

describe('route table explains the decision', () => {
  it('names the step that chose the best path when one prefix is shown', async () => {
    const { renderRoutes } = await import('../../src/cli/show.js');
    expect(renderRoutes([ROUTES[0]!], '10.244.1.0/26').join('\n')).toContain('Best path chosen by as-path-length: RFC 4271 §9.1.2.2 a');
    expect(renderRoutes(ROUTES).join('\n')).not.toContain('Best path chosen by');
  });
});
