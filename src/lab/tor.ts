// The lab's optional top-of-rack router: FRR (zebra + bgpd) in the kitelab-tor namespace,
// eBGP with every node (AS 65000 against one AS per node; one session per family the lab has),
// installing what it learns into its kernel so it forwards pod traffic between the nodes' subnets.
import { chmodSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec, isAlive, sleep, spawnInNs } from './sys.js';
import type { LabProcess } from './state.js';
import { STATE_DIR, TOR_AS, type LabPlan } from './topology.js';

const ZEBRA = '/usr/lib/frr/zebra';
const BGPD = '/usr/lib/frr/bgpd';
const VTYSH = '/usr/bin/vtysh';
export const TOR_DIR = join(STATE_DIR, 'tor');

/** Installs FRR with scripts/install-deps.sh when bgpd is missing. */
export async function ensureFrr(repoRoot: string, progress: (s: string) => void): Promise<void> {
  if (existsSync(ZEBRA) && existsSync(BGPD)) return;
  progress('FRR is not installed: running scripts/install-deps.sh (apt-get)');
  await exec('sh', [join(repoRoot, 'scripts', 'install-deps.sh')], undefined, 600_000);
  if (!existsSync(ZEBRA) || !existsSync(BGPD)) throw new Error('FRR (zebra, bgpd) is still missing after scripts/install-deps.sh');
}

export function torConfig(plan: LabPlan): string {
  // The router ID is an IPv4-shaped number even when the ToR has no IPv4 address (IPv6-only lab).
  const first = plan.nodes[0]?.torIp ?? '198.18.1.254';
  // Each node's session address per family: its IPv4 address, its IPv6 one (an IPv6-only node's ip).
  const v4 = plan.nodes.filter((n) => n.torIp !== undefined).map((n) => ({ ip: n.ip, as: n.asNumber }));
  const v6 = plan.nodes.filter((n) => n.torIp6 !== undefined).map((n) => ({ ip: n.ip6 ?? n.ip, as: n.asNumber }));
  const lines = [
    'frr defaults traditional',
    'hostname kitelab-tor',
    `log file ${join(TOR_DIR, 'frr.log')}`,
    '!',
    `router bgp ${TOR_AS}`,
    ` bgp router-id ${first}`,
    // FRR 8+ refuses to exchange eBGP routes without a policy (RFC 8212); the lab is a closed box.
    ' no bgp ebgp-requires-policy',
    // Each session carries its own family only (an IPv6 session would otherwise offer IPv4 too).
    ' no bgp default ipv4-unicast',
    ' bgp bestpath as-path multipath-relax',
    ...[...v4, ...v6].map((n) => ` neighbor ${n.ip} remote-as ${n.as}`),
  ];
  if (v4.length > 0) {
    lines.push(' address-family ipv4 unicast', ...v4.map((n) => `  neighbor ${n.ip} activate`));
    // VXLAN over the routed underlay: each block keeps its node as next hop, which is how the
    // other nodes know whose VTEP to send to (a next hop of the ToR says "route natively").
    if (plan.vxlanMode !== undefined) lines.push(...v4.map((n) => `  neighbor ${n.ip} attribute-unchanged next-hop`));
    lines.push(' exit-address-family');
  }
  if (v6.length > 0) {
    lines.push(' address-family ipv6 unicast', ...v6.map((n) => `  neighbor ${n.ip} activate`));
    if (plan.vxlanMode !== undefined) lines.push(...v6.map((n) => `  neighbor ${n.ip} attribute-unchanged next-hop`));
    lines.push(' exit-address-family');
  }
  lines.push('!');
  return lines.join('\n') + '\n';
}

/** Starts zebra then bgpd in the ToR namespace; returns the processes for the state file. */
export async function startTor(plan: LabPlan): Promise<LabProcess[]> {
  const ns = plan.torNs;
  if (ns === undefined) return [];
  mkdirSync(TOR_DIR, { recursive: true });
  // FRR drops privileges to the frr user (root is not in its frrvty group, so running as root
  // is refused): its pid files, sockets and log must be writable by frr.
  chmodSync(TOR_DIR, 0o777);
  const conf = join(TOR_DIR, 'frr.conf');
  writeFileSync(conf, torConfig(plan));
  writeFileSync(join(TOR_DIR, 'zebra.conf'), 'hostname kitelab-tor\n');
  const zserv = join(TOR_DIR, 'zserv.api');
  const log = openSync(join(TOR_DIR, 'daemons.log'), 'a');
  const common = ['--vty_socket', TOR_DIR, '-z', zserv, '-A', '127.0.0.1', '-P', '0'];
  const zebra = spawnInNs(ns, [ZEBRA, '-f', join(TOR_DIR, 'zebra.conf'), '-i', join(TOR_DIR, 'zebra.pid'), ...common], log);
  const procs: LabProcess[] = [{ name: 'zebra tor', pid: zebra, netns: ns, match: 'zebra' }];
  // bgpd connects to zebra's socket; give zebra a moment to create it.
  for (let i = 0; i < 50 && !existsSync(zserv); i++) await sleep(100);
  if (!isAlive(zebra)) throw new Error(`zebra exited at start; see ${join(TOR_DIR, 'daemons.log')}`);
  const bgpd = spawnInNs(ns, [BGPD, '-f', conf, '-i', join(TOR_DIR, 'bgpd.pid'), ...common], log);
  procs.push({ name: 'bgpd tor', pid: bgpd, netns: ns, match: 'bgpd' });
  await sleep(300);
  if (!isAlive(bgpd)) throw new Error(`bgpd exited at start; see ${join(TOR_DIR, 'daemons.log')}`);
  return procs;
}

/** `show bgp summary` on the ToR, as text, or the reason it could not be read. */
export async function torSummary(): Promise<string> {
  try {
    const { stdout } = await exec(VTYSH, ['--vty_socket', TOR_DIR, '-d', 'bgpd', '-c', 'show bgp ipv4 unicast summary', '-c', 'show bgp ipv6 unicast summary']);
    return stdout;
  } catch (e) {
    return `(vtysh: ${e instanceof Error ? e.message : String(e)})`;
  }
}
