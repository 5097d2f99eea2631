// The rtnetlink client: many requests per sendmsg, a bounded window of requests in flight (so
// the ACKs can never overflow our receive buffer), one result per request (an error for one route
// never loses the others), and dumps decoded into typed objects. One socket, one event loop turn
// per received batch; nothing here blocks or spawns a process.

import { AF, NLM_F, NLMSG, RTM } from './constants.js';
import { failure, NetlinkError, type NlFailure, type NlResult } from './errors.js';
import { writeAddress, readAddress, describeAddress, type Address, type AddressSpec } from './addr.js';
import { describeLink, readLink, writeLinkCreate, writeLinkRef, writeLinkSet, type Link, type LinkCreate, type LinkSet } from './link.js';
import { readDone, readError } from './message.js';
import { loadNative, type NativeHandle, type NativeNetlink } from '../../native/addon.js';
import { describeFdb, describeNeighbour, readFdb, readNeighbour, writeFdb, writeNeighbour, type FdbEntry, type FdbSpec, type Neighbour, type NeighbourSpec } from './neigh.js';
import { forEachMessage, type NlHeader } from './reader.js';
import { describeRoute, readRoute, writeRoute, ROUTE_TYPES, type Route, type RouteOp, type RouteSpec, type RouteType } from './route.js';
import { NlWriter } from './writer.js';
import type { IpFamily } from './ip.js';

/** One netlink request: its type and flags, a payload writer, and a description for errors. */
export interface NlRequest {
  type: number;
  /** NLM_F_* flags besides REQUEST and ACK, which the client always sets. */
  flags: number;
  write(w: NlWriter): void;
  describe(): string;
}

export interface NetlinkOptions {
  /** Network namespace: a name under /var/run/netns or an absolute path to a netns file. */
  netns?: string;
  /** SO_RCVBUF(FORCE) bytes; default 32 MiB. */
  rcvbuf?: number;
  /** SO_SNDBUF(FORCE) bytes; default 4 MiB. A single sendmsg must fit in it. */
  sndbuf?: number;
  /** Requests in flight at most; default derived from the receive buffer (≈1 KiB per ACK). */
  window?: number;
  /** Bytes per sendmsg; default 256 KiB (1 MiB with asyncSend). */
  maxWrite?: number;
  /**
   * Run each sendmsg on libuv's thread pool (one at a time, in order) instead of on the event
   * loop: the kernel does the work of a request inside sendmsg (installing 100k routes takes
   * most of a second), and off the loop that overlaps with computing the next batch and with
   * BGP. Default true when the addon has it.
   */
  asyncSend?: boolean;
  /** NETLINK_GET_STRICT_CHK: let the kernel filter dumps by table/protocol; default true. */
  strict?: boolean;
  /**
   * Ask for an acknowledgement only on the last request of each write; the kernel still answers
   * every failed request with its error (netlink_rcv_skb acks on NLM_F_ACK *or* error), and
   * processes a write in order, so the last request's answer vouches for the silent successes
   * before it. Saves an ACK per route in the kernel and here. Default true.
   */
  quietAcks?: boolean;
}

export function netnsPath(netns: string | undefined): string | undefined {
  if (netns === undefined) return undefined;
  return netns.startsWith('/') ? netns : `/var/run/netns/${netns}`;
}

interface Batch {
  results: NlResult[];
  remaining: number;
  resolve: (r: NlResult[]) => void;
}

interface AckPending {
  kind: 'ack';
  req: NlRequest;
  batch: Batch;
  index: number;
}

interface DumpPending {
  kind: 'dump';
  req: NlRequest;
  onMessage: (buf: Buffer, h: NlHeader) => void;
  done: (interrupted: boolean, fail?: NlFailure) => void;
  interrupted: boolean;
}

type Pending = AckPending | DumpPending;

/** An empty struct ndmsg of one address family: a neighbour (or, AF_BRIDGE, FDB) dump request. */
function writeNdmsgDump(w: NlWriter, family: number): void {
  w.u8(family);
  w.u8(0);
  w.u16(0);
  w.i32(0);
  w.u16(0);
  w.u8(0);
  w.u8(0);
}

