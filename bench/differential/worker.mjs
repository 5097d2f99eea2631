// The part of the differential check that runs inside the tester's network namespace: the cases
// against one daemon (runner.mjs), one JSON line per result on stdout. Started by run.mjs.
//
//   node bench/differential/worker.mjs <config.json>
import { existsSync, readFileSync } from 'node:fs';
import { generate } from './cases.mjs';
import { Runner } from './runner.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const wanted = new Set(cfg.ids);
const cases = generate({ seed: cfg.seed, random: cfg.random }).filter((c) => wanted.has(c.id));
const dut = {
  ...cfg.dut,
  v6: (a) => `${cfg.dut.v6prefix}${a.split('.').pop()}`,
  // Gone, or a zombie not yet reaped by run.mjs.
  alive: () => cfg.pids.every((p) => existsSync(`/proc/${p}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8'))),
};
const runner = new Runner(dut, { settleMs: cfg.settleMs, caseTimeoutMs: cfg.caseTimeoutMs });
await runner.runAll(cases, cfg.lanes, (r) => process.stdout.write(JSON.stringify(r) + '\n'));
process.exit(0);
