// Summarises a V8 heap snapshot (node --heapsnapshot-signal) for BENCHMARKS.md: self size by
// node type and constructor name, the top N, in MiB.
//   node bench/heapsnapshot-top.mjs FILE.heapsnapshot [N=15]
import { readFileSync } from 'node:fs';

const [file, nArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/heapsnapshot-top.mjs FILE.heapsnapshot [N]\n');
  process.exit(2);
}
const N = Number(nArg ?? 15);
const snap = JSON.parse(readFileSync(file, 'utf8'));
const meta = snap.snapshot.meta;
const F = meta.node_fields.length;
const iType = meta.node_fields.indexOf('type');
const iName = meta.node_fields.indexOf('name');
const iSize = meta.node_fields.indexOf('self_size');
const types = meta.node_types[iType];
const by = new Map();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += F) {
  const type = types[snap.nodes[i + iType]];
  const size = snap.nodes[i + iSize];
  total += size;
  let name = snap.strings[snap.nodes[i + iName]];
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(strings)';
  else if (type === 'code') name = '(compiled code)';
  else if (type === 'closure') name = '(closures)';
  else if (name.length > 60) name = name.slice(0, 60) + '…';
  const key = `${type}: ${name}`;
  const e = by.get(key) ?? { size: 0, count: 0 };
  e.size += size;
  e.count++;
  by.set(key, e);
}
const mib = (b) => (b / 1048576).toFixed(2);
process.stdout.write(`${file}: ${mib(total)} MiB in ${snap.nodes.length / F} heap objects\n`);
process.stdout.write('| MiB | % | objects | type: constructor |\n| ---: | ---: | ---: | --- |\n');
for (const [k, e] of [...by].sort((a, b) => b[1].size - a[1].size).slice(0, N)) {
  process.stdout.write(`| ${mib(e.size)} | ${((100 * e.size) / total).toFixed(1)} | ${e.count} | \`${k}\` |\n`);
}
