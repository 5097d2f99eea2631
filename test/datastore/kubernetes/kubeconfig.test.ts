// Kite's own kubeconfig reader (issue 16: the daemon does not load @kubernetes/client-node for the
// common forms) against client-node as the oracle: for each form, the request options it builds
// (CA, client certificate and key, skip-verify, TLS server name, bearer token) equal the ones
// client-node's KubeConfig.applyToHTTPSOptions builds from the same file, and forms Kite does not
// read itself (an exec plugin) are handed to client-node.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { fileConnection, inClusterConnection, type KubeConnection } from '../../../src/datastore/kubernetes/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kite-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake-ca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake-cert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIBfake-key\n-----END PRIVATE KEY-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(name: string, cluster: string[], user: string[]): string {
  const path = join(dir, name, 'config');
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(path, [
    'apiVersion: v1', 'kind: Config', 'current-context: ctx',
    'clusters:', '- name: c1', '  cluster:', '    server: https://10.0.0.1:6443', '- name: c2', '  cluster:', ...cluster.map((l) => `    ${l}`),
    'users:', '- name: other', '  user:', '    token: not-this-one', '- name: u', '  user:', ...(user.length ? user.map((l) => `    ${l}`) : ['    {}']),
    'contexts:', '- name: ctx', '  context:', '    cluster: c2', '    user: u',
  ].join('\n') + '\n');
  return path;
}

