// Recording fakes for the dataplane tests: a kernel that behaves like Linux where it matters to
// the reconciler (routes keyed by table/prefix/metric, EEXIST on add, protocol-filtered delete,
// routes and neighbours flushed with their link, down devices refused), a /proc/sys recorder, a
// manual clock and a log collector. Its key and formatting are written here, independently of
// src/dataplane/route-key.ts, so one bug cannot hide in both.

import type {
  Clock, DpLog, KAddress, KernelOps, KFdb, KLink, KLinkCreate, KNeighbour, KNexthop, KRoute, OpResult, RouteDelete, Sysctl, TimerHandle,
} from '../../src/dataplane/types.js';
import { mustParseAddr, type IpAddr } from '../../src/net/index.js';

/** A route as tests write it, addresses as text ("10.244.2.0", gateway "198.18.0.2"). */
export type TextRoute = Omit<KRoute, 'dst' | 'gateway' | 'multipath'> & {
  dst: string;
  gateway?: string;
  multipath?: (Omit<KNexthop, 'gateway'> & { gateway?: string })[];
};

/** The core's KRoute (addresses as values) from a route written with text addresses. */
export function kroute(t: TextRoute | KRoute): KRoute {
  if (typeof t.dst !== 'string') return t as KRoute;
  const { dst, gateway, multipath, ...rest } = t as TextRoute;
  const r: KRoute = { ...rest, dst: mustParseAddr(dst) };
  if (gateway !== undefined) r.gateway = mustParseAddr(gateway);
  if (multipath !== undefined) r.multipath = multipath.map(({ gateway: gw, ...nh }) => (gw !== undefined ? { ...nh, gateway: mustParseAddr(gw) } : nh));
  return r;
}

/** A KRoute with its addresses as text again, for comparing with routes written in tests. */
export function textRoute(r: KRoute): TextRoute {
  const { dst, gateway, multipath, ...rest } = r;
  const t: TextRoute = { ...rest, dst: dst.toString() };
  if (gateway !== undefined) t.gateway = gateway.toString();
  if (multipath !== undefined) t.multipath = multipath.map(({ gateway: gw, ...nh }) => (gw !== undefined ? { ...nh, gateway: gw.toString() } : nh));
  return t;
}

const ok: OpResult = { ok: true };
const err = (errno: number, code: string, what: string): OpResult => ({ ok: false, errno, code, message: `${what}: ${code}` });

export class FakeKernel implements KernelOps {
  routes = new Map<string, KRoute>();
  links = new Map<number, KLink>();
  addresses: KAddress[] = [];
  neighbours: KNeighbour[] = [];
  fdb: KFdb[] = [];
  /** Every mutation asked of the kernel, in order, as text. */
  ops: string[] = [];
  dumps = 0;
  /** Route dumps alone (a resync), apart from link and address dumps. */
  routeDumps = 0;
  private nextIndex = 100;
  /** Errno to answer for the next route op on this "dst/len" (then cleared). */
  failNext = new Map<string, [number, string]>();

  static key(r: { family: number; table: number; dst: string | IpAddr; dstLen: number; metric?: number }): string {
    const metric = r.metric ?? (r.family === 6 ? 1024 : 0);
    return `${r.table} ${r.dst}/${r.dstLen} m${metric} v${r.family}`;
  }

  name(i: number | undefined): string {
    return i === undefined ? '?' : this.links.get(i)?.name ?? `#${i}`;
  }

  fmt(r: KRoute): string {
    const parts: string[] = [];
    if (r.type !== 'unicast') parts.push(r.type);
    parts.push(`${r.dst}/${r.dstLen}`);
    if (r.multipath && r.multipath.length > 0) {
      for (const n of r.multipath) parts.push(`nh(${n.gateway} ${this.name(n.oif)}${n.onlink ? ' onlink' : ''})`);
    } else {
      if (r.gateway) parts.push(`via ${r.gateway}`);
      if (r.oif !== undefined && r.type === 'unicast') parts.push(`dev ${this.name(r.oif)}`);
      if (r.onlink) parts.push('onlink');
    }
    if (r.scope === 253) parts.push('scope link');
    if (r.mtu) parts.push(`mtu ${r.mtu}`);
    parts.push(`proto ${r.protocol}`);
    return parts.join(' ');
  }

