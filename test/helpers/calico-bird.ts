// BIRD 2 configured the way calico-node's confd renders bird.cfg (confd/etc/calico/confd/
// templates/bird.cfg.template and bird_ipam.cfg.template), reduced to what a namespace cluster
// uses: kernel protocol (learn, persist, graceful restart, merge paths, exporting BGP routes and
// the node's own blocks as blackholes), direct and device protocols, a static blackhole per
// affine block, and one BGP session per mesh peer from a template with graceful restart, the
// mesh made unidirectional as Calico does (the lower address waits: `passive on`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabNode, NsProcess } from '../interop/netns.js';
import { must, waitFor } from '../interop/netns.js';

export interface CalicoBirdSpec {
  lab: Lab;
  node: LabNode;
  asNumber: number;
  /** This node's affine blocks. */
  blocks: string[];
  /** The IPv4 pools (Calico exports only pool routes to the kernel and to peers). */
  pools: string[];
  /** Mesh peers' addresses. */
  mesh: string[];
}

const ipSum = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

export function calicoBirdConfig(s: CalicoBirdSpec): string {
  const me = s.node.ipv4;
  const inPool = s.pools.map((p) => `net ~ ${p}`).join(' || ') || 'false';
  const lines = [
    `router id ${me};`,
    'filter calico_export_to_bgp_peers {',
    `  if ( ${inPool} ) then { if source = RTS_STATIC || source = RTS_BGP then accept; }`,
    '  reject;',
    '}',
    'filter calico_kernel_programming {',
    `  if ( ${inPool} ) then accept;`,
    '  reject;',
    '}',
    'protocol kernel {',
    '  learn;             # Learn all alien routes from the kernel',
    '  persist;           # Don\'t remove routes on bird shutdown',
    '  scan time 2;       # Scan kernel routing table every 2 seconds',
    '  ipv4 { import all; export filter calico_kernel_programming; };',
    '  graceful restart;  # Turn on graceful restart to reduce potential flaps',
    '  merge paths on;    # Allow export multipath routes (ECMP)',
    '}',
    'protocol device { scan time 2; }',
    'protocol direct { ipv4; interface -"cali*", -"kube-ipvs*", "*"; }',
    `protocol static { ipv4; ${s.blocks.map((b) => `route ${b} blackhole;`).join(' ')} }`,
    'template bgp bgp_template {',
    `  local as ${s.asNumber};`,
    '  direct;',
    '  ipv4 { import all; export filter calico_export_to_bgp_peers; next hop self; add paths on; };',
    '  graceful restart;',
    '  connect delay time 2; connect retry time 5; error wait time 5,30;',
    '}',
  ];
  for (const peer of s.mesh) {
    if (peer === me) continue;
    lines.push(`protocol bgp Mesh_${peer.replace(/\./g, '_')} from bgp_template {`,
      `  neighbor ${peer} as ${s.asNumber};`,
      `  source address ${me};`,
      // Calico: the mesh is unidirectional; the peer with the higher address connects.
      ...(ipSum(peer) > ipSum(me) ? ['  passive on; # Mesh is unidirectional, peer will connect to us.'] : []),
      '}');
  }
  return lines.join('\n') + '\n';
}

export class CalicoBird {
  proc: NsProcess | undefined;
  readonly dir: string;
  constructor(readonly spec: CalicoBirdSpec) {
    this.dir = join(spec.lab.dir, `calico-bird-${spec.node.name}`);
  }

  get socket(): string { return join(this.dir, 'bird.ctl'); }

  async start(): Promise<void> {
    await must('mkdir', ['-p', this.dir]);
    const conf = join(this.dir, 'bird.cfg');
    writeFileSync(conf, calicoBirdConfig(this.spec));
    this.proc = this.spec.lab.spawn(this.spec.node, 'bird', ['-f', '-c', conf, '-s', this.socket, '-P', join(this.dir, 'bird.pid')], { logName: `calico-bird-${this.spec.node.name}` });
    await waitFor('BIRD control socket', async () => {
      if (this.proc && !this.proc.running) throw new Error(`bird exited:\n${this.proc.log()}`);
      const r = await this.spec.lab.exec(this.spec.node, 'birdc', ['-s', this.socket, 'show', 'status']);
      return /Daemon is up and running/.test(r.stdout) ? true : undefined;
    }, { timeoutMs: 15_000 });
  }

  async birdc(...args: string[]): Promise<string> {
    const r = await this.spec.lab.exec(this.spec.node, 'birdc', ['-s', this.socket, ...args]);
    if (r.code !== 0) throw new Error(`birdc ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** The state of the session with `peer` ("Established", "Active"…). */
  async state(peer: string): Promise<string> {
    const out = await this.birdc('show', 'protocols', 'all', `Mesh_${peer.replace(/\./g, '_')}`);
    return /BGP state:\s+(\S+)/.exec(out)?.[1] ?? 'Idle';
  }

  /** SIGTERM: BIRD's kernel protocol `persist` leaves its routes in the kernel (as calico-node's BIRD). */
  async stop(): Promise<void> {
    await this.proc?.stop(10_000);
  }
}
