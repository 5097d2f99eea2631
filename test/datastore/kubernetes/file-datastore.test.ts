// The file datastore behind the shared Datastore interface (src/datastore/datastore.ts): the
// same status sequence and snapshot calls the daemon gets from the Kubernetes datastore.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createFileDatastore } from '../../../src/datastore/datastore.js';
import { eventually } from '../../helpers/eventually.js';

const dir = await mkdtemp(join(tmpdir(), 'kite-fileds-'));
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const pool = (cidr: string): string => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: ${cidr}\n`;

it('goes waiting → resyncing → snapshot → in-sync, then follows edits', async () => {
  const path = join(dir, 'a.yaml');
  await writeFile(path, pool('10.244.0.0/16'));
  const seen: string[] = [];
  const ds = createFileDatastore(path, 20);
  await ds.start({
    onSnapshot: (r) => seen.push(`snapshot ${r.ipPools[0]?.spec.cidr ?? ''}`),
    onStatus: (s) => seen.push(s),
    onError: (e) => seen.push(`error ${e.message}`),
  });
  expect(seen).toEqual(['waiting', 'resyncing', 'snapshot 10.244.0.0/16', 'in-sync']);
  await writeFile(path, pool('10.245.0.0/16'));
  try {
    await eventually('the edit\'s snapshot', () => seen.length >= 5, 5000);
  } finally {
    ds.stop();
  }
  expect(seen[4]).toBe('snapshot 10.245.0.0/16');
});

it('rejects start() on an invalid file', async () => {
  const path = join(dir, 'bad.yaml');
  await writeFile(path, pool('10.244.0.1/16'));
  const ds = createFileDatastore(path);
  await expect(ds.start({ onSnapshot: () => undefined, onStatus: () => undefined, onError: () => undefined })).rejects.toThrow(/spec\.cidr/);
});
