// The project's local Kubernetes API server for bench:e2e and bench:idle: the test helpers
// test/datastore/kubernetes/fake-apiserver.ts and fixtures.ts, compiled with the project's tsc
// (run through node, so install-deps' program check passes) and imported, since benchmarks run plain node.

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Compiles the fake API server and its fixtures into `dir`; resolves with FakeApiServer and the calico and k8sNode fixture builders. */
export async function loadFakeApiServer(dir) {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--outDir', dir, '--rootDir', join(ROOT, 'test'),
    '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node',
    join(ROOT, 'test/datastore/kubernetes/fake-apiserver.ts'), join(ROOT, 'test/datastore/kubernetes/fixtures.ts')], { stdio: 'inherit' });
  const { FakeApiServer } = await import(pathToFileURL(join(dir, 'datastore/kubernetes/fake-apiserver.js')).href);
  const { calico, k8sNode } = await import(pathToFileURL(join(dir, 'datastore/kubernetes/fixtures.js')).href);
  return { FakeApiServer, calico, k8sNode };
}