/** Skip-stats mask for link dumps (RTEXT_FILTER_SKIP_STATS, linux/rtnetlink.h): 1/3 the bytes. */
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
/** Per-ACK receive-buffer cost: a small skb's truesize is well under 1 KiB; error ACKs with text are larger. */
const ACK_BUDGET = 1024;

export class Netlink {
  private readonly native: NativeNetlink;
  private readonly handle: NativeHandle;
  readonly portid: number;
  readonly rcvbuf: number;
  readonly window: number;
  private readonly maxWrite: number;
  private readonly writer = new NlWriter(1280 * 1024);
  private readonly asyncSend: boolean;
  private readonly quietAcks: boolean;
  /** Seq of the acknowledged last request of a write -> the silent requests it vouches for. */
  private readonly barriers = new Map<number, number[]>();
  private readonly pending = new Map<number, Pending>();
  private queue: Pending[] = [];
  private qHead = 0;
  private seq = 0;
  private dumpRunning = false;
  private referenced = false;
  private closed = false;
  private watchdog: NodeJS.Timeout | undefined;
  private receivedSinceTick = false;
  /** Times the stall watchdog found replies queued that no readiness event had delivered. */
  stalls = 0;

  private constructor(opts: NetlinkOptions) {
    this.native = loadNative();
    const opened = this.native.open(
      {
        rcvbuf: opts.rcvbuf ?? 32 * 1024 * 1024,
        sndbuf: opts.sndbuf ?? 4 * 1024 * 1024,
        groups: [],
        netns: netnsPath(opts.netns),
        strict: opts.strict ?? true,
      },
      (data, errno) => this.onData(data, errno),
    );
    this.handle = opened.handle;
    this.portid = opened.portid;
    this.rcvbuf = opened.rcvbuf;
    // getsockopt reports twice what was set; budget against half of it to keep headroom for
    // dump data arriving while ACKs are queued.
    const fit = Math.max(16, Math.floor(opened.rcvbuf / 2 / ACK_BUDGET));
    this.window = Math.min(opts.window ?? 32768, fit);
    this.asyncSend = (opts.asyncSend ?? true) && typeof this.native.sendAsync === 'function';
    this.quietAcks = opts.quietAcks ?? true;
    this.maxWrite = Math.min(opts.maxWrite ?? (this.asyncSend ? 1024 * 1024 : 256 * 1024), Math.max(4096, opened.sndbuf / 2 - 1024));
    this.native.poll(this.handle, true, false);
  }

  static open(opts: NetlinkOptions = {}): Netlink {
    return new Netlink(opts);
  }

