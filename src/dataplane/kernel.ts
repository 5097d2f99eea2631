// The real side effects behind the dataplane core: the rtnetlink client as KernelOps, /proc/sys
// writes, the wall clock, and a link/address monitor that triggers resyncs. Thin on purpose: all
// decisions live in the core, which never imports this file (tests use fakes instead).
//
//   const nl = Netlink.open();
//   const dp = createDataplane({ ops: netlinkOps(nl), sysctl: procSysctl(), clock: systemClock(), log });
//   const stopWatch = await watchLinks(dp, log);     // link or address events -> dp.linkChanged()

import { writeFile } from 'node:fs/promises';
import { mustParseAddr } from '../net/index.js';
import { Netlink, NetlinkMonitor, type MonitorEvent, type NetlinkOptions, type Route } from './netlink/index.js';
import type { Dataplane } from './dataplane.js';
import type { Clock, DpLog, KernelOps, KFdb, KLink, KNexthop, KRoute, OpResult, Sysctl, TimerHandle } from './types.js';

/** A dumped route (addresses as the codec prints them) as the core holds routes: addresses as values. */
function kernelRoute(r: Route): KRoute {
  const { dst, gateway, multipath, prefsrc: _prefsrc, ...rest } = r;
  const k: KRoute = { ...rest, dst: mustParseAddr(dst) };
  if (gateway !== undefined) k.gateway = mustParseAddr(gateway);
  if (multipath !== undefined) {
    k.multipath = multipath.map(({ gateway: gw, ...nh }): KNexthop => (gw !== undefined ? { ...nh, gateway: mustParseAddr(gw) } : nh));
  }
  return k;
}

/** KernelOps over one netlink socket. Link dumps are narrowed to what the core reads. */
export function netlinkOps(nl: Netlink): KernelOps {
  return {
    dumpRoutes: async (f) => (await nl.dumpRoutes({ table: f.table })).map(kernelRoute),
    addRoutes: (rs) => nl.addRoutes(rs),
    replaceRoutes: (rs) => nl.replaceRoutes(rs),
    deleteRoutes: (rs) => nl.deleteRoutes(rs),
    dumpLinks: async () =>
      (await nl.dumpLinks()).map((l): KLink => {
        const k: KLink = { index: l.index, name: l.name, up: l.up, mtu: l.mtu };
        if (l.kind !== undefined) k.kind = l.kind;
        if (l.mac !== undefined) k.mac = l.mac;
        if (l.vxlan !== undefined) k.vxlan = l.vxlan;
        return k;
      }),
    createLinks: (ls) => nl.createLinks(ls),
    deleteLinks: (ls) => nl.deleteLinks(ls),
    setLinks: (ss) => nl.setLinks(ss),
    dumpAddresses: () => nl.dumpAddresses(),
    addAddresses: (as) => nl.addAddresses(as),
    deleteAddresses: (as) => nl.deleteAddresses(as),
    dumpNeighbours: () => nl.dumpNeighbours(),
    setNeighbours: (ns) => nl.setNeighbours(ns),
    deleteNeighbours: (ns) => nl.deleteNeighbours(ns),
    dumpFdb: async (f) => (await nl.dumpFdb(f)).map((e): KFdb => (e.dst !== undefined ? { index: e.index, mac: e.mac, dst: e.dst, state: e.state } : { index: e.index, mac: e.mac, state: e.state })),
    setFdb: (fs) => nl.setFdb(fs),
    deleteFdb: (fs) => nl.deleteFdb(fs),
  };
}

/**
 * KernelOps that report every failed netlink request to `onError` (the metrics' counter): each
 * negative answer in a batch, and a request that threw (a dump, or a socket error). The results
 * pass through unchanged.
 */
