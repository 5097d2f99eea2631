// The packaging files checked without Docker (issue 14): every Kubernetes manifest against the
// Kubernetes OpenAPI schema of its kind (kubernetes-models' ajv validators; unknown fields by
// @kubernetes/client-node's field tables), the DaemonSet's probes, resources and stop path, the
// containerlab topology against containerlab's JSON schema, and the compose cluster's addresses,
// images and startup files. `npm run test:containers` builds and runs them for real.
import * as k8s from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseResources } from '../../src/datastore/file.js';
import { caliName } from '../../src/lab/topology.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
type Doc = Record<string, unknown>;
const docs = (p: string): Doc[] => parseAllDocuments(read(p)).map((d) => d.toJS() as Doc).filter(Boolean);

interface Model { validate(): void }
type ModelClass = new (data: Doc) => Model;

/** kubernetes-models' class for a manifest's apiVersion and kind (apps/v1 → apps/v1/DaemonSet, v1 → v1/ServiceAccount). */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const spec = `kubernetes-models/${apiVersion}/${kind}`;
  const mod = (await import(/* @vite-ignore */ spec)) as Record<string, ModelClass>;
  const cls = mod[kind];
  if (!cls) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return cls;
}

/** The OpenAPI validation errors of one manifest (none: valid). */
async function schemaErrors(doc: Doc): Promise<string[]> {
  const Cls = await modelFor(String(doc['apiVersion']), String(doc['kind']));
  try {
    new Cls(doc).validate();
    return [];
  } catch (e) {
    return [String((e as Error).message)];
  }
}

type FieldTable = { name: string; baseName: string; type: string }[];
const clientTypes = k8s as unknown as Record<string, { getAttributeTypeMap?: () => FieldTable } | undefined>;

