// Preloaded into the daemon by bench/idle.mjs (`node --import`): on SIGUSR2 writes the process's
// own process.memoryUsage() and the node_modules packages loaded through require (CommonJS; the
// ESM-only ones are not listed) to $KITE_IDLE_PROBE_OUT. Costs nothing until asked.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
process.on('SIGUSR2', () => {
  const packages = new Set();
  for (const f of Object.keys(require.cache)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) packages.add(m[1]);
  }
  writeFileSync(process.env.KITE_IDLE_PROBE_OUT ?? '/dev/stderr', JSON.stringify({ mem: process.memoryUsage(), packages: [...packages].sort() }));
});
