// bench:etcd — the etcdv3 datastore at scale: one etcd (in a network namespace of its own, reached
// through a Unix-socket forwarder) holding a 5,000-node cluster (Nodes, BlockAffinities,
// IPAMBlocks, BGPPeers). Measures Kite's time to in-sync and its memory, then the load that 100
// Kites watching that etcd put on it (etcd CPU and memory while they list and watch, and how long
// one change takes to reach all of them). Needs root, etcd (etcd-server) and a built dist/.
//
//   npm run bench:etcd [-- --nodes 5000 --watchers 100]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const NODES = arg('nodes', 5000);
const WATCHERS = arg('watchers', 100);
const PEERS = 100;

const { Etcd3 } = await import('etcd3');
const { createEtcdDatastore } = await import(join(ROOT, 'dist/datastore/etcd/index.js'));
const { EtcdReflector } = await import(join(ROOT, 'dist/datastore/etcd/reflector.js'));
const { pino } = await import('pino');
const log = pino({ level: 'silent' });

const ns = `kb${process.pid}-etcd`;
const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
const sock = join(dir, 'etcd.sock');
const procs = [];
function cleanup() {
  for (const p of procs) { try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ } }
  try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

execFileSync('ip', ['netns', 'add', ns]);
execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
const inNs = (cmd, args) => { const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: 'ignore' }); procs.push(p); return p; };
const etcd = inNs('etcd', ['--name', 'b', '--data-dir', join(dir, 'data'), '--logger', 'zap', '--log-level', 'error',
  '--listen-client-urls', 'http://127.0.0.1:2379', '--advertise-client-urls', 'http://127.0.0.1:2379',
  '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
  '--initial-cluster', 'b=http://127.0.0.1:2380', '--quota-backend-bytes', String(4 * 1024 ** 3)]);
inNs(process.execPath, ['-e', `
const net = require('node:net'); const fs = require('node:fs');
try { fs.unlinkSync(${JSON.stringify(sock)}); } catch {}
net.createServer((c) => { const u = net.connect(2379, '127.0.0.1'); c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); }; c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
}).listen(${JSON.stringify(sock)});`]);
const hosts = [`unix://${sock}`];

// The etcd server's own pid (ip netns exec execs it) for CPU and memory from /proc.
function etcdUsage() {
  const stat = readFileSync(`/proc/${etcd.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 100; // USER_HZ
  const cpu = (Number(stat[11]) + Number(stat[12])) / tick;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${etcd.pid}/status`, 'utf8'))[1]) * 1024;
  return { cpu, rss };
}
const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;

const writer = new Etcd3({ hosts });
for (let i = 0; ; i++) {
  try { await writer.put('/bench/ready').value('1'); break; } catch (e) { if (i > 100) throw e; await new Promise((r) => setTimeout(r, 100)); }
}

