// The Kubernetes IPAM store against a local HTTPS API: Calico's CRD shapes on the wire
// (crd.projectcalico.org/v1, BlockAffinity.deleted as a string, uint64 sequence numbers kept
// exact), 409 on stale resourceVersions and taken names, Calico's mark-then-delete, objects
// left marked by a dead deleter, and allocators racing through the API.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Allocator } from '../../src/ipam/allocator.js';
import { createKubeRequester, KubeStore } from '../../src/ipam/kube-store.js';
import { isStoreError } from '../../src/ipam/store.js';
import { FakeKube } from './fake-kube.js';
import { auditStore, node, pool } from './helpers.js';

let api: FakeKube;
let store: KubeStore;
const newStore = (apiVersion?: 'crd.projectcalico.org/v1' | 'projectcalico.org/v3'): KubeStore => {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfig);
  return new KubeStore({ requester: createKubeRequester(kc), ...(apiVersion !== undefined ? { apiVersion } : {}) });
};

beforeAll(async () => { api = await FakeKube.start(); });
afterAll(async () => { await api.close(); });
beforeEach(() => {
  api.objects.clear();
  api.log.length = 0;
  api.conflictPuts = 0;
  api.pageSize = 0;
  store = newStore();
});

describe('KubeStore', () => {
  it('writes Calico CRD objects (v1: deleted "false" as text) and reads back specs', async () => {
    const a = new Allocator({ store, pools: () => [pool('p', '10.244.0.0/24', { blockSize: 26 })] });
    await a.autoAssign({ node: node('node-1'), handle: 'k8s-pod-network.c1', attrs: { pod: 'p' } });
    const block = (await store.list('IPAMBlock'))[0]!;
    const ba = JSON.parse(api.raw('blockaffinities', `node-1-${block.name}`)!) as { apiVersion: string; kind: string; spec: Record<string, unknown> };
    expect(ba.apiVersion).toBe('crd.projectcalico.org/v1');
    expect(ba.kind).toBe('BlockAffinity');
    expect(ba.spec).toEqual({ state: 'confirmed', node: 'node-1', type: 'host', cidr: block.spec.cidr, deleted: 'false' });
    const raw = api.raw('ipamblocks', block.name)!;
    // The uint64 sequence number is written as a bare 19-digit integer, not rounded.
    expect(raw).toMatch(/"sequenceNumber":\d{19}[,}]/);
    expect(raw).toContain('"affinity":"host:node-1"');
    expect(raw).toContain('"attributes":[{"handle_id":"k8s-pod-network.c1","secondary":{"pod":"p"}}]');
    const h = JSON.parse(api.raw('ipamhandles', 'k8s-pod-network.c1')!) as { spec: unknown };
    expect(h.spec).toEqual({ handleID: 'k8s-pod-network.c1', block: { [block.spec.cidr]: 1 }, deleted: false });
    // Creates POST to the collection, changes PUT with the resourceVersion read.
    expect(api.log.some((l) => l.method === 'POST' && l.path === '/apis/crd.projectcalico.org/v1/ipamblocks')).toBe(true);
    expect(api.log.some((l) => l.method === 'PUT' && l.path === `/apis/crd.projectcalico.org/v1/ipamblocks/${block.name}` && /"resourceVersion":"\d+"/.test(l.body))).toBe(true);
  });

  it('keeps a Calico-written 19-digit sequence number exact through read and write', async () => {
    const seq = '1712345678901234567';
    const text = `{"apiVersion":"crd.projectcalico.org/v1","kind":"IPAMBlock","metadata":{"name":"10-0-0-0-30","resourceVersion":"7","labels":{"keep":"me"}},"spec":{"cidr":"10.0.0.0/30","affinity":"host:n","strictAffinity":false,"allocations":[0,null,null,null],"unallocated":[1,2,3],"attributes":[{"handle_id":"h","secondary":{"node":"n"}}],"sequenceNumber":${seq},"sequenceNumberForAllocation":{"0":${seq}},"deleted":false}}`;
    api.objects.set('ipamblocks/10-0-0-0-30', { text, rv: 7 });
    const got = await store.get('IPAMBlock', '10-0-0-0-30');
    expect(got?.spec.sequenceNumber).toBe(BigInt(seq));
    await store.update('IPAMBlock', '10-0-0-0-30', { ...got!.spec, sequenceNumber: got!.spec.sequenceNumber + 1n }, got!.revision);
    const after = api.raw('ipamblocks', '10-0-0-0-30')!;
    expect(after).toContain('"sequenceNumber":1712345678901234568');
    expect(after).toContain(`"sequenceNumberForAllocation":{"0":${seq}}`);
    expect(after).toContain('"labels":{"keep":"me"}');
  });

  it('maps 409 AlreadyExists and 409 Conflict, and 404', async () => {
    const spec = { handleID: 'h', block: {}, deleted: false };
    const s = await store.create('IPAMHandle', 'h', spec);
    await expect(store.create('IPAMHandle', 'h', spec)).rejects.toSatisfy((e) => isStoreError(e, 'exists'));
    const s2 = await store.update('IPAMHandle', 'h', { ...spec, block: { '10.0.0.0/26': 1 } }, s.revision);
    await expect(store.update('IPAMHandle', 'h', spec, s.revision)).rejects.toSatisfy((e) => isStoreError(e, 'conflict'));
    await expect(store.delete('IPAMHandle', 'h', s.revision)).rejects.toSatisfy((e) => isStoreError(e, 'conflict'));
    await expect(store.update('IPAMHandle', 'nope', spec, '1')).rejects.toSatisfy((e) => isStoreError(e, 'notFound'));
    await store.delete('IPAMHandle', 'h', s2.revision);
    expect(await store.get('IPAMHandle', 'h')).toBeUndefined();
    // Deletion is mark (conditional PUT with deleted: true), then DELETE with a precondition.
    const tail = api.log.slice(-4).map((l) => `${l.method} ${l.status}`);
    expect(tail).toEqual(['GET 200', 'PUT 200', 'DELETE 200', 'GET 404']);
    expect(api.log.at(-3)!.body).toContain('"deleted":true');
    expect(api.log.at(-2)!.body).toMatch(/"preconditions":\{"resourceVersion":"\d+"\}/);
  });

  it('treats an object left marked deleted as gone and finishes deleting it', async () => {
    api.objects.set('blockaffinities/n-10-0-0-0-26', { rv: 5, text: '{"apiVersion":"crd.projectcalico.org/v1","kind":"BlockAffinity","metadata":{"name":"n-10-0-0-0-26","resourceVersion":"5"},"spec":{"state":"pendingDeletion","node":"n","cidr":"10.0.0.0/26","deleted":"true"}}' });
    expect(await store.list('BlockAffinity')).toEqual([]);
    expect(await store.get('BlockAffinity', 'n-10-0-0-0-26')).toBeUndefined();
    expect(api.objects.size).toBe(0);
  });

  it('retries through injected 409s: the allocator re-reads and succeeds', async () => {
    const a = new Allocator({ store, pools: () => [pool('p', '10.1.0.0/24', { blockSize: 28 })] });
    await a.autoAssign({ node: node('n'), handle: 'h0' });
    api.conflictPuts = 3;
    const ips = await a.autoAssign({ node: node('n'), handle: 'h1', count: 2 });
    expect(ips).toHaveLength(2);
    expect(api.log.filter((l) => l.status === 409).length).toBeGreaterThanOrEqual(3);
    const { owners } = await auditStore(store);
    expect(owners.size).toBe(3);
  });

  it('a pending BlockAffinity Calico left without its IPAMBlock: that CIDR is claimed through the API and confirmed (libcalico-go getBlockFromAffinity)', async () => {
    // As calico-ipam writes it in crd.projectcalico.org/v1 (deleted as text), with no block.
    const text = '{"apiVersion":"crd.projectcalico.org/v1","kind":"BlockAffinity","metadata":{"name":"node-1-10-244-0-64-26","resourceVersion":"3"},"spec":{"state":"pending","node":"node-1","type":"host","cidr":"10.244.0.64/26","deleted":"false"}}';
    api.objects.set('blockaffinities/node-1-10-244-0-64-26', { text, rv: 3 });
    const a = new Allocator({ store, pools: () => [pool('p', '10.244.0.0/24', { blockSize: 26 })] });
    expect(await a.autoAssign({ node: node('node-1'), handle: 'k8s-pod-network.c1' })).toEqual(['10.244.0.64']);
    expect((JSON.parse(api.raw('blockaffinities', 'node-1-10-244-0-64-26')!) as { spec: unknown }).spec).toEqual({ state: 'confirmed', node: 'node-1', type: 'host', cidr: '10.244.0.64/26', deleted: 'false' });
    expect(api.raw('ipamblocks', '10-244-0-64-26')).toContain('"affinity":"host:node-1"');
    expect((await store.list('IPAMBlock')).map((b) => b.name)).toEqual(['10-244-0-64-26']);
    // The pending write named the resourceVersion read (compare-and-swap), before the block's POST.
    const i = api.log.findIndex((l) => l.method === 'PUT' && l.path.endsWith('/blockaffinities/node-1-10-244-0-64-26') && l.body.includes('"resourceVersion":"3"'));
    const j = api.log.findIndex((l) => l.method === 'POST' && l.path.endsWith('/ipamblocks'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(j).toBeGreaterThan(i);
  });

  it('pages through long lists', async () => {
    const a = new Allocator({ store, pools: () => [pool('p', '10.2.0.0/24', { blockSize: 29 })] });
    api.pageSize = 2;
    await a.autoAssign({ node: node('n'), handle: 'h', count: 40 });
    expect((await store.list('IPAMBlock')).length).toBe(5);
    expect(api.log.some((l) => l.path.includes('continue='))).toBe(true);
  });

  it('projectcalico.org/v3 CRDs store BlockAffinity.deleted as a boolean', async () => {
    const v3 = newStore('projectcalico.org/v3');
    await v3.create('BlockAffinity', 'n-10-0-0-0-26', { node: 'n', cidr: '10.0.0.0/26', state: 'pending', deleted: false });
    expect(JSON.parse(api.raw('blockaffinities', 'n-10-0-0-0-26')!)).toMatchObject({ apiVersion: 'projectcalico.org/v3', spec: { deleted: false } });
  });

  it('racing allocators (separate stores, one API) never share a block or an address', async () => {
    const pools = [pool('p', '10.3.0.0/26', { blockSize: 29 })];
    const allocs = Array.from({ length: 4 }, () => new Allocator({ store: newStore(), pools: () => pools }));
    const got = await Promise.all(allocs.map(async (a, i) => {
      const mine: string[] = [];
      for (let k = 0; k < 6; k++) mine.push(...await a.autoAssign({ node: node(`n${i % 3}`), handle: `h-${i}-${k}` }));
      return mine;
    }));
    const all = got.flat();
    expect(all).toHaveLength(24);
    expect(new Set(all).size).toBe(24);
    const { owners } = await auditStore(store);
    expect(owners.size).toBe(24);
    expect(api.log.some((l) => l.status === 409)).toBe(true);
  });
});
