// Tests for KubeAccess (src/datastore/etcd/secrets.ts), the Kubernetes API beside an etcd
// datastore: a client whose configuration did not load (the kubeconfig not written yet, as when it
// is mounted after start) is loaded again at the next call, not failed for the life of the daemon
// (the shape commit 54f7810 gave the kubeconfig loader); a client that loaded is kept.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeAccess } from '../../../src/datastore/etcd/secrets.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kite-etcd-secrets-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('KubeAccess', () => {
  it('loads the client again after a load that failed (the kubeconfig was not there yet), then keeps it', async () => {
    const file = join(dir, 'config');
    const kube = new KubeAccess({ env: { KUBECONFIG: file } });
    expect(kube.configured).toBe(true);
    await expect(kube.client()).rejects.toThrow(`cannot load Kubernetes configuration from ${file}`);
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: ctx',
      'clusters:', '- name: c', '  cluster:', '    server: https://127.0.0.1:6443',
      'users:', '- name: u', '  user:', '    token: a-token',
      'contexts:', '- name: ctx', '  context:', '    cluster: c', '    user: u',
    ].join('\n') + '\n');
    const client = await kube.client();
    rmSync(file);
    expect(await kube.client()).toBe(client);
  });

  it('with no API configured: not configured, and client() says how to configure one, every time', async () => {
    const kube = new KubeAccess({ env: {} });
    expect(kube.configured).toBe(false);
    await expect(kube.client()).rejects.toThrow(/^no Kubernetes API configured: set KUBECONFIG/);
    expect(kube.configured).toBe(false);
    await expect(kube.client()).rejects.toThrow(/^no Kubernetes API configured: set KUBECONFIG/);
  });
});
