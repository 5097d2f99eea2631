// `kite lab up --datastore etcd`: an etcd for the lab in node-1's namespace (on its underlay
// address, so every node reaches it), with the lab's Calico resources written into it in Calico's
// etcdv3 key layout; the Kites then run with --datastore etcdv3 instead of reading the file.
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { affinityKey, resourceKey } from '../datastore/etcd/keys.js';
import { exec, sleep, spawnInNs } from './sys.js';
import type { LabProcess } from './state.js';
import type { NodePlan } from './topology.js';

/** Kinds in the lab's file, by the plural their etcd keys use. */
const PLURAL: Readonly<Record<string, string>> = {
  BGPConfiguration: 'bgpconfigurations', BGPPeer: 'bgppeers', BGPFilter: 'bgpfilters', IPPool: 'ippools', Node: 'nodes', WorkloadEndpoint: 'workloadendpoints',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The lab file's documents as etcd keys and values (libcalico-go's layout). */
export function etcdEntries(yamlText: string): [string, string][] {
  const out: [string, string][] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    const o: unknown = doc.toJS();
    if (!isObj(o) || !isObj(o['metadata'])) continue;
    const kind = String(o['kind']);
    const md = o['metadata'];
    const spec = isObj(o['spec']) ? o['spec'] : {};
    if (kind === 'BlockAffinity') {
      out.push([affinityKey(String(spec['node']), String(spec['cidr'])), JSON.stringify({ state: spec['state'] ?? 'confirmed', deleted: false })]);
      continue;
    }
    const plural = PLURAL[kind];
    if (plural === undefined) continue;
    const ns = typeof md['namespace'] === 'string' ? md['namespace'] : undefined;
    out.push([resourceKey(plural, String(md['name']), ns), JSON.stringify({ ...o, apiVersion: 'projectcalico.org/v3' })]);
  }
  return out;
}

/** Starts etcd in `host`'s namespace, waits until it answers, writes the entries; returns the process and its URL. */
export async function startLabEtcd(host: NodePlan, stateDir: string, yamlText: string, progress: (line: string) => void): Promise<{ proc: LabProcess; url: string }> {
  const url = `http://${host.ip}:2379`;
  const log = openSync(join(stateDir, 'etcd.log'), 'a');
  const pid = spawnInNs(host.netns, ['etcd', '--name', 'lab', '--data-dir', join(stateDir, 'etcd.data'), '--logger', 'zap', '--log-level', 'warn',
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://${host.ip}:2380`, '--initial-advertise-peer-urls', `http://${host.ip}:2380`,
    '--initial-cluster', `lab=http://${host.ip}:2380`], log);
  const proc: LabProcess = { name: `etcd ${host.name}`, pid, netns: host.netns, match: 'etcd' };
  const ctl = (args: string[], input?: string): Promise<unknown> => exec('ip', ['netns', 'exec', host.netns, 'etcdctl', '--endpoints', url, ...args], input);
  for (let i = 0; ; i++) {
    try { await ctl(['endpoint', 'health']); break; } catch (e) { if (i > 100) throw new Error(`the lab's etcd did not start: ${(e as Error).message}`); await sleep(100); }
  }
  const entries = etcdEntries(yamlText);
  for (const [k, v] of entries) await ctl(['put', k], v);
  progress(`etcd ${url} in ${host.netns}: wrote ${entries.length} keys under /calico/`);
  return { proc, url };
}
