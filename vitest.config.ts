// Test runner configuration: unit tests are fast; interop tests (test/interop) start real
// daemons in network namespaces and get long timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs the system programs tests run (scripts/install-deps.sh) before any test starts.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
