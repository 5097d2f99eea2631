// Launchers for the reference BGP daemons the interop tests peer Kite with: BIRD 2, FRR bgpd
// (run alone, without zebra) and GoBGP. Each generates its own config, runs in a lab namespace,
// and exposes one normalised view of its RIB and sessions so tests read the same for all three.

import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Lab, type LabNode, type NsProcess, FatalWaitError, waitFor, sleep } from './netns.js';

export type Origin = 'igp' | 'egp' | 'incomplete';
export type Family = 'ipv4' | 'ipv6';

/** One received route, normalised across daemons. */
export interface RibEntry {
  prefix: string;
  nextHop: string;
  asPath: number[];
  origin: Origin;
}

export interface SessionView {
  /** RFC 4271 state name, normalised to Idle|Connect|Active|OpenSent|OpenConfirm|Established. */
  state: string;
  /** The daemon's own words for the last error / NOTIFICATION, '' when it shows none. */
  lastError: string;
}

export interface NeighborSpec {
  address: string;
  asNumber: number;
  /** Hold time this daemon proposes; Kite negotiates min(own, ours) per RFC 4271 4.2. */
  holdTime?: number;
  keepalive?: number;
  /** TCP MD5 password (RFC 2385). */
  password?: string;
  /** GTSM (RFC 5082): the neighbour is at most this many hops away. */
  ttlSecurity?: number;
  /** BIRD only: the neighbour's TCP port (default 179). */
  port?: number;
  /** BIRD only: wait for the neighbour to connect (`passive on`). */
  passive?: boolean;
  /** BIRD only: `add paths on` in the channel (RFC 7911 ADD-PATH send and receive). */
  addPaths?: boolean;
  /** BIRD only: statements run on each exported route before `accept` (e.g. `bgp_local_pref = 7;`). */
  exportStatements?: string;
  /** BIRD only: `next hop self` (default true); false lets exportStatements set bgp_next_hop. */
  nextHopSelf?: boolean;
}

export interface PeerSpec {
  lab: Lab;
  node: LabNode;
  asNumber: number;
  neighbors: NeighborSpec[];
  /** Prefixes to originate from the start (IPv4 and IPv6 mixed). */
  announce?: string[];
  /** BIRD only: the TCP port it listens on (default 179), also the source port of its connections. */
  listenPort?: number;
  /** Tells two daemons in one namespace apart (their directory and sockets): "a" → bird-<node>-a. */
  instance?: string;
}

export type PeerKind = 'bird' | 'frr' | 'gobgp';

export interface PeerDaemon {
  readonly kind: PeerKind;
  readonly spec: PeerSpec;
  readonly dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT the daemon's process group (a hung peer that keeps its TCP sessions). */
  freeze(): void;
  thaw(): void;
  /** Routes learned from BGP neighbours (not the daemon's own originations). */
  rib(family: Family): Promise<RibEntry[]>;
  session(neighbor: string): Promise<SessionView>;
  announce(prefix: string): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** The daemon's log (stdout/stderr and log file), for failure messages and NOTIFICATION checks. */
  log(): string;
}

export const familyOf = (addrOrPrefix: string): Family => (addrOrPrefix.includes(':') ? 'ipv6' : 'ipv4');

const STATE_NAMES: Record<string, string> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

function normState(s: string): string {
  return STATE_NAMES[s.toLowerCase().replace(/[^a-z]/g, '')] ?? s;
}

/** BIRD "IGP"/"EGP"/"Incomplete", FRR "IGP"/"incomplete", GoBGP 0/1/2 (RFC 4271 §5.1.1 codes). */
function normOrigin(s: string): Origin {
  const v = s.trim().toLowerCase();
  if (v === 'igp' || v === 'i' || v === '0') return 'igp';
  if (v === 'egp' || v === 'e' || v === '1') return 'egp';
  if (v === 'incomplete' || v === '?' || v === '2') return 'incomplete';
  throw new Error(`unknown ORIGIN ${JSON.stringify(s)}`);
}

function parseAsPath(s: string): number[] {
  return s
    .replace(/[{}()[\]]/g, ' ')
    .split(/\s+/)
    .filter((t) => /^\d+$/.test(t))
    .map(Number);
}

