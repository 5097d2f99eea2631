// The IPIP tunnel-address service: allocates from the IPIP pool through the file store, records
// the address through the datastore (a failed write is logged, the address still used), returns
// the affine block with its pool, and allocates once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { TunnelAddress } from '../../src/ipam/tunnel.js';
import { pool } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kite-tunnel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function service(stateDir: string, write: (address: string) => Promise<void>) {
  const written: string[] = [];
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => { errors.push(String(JSON.parse(line).msg)); } });
  const pools = [pool('tunnel-pool', '10.250.0.0/16', { ipipMode: 'Always' })];
  const t = new TunnelAddress({
    node: 't', datastoreKind: 'file', stateDir, log, pools: () => pools,
    datastore: { setTunnelAddress: async (a) => { written.push(a); await write(a); } },
  });
  return { t, written, errors, pools: [{ name: 'tunnel-pool', cidr: '10.250.0.0/16' }, { name: 'other', cidr: '10.99.0.0/16' }] };
}

describe('TunnelAddress', () => {
  it('allocates from the IPIP pool, records it through the datastore and returns its block, once', async () => {
    const s = service(join(dir, 'a'), async () => {});
    const grant = await s.t.ensure({}, s.pools);
    expect(grant?.tunnelAddress).toMatch(/^10\.250\.\d+\.\d+$/);
    expect(s.written).toEqual([grant!.tunnelAddress]);
    expect(grant!.blocks).toHaveLength(1);
    expect(grant!.blocks[0]).toMatchObject({ pool: 'tunnel-pool' });
    expect(grant!.blocks[0]!.prefix).toMatch(/^10\.250\.\d+\.\d+\/26$/);
    expect(s.t.settled).toBe(true);
    expect(await s.t.ensure({}, s.pools)).toBeNull(); // nothing claimed twice
    expect(s.written).toHaveLength(1);
  });

  it('checks the Node\'s address again after a check that failed (the IPAM store could not be read), not only once', async () => {
    // The state directory is a plain file: opening the file store fails, the check is logged as failed.
    const stateDir = join(dir, 'c');
    writeFileSync(stateDir, 'not a directory');
    const s = service(stateDir, async () => {});
    expect(await s.t.ensure({}, s.pools, '10.250.0.5')).toBeNull();
    expect(s.errors.join('\n')).toMatch(/tunnel address allocation failed/);
    // The store is usable again: the same address is judged now (not allocated in IPAM: replaced).
    rmSync(stateDir);
    const grant = await s.t.ensure({}, s.pools, '10.250.0.5');
    expect(grant?.tunnelAddress).toMatch(/^10\.250\.\d+\.\d+$/);
    expect(s.written).toEqual([grant!.tunnelAddress]);
    // Judged once it succeeded: not again.
    expect(await s.t.ensure({}, s.pools, '10.250.0.5')).toBeNull();
  });

  it('keeps the address when the datastore cannot record it, and says so', async () => {
    const s = service(join(dir, 'b'), async () => { throw new Error('HTTP 403: nodes "t" is forbidden'); });
    const grant = await s.t.ensure({}, s.pools);
    expect(grant?.tunnelAddress).toMatch(/^10\.250\./);
    expect(s.errors.join('\n')).toMatch(/recording it in the datastore failed; using it anyway/);
  });
});
