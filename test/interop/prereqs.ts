// Prerequisites for the interop tests: root and network namespaces, the reference daemons
// (installed by scripts/install-deps.sh when missing), and removal of stale `kt*` namespaces.
// A missing prerequisite is always a loud failure: these tests never skip silently.

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { canUseNetns, cleanupStaleNamespaces, run } from './netns.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let checked: Promise<void> | undefined;

async function check(): Promise<void> {
  const why = await canUseNetns();
  if (why) throw new Error(`interop prerequisites missing: ${why}${process.env.CI === 'true' ? ' (CI=true: this is a failure)' : ''}`);
  const r = await run('sh', [join(REPO_ROOT, 'scripts', 'install-deps.sh')], { timeoutMs: 600_000 });
  if (r.code !== 0) {
    throw new Error(`interop prerequisites missing: scripts/install-deps.sh failed:\n${r.stderr}${r.stdout}`);
  }
  await cleanupStaleNamespaces();
}

/** Call from beforeAll of every interop file; runs the checks once per worker process. */
export function requireInteropPrereqs(): Promise<void> {
  checked ??= check();
  return checked;
}
