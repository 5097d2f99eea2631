// Runs the real Kite daemon (`node bin/kite run`) in a lab namespace from a generated Calico
// YAML, and reads its state through `node bin/kite show ... --json` exactly as an operator would.
// Wait helpers poll with timeouts and fail with the last observed state in the message.

import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FibReport, PeerDetail, PeerStatus, RouteStatus, Summary } from '../../src/api/types.js';
import { type Lab, type LabNode, type NsProcess, type RunResult, FatalWaitError, run, waitFor } from './netns.js';
import { REPO_ROOT, requireInteropPrereqs } from './prereqs.js';
import { clusterYaml } from '../helpers/cluster-config.js';

export interface KitePeerSpec {
  name: string;
  address: string;
  asNumber: number;
  /** TCP MD5 password: written as a v1 Secret in the file and referenced by secretKeyRef. */
  password?: string;
  ttlSecurity?: number;
}

export interface KiteSpec {
  lab: Lab;
  node: LabNode;
  /** Calico node name (metadata.name of the Node resource). */
  nodeName?: string;
  asNumber: number;
  peers: KitePeerSpec[];
  /** Confirmed affine blocks of this node (IPv4 in 10.244.0.0/16 /26, IPv6 in fd00:10:244::/48 /122). */
  blocks: string[];
  listenPort?: number;
  /** What SIGTERM does (kite run --on-stop); default decommission here. */
  onStop?: 'restart' | 'decommission';
  /** The whole Calico YAML, when a test needs resources beyond the above (then asNumber, peers and blocks only describe it). */
  yaml?: string;
  /** kite run --dataplane (default: Kite's own default, linux). */
  dataplane?: 'none' | 'linux';
  /** More `kite run` flags (--ip none --router-id hash for an IPv6-only node). */
  args?: string[];
}

export const IPV4_POOL = '10.244.0.0/16';
export const IPV6_POOL = 'fd00:10:244::/48';

const KITE_BIN = join(REPO_ROOT, 'bin', 'kite');
const KITE_DIST = join(REPO_ROOT, 'dist', 'daemon.js');

/** Fails loudly when Kite has not been built: the interop tests exercise the compiled daemon. */
export function requireKiteBuilt(): void {
  const missing = [KITE_BIN, KITE_DIST].filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`Kite is not built (missing ${missing.join(', ')}): run \`npm run build\` first`);
}

/**
 * The first steps of an interop suite's beforeAll: prerequisites, Kite built, the lab with `names`
 * as nodes 1, 2, … (returned in that order).
 */
export async function createLab(lab: Lab, names: readonly string[]): Promise<LabNode[]> {
  await requireInteropPrereqs();
  requireKiteBuilt();
  await lab.create();
  const nodes: LabNode[] = [];
  for (const [i, n] of names.entries()) nodes.push(await lab.addNode(n, i + 1));
  return nodes;
}

