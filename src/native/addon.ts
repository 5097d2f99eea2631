// The one loader for Kite's native addon (build/Release/kite_netlink.node, built by node-gyp from
// native/ during npm install) and the types of what it exports: the NETLINK_ROUTE socket functions
// the dataplane uses (native/netlink.c) and the TCP MD5 / GTSM socket functions the BGP speaker
// uses (native/tcp.c). It sits below both, so neither imports the other to reach the addon.
// Works from src/ (vitest) and dist/ (built) alike: both sit two levels below the package root.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Opaque socket handle (a napi external). */
export type NativeHandle = { readonly __nativeNetlink: unique symbol };

/** data: concatenated datagrams read in one poll callback; errno: 0, or ENOBUFS/... with data null. */
export type NativeCallback = (data: Buffer | null, errno: number) => void;

export interface NativeOpenOptions {
  rcvbuf: number;
  sndbuf: number;
  groups: number[];
  netns?: string;
  strict: boolean;
}

export interface NativeOpened {
  handle: NativeHandle;
  portid: number;
  /** Actual SO_RCVBUF (the kernel reports double the requested size: it counts skb overhead). */
  rcvbuf: number;
  sndbuf: number;
}

export interface NativeNetlink {
  open(opts: NativeOpenOptions, cb: NativeCallback): NativeOpened;
  send(h: NativeHandle, data: Buffer): number;
  /** sendmsg on the thread pool, queued in order behind earlier ones; `data` must stay unchanged until cb. Absent in older builds. */
  sendAsync?(h: NativeHandle, data: Buffer, cb: (errno: number) => void): void;
  poll(h: NativeHandle, on: boolean, ref: boolean): void;
  close(h: NativeHandle): void;
  /** Read what is queued now (calls back synchronously). */
  drain(h: NativeHandle): void;
}

/** The addon's TCP socket functions (native/tcp.c); errors thrown carry the errno. */
export interface TcpNative {
  tcpSocket(family: 4 | 6): number;
  tcpBind(fd: number, address: string, port: number): void;
  tcpListen(fd: number, backlog: number): void;
  /** key '' removes the peer's key. */
  tcpSetMd5(fd: number, peer: string, key: string): void;
  /** ttl 0: unchanged, -1: the system default; minTtl -1: unchanged, 0: off. */
  tcpSetTtl(fd: number, ttl: number, minTtl: number): void;
  tcpClose(fd: number): void;
}

let cached: NativeNetlink | undefined;
let tcp: TcpNative | null | undefined;

/** Find the package root: the nearest ancestor holding binding.gyp. */
function candidates(): string[] {
  const out: string[] = [];
  if (process.env.KITE_NETLINK_ADDON) out.push(process.env.KITE_NETLINK_ADDON);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp')) || existsSync(join(dir, 'package.json'))) {
      out.push(join(dir, 'build', 'Release', 'kite_netlink.node'), join(dir, 'build', 'Debug', 'kite_netlink.node'));
    }
    dir = dirname(dir);
  }
  return out;
}

/** The addon's netlink functions; throws, saying how to build it, when it is not built. */
export function loadNative(): NativeNetlink {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried = candidates();
  for (const p of tried) {
    if (existsSync(p)) {
      cached = require(p) as NativeNetlink;
      return cached;
    }
  }
  throw new Error(
    `Kite's netlink addon is not built (looked for ${tried.join(', ')}); run \`npm install\` or \`npx node-gyp rebuild\` in the package root`,
  );
}

/** The addon's TCP functions, or null when it is not built (non-Linux, or npm install skipped it). */
export function tcpNative(): TcpNative | null {
  if (tcp !== undefined) return tcp;
  try {
    const n = loadNative() as unknown as Partial<TcpNative>;
    tcp = typeof n.tcpSocket === 'function' ? (n as TcpNative) : null;
  } catch {
    tcp = null;
  }
  return tcp;
}