// The cluster: node-i at 198.18.x.y with block 10.(i/256).(i%256 as /26 slots) affine to it.
const R = '/calico/resources/v3/projectcalico.org';
const kvs = [];
kvs.push([`${R}/bgpconfigurations/default`, { kind: 'BGPConfiguration', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: false } }]);
kvs.push([`${R}/ippools/default-ipv4-ippool`, { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '10.0.0.0/8', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()' } }]);
for (let i = 0; i < NODES; i++) {
  const name = `node-${i}`;
  const cidr = `10.${(i >> 10) & 255}.${(i >> 2) & 255}.${(i & 3) * 64}/26`;
  kvs.push([`${R}/nodes/${name}`, { kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name, labels: { 'kubernetes.io/hostname': name, rack: `r${i % 50}` } }, spec: { bgp: { ipv4Address: `198.18.${i >> 8}.${i & 255}/16` }, orchRefs: [{ nodeName: name, orchestrator: 'k8s' }] } }]);
  kvs.push([`/calico/ipam/v2/host/${name}/ipv4/block/${cidr.replace('/', '-')}`, { state: 'confirmed', deleted: false }]);
  const used = 1 + (i % 20);
  kvs.push([`/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`, {
    cidr, affinity: `host:${name}`, strictAffinity: false,
    allocations: Array.from({ length: 64 }, (_, o) => (o < used ? o : null)),
    unallocated: Array.from({ length: 64 - used }, (_, o) => o + used),
    attributes: Array.from({ length: used }, (_, o) => ({ handle_id: `k8s-pod-network.${name}-${o}`, secondary: { namespace: 'default', node: name, pod: `p-${o}` } })),
    deleted: false,
  }]);
}
for (let i = 0; i < PEERS; i++) kvs.push([`${R}/bgppeers/tor-${i}`, { kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: `tor-${i}` }, spec: { peerIP: `198.19.${i >> 8}.${i & 255}`, asNumber: 64600, nodeSelector: `rack == 'r${i % 50}'` } }]);
let bytes = 0;
const t0 = Date.now();
for (let i = 0; i < kvs.length; i += 100) {
  const ops = kvs.slice(i, i + 100).map(([k, v]) => { const value = Buffer.from(JSON.stringify(v)); bytes += value.length; return { request_put: { key: Buffer.from(k), value } }; });
  await writer.kv.txn({ success: ops });
}
console.log(`etcd ${execFileSync('etcd', ['--version']).toString().split('\n')[0]}: ${kvs.length} keys (${NODES} Nodes, ${NODES} BlockAffinities, ${NODES} IPAMBlocks, ${PEERS} BGPPeers), ${mb(bytes)} of values, written in ${Date.now() - t0} ms`);

// 1. One Kite: time to in-sync, memory.
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const ds = createEtcdDatastore({ etcd: { endpoints: hosts }, nodeName: 'node-0', log });
let snapshot;
const s0 = Date.now();
await ds.start({ onSnapshot: (r) => { snapshot = r; }, onStatus: () => undefined, onError: (e) => console.error(e.message) });
const inSync = Date.now() - s0;
global.gc?.();
const heap1 = process.memoryUsage().heapUsed;
console.log(`one Kite: in-sync after ${inSync} ms; snapshot ${snapshot.nodes.length} nodes, ${snapshot.ipamBlocks.length} blocks, ${snapshot.blockAffinities.length} affinities, ${snapshot.bgpPeers.length} peers; datastore heap +${mb(heap1 - heap0)} (process RSS ${mb(process.memoryUsage().rss)})`);
ds.stop();

// 2. 100 Kites: each lists the three prefixes and watches them, as the datastore does (values
// are dropped on arrival: this measures etcd, not 100 copies of the cluster in one process).
const before = etcdUsage();
const clients = [];
const reflectors = [];
let synced = 0;
const allSynced = new Promise((resolve) => {
  const prefixes = ['/calico/resources/v3/projectcalico.org/', '/calico/ipam/v2/assignment/', '/calico/ipam/v2/host/'];
  for (let w = 0; w < WATCHERS; w++) {
    const client = new Etcd3({ hosts });
    clients.push(client);
    for (const prefix of prefixes) {
      let first = true;
      const r = new EtcdReflector({ client, prefix, log, convert: () => ({ absent: true }), onChange: () => undefined, onError: (e) => console.error(e.message),
        onSynced: (s) => { if (s && first) { first = false; if (++synced === WATCHERS * prefixes.length) resolve(); } } });
      reflectors.push(r);
      r.start();
    }
  }
});
const w0 = Date.now();
await allSynced;
const listed = Date.now() - w0;
const afterList = etcdUsage();
console.log(`${WATCHERS} Kites: all listed and watching after ${listed} ms; etcd CPU ${(afterList.cpu - before.cpu).toFixed(1)} s for the lists, RSS ${mb(before.rss)} → ${mb(afterList.rss)}`);

// One change per 10 ms for 10 s (1,000 block updates): fan-out to 300 watches.
const c0 = etcdUsage();
let seen = 0;
const lat = [];
const target = WATCHERS;
const watchers = await Promise.all(clients.map((c) => c.watch().prefix('/bench/tick').create()));
let sentAt = 0;
let got = 0;
for (const w of watchers) w.on('put', () => { seen++; if (++got === target) lat.push(Date.now() - sentAt); });
const u0 = Date.now();
for (let i = 0; i < 1000; i++) {
  const k = kvs[2 + 3 * (i % NODES) + 2];
  await writer.put(k[0]).value(JSON.stringify(k[1]));
  if (i % 100 === 0) { got = 0; sentAt = Date.now(); await writer.put('/bench/tick').value(String(i)); }
  await new Promise((r) => setTimeout(r, 10));
}
await new Promise((r) => setTimeout(r, 500));
const c1 = etcdUsage();
lat.sort((x, y) => x - y);
console.log(`${WATCHERS} Kites watching, 1,000 block updates in ${((Date.now() - u0) / 1000).toFixed(1)} s: etcd CPU ${(c1.cpu - c0.cpu).toFixed(1)} s (${(100 * (c1.cpu - c0.cpu) / ((Date.now() - u0) / 1000)).toFixed(0)}% of a core), RSS ${mb(c1.rss)}; a change reached all ${WATCHERS} in median ${lat[lat.length >> 1] ?? '?'} ms, max ${lat[lat.length - 1] ?? '?'} ms (${seen} deliveries)`);

for (const r of reflectors) r.stop();
for (const w of watchers) await w.cancel().catch(() => undefined);
for (const c of clients) c.close();
writer.close();
process.exit(0);
