// The Grafana dashboard (containers/grafana/kite-dashboard.json) against the metrics Kite exports:
// every PromQL expression parses (Prometheus's own lezer grammar) and every metric it selects is
// one the registry serves, so a renamed metric cannot leave a panel silently empty. Also checks
// the panels the issue asks for and that docs/metrics.md lists every metric.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { Histogram } from 'prom-client';
import { KiteMetrics } from '../../src/metrics/metrics.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dashboard = JSON.parse(readFileSync(join(ROOT, 'containers', 'grafana', 'kite-dashboard.json'), 'utf8')) as {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { query: { query: string } }[] };
  __inputs: { name: string }[];
};

/** Series names the registry serves: each family, and a histogram's _bucket, _sum and _count. */
async function exported(): Promise<Set<string>> {
  const m = new KiteMetrics({ defaultMetrics: true });
  const names = new Set<string>();
  for (const f of (await m.registry()).getMetricsAsArray()) {
    names.add(f.name);
    if (f instanceof Histogram) for (const s of ['_bucket', '_sum', '_count']) names.add(f.name + s);
  }
  return names;
}

/** The metric names an expression selects, from its syntax tree; throws on a syntax error. */
function selectedMetrics(expr: string): string[] {
  // Grafana's variables are not PromQL: give them values of the right kind before parsing.
  const q = expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
  const names: string[] = [];
  let error: string | null = null;
  parser.parse(q).iterate({
    enter: (n) => {
      if (n.type.isError && error === null) error = `syntax error at ${n.from} in ${q}`;
      if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector') names.push(q.slice(n.from, n.to));
    },
  });
  if (error !== null) throw new Error(error);
  return names;
}

const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('the Grafana dashboard', () => {
  it('is importable: a Prometheus data source input, panels with targets', () => {
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    expect(exprs.length).toBeGreaterThan(10);
  });

  it('every expression parses and names only metrics Kite exports', async () => {
    const have = await exported();
    for (const { panel, expr } of exprs) {
      const names = selectedMetrics(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) expect(have.has(n), `${panel}: ${n} is not exported`).toBe(true);
    }
    // The variable query: label_values(<metric>, instance).
    for (const v of dashboard.templating.list) {
      const metric = /^label_values\(([^,]+),/.exec(v.query.query)?.[1];
      expect(metric !== undefined && have.has(metric), v.query.query).toBe(true);
    }
  });

  it('has the panels operators asked for', () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const t of ['Sessions by state', 'Prefixes accepted per peer', 'Flaps', 'Dataplane routes by state', 'Dataplane apply latency', 'Datastore sync']) {
      expect(titles).toContain(t);
    }
  });

  it('the syntax check bites: a broken expression and an unknown metric are caught', async () => {
    expect(() => selectedMetrics('sum(rate(kite_rib_paths[5m])')).toThrow(/syntax error/);
    expect((await exported()).has(selectedMetrics('kite_bgp_sessions_up')[0]!)).toBe(false);
  });
});

describe('docs/metrics.md', () => {
  it('documents every metric Kite exports', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
    const m = new KiteMetrics({ defaultMetrics: false });
    for (const f of (await m.registry()).getMetricsAsArray()) expect(doc, f.name).toContain(`\`${f.name}\``);
  });
});