/** The fields both implementations set, in comparable form. */
async function applied(c: KubeConnection): Promise<Record<string, unknown>> {
  const o: RequestOptions = { headers: { Accept: 'application/json' } };
  try {
    await c.applyToHTTPSOptions(o);
  } catch (e) {
    return { server: c.getCurrentCluster()?.server, error: (e as Error).message }; // both refuse alike
  }
  const text = (v: unknown): string | undefined => (v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  return {
    server: c.getCurrentCluster()?.server, ca: text(o.ca), cert: text(o.cert), key: text(o.key),
    rejectUnauthorized: o.rejectUnauthorized, servername: o.servername,
    authorization: (o.headers as Record<string, unknown> | undefined)?.['Authorization'],
  };
}

function oracle(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

describe('kubeconfig: Kite reads what client-node reads', () => {
  const forms: [string, string[], string[]][] = [
    ['CA data and a token', ['server: https://198.18.0.1:6443', `certificate-authority-data: ${b64(CA)}`], ['token: abc.def']],
    ['files relative to the kubeconfig: CA, client certificate and key', ['server: https://[fd00::1]:6443', 'certificate-authority: ca.pem'],
      ['client-certificate: certs/cert.pem', 'client-key: certs/key.pem']],
    ['certificate and key data, skip-verify and a TLS server name', ['server: https://api.example:443', 'insecure-skip-tls-verify: true', 'tls-server-name: kubernetes'],
      [`client-certificate-data: ${b64(CERT)}`, `client-key-data: ${b64(KEY)}`]],
    ['plain HTTP without skip-verify (refused by both)', ['server: http://127.0.0.1:8080'], ['token: t']],
    ['plain HTTP with skip-verify', ['server: http://127.0.0.1:8080', 'insecure-skip-tls-verify: true'], ['token: t']],
    ['no user fields at all', ['server: https://10.0.0.2:6443'], []],
  ];
  it.each(forms)('%s', async (name, cluster, user) => {
    const path = kubeconfig(name.replace(/\W+/g, '-'), cluster, user);
    const base = join(path, '..');
    writeFileSync(join(base, 'ca.pem'), CA);
    mkdirSync(join(base, 'certs'), { recursive: true });
    writeFileSync(join(base, 'certs', 'cert.pem'), CERT);
    writeFileSync(join(base, 'certs', 'key.pem'), KEY);
    writeFileSync(join(base, 'token.txt'), 'from-a-file\n');
    const own = fileConnection(path);
    expect('delegated' in own).toBe(false);
    expect(own.getCurrentContext()).toBe('ctx');
    const want = await applied(oracle(path));
    expect(await applied(own)).toEqual(want);
    // The case is not vacuous: each form sets something beyond the server.
    expect(Object.values(want).filter((v) => v !== undefined).length).toBeGreaterThan(name.startsWith('no user') ? 0 : 1);
  });

  it('hands a token file to client-node (it reads `token-file` at load, as before)', async () => {
    const path = kubeconfig('token-file', ['server: https://127.0.0.1:6443'], [`token-file: ${join(dir, 'tf.txt')}`]);
    writeFileSync(join(dir, 'tf.txt'), 'from-a-file');
    const c = fileConnection(path);
    expect('delegated' in c).toBe(true);
    expect(await applied(c)).toEqual(await applied(oracle(path)));
    expect((await applied(c))['authorization']).toBe('Bearer from-a-file');
  });

  it('loads a handed-over kubeconfig again after a load that failed (the file was being replaced), not never', async () => {
    const path = kubeconfig('reload', ['server: https://127.0.0.1:6443'], [`token-file: ${join(dir, 'tf2.txt')}`]);
    writeFileSync(join(dir, 'tf2.txt'), 'second-file');
    const c = fileConnection(path);
    expect('delegated' in c).toBe(true);
    const text = readFileSync(path, 'utf8');
    rmSync(path); // gone for a moment, as while a kubeconfig is rewritten
    await expect(c.applyToHTTPSOptions({})).rejects.toThrow(/ENOENT/);
    writeFileSync(path, text);
    const o: RequestOptions = {};
    await c.applyToHTTPSOptions(o);
    expect((o.headers as Record<string, string> | undefined)?.['Authorization']).toBe('Bearer second-file');
  });

  it('hands an exec plugin to client-node, which runs it for the token', async () => {
    const cred = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } });
    const path = kubeconfig('exec', ['server: https://198.18.0.1:6443'], [
      'exec:', '  apiVersion: client.authentication.k8s.io/v1', '  command: /bin/sh', '  args:', '  - -c', `  - 'echo ''${cred}'''`, '  interactiveMode: Never',
    ]);
    const c = fileConnection(path);
    expect('delegated' in c).toBe(true);
    expect(c.getCurrentCluster()?.server).toBe('https://198.18.0.1:6443');
    expect((await applied(c))['authorization']).toBe('Bearer from-exec');
  });

  it('says which context has no cluster', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'apiVersion: v1\nkind: Config\ncurrent-context: nowhere\ncontexts: []\nclusters: []\nusers: []\n');
    expect(() => fileConnection(path)).toThrow(`no Kubernetes cluster configured in ${path} (current-context "nowhere")`);
  });
});

describe('in-cluster: the service account, as client-node loadFromCluster', () => {
  const root = join(dir, 'pod');
  const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'ca.crt'), CA);
  writeFileSync(join(sa, 'token'), 'token-1');
  writeFileSync(join(sa, 'namespace'), 'kube-system');

  it.each([['10.96.0.1', '443'], ['fd00:96::1', '443'], ['10.96.0.1', '8080']])('host %s port %s', async (host, port) => {
    const saved = { ...process.env };
    process.env['KUBERNETES_SERVICE_HOST'] = host;
    process.env['KUBERNETES_SERVICE_PORT'] = port;
    try {
      const kc = new KubeConfig();
      kc.loadFromCluster(root);
      const own = inClusterConnection(process.env, sa);
      expect(await applied(own)).toEqual(await applied(kc));
    } finally {
      process.env = saved;
    }
  });

  it('reads the token for every request (bound tokens are rotated on disk)', async () => {
    const own = inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect((await applied(own))['authorization']).toBe('Bearer token-1');
    writeFileSync(join(sa, 'token'), 'token-2\n');
    expect((await applied(own))['authorization']).toBe('Bearer token-2');
  });
});