/** The multi-document Calico YAML Kite reads: BGPConfiguration, Node, IPPools, BGPPeers (and their Secrets), BlockAffinities. */
export function kiteConfigYaml(spec: KiteSpec): string {
  const secret = (p: KitePeerSpec): string => `bgp-${p.name}`;
  return clusterYaml({
    bgp: { asNumber: spec.asNumber, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info', listenPort: spec.listenPort || undefined },
    nodes: [{
      name: spec.nodeName ?? 'kite', ipv4: `${spec.node.ipv4}/24`, ipv6: `${spec.node.ipv6}/64`, asNumber: spec.asNumber, blocks: spec.blocks,
    }],
    pools: [
      { name: 'default-ipv4-ippool', cidr: IPV4_POOL, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true },
      { name: 'default-ipv6-ippool', cidr: IPV6_POOL, blockSize: 122, ipipMode: 'Never', vxlanMode: 'Never' },
    ],
    peers: spec.peers.map((p) => ({
      name: p.name, peerIP: p.address, asNumber: p.asNumber,
      password: p.password === undefined ? undefined : { secretKeyRef: { name: secret(p), key: 'password' } },
      ttlSecurity: p.ttlSecurity,
    })),
    secrets: Object.fromEntries(spec.peers.flatMap((p) => (p.password === undefined ? [] : [[secret(p), { password: p.password }]]))),
  });
}

export class Kite {
  readonly spec: KiteSpec;
  readonly configFile: string;
  readonly socket: string;
  private proc: NsProcess | undefined;
  private starts = 0;

  constructor(spec: KiteSpec) {
    this.spec = { ...spec, blocks: [...spec.blocks] };
    this.configFile = join(spec.lab.dir, `kite-${spec.node.name}.yaml`);
    this.socket = join(spec.lab.dir, `kite-${spec.node.name}.sock`);
  }

  get nodeName(): string {
    return this.spec.nodeName ?? 'kite';
  }

  get process(): NsProcess | undefined {
    return this.proc;
  }

  writeConfig(): void {
    writeFileSync(this.configFile, this.spec.yaml ?? kiteConfigYaml(this.spec));
  }

  async start(): Promise<void> {
    requireKiteBuilt();
    this.writeConfig();
    // The suites test what a stop tells the peer: decommission (Cease); restarts without a word are the GR tests'.
    const args = [KITE_BIN, 'run', '--config', this.configFile, '--node', this.nodeName, '--socket', this.socket, '--on-stop', this.spec.onStop ?? 'decommission'];
    if (this.spec.listenPort) args.push('--listen-port', String(this.spec.listenPort));
    if (this.spec.dataplane !== undefined) args.push('--dataplane', this.spec.dataplane);
    if (this.spec.args !== undefined) args.push(...this.spec.args);
    this.proc = this.spec.lab.spawn(this.spec.node, process.execPath, args, { logName: `kite-${this.spec.node.name}-${this.starts++}`, cwd: REPO_ROOT });
    await waitFor('Kite control socket', async () => {
      if (this.proc && !this.proc.running) throw new FatalWaitError(`kite exited (${String(this.proc.exitCode)}):\n${this.proc.log()}`);
      return (await this.summary()).node ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300, describe: async () => this.log() });
  }

  /** SIGTERM (with --on-stop decommission, the default here: Cease/Administrative Shutdown to every peer) and wait for exit. */
  async stop(): Promise<void> {
    await this.proc?.stop(10_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.signal(sig);
  }

  /** Change the node's blocks: rewrite the YAML and restart Kite. */
  async setBlocks(blocks: string[]): Promise<void> {
    this.spec.blocks = [...blocks];
    await this.restart();
  }

  /**
   * Change the node's blocks while Kite runs: Kite watches its config file (datastore/file.ts),
   * so the YAML is replaced atomically (write + rename, as editors and ConfigMap mounts do).
   */
  setBlocksLive(blocks: string[]): void {
    this.spec.blocks = [...blocks];
    const tmp = `${this.configFile}.tmp`;
    writeFileSync(tmp, kiteConfigYaml(this.spec));
    renameSync(tmp, this.configFile);
  }

  log(): string {
    return this.proc?.log() ?? '';
  }

  /** Any kite command against this daemon's socket (`peer reset ADDR`, `show peer ADDR`), as an operator runs it. */
  cli(...args: string[]): Promise<RunResult> {
    return run(process.execPath, [KITE_BIN, ...args, '--socket', this.socket], { timeoutMs: 15_000 });
  }

  /** GET on the daemon's HTTP server (localhost:9097 in its namespace, the default): /metrics, /readyz. */
  async http(path: string): Promise<string> {
    const script = `fetch('http://localhost:9097${path}').then(async (r) => { process.stdout.write(await r.text()); process.exitCode = r.ok ? 0 : 1; })`;
    const r = await this.spec.lab.exec(this.spec.node, process.execPath, ['-e', script], { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`GET ${path} in ${this.spec.node.ns} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  private async show<T>(what: string, ...more: string[]): Promise<T> {
    const r = await run(process.execPath, [KITE_BIN, 'show', what, ...more, '--json', '--socket', this.socket], { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`kite show ${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  /** `kite show fib --json`: the kernel routes Kite wants or owns, with their states. */
  fib(): Promise<FibReport> {
    return this.show<FibReport>('fib');
  }

  summary(): Promise<Summary> {
    return this.show<Summary>('summary');
  }

  peers(): Promise<PeerStatus[]> {
    return this.show<PeerStatus[]>('peers');
  }

  /** `kite show peer <address> --json`: one peer in full. */
  peerDetail(address: string): Promise<PeerDetail> {
    return this.show<PeerDetail>('peer', address);
  }

  routes(): Promise<RouteStatus[]> {
    return this.show<RouteStatus[]>('routes');
  }

  async peer(address: string): Promise<PeerStatus | undefined> {
    return (await this.peers()).find((p) => p.address === address);
  }

  private tail(): string {
    return '--- kite log tail ---\n' + this.log().split('\n').slice(-30).join('\n');
  }

  async waitPeerState(address: string, state = 'Established', timeoutMs = 60_000): Promise<PeerStatus> {
    return waitFor(`Kite's session to ${address} in ${state}`, async () => {
      const p = await this.peer(address);
      return p && p.state === state ? p : undefined;
    }, { timeoutMs, intervalMs: 400, describe: async () => JSON.stringify(await this.peers(), null, 1) + '\n' + this.tail() });
  }

  /** Wait until Kite's peer status satisfies `pred` (e.g. lastError mentions the hold timer). */
  async waitPeer(address: string, what: string, pred: (p: PeerStatus) => boolean, timeoutMs = 60_000): Promise<PeerStatus> {
    return waitFor(`Kite peer ${address}: ${what}`, async () => {
      const p = await this.peer(address);
      return p && pred(p) ? p : undefined;
    }, { timeoutMs, intervalMs: 400, describe: async () => JSON.stringify(await this.peers(), null, 1) + '\n' + this.tail() });
  }

  async waitRoute(prefix: string, pred: (r: RouteStatus) => boolean = () => true, timeoutMs = 30_000): Promise<RouteStatus> {
    return waitFor(`Kite to hold ${prefix}`, async () => (await this.routes()).find((r) => r.prefix === prefix && pred(r)), {
      timeoutMs,
      intervalMs: 400,
      describe: async () => JSON.stringify(await this.routes(), null, 1),
    });
  }

  async waitNoRoute(prefix: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`Kite to drop ${prefix}`, async () => ((await this.routes()).some((r) => r.prefix === prefix) ? undefined : true), {
      timeoutMs,
      intervalMs: 400,
      describe: async () => JSON.stringify(await this.routes(), null, 1),
    });
  }
}