abstract class BasePeer implements PeerDaemon {
  abstract readonly kind: PeerKind;
  readonly spec: PeerSpec;
  readonly dir: string;
  protected proc: NsProcess | undefined;
  protected announced: Set<string>;

  constructor(spec: PeerSpec, kind: PeerKind) {
    this.spec = spec;
    this.dir = join(spec.lab.dir, `${kind}-${spec.node.name}${spec.instance === undefined ? '' : `-${spec.instance}`}`);
    mkdirSync(this.dir, { recursive: true });
    this.announced = new Set(spec.announce ?? []);
  }

  protected get lab(): Lab {
    return this.spec.lab;
  }

  protected get node(): LabNode {
    return this.spec.node;
  }

  protected localFor(neighbor: string): string {
    return familyOf(neighbor) === 'ipv6' ? this.node.ipv6 : this.node.ipv4;
  }

  abstract start(): Promise<void>;
  abstract rib(family: Family): Promise<RibEntry[]>;
  abstract session(neighbor: string): Promise<SessionView>;
  abstract announce(prefix: string): Promise<void>;
  abstract withdraw(prefix: string): Promise<void>;
  protected abstract logFile(): string;

  async stop(): Promise<void> {
    await this.proc?.stop(5000);
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  freeze(): void {
    this.proc?.signal('SIGSTOP');
  }

  thaw(): void {
    this.proc?.signal('SIGCONT');
  }

  log(): string {
    let s = this.proc?.log() ?? '';
    try {
      s += readFileSyncSafe(this.logFile());
    } catch {
      /* no log yet */
    }
    return s;
  }

  protected async exitedEarly(what: string): Promise<void> {
    if (this.proc && !this.proc.running) throw new FatalWaitError(`${what} exited (${String(this.proc.exitCode)}):\n${this.log()}`);
  }
}

function readFileSyncSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// BIRD 2: static protocols originate the announced prefixes as blackholes; runtime changes are a
// rewritten config plus `birdc configure` (BIRD's own soft reconfiguration).

export class BirdPeer extends BasePeer {
  readonly kind = 'bird' as const;

  constructor(spec: PeerSpec) {
    super(spec, 'bird');
  }

  get socket(): string {
    return join(this.dir, 'bird.ctl');
  }

  protected logFile(): string {
    return join(this.dir, 'bird.log');
  }

  static protoName(i: number): string {
    return `n${i}`;
  }

  config(): string {
    const v4 = [...this.announced].filter((p) => familyOf(p) === 'ipv4');
    const v6 = [...this.announced].filter((p) => familyOf(p) === 'ipv6');
    const lines = [
      `log "${this.logFile()}" all;`,
      `router id ${this.node.ipv4};`,
      'protocol device { scan time 5; }',
      'protocol direct { ipv4; ipv6; }',
      `protocol static s4 { ipv4; ${v4.map((p) => `route ${p} blackhole;`).join(' ')} }`,
      `protocol static s6 { ipv6; ${v6.map((p) => `route ${p} blackhole;`).join(' ')} }`,
    ];
    this.spec.neighbors.forEach((n, i) => {
      const fam = familyOf(n.address);
      const hold = n.holdTime ?? 9;
      lines.push(
        `protocol bgp ${BirdPeer.protoName(i)} {`,
        // BIRD 2 has no global listen port: `local ... port` sets the protocol's (listening and source) port.
        `  local ${this.localFor(n.address)}${this.spec.listenPort !== undefined ? ` port ${this.spec.listenPort}` : ''} as ${this.spec.asNumber};`,
        `  neighbor ${n.address}${n.port !== undefined ? ` port ${n.port}` : ''} as ${n.asNumber};`,
        ...(n.passive ? ['  passive on;'] : []),
        // iBGP defaults to multihop with recursive next hops, which needs an IGP; the lab is one
        // segment, so every session is direct. Except IPv6: a direct session adds our link-local
        // address as a second next hop, which bgpd without zebra rejects ("sent a v6 LL next-hop
        // and there's no peer interface information"), so IPv6 sessions are multihop, with next
        // hops resolved recursively through the `direct` protocol's connected /64.
        fam === 'ipv6' ? '  multihop 2;' : n.ttlSecurity !== undefined && n.ttlSecurity > 1 ? `  multihop ${n.ttlSecurity};` : '  direct;',
        ...(n.password !== undefined ? [`  password "${n.password}";`] : []),
        ...(n.ttlSecurity !== undefined ? ['  ttl security on;'] : []),
        `  hold time ${hold}; keepalive time ${n.keepalive ?? Math.max(1, Math.floor(hold / 3))};`,
        '  connect retry time 1; connect delay time 1; error wait time 1, 2;',
        `  ${fam} { import all; export filter { if source != RTS_STATIC then reject; ${n.exportStatements ?? ''} accept; };${n.nextHopSelf === false ? '' : ' next hop self;'}${n.addPaths ? ' add paths on;' : ''} };`,
        '}',
      );
    });
    return lines.join('\n') + '\n';
  }

