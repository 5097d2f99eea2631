// Runs once before the whole vitest run: makes sure every system program the tests run (ping, ip,
// tcpdump, openssl, BIRD, FRR, GoBGP, tshark; see scripts/install-deps.sh --list) is installed, so a
// new machine needs nothing by hand. Under CI=true a program that cannot be installed fails the run.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'install-deps.sh');

function sh(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sh', [SCRIPT, ...args], { timeout: 900_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stderr}${stdout}`.trim() });
    });
  });
}

export default async function setup(): Promise<void> {
  if (process.platform !== 'linux') return;
  // Without root nothing can be installed: report what is missing; the tests that need it say so too.
  const root = process.getuid?.() === 0;
  const r = await sh(root ? [] : ['--check']);
  if (r.code === 0) return;
  const why = `test prerequisites: ${r.out}`;
  if (process.env['CI'] === 'true') throw new Error(`${why}\n(CI=true: a missing prerequisite is a failure)`);
  console.warn(`${why}\n(tests that need these programs will fail)`);
}