  /** Store as the kernel would report it: IPv6 always has a metric; IPv4 0 is not reported. */
  private store(r: KRoute): KRoute {
    const s: KRoute = { ...r };
    if (s.family === 6) s.metric = s.metric ?? 1024;
    else if (s.metric === 0) delete s.metric;
    if (s.multipath) s.multipath = s.multipath.map((n) => ({ ...n, weight: n.weight ?? 1 }));
    return s;
  }

  private check(r: KRoute): OpResult | undefined {
    const f = this.failNext.get(`${r.dst}/${r.dstLen}`);
    if (f) {
      this.failNext.delete(`${r.dst}/${r.dstLen}`);
      return err(f[0], f[1], this.fmt(r));
    }
    const oifs = r.multipath?.length ? r.multipath.map((n) => n.oif) : r.type === 'unicast' ? [r.oif] : [];
    for (const i of oifs) {
      if (i === undefined) continue;
      const l = this.links.get(i);
      if (l === undefined) return err(19, 'ENODEV', this.fmt(r));
      if (!l.up) return err(100, 'ENETDOWN', this.fmt(r));
    }
    return undefined;
  }

  // ---- KernelOps ---------------------------------------------------------------------------

  async dumpRoutes(filter: { table: number }): Promise<KRoute[]> {
    this.dumps++;
    this.routeDumps++;
    return [...this.routes.values()].filter((r) => r.table === filter.table).map((r) => ({ ...r }));
  }

  async addRoutes(rs: readonly KRoute[]): Promise<OpResult[]> {
    return rs.map((r) => {
      this.ops.push(`add ${this.fmt(r)}`);
      const bad = this.check(r);
      if (bad) return bad;
      const k = FakeKernel.key(r);
      if (this.routes.has(k)) return err(17, 'EEXIST', this.fmt(r));
      this.routes.set(k, this.store(r));
      return ok;
    });
  }

  async replaceRoutes(rs: readonly KRoute[]): Promise<OpResult[]> {
    return rs.map((r) => {
      this.ops.push(`replace ${this.fmt(r)}`);
      const bad = this.check(r);
      if (bad) return bad;
      this.routes.set(FakeKernel.key(r), this.store(r));
      return ok;
    });
  }

  async deleteRoutes(rs: readonly RouteDelete[]): Promise<OpResult[]> {
    return rs.map((d) => {
      this.ops.push(`delete ${d.type === 'unicast' ? '' : d.type + ' '}${d.dst}/${d.dstLen} proto ${d.protocol}`);
      const k = FakeKernel.key(d);
      const have = this.routes.get(k);
      // fib_table_delete: protocol and type, when given, must match.
      if (have === undefined || (d.protocol && have.protocol !== d.protocol) || have.type !== d.type) return err(3, 'ESRCH', `${d.dst}/${d.dstLen}`);
      this.routes.delete(k);
      return ok;
    });
  }

  async dumpLinks(): Promise<KLink[]> {
    this.dumps++;
    return [...this.links.values()].map((l) => ({ ...l }));
  }

  async createLinks(ls: readonly KLinkCreate[]): Promise<OpResult[]> {
    return ls.map((l) => {
      const vx = l.kind === 'vxlan' ? ` id ${l.vni} dstport ${l.port} dev ${this.name(l.parent)} local ${l.local}${l.mac ? ` address ${l.mac}` : ''}` : '';
      this.ops.push(`create link ${l.name} ${l.kind}${vx} mtu ${l.mtu}${l.up ? ' up' : ''}`);
      if ([...this.links.values()].some((x) => x.name === l.name)) return err(17, 'EEXIST', l.name);
      const link: Omit<KLink, 'index'> = { name: l.name, kind: l.kind, mtu: l.mtu ?? 1480, up: l.up ?? false };
      if (l.kind === 'vxlan') {
        link.mac = l.mac ?? '02:00:00:00:00:99';
        link.vxlan = { vni: l.vni, port: l.port, learning: l.learning ?? false };
        if (l.parent !== undefined) link.vxlan.parent = l.parent;
        if (l.local !== undefined) link.vxlan.local = l.local;
      }
      this.addLink(link);
      return ok;
    });
  }

  async deleteLinks(ls: readonly { index: number }[]): Promise<OpResult[]> {
    return ls.map((l) => {
      const name = this.name(l.index);
      this.ops.push(`delete link ${name}`);
      if (!this.links.has(l.index)) return err(19, 'ENODEV', name);
      this.removeLink(name);
      return ok;
    });
  }

