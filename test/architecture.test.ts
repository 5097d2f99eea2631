// The shape of src/, checked from its imports: no file imports itself back through a circle, and
// every import runs down the layers (a folder imports only folders on a lower floor), so a reader
// who opens a folder knows what it may touch. Edges still being straightened elsewhere in issue 10
// sit in an explicit allow-list below, which fails once an entry is no longer needed.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Floors, lowest first: a unit may import its own files and units on a lower floor. Data runs
 * datastore → calc → rib ⇄ bgp, and rib → dataplane; the readers sit above what they read.
 * `bgp/wire` is its own unit so the codec stays pure (bytes ⇄ messages, nothing but net below it).
 */
const FLOORS: Record<string, number> = {
  net: 0, native: 0, clock: 0, logger: 0, lazy: 0, // clock.ts: the one Clock and the process clock; logger.ts: pino set-up, pino-pretty, logSeverityScreen's levels; lazy.ts: load once, forget a failure
  'bgp/wire': 1, datastore: 1,
  bgp: 2, config: 2,
  policy: 3,
  rib: 4, ipam: 4,
  dataplane: 5, api: 5,
  calc: 6, health: 6, startup: 6, // health: readiness and liveness verdicts from what the daemon reports
  metrics: 6, // prom-client collectors over the status views' shapes (status.ts feeds them)
  lab: 7, status: 7, fib: 7, // status.ts: the control API's answers; fib.ts: the RIB → dataplane link
  daemon: 8, // the composition root
  cli: 9,
};

/** An import between two units (folders), with the reason it is named. */
interface Edge { from: string; to: string; why: string }

/** Imports that may run sideways or up: the table and the speaker know each other. */
const ALSO_ALLOWED: readonly Edge[] = [
  { from: 'bgp', to: 'rib', why: 'the speaker and its sessions default to the table\'s attribute Interner' },
];

/** Never, whatever the floors say (the rules issue 10 names; kept even if floors move). */
const NEVER: readonly Edge[] = [
  { from: 'bgp', to: 'dataplane', why: 'the speaker reaches the addon through src/native, not through the dataplane' },
  { from: 'rib', to: 'api', why: 'the table exposes typed views; the API maps them to JSON (src/api/view.ts)' },
  { from: 'dataplane', to: 'datastore', why: 'the calc layer turns resources into dataplane inputs' },
  { from: 'dataplane', to: 'config', why: 'the calc layer turns resources into dataplane inputs' },
];

/**
 * Edges another issue-10 helper is removing at the time of writing. The coordinator empties this
 * after merging; an entry that no longer matches any import fails the last test, so it cannot rot.
 */
const PENDING_LAYERING: readonly (Edge & { issue: number })[] = [];
const PENDING_CYCLE_EDGES: readonly { edge: string; issue: number; why: string }[] = [
];

type Graph = ReadonlyMap<string, ReadonlySet<string>>;

