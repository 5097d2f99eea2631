// The differential check's report: agreement rates of Kite with BIRD and with FRR (exact reaction
// and reaction kind), and the Kite-only divergences (Kite differs from both while they agree),
// grouped by class with one example per class. Markdown, so docs/conformance.md can quote it.
import { kindOf } from './runner.mjs';

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
/** A class without its session tag: "NEXT_HOP 127.0.0.1 (eBGP)" → "NEXT_HOP 127.0.0.1". */
export const family = (cls) => cls.replace(/ \((eBGP|iBGP)[^)]*\)$/, '');
const session = (cls) => /\(((?:eBGP|iBGP)[^)]*)\)$/.exec(cls)?.[1] ?? '';

/** Kite-only divergences: [{ cls, kite, others }] for cases where Kite differs from BIRD and FRR, who agree. */
export function kiteOnly(cases, per, key = (r) => r) {
  const out = [];
  for (const c of cases) {
    const k = per.kite?.get(c.id), b = per.bird?.get(c.id), f = per.frr?.get(c.id);
    if (!k || !b || !f) continue;
    const [kr, br, fr] = [k, b, f].map((x) => key(x.reaction));
    if (br === fr && kr !== br) out.push({ id: c.id, cls: k.cls ?? c.cls, kite: k.reaction, others: b.reaction, frr: f.reaction, hex: k.hex });
  }
  return out;
}

export function summarize(cases, per, { seed, seconds, versions = {} }) {
  const L = [];
  const names = Object.keys(per);
  const both = cases.filter((c) => names.every((n) => per[n].get(c.id)));
  L.push(`## Differential check: ${cases.length} cases, seed ${seed}${seconds !== undefined ? `, ${seconds} s` : ''}`, '');
  if (versions.bird || versions.frr) L.push(`Daemons: Kite (this tree), ${versions.bird ?? ''}, ${versions.frr ?? ''}.`, '');
  const line = (n) => {
    const rs = [...per[n].values()];
    const count = (re) => rs.filter((r) => re.test(r.reaction)).length;
    return `| ${n} | ${rs.length} | ${count(/^reset/)} | ${count(/^close/)} | ${count(/^kept|^up/)} | ${count(/^crash/)} | ${count(/^hang|^stalled/)} | ${count(/^setup failed|^harness error/)} |`;
  };
  L.push('| daemon | cases | reset | closed | kept up | crash | hang/stalled | not run |', '|---|---|---|---|---|---|---|---|', ...names.map(line), '');
  if (per.kite) {
    L.push('| Kite vs | same reaction | same kind |', '|---|---|---|');
    for (const other of names.filter((n) => n !== 'kite')) {
      let same = 0, kind = 0, n = 0;
      for (const c of both) {
        const a = per.kite.get(c.id).reaction, b = per[other].get(c.id).reaction;
        n++;
        if (a === b) same++;
        if (kindOf(a) === kindOf(b)) kind++;
      }
      L.push(`| ${other} | ${same}/${n} (${pct(same, n)}) | ${kind}/${n} (${pct(kind, n)}) |`);
    }
    if (per.bird && per.frr) {
      const agree = both.filter((c) => per.bird.get(c.id).reaction === per.frr.get(c.id).reaction).length;
      L.push('', `BIRD and FRR give the same reaction in ${agree}/${both.length} cases (${pct(agree, both.length)}).`);
      const exact = kiteOnly(both, per);
      const kinds = kiteOnly(both, per, kindOf);
      L.push('', `**Kite-only divergences: ${exact.length}** (${pct(exact.length, both.length)}; by reaction kind: ${kinds.length}).`, '');
      L.push(...table(exact, 'Exact reactions'));
      // Kind-level: BIRD and FRR agree on the kind (e.g. both reset, with different subcodes) and Kite's differs.
      const exactIds = new Set(exact.map((d) => d.id));
      L.push(...table(kinds.filter((d) => !exactIds.has(d.id)), 'By reaction kind only (BIRD and FRR agree on the kind, not the details)'));
    }
  }
  return L.join('\n') + '\n';
}

/** One markdown table of divergences grouped by class (session tag aside), Kite's and the others' reaction. */
function table(divergences, title) {
  if (!divergences.length) return [];
  const groups = new Map();
  for (const d of divergences) {
    const key = `${family(d.cls)}\u0000${d.kite}\u0000${d.others}`;
    const g = groups.get(key) ?? { cls: family(d.cls), kite: d.kite, others: d.others === d.frr ? d.others : `${d.others} / ${d.frr}`, sessions: new Set(), n: 0, hex: d.hex, id: d.id };
    g.n++;
    g.sessions.add(session(d.cls));
    groups.set(key, g);
  }
  const L = [`${title}:`, '', '| class | sessions | cases | Kite | BIRD and FRR | example case (hex, first message) |', '|---|---|---|---|---|---|'];
  for (const g of [...groups.values()].sort((a, b) => a.cls.localeCompare(b.cls))) {
    L.push(`| ${g.cls} | ${[...g.sessions].join(', ')} | ${g.n} | ${g.kite} | ${g.others} | #${g.id} \`${g.hex.split(' ')[0].slice(38, 38 + 160)}\` |`);
  }
  L.push('');
  return L;
}