  /** Send requests (batched, windowed); resolves with one result per request, in order. Never rejects. */
  request(reqs: readonly NlRequest[]): Promise<NlResult[]> {
    if (reqs.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const batch: Batch = { results: new Array<NlResult>(reqs.length), remaining: reqs.length, resolve };
      if (this.closed) {
        for (let i = 0; i < reqs.length; i++) this.settle({ kind: 'ack', req: reqs[i]!, batch, index: i }, closedFailure(reqs[i]!));
        return;
      }
      for (let i = 0; i < reqs.length; i++) this.queue.push({ kind: 'ack', req: reqs[i]!, batch, index: i });
      this.pump();
    });
  }

  /** Run one dump, decoding each reply with decode; retried when the kernel flags it inconsistent (NLM_F_DUMP_INTR). */
  async dump<T>(req: NlRequest, decode: (buf: Buffer, h: NlHeader) => T | undefined, attempts = 5): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      const out: T[] = [];
      const interrupted = await new Promise<boolean>((resolve, reject) => {
        const p: DumpPending = {
          kind: 'dump',
          req,
          interrupted: false,
          onMessage: (buf, h) => {
            const v = decode(buf, h);
            if (v !== undefined) out.push(v);
          },
          done: (intr, fail) => (fail ? reject(new NetlinkError(fail)) : resolve(intr)),
        };
        if (this.closed) {
          p.done(false, closedFailure(req));
          return;
        }
        this.queue.push(p);
        this.pump();
      });
      if (!interrupted || attempt >= attempts) return out;
    }
  }

  // ---- routes -------------------------------------------------------------------------------

  addRoutes(routes: readonly RouteSpec[]): Promise<NlResult[]> {
    return this.request(routes.map((r) => new RouteRequest('add', r)));
  }

  replaceRoutes(routes: readonly RouteSpec[]): Promise<NlResult[]> {
    return this.request(routes.map((r) => new RouteRequest('replace', r)));
  }

  deleteRoutes(routes: readonly RouteSpec[]): Promise<NlResult[]> {
    return this.request(routes.map((r) => new RouteRequest('delete', r)));
  }

  /** Dump routes; the kernel filters by table/protocol/type (strict mode) and so do we, for older kernels. */
  async dumpRoutes(filter: { family?: IpFamily; table?: number; protocol?: number; type?: RouteType } = {}): Promise<Route[]> {
    const req = simpleRequest(RTM.GETROUTE, NLM_F.DUMP, 'dump routes', (w) => {
      w.u8(filter.family === 4 ? AF.INET : filter.family === 6 ? AF.INET6 : AF.UNSPEC);
      w.u8(0);
      w.u8(0);
      w.u8(0);
      w.u8(filter.table !== undefined && filter.table < 256 ? filter.table : 0);
      w.u8(filter.protocol ?? 0);
      w.u8(0);
      w.u8(filter.type !== undefined ? ROUTE_TYPES[filter.type] : 0);
      w.u32(0);
      if (filter.table !== undefined) w.attrU32(15 /* RTA_TABLE */, filter.table);
    });
    let routes: Route[];
    try {
      routes = await this.dump(req, (buf, h) => (h.type === RTM.NEWROUTE ? readRoute(buf, h.body, h.end) : undefined));
    } catch (e) {
      // A table that does not exist yet has no routes ("FIB table does not exist").
      if (e instanceof NetlinkError && e.code === 'ENOENT' && filter.table !== undefined) return [];
      throw e;
    }
    return routes.filter(
      (r) =>
        (filter.family === undefined || r.family === filter.family) &&
        (filter.table === undefined || r.table === filter.table) &&
        (filter.protocol === undefined || r.protocol === filter.protocol) &&
        (filter.type === undefined || r.type === filter.type),
    );
  }

  // ---- links --------------------------------------------------------------------------------

  dumpLinks(): Promise<Link[]> {
    const req = simpleRequest(RTM.GETLINK, NLM_F.DUMP, 'dump links', (w) => {
      writeLinkRef(w, {});
      w.attrU32(29 /* IFLA_EXT_MASK */, RTEXT_FILTER_SKIP_STATS);
    });
    return this.dump(req, (buf, h) => (h.type === RTM.NEWLINK ? readLink(buf, h.body, h.end) : undefined));
  }

  async getLink(ref: { name?: string; index?: number }): Promise<Link | undefined> {
    const links = await this.dumpLinks();
    return links.find((l) => (ref.index !== undefined ? l.index === ref.index : l.name === ref.name));
  }

  setLinks(sets: readonly LinkSet[]): Promise<NlResult[]> {
    return this.request(
      sets.map((s) => simpleRequest(RTM.NEWLINK, 0, `set ${describeLink(s)}`, (w) => writeLinkSet(w, s))),
    );
  }

  /** Create links; fails with EEXIST if the name is taken (callers ensure-create by tolerating it). */
  async createLinks(links: readonly LinkCreate[]): Promise<NlResult[]> {
    const results = await this.request(
      links.map((c) =>
        simpleRequest(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, `create ${c.kind} link ${c.name}`, (w) => writeLinkCreate(w, c)),
      ),
    );
    // The kernel answers EOPNOTSUPP "Unknown device type" when the kind's module (ipip) is not
    // loaded and cannot be auto-loaded (containers without /lib/modules): say so.
    return results.map((r, i) =>
      !r.ok && r.errno === 95
        ? { ...r, message: `${r.message} (is the ${links[i]!.kind} kernel module loaded? try \`modprobe ${links[i]!.kind}\` on the host)` }
        : r,
    );
  }

  deleteLinks(refs: readonly { index?: number; name?: string }[]): Promise<NlResult[]> {
    return this.request(refs.map((r) => simpleRequest(RTM.DELLINK, 0, `delete ${describeLink(r)}`, (w) => writeLinkRef(w, r))));
  }

  // ---- addresses ----------------------------------------------------------------------------

  addAddresses(addrs: readonly AddressSpec[], opts: { replace?: boolean } = {}): Promise<NlResult[]> {
    const flags = NLM_F.CREATE | (opts.replace ? NLM_F.REPLACE : NLM_F.EXCL);
    return this.request(addrs.map((a) => simpleRequest(RTM.NEWADDR, flags, `add ${describeAddress(a)}`, (w) => writeAddress(w, a))));
  }

  deleteAddresses(addrs: readonly AddressSpec[]): Promise<NlResult[]> {
    return this.request(addrs.map((a) => simpleRequest(RTM.DELADDR, 0, `delete ${describeAddress(a)}`, (w) => writeAddress(w, a))));
  }

  async dumpAddresses(filter: { family?: IpFamily; index?: number } = {}): Promise<Address[]> {
    const req = simpleRequest(RTM.GETADDR, NLM_F.DUMP, 'dump addresses', (w) => {
      w.u8(filter.family === 4 ? AF.INET : filter.family === 6 ? AF.INET6 : AF.UNSPEC);
      w.u8(0);
      w.u8(0);
      w.u8(0);
      w.u32(filter.index ?? 0);
    });
    const all = await this.dump(req, (buf, h) => (h.type === RTM.NEWADDR ? readAddress(buf, h.body, h.end) : undefined));
    return all.filter(
      (a) => (filter.family === undefined || a.family === filter.family) && (filter.index === undefined || a.index === filter.index),
    );
  }

  // ---- neighbours ---------------------------------------------------------------------------

  /** Create or replace neighbour entries (permanent unless a state is given). */
  setNeighbours(ns: readonly NeighbourSpec[]): Promise<NlResult[]> {
    const flags = NLM_F.CREATE | NLM_F.REPLACE;
    return this.request(ns.map((n) => simpleRequest(RTM.NEWNEIGH, flags, `set ${describeNeighbour(n)}`, (w) => writeNeighbour(w, n))));
  }

  deleteNeighbours(ns: readonly NeighbourSpec[]): Promise<NlResult[]> {
    return this.request(ns.map((n) => simpleRequest(RTM.DELNEIGH, 0, `delete ${describeNeighbour(n)}`, (w) => writeNeighbour(w, n))));
  }

  async dumpNeighbours(filter: { family?: IpFamily; index?: number } = {}): Promise<Neighbour[]> {
    const req = simpleRequest(RTM.GETNEIGH, NLM_F.DUMP, 'dump neighbours', (w) => writeNdmsgDump(w, filter.family === 4 ? AF.INET : filter.family === 6 ? AF.INET6 : AF.UNSPEC));
    const all = await this.dump(req, (buf, h) => (h.type === RTM.NEWNEIGH ? readNeighbour(buf, h.body, h.end) : undefined));
    return all.filter(
      (n) => (filter.family === undefined || n.family === filter.family) && (filter.index === undefined || n.index === filter.index),
    );
  }

  // ---- FDB (vxlan devices) ------------------------------------------------------------------

  /** Create or replace FDB entries (permanent, NTF_SELF unless given). */
  setFdb(fs: readonly FdbSpec[]): Promise<NlResult[]> {
    const flags = NLM_F.CREATE | NLM_F.REPLACE;
    return this.request(fs.map((f) => simpleRequest(RTM.NEWNEIGH, flags, `set ${describeFdb(f)}`, (w) => writeFdb(w, f))));
  }

  deleteFdb(fs: readonly FdbSpec[]): Promise<NlResult[]> {
    return this.request(fs.map((f) => simpleRequest(RTM.DELNEIGH, 0, `delete ${describeFdb(f)}`, (w) => writeFdb(w, f))));
  }

  /** FDB entries (AF_BRIDGE neighbours), optionally of one device. */
  async dumpFdb(filter: { index?: number } = {}): Promise<FdbEntry[]> {
    const req = simpleRequest(RTM.GETNEIGH, NLM_F.DUMP, 'dump fdb', (w) => writeNdmsgDump(w, AF.BRIDGE));
    const all = await this.dump(req, (buf, h) => (h.type === RTM.NEWNEIGH ? readFdb(buf, h.body, h.end) : undefined));
    return all.filter((f) => filter.index === undefined || f.index === filter.index);
  }

  /** Close the socket; requests still queued or in flight resolve with EBADF failures. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disarmWatchdog();
    this.native.close(this.handle);
    for (const p of this.pending.values()) this.fail(p, closedFailure(p.req));
    this.pending.clear();
    this.barriers.clear();
    for (let i = this.qHead; i < this.queue.length; i++) this.fail(this.queue[i]!, closedFailure(this.queue[i]!.req));
    this.queue = [];
    this.qHead = 0;
  }

  // ---- machinery ----------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  /** Fill writes with queued requests while the window allows; one sendmsg per write. */
  /** Requests of a write that sendmsg refused: none reached the kernel. */
  private failSent(sent: readonly number[], errno: number): void {
    for (const seq of sent) {
      this.barriers.delete(seq);
      const p = this.pending.get(seq);
      if (p === undefined) continue; // already failed (socket closed)
      this.pending.delete(seq);
      if (p.kind === 'dump') this.dumpRunning = false;
      this.fail(p, failure(`${p.req.describe()} (sendmsg)`, errno));
    }
  }

  private pump(): void {
    const w = this.writer;
    while (!this.closed && this.qHead < this.queue.length && this.pending.size < this.window) {
      w.reset();
      const sent: number[] = [];
      const quiet: number[] = [];
      let lastAckAt = -1;
      let lastAckSeq = 0;
      while (this.qHead < this.queue.length && this.pending.size + sent.length < this.window && w.pos < this.maxWrite) {
        const p = this.queue[this.qHead]!;
        if (p.kind === 'dump') {
          // The kernel runs one dump per socket at a time (EBUSY otherwise); keep FIFO order.
          if (this.dumpRunning) break;
          this.dumpRunning = true;
        }
        this.qHead++;
        const seq = this.nextSeq();
        const start = w.pos;
        try {
          const ack = p.kind === 'ack' && !this.quietAcks ? NLM_F.ACK : 0;
          const at = w.beginMessage(p.req.type, p.req.flags | NLM_F.REQUEST | ack, seq, 0);
          p.req.write(w);
          w.endMessage(at);
          if (p.kind === 'ack' && this.quietAcks) {
            if (lastAckAt >= 0) quiet.push(lastAckSeq);
            lastAckAt = at;
            lastAckSeq = seq;
          }
        } catch (e) {
          // A request we cannot encode (bad address text...) fails alone; the batch goes on.
          w.pos = start;
          if (p.kind === 'dump') this.dumpRunning = false;
          this.fail(p, failure(p.req.describe(), 22 /* EINVAL */, e instanceof Error ? e.message : String(e)));
          continue;
        }
        this.pending.set(seq, p);
        sent.push(seq);
      }
      if (lastAckAt >= 0) {
        // The write's last request asks for the acknowledgement that covers the silent ones.
        const flagsAt = lastAckAt + 6;
        w.buf.writeUInt16LE(w.buf.readUInt16LE(flagsAt) | NLM_F.ACK, flagsAt);
        if (quiet.length > 0) this.barriers.set(lastAckSeq, quiet);
      }
      if (sent.length > 0) {
        if (this.asyncSend) {
          // Queued natively behind earlier writes (one pool job sends them in order), so the
          // kernel keeps working while this thread encodes the next write. Each write gets its
          // own copy: the kernel reads it after this function returns.
          try {
            this.native.sendAsync!(this.handle, Buffer.from(w.view()), (errno) => {
              if (errno !== 0) this.failSent(sent, errno);
            });
          } catch (e) {
            this.failSent(sent, typeof (e as { errno?: unknown }).errno === 'number' ? (e as { errno: number }).errno : 5);
          }
          continue;
        }
        try {
          this.native.send(this.handle, w.view());
        } catch (e) {
          const errno = typeof (e as { errno?: unknown }).errno === 'number' ? (e as { errno: number }).errno : 5;
          this.failSent(sent, errno);
        }
      } else if (this.qHead < this.queue.length && this.queue[this.qHead]!.kind === 'dump' && this.dumpRunning) {
        break;
      }
    }
    if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
    this.updateRef();
  }

  private updateRef(): void {
    if (this.closed) return;
    const busy = this.pending.size > 0 || this.qHead < this.queue.length;
    if (busy !== this.referenced) {
      this.referenced = busy;
      this.native.poll(this.handle, true, busy);
      if (busy) this.armWatchdog();
      else this.disarmWatchdog();
    }
  }

  /**
   * While requests are outstanding, read the socket directly if nothing arrived for 250 ms. The
   * kernel always answers, so silence with replies pending means we missed a readiness event —
   * which happened when a collected socket's libuv handle unregistered a reused fd (fixed in
   * native/netlink.c). Kept as a safety net; `stalls` counts each rescue.
   */
  private armWatchdog(): void {
    if (this.watchdog) return;
    this.receivedSinceTick = false;
    this.watchdog = setInterval(() => {
      if (this.closed || this.pending.size === 0) return;
      if (!this.receivedSinceTick) {
        const before = this.pending.size;
        this.native.drain(this.handle);
        if (this.pending.size < before) this.stalls++;
      }
      this.receivedSinceTick = false;
    }, 250);
    this.watchdog.unref();
  }

  private disarmWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private onData(data: Buffer | null, errno: number): void {
    this.receivedSinceTick = true;
    if (data === null) {
      this.onSocketError(errno);
      return;
    }
    forEachMessage(data, 0, data.length, (h) => {
      const p = this.pending.get(h.seq);
      if (p === undefined) return;
      if (p.kind === 'ack') {
        if (h.type !== NLMSG.ERROR) return; // a reply we did not ask to be echoed
        this.pending.delete(h.seq);
        const ack = readError(data, h);
        this.settle(p, ack.errno === 0 ? OK : failure(p.req.describe(), ack.errno, ack.extack));
        // A write's acknowledged last request: the silent ones before it that sent no error
        // (which would have arrived first) succeeded.
        const covered = this.barriers.get(h.seq);
        if (covered !== undefined) {
          this.barriers.delete(h.seq);
          for (const q of covered) {
            const c = this.pending.get(q);
            if (c === undefined || c.kind !== 'ack') continue;
            this.pending.delete(q);
            this.settle(c, OK);
          }
        }
        return;
      }
      if (h.flags & NLM_F.DUMP_INTR) p.interrupted = true;
      if (h.type === NLMSG.DONE || h.type === NLMSG.ERROR) {
        this.pending.delete(h.seq);
        this.dumpRunning = false;
        const ack = h.type === NLMSG.DONE ? readDone(data, h) : readError(data, h);
        p.done(p.interrupted, ack.errno === 0 ? undefined : failure(p.req.describe(), ack.errno, ack.extack));
        return;
      }
      p.onMessage(data, h);
    });
    this.pump();
  }

  /**
   * ENOBUFS here means the kernel dropped replies: the outcome of everything in flight is unknown.
   * With the window this should not happen; if it does, fail those requests loudly so the caller
   * resynchronises from a dump, and carry on.
   */
  private onSocketError(errno: number): void {
    const inflight = [...this.pending.values()];
    this.pending.clear();
    this.barriers.clear();
    this.dumpRunning = false;
    for (const p of inflight) {
      this.fail(p, failure(`${p.req.describe()} (reply lost, receive buffer overflow: state unknown, resync)`, errno));
    }
    this.pump();
  }

  private fail(p: Pending, f: NlFailure): void {
    if (p.kind === 'ack') this.settle(p, f);
    else p.done(false, f);
  }

  private settle(p: AckPending, r: NlResult): void {
    p.batch.results[p.index] = r;
    if (--p.batch.remaining === 0) p.batch.resolve(p.batch.results);
  }
}

const OK: NlResult = Object.freeze({ ok: true }) as NlResult;

function closedFailure(req: NlRequest): NlFailure {
  return failure(`${req.describe()} (netlink socket closed)`, 9 /* EBADF */);
}

/** A route request as a class, not closures: 100k of them are built per full sync. */
class RouteRequest implements NlRequest {
  readonly type: number;
  readonly flags: number;
  constructor(
    private readonly op: RouteOp,
    private readonly spec: RouteSpec,
  ) {
    this.type = op === 'delete' ? RTM.DELROUTE : RTM.NEWROUTE;
    this.flags = op === 'add' ? NLM_F.CREATE | NLM_F.EXCL : op === 'replace' ? NLM_F.CREATE | NLM_F.REPLACE : 0;
  }
  write(w: NlWriter): void {
    writeRoute(w, this.spec, this.op);
  }
  describe(): string {
    return `${this.op} route ${describeRoute(this.spec)}`;
  }
}

export function simpleRequest(type: number, flags: number, what: string, write: (w: NlWriter) => void): NlRequest {
  return { type, flags, write, describe: () => what };
}

