// Makes one node's pods inside its container, as Calico's CNI plugin would have (the compose and
// containerlab nodes' start step, containers/lab/start-node.sh): for each WorkloadEndpoint of the
// node in the configuration, a network namespace named after the pod, eth0 with its /32, MAC and
// default route via 169.254.1.1 onlink, and the host side (spec.interfaceName, cali…) up with MAC
// ee:ee:ee:ee:ee:ee. Routes, proxy ARP and neighbours are left to Kite's Linux dataplane.
//
//   node /lab/pods.mjs NODE CONFIG
//
// It first waits (up to 120 s) for the node's underlay address (spec.bgp.ipv4Address) to be on an
// interface: containerlab adds it with `exec` after the container has started.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The yaml package of the Kite image this runs in.
const { parseAllDocuments } = createRequire('/opt/kite/package.json')('yaml');

const POD_GATEWAY = '169.254.1.1';
const CALI_MAC = 'ee:ee:ee:ee:ee:ee';

const [node, configPath] = process.argv.slice(2);
if (!node || !configPath) {
  process.stderr.write('usage: node pods.mjs NODE CONFIG\n');
  process.exit(2);
}

function ip(...args) {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function tryIp(...args) {
  try { ip(...args); } catch { /* absent already */ }
}
function log(msg) { process.stdout.write(`pods: ${msg}\n`); }

const docs = parseAllDocuments(readFileSync(configPath, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const me = docs.find((d) => d.kind === 'Node' && d.metadata?.name === node);
if (!me) throw new Error(`${configPath} has no Node ${node}`);
const underlay = String(me.spec?.bgp?.ipv4Address ?? '').split('/')[0];

const deadline = Date.now() + 120_000;
while (underlay && !ip('-o', '-4', 'addr', 'show').includes(` ${underlay}/`)) {
  if (Date.now() > deadline) throw new Error(`${underlay} (node ${node}'s ipv4Address) is on no interface after 120 s`);
  await new Promise((r) => setTimeout(r, 500));
}

const pods = docs.filter((d) => d.kind === 'WorkloadEndpoint' && d.spec?.node === node);
for (const { spec } of pods) {
  const ns = spec.pod;
  const addr = spec.ipNetworks[0];
  // A restarted container keeps /run/netns but not the namespaces: start from nothing.
  tryIp('netns', 'del', ns);
  tryIp('link', 'del', spec.interfaceName);
  ip('netns', 'add', ns);
  ip('link', 'add', spec.interfaceName, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  ip('link', 'set', spec.interfaceName, 'address', CALI_MAC);
  ip('link', 'set', spec.interfaceName, 'up');
  const inPod = (...args) => ip('netns', 'exec', ns, 'ip', ...args);
  inPod('link', 'set', 'lo', 'up');
  if (spec.mac) inPod('link', 'set', 'eth0', 'address', spec.mac);
  inPod('addr', 'add', addr, 'dev', 'eth0');
  inPod('link', 'set', 'eth0', 'up');
  inPod('route', 'add', POD_GATEWAY, 'dev', 'eth0', 'scope', 'link');
  inPod('route', 'add', 'default', 'via', POD_GATEWAY, 'dev', 'eth0', 'onlink');
  log(`${ns} ${addr} behind ${spec.interfaceName}`);
}
log(`${pods.length} pods on ${node}`);