  private writeConfig(): string {
    const f = join(this.dir, 'bird.conf');
    writeFileSync(f, this.config());
    return f;
  }

  async birdc(...args: string[]): Promise<string> {
    const r = await this.lab.exec(this.node, 'birdc', ['-s', this.socket, ...args]);
    if (r.code !== 0) throw new Error(`birdc ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async start(): Promise<void> {
    const conf = this.writeConfig();
    this.proc = this.lab.spawn(this.node, 'bird', ['-f', '-c', conf, '-s', this.socket, '-P', join(this.dir, 'bird.pid')], {
      logName: `bird-${this.node.name}${this.spec.instance === undefined ? '' : `-${this.spec.instance}`}`,
    });
    await waitFor('BIRD control socket', async () => {
      await this.exitedEarly('bird');
      const out = await this.birdc('show', 'status');
      return /Daemon is up and running/.test(out) ? true : undefined;
    }, { timeoutMs: 15_000 });
  }

  async rib(family: Family): Promise<RibEntry[]> {
    const out = await this.birdc('show', 'route', 'table', family === 'ipv4' ? 'master4' : 'master6', 'where', 'source', '=', 'RTS_BGP', 'all');
    return parseBirdRoutes(out);
  }

  async session(neighbor: string): Promise<SessionView> {
    const i = this.spec.neighbors.findIndex((n) => n.address === neighbor);
    if (i < 0) throw new Error(`bird has no neighbor ${neighbor}`);
    const out = await this.birdc('show', 'protocols', 'all', BirdPeer.protoName(i));
    const state = /BGP state:\s+(\S+)/.exec(out)?.[1] ?? 'Idle';
    const lastError = /Last error:\s+(.*)/.exec(out)?.[1]?.trim() ?? '';
    return { state: normState(state), lastError };
  }

  async announce(prefix: string): Promise<void> {
    this.announced.add(prefix);
    this.writeConfig();
    await this.birdc('configure');
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    this.writeConfig();
    await this.birdc('configure');
  }
}

/** Parse `birdc show route ... all` (BIRD 2.0) into entries; secondary routes of a net included. */
export function parseBirdRoutes(out: string): RibEntry[] {
  const res: RibEntry[] = [];
  let prefix = '';
  let cur: RibEntry | undefined;
  for (const line of out.split('\n')) {
    const head = /^(\S+\/\d+)\s+(unicast|unreachable|blackhole|prohibit)\s+\[/.exec(line);
    const cont = /^\s+(unicast|unreachable|blackhole|prohibit)\s+\[/.exec(line);
    if (head) {
      prefix = head[1]!;
      cur = { prefix, nextHop: '', asPath: [], origin: 'incomplete' };
      res.push(cur);
      continue;
    }
    if (cont && prefix) {
      cur = { prefix, nextHop: '', asPath: [], origin: 'incomplete' };
      res.push(cur);
      continue;
    }
    if (!cur) continue;
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, k, v] = attr;
    if (k === 'origin') cur.origin = normOrigin(v!);
    else if (k === 'as_path') cur.asPath = parseAsPath(v!);
    else if (k === 'next_hop') cur.nextHop = v!.trim().split(/\s+/)[0] ?? '';
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// FRR bgpd alone (-Z: no zebra, -S: no privilege drop). Without zebra, `network` statements need
// `no bgp network import-check` and nexthop reachability is not tracked.

export class FrrPeer extends BasePeer {
  readonly kind = 'frr' as const;

  constructor(spec: PeerSpec) {
    super(spec, 'frr');
  }

  protected logFile(): string {
    return join(this.dir, 'bgpd.log');
  }

  config(): string {
    const l = [
      'frr defaults traditional',
      `hostname ${this.node.name}`,
      `log file ${this.logFile()} debugging`,
      'debug bgp neighbor-events',
      '!',
      `router bgp ${this.spec.asNumber}`,
      ` bgp router-id ${this.node.ipv4}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' no bgp default ipv4-unicast',
    ];
    for (const n of this.spec.neighbors) {
      const hold = n.holdTime ?? 9;
      l.push(
        ` neighbor ${n.address} remote-as ${n.asNumber}`,
        ` neighbor ${n.address} update-source ${this.localFor(n.address)}`,
        ` neighbor ${n.address} timers ${n.keepalive ?? Math.max(1, Math.floor(hold / 3))} ${hold}`,
        ` neighbor ${n.address} timers connect 1`,
        ` neighbor ${n.address} disable-connected-check`,
        ` neighbor ${n.address} advertisement-interval 0`,
        ...(n.password !== undefined ? [` neighbor ${n.address} password ${n.password}`] : []),
        ...(n.ttlSecurity !== undefined ? [` neighbor ${n.address} ttl-security hops ${n.ttlSecurity}`] : []),
      );
    }
    for (const fam of ['ipv4', 'ipv6'] as const) {
      l.push(` address-family ${fam} unicast`);
      for (const p of this.announced) if (familyOf(p) === fam) l.push(`  network ${p}`);
      for (const n of this.spec.neighbors) {
        if (familyOf(n.address) !== fam) continue;
        l.push(`  neighbor ${n.address} activate`, `  neighbor ${n.address} next-hop-self`);
      }
      l.push(' exit-address-family');
    }
    l.push('!', 'line vty', '!');
    return l.join('\n') + '\n';
  }

