// Kernel event monitoring: a NETLINK_ROUTE socket joined to multicast groups (links, routes,
// addresses, neighbours), decoded into typed events. When the kernel drops events because we
// fell behind (ENOBUFS), the monitor emits { kind: 'overflow' } so the owner resynchronises from
// a dump — it never aborts — and re-reads the link table so link changes stay correct.

import { RTM, RTNLGRP, type MonitorGroup } from './constants.js';
import { readAddress, type Address } from './addr.js';
import { errnoInfo } from './errors.js';
import { Netlink, netnsPath } from './client.js';
import { readLink, type Link } from './link.js';
import { loadNative, type NativeHandle, type NativeNetlink } from '../../native/addon.js';
import { readNeighbour, type Neighbour } from './neigh.js';
import { forEachMessage } from './reader.js';
import { readRoute, type Route } from './route.js';

export type Action = 'new' | 'del';

/** What changed on a link compared with the last state this monitor saw. */
export type LinkChange = 'added' | 'removed' | 'up' | 'down' | 'carrier-up' | 'carrier-down' | 'renamed' | 'mtu';

export type MonitorEvent =
  | { kind: 'link'; action: Action; link: Link; changes: LinkChange[]; previous?: Link }
  | { kind: 'route'; action: Action; route: Route }
  | { kind: 'address'; action: Action; address: Address }
  | { kind: 'neighbour'; action: Action; neighbour: Neighbour }
  /** The kernel dropped events (our socket's receive buffer was full): resync from a dump. */
  | { kind: 'overflow'; errno: number; message: string };

export interface MonitorOptions {
  netns?: string;
  /** Default: link, ipv4-route, ipv6-route. */
  groups?: MonitorGroup[];
  /** SO_RCVBUF(FORCE) bytes; default 8 MiB. */
  rcvbuf?: number;
  /** Events buffered for a slow async iterator before the monitor stops reading the socket; default 10,000. */
  highWaterMark?: number;
  /** Keep the event loop alive while open (default true, like a server socket). */
  ref?: boolean;
}

export class NetlinkMonitor implements AsyncIterable<MonitorEvent> {
  private readonly native: NativeNetlink;
  private readonly handle: NativeHandle;
  private readonly listeners = new Set<(ev: MonitorEvent) => void>();
  private readonly links = new Map<number, Link>();
  private readonly queue: MonitorEvent[] = [];
  private waiter: ((r: IteratorResult<MonitorEvent>) => void) | undefined;
  private iterating = false;
  private paused = false;
  private userPaused = false;
  private closed = false;
  private seeding: MonitorEvent[] | undefined;
  private readonly highWaterMark: number;
  private readonly ref: boolean;
  private readonly wantsLinks: boolean;

  private constructor(private readonly opts: MonitorOptions) {
    this.native = loadNative();
    const groups = opts.groups ?? ['link', 'ipv4-route', 'ipv6-route'];
    this.wantsLinks = groups.includes('link');
    this.highWaterMark = opts.highWaterMark ?? 10_000;
    this.ref = opts.ref ?? true;
    const opened = this.native.open(
      {
        rcvbuf: opts.rcvbuf ?? 8 * 1024 * 1024,
        sndbuf: 0,
        groups: groups.map((g) => RTNLGRP[g]),
        netns: netnsPath(opts.netns),
        strict: false,
      },
      (data, errno) => this.onData(data, errno),
    );
    this.handle = opened.handle;
    this.native.poll(this.handle, true, this.ref);
  }

  /**
   * Subscribe, then (when links are monitored) read the current link table so the first event
   * for an existing link reports what changed rather than "added". Events arriving during that
   * dump are held and delivered after it.
   */
  static async open(opts: MonitorOptions = {}): Promise<NetlinkMonitor> {
    const m = new NetlinkMonitor(opts);
    if (m.wantsLinks) await m.seedLinks();
    return m;
  }

  /** The link table as this monitor last saw it. */
  knownLinks(): Link[] {
    return [...this.links.values()];
  }

