// BlockAffinity labels as Calico 3.30+ writes them and lists affinities by: libcalico-go
// lib/backend/model/block_affinity.go (EnsureBlockAffinityLabels: projectcalico.org/hostname-hash
// = SHA3-256 of the node name in RFC 4648 base32 without padding, projectcalico.org/affinity-type
// = spec.type, projectcalico.org/ip-version = "6" when the CIDR has a ":" else "4"; other labels
// kept), keys from api/pkg/apis/projectcalico/v3/constants.go; written by the Kubernetes backend
// (k8s/resources ipam_affinity_v1.go buildCRD on every create and update) for both API groups.
// The expected values here are computed in the test, not by Kite's function.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Allocator } from '../../src/ipam/allocator.js';
import { FileStore, STATE_FILE } from '../../src/ipam/file-store.js';
import { createKubeRequester, KubeStore } from '../../src/ipam/kube-store.js';
import { hostnameHash } from '../../src/ipam/names.js';
import { FakeKube } from './fake-kube.js';
import { node, pool } from './helpers.js';

/** Base32 (RFC 4648 section 6, "ABC…Z2…7"), no "=": the digest as a bit string cut in fives. */
function expectedHash(host: string): string {
  const bits = [...createHash('sha3-256').update(host).digest()].map((b) => b.toString(2).padStart(8, '0')).join('');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}
const expectedLabels = (host: string, v: '4' | '6'): Record<string, string> => ({
  'projectcalico.org/hostname-hash': expectedHash(host), 'projectcalico.org/affinity-type': 'host', 'projectcalico.org/ip-version': v,
});

describe('hostname hash', () => {
  it('is Calico’s golden value for "node-a" (model TestHashHostnameForLabelGolden) and the test’s own computation', () => {
    expect(expectedHash('node-a')).toBe('PY3TQE2E3XMTETLM2MJO3UITKPFB27YUJ4T4E5XGPEJON3SM4QAA');
    for (const h of ['node-a', '', 'x', 'ip-10-0-0-1.eu-west-1.compute.internal', 'n'.repeat(300), 'nœud-ü']) {
      expect(hostnameHash(h)).toBe(expectedHash(h));
      // 256 bits in base32 without padding: 52 characters, under the 63 a label value may have.
      expect(hostnameHash(h)).toHaveLength(52);
    }
  });
});

describe('labels on the BlockAffinities Kite writes', () => {
  let api: FakeKube;
  beforeAll(async () => { api = await FakeKube.start(); });
  afterAll(async () => { await api.close(); });
  beforeEach(() => { api.objects.clear(); api.log.length = 0; });
  const kube = (apiVersion: 'crd.projectcalico.org/v1' | 'projectcalico.org/v3'): KubeStore => {
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfig);
    return new KubeStore({ requester: createKubeRequester(kc), apiVersion });
  };
  const labelsOf = (name: string): unknown => (JSON.parse(api.raw('blockaffinities', name) ?? '{}') as { metadata?: { labels?: unknown } }).metadata?.labels;

  for (const group of ['crd.projectcalico.org/v1', 'projectcalico.org/v3'] as const) {
    it(`Kubernetes (${group}): every create and rewrite carries them, IPv4 and IPv6`, async () => {
      const store = kube(group);
      const a = new Allocator({ store, pools: () => [pool('p4', '10.244.0.0/24'), pool('p6', 'fd00:10:244::/120')] });
      await a.autoAssign({ node: node('node-a'), handle: 'h4' });
      await a.autoAssign({ node: node('node-a'), handle: 'h6', family: 6 });
      const affs = await store.list('BlockAffinity');
      expect(affs).toHaveLength(2);
      for (const aff of affs) expect(labelsOf(aff.name)).toEqual(expectedLabels('node-a', aff.spec.cidr.includes(':') ? '6' : '4'));
      // The POST (pending) and the PUT (confirmed) both carried them.
      const writes = api.log.filter((l) => l.path.includes('/blockaffinities') && (l.method === 'POST' || l.method === 'PUT'));
      expect(writes.length).toBeGreaterThanOrEqual(4);
      for (const w of writes) expect(w.body).toContain(`"projectcalico.org/hostname-hash":"${expectedHash('node-a')}"`);
    });
  }

  it('Kubernetes: an unlabelled affinity an older Calico wrote gains the labels when Kite rewrites it; its own labels stay', async () => {
    const store = kube('crd.projectcalico.org/v1');
    api.objects.set('blockaffinities/node-b-10-0-0-0-26', { rv: 4, text: '{"apiVersion":"crd.projectcalico.org/v1","kind":"BlockAffinity","metadata":{"name":"node-b-10-0-0-0-26","resourceVersion":"4","labels":{"team":"net","projectcalico.org/ip-version":"wrong"}},"spec":{"state":"pending","node":"node-b","cidr":"10.0.0.0/26","deleted":"false"}}' });
    const got = (await store.get('BlockAffinity', 'node-b-10-0-0-0-26'))!;
    await store.update('BlockAffinity', got.name, { ...got.spec, state: 'confirmed' }, got.revision);
    expect(labelsOf('node-b-10-0-0-0-26')).toEqual({ team: 'net', ...expectedLabels('node-b', '4') });
  });

  it('file store: the state file’s BlockAffinity objects carry them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kite-ipam-labels-'));
    try {
      const a = new Allocator({ store: new FileStore(dir), pools: () => [pool('p', '10.9.0.0/24')] });
      await a.autoAssign({ node: node('node-c'), handle: 'h' });
      const doc = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { objects: { kind: string; metadata: { labels?: unknown } }[] };
      const affs = doc.objects.filter((o) => o.kind === 'BlockAffinity');
      expect(affs).toHaveLength(1);
      expect(affs[0]!.metadata.labels).toEqual(expectedLabels('node-c', '4'));
      // Blocks and handles get none (Calico labels only affinities).
      expect(doc.objects.filter((o) => o.kind !== 'BlockAffinity').every((o) => o.metadata.labels === undefined)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