  async vtysh(...cmds: string[]): Promise<string> {
    const args = ['--vty_socket', this.dir, '-d', 'bgpd'];
    for (const c of cmds) args.push('-c', c);
    const r = await this.lab.exec(this.node, 'vtysh', args);
    if (r.code !== 0) throw new Error(`vtysh ${cmds.join(' / ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'bgpd.conf');
    writeFileSync(conf, this.config());
    this.proc = this.lab.spawn(
      this.node,
      '/usr/lib/frr/bgpd',
      ['-Z', '-S', '-n', '-f', conf, '-i', join(this.dir, 'bgpd.pid'), '--vty_socket', this.dir, '-z', join(this.dir, 'zserv.api'), '-A', '127.0.0.1', '-P', '0'],
      { logName: `bgpd-${this.node.name}` },
    );
    await waitFor('FRR bgpd vty', async () => {
      await this.exitedEarly('bgpd');
      const out = await this.vtysh('show bgp summary json');
      return out.includes('{') ? true : undefined;
    }, { timeoutMs: 15_000 });
  }

  async rib(family: Family): Promise<RibEntry[]> {
    const out = JSON.parse(await this.vtysh(`show bgp ${family} unicast json`)) as {
      routes?: Record<string, Array<{ path?: string; origin?: string; pathFrom?: string; peerId?: string; nexthops?: Array<{ ip: string; afi?: string; scope?: string }> }>>;
    };
    const res: RibEntry[] = [];
    for (const [prefix, paths] of Object.entries(out.routes ?? {})) {
      for (const p of paths) {
        // Locally originated `network` routes have peerId "(unspec)".
        if (!p.peerId || p.peerId === '(unspec)') continue;
        const nh = (p.nexthops ?? []).find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
        res.push({ prefix, nextHop: nh?.ip ?? '', asPath: parseAsPath(p.path ?? ''), origin: normOrigin(p.origin ?? '') });
      }
    }
    return res;
  }

  async neighborJson(neighbor: string): Promise<Record<string, unknown>> {
    const out = JSON.parse(await this.vtysh(`show bgp neighbors ${neighbor} json`)) as Record<string, Record<string, unknown>>;
    return out[neighbor] ?? {};
  }

  async session(neighbor: string): Promise<SessionView> {
    const n = await this.neighborJson(neighbor);
    const parts = [n['lastNotificationReason'], n['lastResetDueTo'], n['lastErrorCodeSubcode']].filter((x) => typeof x === 'string' && x !== '');
    return { state: normState(String(n['bgpState'] ?? 'Idle')), lastError: parts.join('; ') };
  }

  private async network(prefix: string, add: boolean): Promise<void> {
    await this.vtysh('configure terminal', `router bgp ${this.spec.asNumber}`, `address-family ${familyOf(prefix)} unicast`, `${add ? '' : 'no '}network ${prefix}`);
  }

  async announce(prefix: string): Promise<void> {
    this.announced.add(prefix);
    await this.network(prefix, true);
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    await this.network(prefix, false);
  }
}

// ---------------------------------------------------------------------------------------------
// GoBGP: TOML config for the neighbours, routes injected through the gRPC API with the CLI
// (next hop 0.0.0.0 / :: is rewritten by gobgpd to the session's local address).

let gobgpApiPort = 50051;

export class GobgpPeer extends BasePeer {
  readonly kind = 'gobgp' as const;
  readonly apiPort: number;

  constructor(spec: PeerSpec) {
    super(spec, 'gobgp');
    // Each namespace has its own loopback, so the port only has to be unique per namespace.
    this.apiPort = gobgpApiPort++;
  }

  protected logFile(): string {
    return join(this.dir, 'gobgpd.log');
  }

  config(): string {
    const l = [
      '[global.config]',
      `  as = ${this.spec.asNumber}`,
      `  router-id = "${this.node.ipv4}"`,
      '  port = 179',
      '[global.apply-policy.config]',
      '  default-import-policy = "accept-route"',
      '  default-export-policy = "accept-route"',
    ];
    for (const n of this.spec.neighbors) {
      const hold = n.holdTime ?? 9;
      l.push(
        '[[neighbors]]',
        '  [neighbors.config]',
        `    neighbor-address = "${n.address}"`,
        `    peer-as = ${n.asNumber}`,
        '  [neighbors.transport.config]',
        `    local-address = "${this.localFor(n.address)}"`,
        '  [neighbors.timers.config]',
        `    hold-time = ${hold}`,
        `    keepalive-interval = ${n.keepalive ?? Math.max(1, Math.floor(hold / 3))}`,
        '    connect-retry = 1',
        '    idle-hold-time-after-reset = 1',
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        `      afi-safi-name = "${familyOf(n.address)}-unicast"`,
      );
    }
    return l.join('\n') + '\n';
  }

  async gobgp(...args: string[]): Promise<string> {
    const r = await this.lab.exec(this.node, 'gobgp', ['-p', String(this.apiPort), ...args]);
    if (r.code !== 0) throw new Error(`gobgp ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'gobgpd.toml');
    writeFileSync(conf, this.config());
    this.proc = this.lab.spawn(this.node, 'gobgpd', ['-f', conf, '-p', '--api-hosts', `127.0.0.1:${this.apiPort}`, '--pprof-disable', '-l', 'debug'], {
      logName: `gobgpd-${this.node.name}`,
    });
    await waitFor('gobgpd API', async () => {
      await this.exitedEarly('gobgpd');
      await this.gobgp('global', '-j');
      return true;
    }, { timeoutMs: 15_000 });
    for (const p of this.announced) await this.ribCmd('add', p);
  }

