// What `kite run` loads before it is used (issue 16, idle footprint): the static import closure of
// the CLI entry and of the daemon must not reach the packages a mode may never use. They are
// loaded with import() where they are needed: gRPC at the control socket's first client
// (src/api/server.ts), prom-client at the first scrape (src/metrics/metrics.ts), the Kubernetes
// client and etcd3 by their datastores, pino-pretty for pretty logs. Measured with
// `npm run bench:idle` (BENCHMARKS.md); this pins the import graph.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Value imports and re-exports of one file (type-only ones are erased by the compiler). */
function staticImports(file: string): string[] {
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gms;
  for (const m of src.matchAll(re)) {
    if (m[2] !== undefined) continue; // import type / export type
    const names = m[3] ?? '';
    const braced = /^\{([\s\S]*)\}$/.exec(names.trim());
    // `import { type A, type B } from` is erased as well.
    if (braced && braced[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '))) continue;
    out.push(m[4]!);
  }
  for (const m of src.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]!);
  return out;
}

/** Every package reached through static imports from `entries`, and the files on the way. */
function closure(entries: string[]): { packages: Set<string>; files: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = entries.map((e) => join(ROOT, e));
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const spec of staticImports(f)) {
      if (spec.startsWith('.')) {
        const ts = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
        if (existsSync(ts)) todo.push(ts);
      } else if (!spec.startsWith('node:')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  }
  return { packages, files };
}

describe('kite run loads only what it uses', () => {
  const { packages, files } = closure(['src/cli/main.ts', 'src/cli/lifecycle.ts', 'src/daemon.ts']);

  it('walks the real graph (the daemon, the BGP speaker and the calc pipeline are in it)', () => {
    expect([...files].some((f) => f.endsWith('src/bgp/speaker.ts'))).toBe(true);
    expect([...files].some((f) => f.endsWith('src/calc/pipeline.ts'))).toBe(true);
    expect(packages.has('rxjs')).toBe(true);
  });

  it.each(['@grpc/grpc-js', '@grpc/proto-loader', '@kubernetes/client-node', 'etcd3', 'pino-pretty', 'prom-client', 'ip-cidr'])('%s is not imported statically', (pkg) => {
    const via = [...files].filter((f) => staticImports(f).some((s) => s === pkg || s.startsWith(`${pkg}/`)));
    expect(via.map((f) => f.slice(ROOT.length + 1))).toEqual([]);
  });
});