  on(listener: (ev: MonitorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop reading the socket (the kernel buffers, then drops and we report 'overflow'). */
  pause(): void {
    this.userPaused = true;
    this.updatePolling();
  }

  resume(): void {
    this.userPaused = false;
    this.updatePolling();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
    this.listeners.clear();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ done: true, value: undefined });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<MonitorEvent> {
    this.iterating = true;
    return {
      next: () => {
        const ev = this.queue.shift();
        if (ev !== undefined) {
          this.updatePolling();
          return Promise.resolve({ done: false, value: ev });
        }
        if (this.closed) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => (this.waiter = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private updatePolling(): void {
    if (this.closed) return;
    // Backpressure for the iterator: with too many events buffered in JS, stop reading and let
    // the kernel drop instead — memory stays bounded and the consumer learns it must resync.
    const pause = this.userPaused || (this.iterating && this.queue.length >= this.highWaterMark);
    if (pause !== this.paused) {
      this.paused = pause;
      this.native.poll(this.handle, !pause, this.ref && !pause);
    }
  }

  private async seedLinks(): Promise<void> {
    this.seeding = [];
    const nl = Netlink.open({ netns: this.opts.netns, rcvbuf: 1 << 20 });
    try {
      const links = await nl.dumpLinks();
      this.links.clear();
      for (const l of links) this.links.set(l.index, l);
    } finally {
      nl.close();
      const held = this.seeding;
      this.seeding = undefined;
      for (const ev of held) this.emit(ev);
    }
  }

  private onData(data: Buffer | null, errno: number): void {
    if (data === null) {
      const { code, text } = errnoInfo(errno);
      this.emit({ kind: 'overflow', errno, message: `netlink monitor lost events: ${code} (${text}); resync from a dump` });
      if (errno === 105 /* ENOBUFS */ && this.wantsLinks && this.seeding === undefined) {
        this.seedLinks().catch(() => undefined);
      }
      return;
    }
    forEachMessage(data, 0, data.length, (h) => {
      const action: Action = h.type === RTM.NEWLINK || h.type === RTM.NEWROUTE || h.type === RTM.NEWADDR || h.type === RTM.NEWNEIGH ? 'new' : 'del';
      switch (h.type) {
        case RTM.NEWLINK:
        case RTM.DELLINK: {
          const link = readLink(data, h.body, h.end);
          if (link) this.emit({ kind: 'link', action, link, changes: [] });
          break;
        }
        case RTM.NEWROUTE:
        case RTM.DELROUTE: {
          const route = readRoute(data, h.body, h.end);
          if (route) this.emit({ kind: 'route', action, route });
          break;
        }
        case RTM.NEWADDR:
        case RTM.DELADDR: {
          const address = readAddress(data, h.body, h.end);
          if (address) this.emit({ kind: 'address', action, address });
          break;
        }
        case RTM.NEWNEIGH:
        case RTM.DELNEIGH: {
          const neighbour = readNeighbour(data, h.body, h.end);
          if (neighbour) this.emit({ kind: 'neighbour', action, neighbour });
          break;
        }
      }
    });
  }

  private emit(ev: MonitorEvent): void {
    if (this.closed) return;
    if (this.seeding !== undefined && ev.kind !== 'overflow') {
      this.seeding.push(ev);
      return;
    }
    if (ev.kind === 'link') this.trackLink(ev);
    for (const l of this.listeners) l(ev);
    if (!this.iterating) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ done: false, value: ev });
    } else {
      this.queue.push(ev);
      this.updatePolling();
    }
  }

  /** Fill in what changed against the last seen state (RTM_NEWLINK is sent for any change). */
  private trackLink(ev: Extract<MonitorEvent, { kind: 'link' }>): void {
    const prev = this.links.get(ev.link.index);
    if (prev) ev.previous = prev;
    if (ev.action === 'del') {
      this.links.delete(ev.link.index);
      ev.changes.push('removed');
      return;
    }
    this.links.set(ev.link.index, ev.link);
    if (!prev) {
      ev.changes.push('added');
      return;
    }
    if (prev.up !== ev.link.up) ev.changes.push(ev.link.up ? 'up' : 'down');
    if (prev.lowerUp !== ev.link.lowerUp) ev.changes.push(ev.link.lowerUp ? 'carrier-up' : 'carrier-down');
    if (prev.name !== ev.link.name) ev.changes.push('renamed');
    if (prev.mtu !== ev.link.mtu) ev.changes.push('mtu');
  }
}
