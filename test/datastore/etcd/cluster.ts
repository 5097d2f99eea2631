// A real etcd (one member or three) in network namespaces of the interop Lab (kt<pid>-… names,
// 198.18.<subnet>.x), for the etcd datastore and IPAM tests. The test process stays in the host
// namespace, so each member also gets a tiny TCP forwarder inside its namespace listening on a
// Unix socket (sockets cross namespaces): the test's client dials unix://…, and stopping one
// forwarder cuts the test off from that member alone (a partition) while the cluster stays whole.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { Lab, must, run, sleep, waitFor, type LabNode, type NsProcess } from '../../interop/netns.js';

/**
 * Why the etcd tests cannot run here (they need root for namespaces, and the programs, installed
 * by scripts/install-deps.sh), or undefined. Under CI=true a missing prerequisite is a failing
 * test, not a skip (the lab smoke test's rule).
 */
export function etcdPrerequisites(suite: string, programs: readonly [string, string][] = [['etcd', '--version'], ['etcdctl', 'version']]): string | undefined {
  let missing: string | undefined;
  if (process.getuid?.() !== 0) missing = 'root (network namespaces)';
  for (const [p, arg] of programs) {
    if (missing !== undefined) break;
    try { execFileSync(p, [arg], { stdio: 'ignore' }); } catch { missing = `${p} (scripts/install-deps.sh installs it)`; }
  }
  if (missing !== undefined && process.env['CI'] === 'true') {
    describe(`${suite} (prerequisites)`, () => {
      it('has them', () => { throw new Error(`CI must run ${suite}: missing ${missing}`); });
    });
  }
  return missing;
}

const FORWARDER = `
const net = require('node:net'); const fs = require('node:fs');
const [sock, host, port] = process.argv.slice(1);
try { fs.unlinkSync(sock); } catch {}
net.createServer((c) => {
  const u = net.connect(Number(port), host);
  c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
}).listen(sock);
`;

export interface Member {
  name: string;
  node: LabNode;
  /** http://198.18.x.y:2379, for daemons inside the lab. */
  url: string;
  /** unix:///…/name.sock, for the test process. */
  socket: string;
  etcd?: NsProcess;
  forwarder?: NsProcess;
}

export class EtcdCluster {
  readonly lab: Lab;
  readonly members: Member[] = [];

  /** With `tls`, members serve https and require client certificates signed by `ca`. */
  constructor(tag: string, subnet: number, private readonly size: number, private readonly tls?: { cert: string; key: string; ca: string }) {
    this.lab = new Lab(tag, subnet);
  }

  private get scheme(): string { return this.tls !== undefined ? 'https' : 'http'; }

  get endpoints(): string[] { return this.members.map((m) => m.socket); }
  get urls(): string[] { return this.members.map((m) => m.url); }

  async start(): Promise<void> {
    await this.lab.create();
    for (let i = 0; i < this.size; i++) {
      const name = `e${i}`;
      const node = await this.lab.addNode(name, 10 + i);
      this.members.push({ name, node, url: `${this.scheme}://${node.ipv4}:2379`, socket: `unix://${join(this.lab.dir, `${name}.sock`)}` });
    }
    for (const m of this.members) this.startMember(m, 'new');
    for (const m of this.members) await this.waitHealthy(m);
  }

  private startMember(m: Member, state: 'new' | 'existing'): void {
    const cluster = this.members.map((x) => `${x.name}=http://${x.node.ipv4}:2380`).join(',');
    m.etcd = this.lab.spawn(m.node, 'etcd', [
      '--name', m.name, '--data-dir', join(this.lab.dir, `${m.name}.data`), '--logger', 'zap', '--log-level', 'warn',
      '--listen-client-urls', m.url, '--advertise-client-urls', m.url,
      '--listen-peer-urls', `http://${m.node.ipv4}:2380`, '--initial-advertise-peer-urls', `http://${m.node.ipv4}:2380`,
      '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', this.lab.name,
      // Short timers: a lost leader is replaced in about a second, keeping the tests short.
      '--heartbeat-interval', '50', '--election-timeout', '500',
      // Clients may ping every second (the tests' keepalive notices a cut member quickly).
      '--grpc-keepalive-min-time', '1s',
      ...(this.tls !== undefined ? ['--cert-file', this.tls.cert, '--key-file', this.tls.key, '--client-cert-auth', '--trusted-ca-file', this.tls.ca] : []),
    ], { logName: `${m.name}-etcd` });
    if (m.forwarder === undefined) this.connect(m);
  }