  async dumpFdb(f: { index: number }): Promise<KFdb[]> {
    this.dumps++;
    return this.fdb.filter((e) => e.index === f.index).map((e) => ({ ...e }));
  }

  async setFdb(fs: readonly KFdb[]): Promise<OpResult[]> {
    return fs.map((f) => {
      this.ops.push(`fdb replace ${f.mac} dev ${this.name(f.index)} dst ${f.dst}${f.state === 0x80 ? ' permanent' : ''}`);
      if (!this.links.has(f.index)) return err(19, 'ENODEV', f.mac);
      this.fdb = this.fdb.filter((x) => !(x.index === f.index && x.mac === f.mac));
      this.fdb.push({ ...f });
      return ok;
    });
  }

  async deleteFdb(fs: readonly KFdb[]): Promise<OpResult[]> {
    return fs.map((f) => {
      this.ops.push(`fdb delete ${f.mac} dev ${this.name(f.index)}`);
      this.fdb = this.fdb.filter((x) => !(x.index === f.index && x.mac === f.mac));
      return ok;
    });
  }

  async setLinks(sets: readonly { index: number; up?: boolean; mtu?: number }[]): Promise<OpResult[]> {
    return sets.map((s) => {
      const l = this.links.get(s.index);
      this.ops.push(`set link ${this.name(s.index)}${s.up !== undefined ? (s.up ? ' up' : ' down') : ''}${s.mtu !== undefined ? ` mtu ${s.mtu}` : ''}`);
      if (l === undefined) return err(19, 'ENODEV', `#${s.index}`);
      if (s.up !== undefined) l.up = s.up;
      if (s.mtu !== undefined) l.mtu = s.mtu;
      return ok;
    });
  }

  async dumpAddresses(): Promise<KAddress[]> {
    this.dumps++;
    return this.addresses.map((a) => ({ ...a }));
  }

  async addAddresses(as: readonly KAddress[]): Promise<OpResult[]> {
    return as.map((a) => {
      this.ops.push(`add address ${a.address}/${a.prefixLen} dev ${this.name(a.index)}`);
      if (this.addresses.some((x) => x.index === a.index && x.address === a.address)) return err(17, 'EEXIST', a.address);
      this.addresses.push({ ...a });
      return ok;
    });
  }

  async deleteAddresses(as: readonly KAddress[]): Promise<OpResult[]> {
    return as.map((a) => {
      this.ops.push(`delete address ${a.address}/${a.prefixLen} dev ${this.name(a.index)}`);
      const before = this.addresses.length;
      this.addresses = this.addresses.filter((x) => !(x.index === a.index && x.address === a.address));
      return before === this.addresses.length ? err(99, 'EADDRNOTAVAIL', a.address) : ok;
    });
  }

  async dumpNeighbours(): Promise<KNeighbour[]> {
    this.dumps++;
    return this.neighbours.map((n) => ({ ...n }));
  }

  async setNeighbours(ns: readonly KNeighbour[]): Promise<OpResult[]> {
    return ns.map((n) => {
      this.ops.push(`neigh replace ${n.address} lladdr ${n.lladdr} dev ${this.name(n.index)}${n.state === 0x80 ? ' permanent' : ''}`);
      if (!this.links.has(n.index)) return err(19, 'ENODEV', n.address);
      this.neighbours = this.neighbours.filter((x) => !(x.index === n.index && x.address === n.address));
      this.neighbours.push({ ...n });
      return ok;
    });
  }

  async deleteNeighbours(ns: readonly KNeighbour[]): Promise<OpResult[]> {
    return ns.map((n) => {
      this.ops.push(`neigh delete ${n.address} dev ${this.name(n.index)}`);
      this.neighbours = this.neighbours.filter((x) => !(x.index === n.index && x.address === n.address));
      return ok;
    });
  }

  // ---- the world changing behind the dataplane's back ------------------------------------------

  addLink(l: Omit<KLink, 'index'> & { index?: number }): KLink {
    const link: KLink = { ...l, index: l.index ?? this.nextIndex++ };
    this.links.set(link.index, link);
    return link;
  }

  /** Like `ip link del`: routes, addresses and neighbours on the link go with it. */
  removeLink(name: string): void {
    const l = [...this.links.values()].find((x) => x.name === name);
    if (l === undefined) return;
    this.links.delete(l.index);
    for (const [k, r] of this.routes) {
      if (r.oif === l.index || r.multipath?.some((n) => n.oif === l.index)) this.routes.delete(k);
    }
    this.addresses = this.addresses.filter((a) => a.index !== l.index);
    this.neighbours = this.neighbours.filter((n) => n.index !== l.index);
    this.fdb = this.fdb.filter((n) => n.index !== l.index);
  }

