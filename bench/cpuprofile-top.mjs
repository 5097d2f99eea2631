// Summarises a V8 CPU profile (node --cpu-prof) for BENCHMARKS.md: self time per function (top N),
// and the share of garbage collection, idle and program time, as percentages of the non-idle samples.
//   node bench/cpuprofile-top.mjs FILE.cpuprofile [N=15] [FROM_MS TO_MS]
// FROM_MS/TO_MS keep only the samples in that window (ms since the profile began); without them
// the busy time per 500 ms is printed too, to find the window of interest.
import { readFileSync } from 'node:fs';

const [file, nArg, fromArg, toArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N]\n');
  process.exit(2);
}
const N = Number(nArg ?? 15);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
// Time per sample: the deltas (microseconds), attributed to the sampled node.
const self = new Map();
const from = fromArg === undefined ? -Infinity : Number(fromArg) * 1000;
const to = toArg === undefined ? Infinity : Number(toArg) * 1000;
const timeline = new Map();
let t = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  const dt = prof.timeDeltas[i] ?? 0;
  t += dt;
  if (t < from || t > to) continue;
  self.set(id, (self.get(id) ?? 0) + dt);
  if (byIdName(id) !== '(idle)') timeline.set(Math.floor(t / 500000), (timeline.get(Math.floor(t / 500000)) ?? 0) + dt);
}
function byIdName(id) { return byId.get(id).callFrame.functionName; }
const byFn = new Map();
let idle = 0;
let total = 0;
for (const [id, us] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const name = cf.functionName || '(anonymous)';
  if (name === '(idle)') { idle += us; continue; }
  total += us;
  const where = cf.url ? `${cf.url.replace(/^.*\/(node_modules\/|dist\/|src\/)/, '$1')}:${cf.lineNumber + 1}` : '';
  const key = `${name} ${where}`.trim();
  byFn.set(key, (byFn.get(key) ?? 0) + us);
}
const ms = (us) => (us / 1000).toFixed(0);
const pct = (us) => ((100 * us) / total).toFixed(1);
if (fromArg === undefined) {
  process.stdout.write('busy ms per 500 ms: ' + [...timeline].sort((a, b) => a[0] - b[0]).map(([k, us]) => `${k * 500}:${(us / 1000).toFixed(0)}`).join(' ') + '\n');
}
const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, N);
process.stdout.write(`${file}: ${ms(total)} ms busy, ${ms(idle)} ms idle\n`);
process.stdout.write('| self ms | % of busy | function |\n| ---: | ---: | --- |\n');
for (const [k, us] of rows) process.stdout.write(`| ${ms(us)} | ${pct(us)} | \`${k}\` |\n`);
