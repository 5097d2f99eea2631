// The etcd datastore over TLS with client certificates (ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
// ETCD_KEY_FILE), against one etcd member that requires them: the right files sync; a CA that did
// not sign the member's certificate, or a client certificate the member does not trust, gives an
// error that names the TLS variables.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createEtcdDatastore } from '../../../src/datastore/etcd/index.js';
import type { EtcdConfig } from '../../../src/datastore/etcd/env.js';
import { EtcdCluster, waitFor, etcdPrerequisites } from './cluster.js';

const log = pino({ level: 'silent' });
const SUBNET = 215;

/** A CA and a certificate it signs, good as server (member IP, and localhost for Unix-socket clients) and client. */
function makePki(dir: string, name: string): { ca: string; cert: string; key: string } {
  const f = (x: string): string => join(dir, `${name}-${x}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', `/CN=${name}-ca`], { stdio: 'ignore' });
  execFileSync('openssl', ['req', ...ec, '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', `/CN=${name}`], { stdio: 'ignore' });
  writeFileSync(f('ext.cnf'), `subjectAltName=IP:198.18.${SUBNET}.10,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n`);
  execFileSync('openssl', ['x509', '-req', '-in', f('csr.pem'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('cert.pem'), '-days', '1', '-extfile', f('ext.cnf')], { stdio: 'ignore' });
  return { ca: f('ca.crt'), cert: f('cert.pem'), key: f('key.pem') };
}

const missing = etcdPrerequisites('the etcd TLS tests', [['etcd', '--version'], ['etcdctl', 'version'], ['openssl', 'version']]);

describe.skipIf(missing !== undefined)('etcd datastore over TLS with client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kite-etcd-tls-'));
  const good = makePki(dir, 'good');
  const other = makePki(dir, 'other');
  const cluster = new EtcdCluster('etcdtls', SUBNET, 1, good);
  beforeAll(async () => { await cluster.start(); }, 120_000);
  afterAll(async () => {
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function firstError(etcd: EtcdConfig): Promise<string> {
    const ds = createEtcdDatastore({ etcd, nodeName: 'n', log, backoffMs: [200] });
    const errors: string[] = [];
    void ds.start({ onSnapshot: () => undefined, onStatus: () => undefined, onError: (e) => errors.push(e.message) }).catch(() => undefined);
    try {
      await waitFor('an error', async () => (errors.length > 0 ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
      return errors[0] ?? '';
    } finally {
      ds.stop();
    }
  }

  it('syncs with the right CA, certificate and key', async () => {
    const ds = createEtcdDatastore({ etcd: { endpoints: cluster.endpoints, caCertFile: good.ca, certFile: good.cert, keyFile: good.key }, nodeName: 'n', log });
    await ds.start({ onSnapshot: () => undefined, onStatus: () => undefined, onError: () => undefined });
    ds.stop();
  }, 30_000);

  it('a CA that did not sign the member\'s certificate names the TLS variables', async () => {
    const e = await firstError({ endpoints: cluster.endpoints, caCertFile: other.ca, certFile: good.cert, keyFile: good.key });
    expect(e).toMatch(/TLS failed: check ETCD_CA_CERT_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE/);
  }, 30_000);

  it('a client certificate the member does not trust gives a clear error', async () => {
    const e = await firstError({ endpoints: cluster.endpoints, caCertFile: good.ca, certFile: other.cert, keyFile: other.key });
    // gRPC alone often says only "Failed to connect" here (TLS 1.3 rejects the certificate after
    // the handshake); Kite's own handshake names the cause.
    expect(e).toMatch(/TLS failed: check ETCD_CA_CERT_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE/);
  }, 30_000);

  it('a missing certificate file is a configuration error naming the variable', () => {
    expect(() => createEtcdDatastore({ etcd: { endpoints: cluster.endpoints, caCertFile: join(dir, 'nope.crt') }, nodeName: 'n', log })).toThrow(/ETCD_CA_CERT_FILE/);
  });
});