  private async ribCmd(op: 'add' | 'del', prefix: string): Promise<void> {
    // The CLI's default ORIGIN is INCOMPLETE; BIRD and FRR originate with IGP, so say so.
    await this.gobgp('global', 'rib', op, prefix, ...(op === 'add' ? ['origin', 'igp'] : []), '-a', familyOf(prefix));
  }

  async rib(family: Family): Promise<RibEntry[]> {
    const out = (await this.gobgp('global', 'rib', '-j', '-a', family)).trim();
    const table = JSON.parse(out || '{}') as Record<string, Array<{ 'source-id'?: string; 'neighbor-ip'?: string; attrs?: Array<Record<string, unknown>> }>>;
    const res: RibEntry[] = [];
    for (const [prefix, paths] of Object.entries(table)) {
      for (const p of paths) {
        const from = p['neighbor-ip'] ?? '';
        if (from === '' || from === '<nil>' || from === '0.0.0.0' || from === '::') continue; // local
        let nextHop = '';
        let asPath: number[] = [];
        let origin: Origin = 'incomplete';
        for (const a of p.attrs ?? []) {
          if (a['type'] === 1) origin = normOrigin(String(a['value']));
          if (a['type'] === 2) {
            const segs = (a['as_paths'] ?? []) as Array<{ asns?: number[] }>;
            asPath = segs.flatMap((s) => s.asns ?? []);
          }
          if (a['type'] === 3 || a['type'] === 14) nextHop = String(a['nexthop'] ?? '');
        }
        res.push({ prefix, nextHop, asPath, origin });
      }
    }
    return res;
  }