  /** (Re)starts the member's forwarder: the test process can reach it again. */
  connect(m: Member): void {
    m.forwarder = this.lab.spawn(m.node, process.execPath, ['-e', FORWARDER, m.socket.slice('unix://'.length), m.node.ipv4, '2379'], { logName: `${m.name}-fwd` });
  }

  /** Stops the member's forwarder: the test process is cut off from it; the cluster is not. */
  async disconnect(m: Member): Promise<void> {
    await m.forwarder?.stop(1000);
    m.forwarder = undefined;
  }

  /**
   * Cuts the member off from the other members (its bridge port down), not from the test process:
   * its forwarder dials the member's own address inside its namespace. `heal` undoes it.
   */
  async partition(m: Member): Promise<void> { await this.lab.setPort(m.node, false); }
  async heal(m: Member): Promise<void> { await this.lab.setPort(m.node, true); }

  /** The member a gRPC peer address (as the client reports it) belongs to. */
  byPeer(peer: string): Member | undefined {
    return this.members.find((m) => peer.endsWith(m.socket.slice('unix://'.length)) || peer.startsWith(`${m.node.ipv4}:`));
  }

  private tlsArgs(): string[] {
    return this.tls === undefined ? [] : ['--cacert', this.tls.ca, '--cert', this.tls.cert, '--key', this.tls.key];
  }

  async kill(m: Member): Promise<void> {
    m.etcd?.signal('SIGKILL');
    await m.etcd?.wait();
    m.etcd = undefined;
  }

  async restart(m: Member): Promise<void> {
    this.startMember(m, 'existing');
    await this.waitHealthy(m);
  }

  /** etcdctl inside the member's namespace, against that member. */
  ctl(m: Member, args: string[], input?: string): Promise<string> {
    // etcdctl 3.4 speaks the v3 API by default.
    return must('ip', ['netns', 'exec', m.node.ns, 'etcdctl', '--endpoints', m.url, ...this.tlsArgs(), ...args], input !== undefined ? { input } : {});
  }

  async waitHealthy(m: Member): Promise<void> {
    // etcdctl prints the verdict on stderr.
    const probe = async (): Promise<true | undefined> => {
      const r = await run('ip', ['netns', 'exec', m.node.ns, 'etcdctl', '--endpoints', m.url, ...this.tlsArgs(), 'endpoint', 'health'], { timeoutMs: 5000 });
      return r.code === 0 && `${r.stdout}${r.stderr}`.includes('is healthy') ? true : undefined;
    };
    await waitFor(`etcd member ${m.name} healthy`, probe, { timeoutMs: 45_000, intervalMs: 200 });
  }

  async leader(): Promise<Member> {
    return waitFor('an etcd leader', async () => {
      for (const m of this.members) {
        if (m.etcd === undefined) continue;
        const out = await this.ctl(m, ['endpoint', 'status', '-w', 'json']).catch(() => '');
        if (out === '') continue;
        const st = JSON.parse(out) as { Status: { header: { member_id: number }; leader: number } }[];
        const s = st[0]?.Status;
        if (s !== undefined && s.header.member_id === s.leader) return m;
      }
      return undefined;
    }, { timeoutMs: 10_000, intervalMs: 200 });
  }

  /** Any member that runs. */
  live(): Member {
    const m = this.members.find((x) => x.etcd !== undefined);
    if (m === undefined) throw new Error('no etcd member runs');
    return m;
  }

  /** Writes through `via` (default: any member that runs). */
  async put(key: string, value: unknown, via: Member = this.live()): Promise<void> {
    await this.ctl(via, ['put', key], typeof value === 'string' ? value : JSON.stringify(value));
  }

  async del(key: string): Promise<void> {
    await this.ctl(this.live(), ['del', key]);
  }

  /** Compacts to the current revision (watches from before it get ErrCompacted). */
  async compact(): Promise<number> {
    const out = await this.ctl(this.live(), ['endpoint', 'status', '-w', 'json']);
    const rev = (JSON.parse(out) as { Status: { header: { revision: number } } }[])[0]?.Status.header.revision ?? 0;
    await this.ctl(this.live(), ['compact', String(rev), '--physical']);
    return rev;
  }

  async destroy(): Promise<void> {
    await this.lab.destroy();
  }
}

export { sleep, waitFor };