/** Source text without comments (so a commented-out import is not an import); strings kept. */
function stripComments(src: string): string {
  let out = '';
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    if (c === '/' && src[i + 1] === '/') { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (c === '/' && src[i + 1] === '*') { const end = src.indexOf('*/', i + 2); i = end < 0 ? src.length : end + 2; continue; }
    if (c === '\'' || c === '"' || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

// Static imports and re-exports (type-only too: a type cycle is still a circle a reader must
// follow), side-effect imports, and import('...') in code or in type positions.
const IMPORT_RE = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports in `text`, as paths relative to the package root (".js" read as ".ts"). */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of stripComments(text).matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    out.push(relative(ROOT, resolve(dirname(join(ROOT, file)), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

function srcGraph(): Graph {
  const g = new Map<string, Set<string>>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) g.set(p, new Set(importsOf(p, readFileSync(join(ROOT, p), 'utf8'))));
    }
  };
  walk('src');
  return g;
}

/** The layering unit of a file under src/: its folder ("bgp/wire" for the codec), or "daemon". */
function unitOf(file: string): string {
  const parts = file.split('/').slice(1);
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (parts[0] === 'bgp' && parts[1] === 'wire') return 'bgp/wire';
  return parts[0]!;
}

/** Imports that run against the layering, as "from -> to (unit -> unit): why". */
function layeringViolations(g: Graph, pending: readonly Edge[]): string[] {
  const out: string[] = [];
  const find = (list: readonly Edge[], a: string, b: string): Edge | undefined => list.find((e) => e.from === a && e.to === b);
  for (const [from, tos] of g) {
    const a = unitOf(from);
    for (const to of tos) {
      const b = unitOf(to);
      if (a === b || find(pending, a, b)) continue;
      const never = find(NEVER, a, b);
      if (never) { out.push(`${from} -> ${to} (${a} -> ${b}): ${never.why}`); continue; }
      const fa = FLOORS[a], fb = FLOORS[b];
      if (fa === undefined || fb === undefined) { out.push(`${from} -> ${to}: give src/${fa === undefined ? a : b} a floor in FLOORS`); continue; }
      if (fb < fa || find(ALSO_ALLOWED, a, b)) continue;
      out.push(`${from} -> ${to} (${a} on floor ${fa} -> ${b} on floor ${fb}): runs ${fb === fa ? 'sideways' : 'up'}`);
    }
  }
  return out;
}

/** Every circle of files (strongly connected components of more than one file, or a self-import). */
function cycles(g: Graph, ignored: ReadonlySet<string>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); on.add(v);
    for (const w of g.get(v) ?? []) {
      if (ignored.has(`${v} -> ${w}`)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
    if (scc.length > 1 || (g.get(v)?.has(v) && !ignored.has(`${v} -> ${v}`))) found.push(scc.sort());
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture: imports of src/', () => {
  const g = srcGraph();

  it('reads the imports it should', () => {
    // Guards the parser: a regex that silently matched nothing would pass every rule below.
    expect(g.get('src/cli/lab.ts')).toContain('src/lab/lab.ts'); // import('../lab/lab.js')
    expect(g.get('src/bgp/wire/types.ts')).toContain('src/bgp/wire/errors.ts');
    expect([...g.values()].reduce((n, s) => n + s.size, 0)).toBeGreaterThan(200);
  });

  it('has no import cycles', () => {
    expect(cycles(g, new Set(PENDING_CYCLE_EDGES.map((e) => e.edge)))).toEqual([]);
  });

  it('runs every import down the layers', () => {
    expect(layeringViolations(g, PENDING_LAYERING)).toEqual([]);
  });

  it('allow-lists only edges that still exist', () => {
    const edges = new Set([...g].flatMap(([f, tos]) => [...tos].map((t) => `${f} -> ${t}`)));
    const units = new Set([...g].flatMap(([f, tos]) => [...tos].map((t) => `${unitOf(f)} -> ${unitOf(t)}`)));
    const stale = [
      ...PENDING_CYCLE_EDGES.filter((e) => !edges.has(e.edge)).map((e) => e.edge),
      ...PENDING_LAYERING.filter((e) => !units.has(`${e.from} -> ${e.to}`)).map((e) => `${e.from} -> ${e.to}`),
    ];
    expect(stale, 'gone from src/: delete these allow-list entries').toEqual([]);
  });

  it('catches a new forbidden edge and a new cycle', () => {
    const bad: Graph = new Map([
      ['src/bgp/session.ts', new Set(['src/dataplane/kernel.ts'])],
      ['src/rib/view.ts', new Set(['src/api/types.ts'])],
      ['src/datastore/file.ts', new Set(['src/calc/pipeline.ts'])],
      ['src/bgp/wire/update.ts', new Set(['src/rib/intern.ts'])],
      ['src/dataplane/desired.ts', new Set(['src/datastore/resources.ts'])],
      ['src/net/a.ts', new Set(['src/net/b.ts'])],
      ['src/net/b.ts', new Set(['src/net/a.ts'])],
    ]);
    const v = layeringViolations(bad, []);
    expect(v).toHaveLength(5);
    expect(v[0]).toContain('bgp -> dataplane');
    expect(v[1]).toContain('rib -> api');
    expect(v[2]).toContain('runs up');
    expect(v[3]).toContain('runs up');
    expect(v[4]).toContain('dataplane -> datastore');
    expect(layeringViolations(bad, [{ from: 'dataplane', to: 'datastore', why: 'pending' }])).toHaveLength(4);
    expect(cycles(bad, new Set())).toEqual([['src/net/a.ts', 'src/net/b.ts']]);
    expect(cycles(bad, new Set(['src/net/b.ts -> src/net/a.ts']))).toEqual([]);
  });
});