  async neighborJson(neighbor: string): Promise<Record<string, unknown>> {
    return JSON.parse(await this.gobgp('neighbor', neighbor, '-j')) as Record<string, unknown>;
  }

  async session(neighbor: string): Promise<SessionView> {
    const n = await this.neighborJson(neighbor);
    const st = (n['state'] ?? {}) as Record<string, unknown>;
    const raw = st['session_state'] ?? st['session-state'] ?? 'idle';
    // The API's numeric SessionState: 1 idle .. 6 established.
    const byNum = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
    const name = typeof raw === 'number' ? (byNum[raw] ?? 'idle') : String(raw);
    // gobgpd keeps no "last error" in its API; the log lines about NOTIFICATIONs are the record.
    const notif = this.log()
      .split('\n')
      .filter((x) => /notification/i.test(x) && x.includes(neighbor))
      .pop() ?? '';
    return { state: normState(name), lastError: notif };
  }

  async announce(prefix: string): Promise<void> {
    this.announced.add(prefix);
    await this.ribCmd('add', prefix);
  }

  async withdraw(prefix: string): Promise<void> {
    this.announced.delete(prefix);
    await this.ribCmd('del', prefix);
  }
}

export function makePeer(kind: PeerKind, spec: PeerSpec): PeerDaemon {
  switch (kind) {
    case 'bird':
      return new BirdPeer(spec);
    case 'frr':
      return new FrrPeer(spec);
    case 'gobgp':
      return new GobgpPeer(spec);
  }
}

/** Wait until `peer` reports `state` for `neighbor`. */
export async function waitPeerState(peer: PeerDaemon, neighbor: string, state = 'Established', timeoutMs = 60_000): Promise<void> {
  await waitFor(`${peer.kind} session to ${neighbor} in ${state}`, async () => ((await peer.session(neighbor)).state === state ? true : undefined), {
    timeoutMs,
    intervalMs: 300,
    describe: async () => JSON.stringify(await peer.session(neighbor)) + '\n--- log tail ---\n' + peer.log().split('\n').slice(-30).join('\n'),
  });
}

/** Wait until the peer's RIB for the prefix's family contains `prefix` (optionally matching). */
export async function waitPeerRoute(
  peer: PeerDaemon,
  prefix: string,
  match: (e: RibEntry) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<RibEntry> {
  return waitFor(`${peer.kind} to hold ${prefix}`, async () => (await peer.rib(familyOf(prefix))).find((e) => e.prefix === prefix && match(e)), {
    timeoutMs,
    intervalMs: 300,
    describe: async () => JSON.stringify(await peer.rib(familyOf(prefix)), null, 1),
  });
}

export async function waitPeerNoRoute(peer: PeerDaemon, prefix: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${peer.kind} to drop ${prefix}`, async () => ((await peer.rib(familyOf(prefix))).some((e) => e.prefix === prefix) ? undefined : true), {
    timeoutMs,
    intervalMs: 300,
    describe: async () => JSON.stringify(await peer.rib(familyOf(prefix)), null, 1),
  });
}

export { sleep };