export function meteredOps(ops: KernelOps, onError: (op: string, code: string) => void): KernelOps {
  const call = <R>(op: string, f: () => Promise<R>): Promise<R> => f().catch((e: unknown) => {
    onError(op, 'exception');
    throw e;
  });
  const batch = async (op: string, f: () => Promise<OpResult[]>): Promise<OpResult[]> => {
    const rs = await call(op, f);
    for (const r of rs) if (!r.ok) onError(op, r.code);
    return rs;
  };
  return {
    dumpRoutes: (f) => call('dump-routes', () => ops.dumpRoutes(f)),
    addRoutes: (x) => batch('add-route', () => ops.addRoutes(x)),
    replaceRoutes: (x) => batch('replace-route', () => ops.replaceRoutes(x)),
    deleteRoutes: (x) => batch('delete-route', () => ops.deleteRoutes(x)),
    dumpLinks: () => call('dump-links', () => ops.dumpLinks()),
    createLinks: (x) => batch('create-link', () => ops.createLinks(x)),
    deleteLinks: (x) => batch('delete-link', () => ops.deleteLinks(x)),
    setLinks: (x) => batch('set-link', () => ops.setLinks(x)),
    dumpAddresses: () => call('dump-addresses', () => ops.dumpAddresses()),
    addAddresses: (x) => batch('add-address', () => ops.addAddresses(x)),
    deleteAddresses: (x) => batch('delete-address', () => ops.deleteAddresses(x)),
    dumpNeighbours: () => call('dump-neighbours', () => ops.dumpNeighbours()),
    setNeighbours: (x) => batch('set-neighbour', () => ops.setNeighbours(x)),
    deleteNeighbours: (x) => batch('delete-neighbour', () => ops.deleteNeighbours(x)),
    dumpFdb: (f) => call('dump-fdb', () => ops.dumpFdb(f)),
    setFdb: (x) => batch('set-fdb', () => ops.setFdb(x)),
    deleteFdb: (x) => batch('delete-fdb', () => ops.deleteFdb(x)),
  };
}

/** Open a netlink socket (optionally in a network namespace) and wrap it. */
export function openKernel(opts: NetlinkOptions = {}): { ops: KernelOps; close(): void } {
  const nl = Netlink.open(opts);
  return { ops: netlinkOps(nl), close: () => nl.close() };
}

/** Writes /proc/sys/<path>. `root` lets tests point it elsewhere. */
export function procSysctl(root = '/proc/sys'): Sysctl {
  return { write: (path, value) => writeFile(`${root}/${path}`, value) };
}

/** Wall-clock time (status shows it); timers are unref'd so they never keep the process alive. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    // A zero delay ("apply soon") runs in the same turn's check phase, right after the I/O that
    // caused it, in order with other setImmediate work (the BGP export flush): the kernel then
    // starts on the routes while the rest of that work runs (see scheduler.ts, slices).
    setTimeout: (fn, ms) => {
      if (ms <= 0) return { immediate: setImmediate(fn) };
      const t = setTimeout(fn, ms);
      t.unref();
      return t;
    },
    clearTimeout: (h: TimerHandle) => {
      if (typeof h === 'object' && h !== null && 'immediate' in h) clearImmediate((h as { immediate: NodeJS.Immediate }).immediate);
      else clearTimeout(h as NodeJS.Timeout);
    },
  };
}

/**
 * Whether a link or address event may have taken kernel routes with it, so the dataplane must
 * dump the routes again: a link removed, going down or up (routes through it are flushed, or can
 * now be added back), losing or regaining carrier, an address removed (routes using it as their
 * source go). A link that appeared, was renamed or changed MTU or flags, and an address added,
 * take no route away: re-reading links and addresses is enough (issue 16: during bench:fib an
 * interface's RUNNING flag and its IPv6 link-local address each cost a dump of 100,000 routes).
 */
export function routesMayHaveGone(ev: MonitorEvent): boolean {
  if (ev.kind === 'address') return ev.action === 'del';
  if (ev.kind === 'link') return ev.action === 'del' || ev.changes.some((c) => c !== 'added' && c !== 'renamed' && c !== 'mtu');
  return true;
}

/**
 * Keeps the dataplane's view of the host current on link and address events (an interface
 * appearing, going up, being renamed, an address change on the host NIC): a resync from a dump
 * when routes may have gone (routesMayHaveGone) or the monitor overflowed (events lost), else a
 * re-read of links and addresses. Returns a function that stops watching.
 */
export async function watchLinks(dp: Dataplane, log: DpLog, netns?: string): Promise<() => void> {
  const mon = await NetlinkMonitor.open({ groups: ['link', 'ipv4-addr', 'ipv6-addr'], ref: false, ...(netns !== undefined ? { netns } : {}) });
  const off = mon.on((ev) => {
    if (ev.kind === 'overflow') {
      log.warn({ err: ev.message }, 'netlink monitor lost events; resyncing the dataplane');
      dp.linkChanged();
    } else if (ev.kind === 'link' || ev.kind === 'address') {
      if (routesMayHaveGone(ev)) dp.linkChanged();
      else dp.hostChanged();
    }
  });
  return () => {
    off();
    mon.close();
  };
}