  /** Install a route directly (another daemon, an admin, the CNI plugin). */
  put(t: KRoute | TextRoute): void {
    const r = kroute(t);
    this.routes.set(FakeKernel.key(r), this.store(r));
  }

  get(dst: string, metric?: number): KRoute | undefined {
    const [a, len] = dst.split('/');
    const family = a!.includes(':') ? 6 : 4;
    return this.routes.get(FakeKernel.key({ family, table: 254, dst: a!, dstLen: Number(len), ...(metric !== undefined ? { metric } : {}) }));
  }

  /** The table as text, sorted: what `ip route` would show. */
  table(): string[] {
    return [...this.routes.values()].map((r) => this.fmt(r)).sort();
  }

  takeOps(): string[] {
    const o = this.ops;
    this.ops = [];
    return o;
  }
}

export class FakeSysctl implements Sysctl {
  writes: string[] = [];
  failing = new Set<string>();
  async write(path: string, value: string): Promise<void> {
    if (this.failing.has(path)) throw new Error(`ENOENT: /proc/sys/${path}`);
    this.writes.push(`${path}=${value}`);
  }
  take(): string[] {
    const w = this.writes;
    this.writes = [];
    return w;
  }
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  t = 1_000_000;
  private timers: Timer[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: ++this.seq, at: this.t + ms, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(h: TimerHandle): void {
    this.timers = this.timers.filter((t) => t !== h);
  }
  /** Move time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.length;
  }
}

export interface LogLine {
  level: string;
  msg: string;
  obj: object;
}

export class FakeLog implements DpLog {
  lines: LogLine[] = [];
  debug(obj: object, msg: string): void {
    this.lines.push({ level: 'debug', msg, obj });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: 'error', msg, obj });
  }
  /** Every line's message and fields as one string, for "a log line says why" assertions. */
  text(): string[] {
    return this.lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`);
  }
}

/**
 * A kernel that answers route operations a macrotask later, in order, like the netlink socket
 * working on another thread: applies overlap, and desired state changes while routes are in flight.
 */
export class SlowKernel extends FakeKernel {
  private chain: Promise<unknown> = Promise.resolve();
  private gate: Promise<void> = Promise.resolve();
  private open: (() => void) | undefined;
  /** Answer nothing until release(). */
  hold(): void {
    this.gate = new Promise((res) => (this.open = res));
  }
  release(): void {
    this.open?.();
  }
  private later<T>(f: () => Promise<T>): Promise<T> {
    const gate = this.gate;
    const p = this.chain.then(() => gate).then(() => new Promise<void>((res) => setImmediate(res))).then(f);
    this.chain = p;
    return p;
  }
  override addRoutes(rs: readonly KRoute[]) { return this.later(() => super.addRoutes(rs)); }
  override replaceRoutes(rs: readonly KRoute[]) { return this.later(() => super.replaceRoutes(rs)); }
  override deleteRoutes(rs: Parameters<FakeKernel['deleteRoutes']>[0]) { return this.later(() => super.deleteRoutes(rs)); }
  override dumpRoutes(f: { table: number }) { return this.later(() => super.dumpRoutes(f)); }
}


/** The KernelOps methods that change the kernel (all but the dumps). */
export type KernelMutation = Exclude<keyof KernelOps, `dump${string}`>;

/**
 * A real kernel's ops (netlinkOps) with each of `names` noting "name <first argument as JSON>"
 * in `mutations` before passing the call on, so a test against a namespace can assert what the
 * dataplane changed (nothing, on a restart that finds the kernel as desired).
 */
export function recordMutations(ops: KernelOps, names: readonly KernelMutation[]): { ops: KernelOps; mutations: string[] } {
  const mutations: string[] = [];
  const out: KernelOps = { ...ops };
  for (const name of names) {
    const f = ops[name] as (...a: unknown[]) => Promise<OpResult[]>;
    (out as Record<KernelMutation, (...a: unknown[]) => Promise<OpResult[]>>)[name] = (...a) => {
      mutations.push(`${name} ${JSON.stringify(a[0])}`);
      return f(...a);
    };
  }
  return { ops: out, mutations };
}
