// Kite interoperability with GoBGP: the shared scenario in suite.ts against real
// daemons in network namespaces (lab subnet 198.18.30.0/24, fd00:198:18:30::/64).

import { vi } from 'vitest';
import { defineInteropSuite } from './suite.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

defineInteropSuite('gobgp', 30);