/** Fields the Kubernetes API does not know (a typo is silently dropped by the API server): walks the value along client-node's generated field tables. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' ? Object.entries(value as Doc).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`)) : [];
  const table = clientTypes[type]?.getAttributeTypeMap?.();
  if (!table || typeof value !== 'object') return [];
  const byName = new Map(table.map((f) => [f.baseName, f.type]));
  return Object.entries(value as Doc).flatMap(([k, v]) => {
    const t = byName.get(k);
    return t === undefined ? [`${path}.${k}`] : unknownFields(v, t, `${path}.${k}`);
  });
}
const clientType = (doc: Doc): string => `${String(doc['apiVersion']).split('/').pop()!.replace(/^v/, 'V')}${String(doc['kind'])}`;

const MANIFESTS = ['containers/daemonset.yaml', 'containers/clusterrole.yaml'];

describe('Kubernetes manifests', () => {
  for (const file of MANIFESTS) {
    it(`${file}: every document is valid for its kind (OpenAPI schema, no unknown fields)`, async () => {
      const all = docs(file);
      expect(all.length).toBeGreaterThan(0);
      for (const doc of all) {
        const name = `${String(doc['kind'])} ${String((doc['metadata'] as Doc | undefined)?.['name'])}`;
        expect(await schemaErrors(doc), name).toEqual([]);
        expect(clientTypes[clientType(doc)]?.getAttributeTypeMap, `client-node knows ${clientType(doc)}`).toBeTypeOf('function');
        expect(unknownFields(doc, clientType(doc), name), name).toEqual([]);
      }
    });
  }

  it('the checks see mistakes: a wrong type, a missing required field, a misspelt field', async () => {
    const ds = docs('containers/daemonset.yaml')[0]!;
    const spec = (d: Doc): Doc => ((d['spec'] as Doc)['template'] as Doc)['spec'] as Doc;
    const wrongType = structuredClone(ds);
    spec(wrongType)['terminationGracePeriodSeconds'] = 'ten';
    expect((await schemaErrors(wrongType)).join()).toMatch(/terminationGracePeriodSeconds must be integer/);
    const noSelector = structuredClone(ds);
    delete (noSelector['spec'] as Doc)['selector'];
    expect((await schemaErrors(noSelector)).join()).toMatch(/selector/);
    const typo = structuredClone(ds);
    ((spec(typo)['containers'] as Doc[])[0]!)['livenesProbe'] = {};
    expect(unknownFields(typo, 'V1DaemonSet', 'ds')).toEqual(['ds.spec.template.spec.containers[0].livenesProbe']);
  });

  describe('the DaemonSet', () => {
    const ds = docs('containers/daemonset.yaml')[0]!;
    const pod = ((ds['spec'] as Doc)['template'] as Doc)['spec'] as Doc;
    const c = (pod['containers'] as Doc[])[0]! as Record<string, Doc>;

    it('has resource requests and limits', () => {
      const r = c['resources'] as Record<string, Doc>;
      expect(Object.keys(r['requests']!).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(r['limits']!).sort()).toEqual(['cpu', 'memory']);
    });

    it('probes Kite\'s own health endpoints (liveness /livez, readiness /readyz), not `kite show summary`', () => {
      expect(c['livenessProbe']!['httpGet']).toEqual({ host: '127.0.0.1', path: '/livez', port: 9097 });
      expect(c['readinessProbe']!['httpGet']).toEqual({ host: '127.0.0.1', path: '/readyz', port: 9097 });
    });

    it('serves /metrics on the node\'s addresses for Prometheus (the probes still ask 127.0.0.1)', () => {
      const env = (c['env'] as unknown as Doc[]).find((e) => e['name'] === 'KITE_HTTP_ADDRESS');
      expect(env?.['value']).toBe('0.0.0.0');
      const ann = ((ds['spec'] as Doc)['template'] as Doc)['metadata'] as Doc;
      expect(ann['annotations']).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9097' });
      expect(read('containers/Dockerfile')).toMatch(/HEALTHCHECK .*CMD \["kite", "health", "ready"\]/);
    });

    it('stops as a graceful restart: preStop SIGKILLs Kite (shared process namespace), well within the restart time peers wait', () => {
      expect(((c['lifecycle']!['preStop'] as Doc)['exec'] as Doc)['command']).toEqual(['kite-stop', 'restart']);
      expect(pod['shareProcessNamespace']).toBe(true);
      const grace = pod['terminationGracePeriodSeconds'] as number;
      expect(grace).toBeGreaterThan(0);
      expect(grace).toBeLessThan(120); // Calico's default restart time (maxRestartTime)
      const run = (pod['volumes'] as Doc[]).find((v) => v['name'] === 'run')!;
      expect((run['hostPath'] as Doc)['path']).toBe('/run/kite'); // the .running marker outlives the pod
    });

    it('has calico-node\'s env and mounts where Kite needs them', () => {
      const env = c['env'] as unknown as Doc[];
      expect(env.find((e) => e['name'] === 'NODENAME')).toEqual({ name: 'NODENAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
      expect(env.map((e) => e['name'])).toContain('POD_NAMESPACE');
      const mounts = (c['volumeMounts'] as unknown as Doc[]).map((m) => m['mountPath']);
      expect(mounts).toEqual(expect.arrayContaining(['/run/kite', '/lib/modules']));
      expect(pod['hostNetwork']).toBe(true);
      expect(pod['serviceAccountName']).toBe('kite');
      expect(docs('containers/clusterrole.yaml').some((d) => d['kind'] === 'ServiceAccount' && (d['metadata'] as Doc)['name'] === 'kite')).toBe(true);
    });

    it('runs the image the Dockerfile and compose build', () => {
      const version = (JSON.parse(read('package.json')) as { version: string }).version;
      expect(c['image']).toBe(`kite:${version}`);
    });
  });
});

describe('kite-stop (containers/kite-stop.mjs)', async () => {
  // A plain .mjs (it runs in the image without TypeScript): imported by URL, typed here.
  const stop = (await import(/* @vite-ignore */ pathToFileURL(join(ROOT, 'containers', 'kite-stop.mjs')).href)) as {
    kiteRunPids(proc?: string): number[];
  };

  it('finds the `kite run` process (and nothing else) to signal', () => {
    const proc = mkdtempSync(join(tmpdir(), 'kite-proc-'));
    try {
      const cmd = (pid: number, argv: string[]): void => {
        mkdirSync(join(proc, String(pid)));
        writeFileSync(join(proc, String(pid), 'cmdline'), argv.join('\0') + '\0');
      };
      cmd(1, ['/pause']);
      cmd(7, ['node', '/opt/kite/bin/kite', 'run', '--datastore', 'kubernetes']);
      cmd(9, ['node', '/opt/kite/bin/kite', 'show', 'summary', '--json']);
      cmd(11, ['kite', 'run', '--config', '/lab/kite.yaml']);
      mkdirSync(join(proc, 'self'));
      expect(stop.kiteRunPids(proc).sort((a, b) => a - b)).toEqual([7, 11]);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  it('is in the image, and the hook the DaemonSet runs', () => {
    expect(read('containers/Dockerfile')).toMatch(/COPY containers\/kite-stop.mjs \/usr\/local\/bin\/kite-stop/);
    expect(read('.dockerignore')).toMatch(/^!containers\/kite-stop.mjs$/m);
  });
});

describe('containerlab topology (containers/lab.clab.yml)', () => {
  const schema = JSON.parse(read('test/containers/schemas/clab.schema.json')) as Doc;
  // containerlab's schema uses editor keywords (markdownDescription) that strict mode rejects.
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const topo = parse(read('containers/lab.clab.yml')) as Doc;

  it('validates against containerlab\'s JSON schema', () => {
    expect(validate(topo), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the schema check sees mistakes', () => {
    const bad = structuredClone(topo);
    ((bad['topology'] as Doc)['nodes'] as Record<string, Doc>)['tor']!['imagee'] = 'x';
    expect(validate(bad)).toBe(false);
  });

  it('keeps the vendored schema\'s BSD notice', () => {
    expect(read('test/containers/schemas/clab.schema.LICENSE')).toMatch(/BSD 3-Clause License[\s\S]*Copyright \(c\) 2021 Nokia/);
  });

  it('uses the compose cluster\'s images and startup files, and the addresses of the lab configuration', () => {
    const t = topo['topology'] as Record<string, Record<string, Doc>>;
    expect(t['groups']!['kite']!['image']).toBe('kite:0.1.0');
    expect(t['nodes']!['tor']!['image']).toBe('kite-tor:0.1.0');
    for (const bind of [...(t['groups']!['kite']!['binds'] as string[]), ...(t['nodes']!['tor']!['binds'] as string[])]) {
      expect(existsSync(join(ROOT, 'containers', bind.split(':')[0]!)), bind).toBe(true);
    }
    for (const n of [1, 2, 3]) expect(t['nodes']![`node-${n}`]!['exec']).toEqual([`ip addr add 198.19.0.${n}/24 dev eth1`]);
    expect(read('containers/lab/frr.conf')).toMatch(/no bgp ebgp-requires-policy/);
  });
});

describe('compose cluster (docker-compose.yml)', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as Record<string, Record<string, Doc>>;
  const services = compose['services']!;
  const ipam = ((compose['networks']!['underlay'] as Doc)['ipam'] as { config: { subnet: string; gateway: string }[] }).config[0]!;

  it('gives no node the network\'s gateway address', () => {
    const addresses = Object.values(services).map((s) => ((s['networks'] as Doc)['underlay'] as Doc)['ipv4_address']);
    expect(addresses).not.toContain(ipam.gateway);
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const a of addresses) expect(String(a)).toMatch(/^198\.19\.0\.\d+$/);
    expect(ipam.subnet).toBe('198.19.0.0/24');
  });

  it('builds the kite image once and shares it between the three nodes; builds the ToR', () => {
    const nodes = ['node-1', 'node-2', 'node-3'].map((n) => services[n]!);
    expect(nodes.map((s) => s['image'])).toEqual(['kite:0.1.0', 'kite:0.1.0', 'kite:0.1.0']);
    expect(nodes.filter((s) => s['build'] !== undefined)).toHaveLength(1);
    expect((services['tor']!['build'] as Doc)['dockerfile']).toBe('containers/tor/Dockerfile');
    expect(read('containers/tor/Dockerfile')).toMatch(/bgpd=yes/);
  });

  it('runs every node on its Linux dataplane with its pods, from the lab configuration', () => {
    expect(read('containers/lab/start-node.sh')).toMatch(/--dataplane linux/);
    for (const n of ['node-1', 'node-2', 'node-3']) {
      expect(services[n]!['entrypoint']).toEqual(['/bin/sh', '/lab/start-node.sh']);
      expect(services[n]!['environment']).toEqual({ NODENAME: n });
    }
  });
});

describe('the lab configuration (containers/lab/kite.yaml)', () => {
  const rs = parseResources(read('containers/lab/kite.yaml'), 'containers/lab/kite.yaml');
  const all = docs('containers/lab/kite.yaml');

  it('is a valid Calico file datastore for Kite', () => {
    expect(rs).toBeDefined();
    expect(all.filter((d) => d['kind'] === 'Node')).toHaveLength(3);
  });

  it('names each pod\'s host interface as Calico\'s CNI does', () => {
    const weps = all.filter((d) => d['kind'] === 'WorkloadEndpoint');
    expect(weps).toHaveLength(6);
    for (const w of weps) {
      const spec = w['spec'] as Doc;
      expect(spec['interfaceName']).toBe(caliName(String((w['metadata'] as Doc)['namespace']), String(spec['pod'])));
    }
  });
});
