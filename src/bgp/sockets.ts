// TCP sockets for BGP with the options Node's net module cannot set: TCP MD5 signatures
// (RFC 2385) and GTSM (RFC 5082). Such sockets are created by Kite's native addon
// (native/tcp.c) with the options in place before the first SYN, then handed to Node by file
// descriptor. Without a password or ttlSecurity, plain net.connect / net.listen are used.
//
// MD5 failures are silent on the wire (the kernel drops unsigned or wrongly signed segments),
// which is why Calico users find them hard to diagnose; md5Counters() reads the kernel's own
// counts so a session that cannot connect can say what the kernel saw.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { tcpNative } from '../native/addon.js';

/** Errors from the addon carry an errno; give them Node's code ("EADDRINUSE") too. */
function withCode(e: unknown): Error {
  const err: NodeJS.ErrnoException = e instanceof Error ? e : new Error(String(e));
  const errno = (err as { errno?: number }).errno;
  if (typeof errno === 'number' && err.code === undefined) {
    const name = Object.entries(constants.errno).find(([, v]) => v === errno)?.[0];
    if (name !== undefined) err.code = name;
  }
  return err;
}

export interface SessionSocketOptions {
  /** TCP MD5 key (RFC 2385). */
  password?: string;
  /** GTSM (RFC 5082): the peer is at most this many hops away; we send with TTL 255. */
  ttlSecurity?: number;
}

/** IP_MINTTL for GTSM with `hops` hops: a packet from that far arrives with TTL ≥ 256 − hops. */
export const gtsmMinTtl = (hops: number): number => Math.max(1, 256 - Math.max(1, hops));

const needsNative = (o: SessionSocketOptions): boolean => (o.password !== undefined && o.password !== '') || (o.ttlSecurity ?? 0) > 0;

/**
 * An outgoing connection (connecting; listen for 'connect'/'error'). Throws before any I/O when
 * the options cannot be honoured (no addon, bad key) rather than connecting without them.
 */
export function dial(host: string, port: number, localAddress: string | undefined, o: SessionSocketOptions): net.Socket {
  if (!needsNative(o)) {
    const opts: net.NetConnectOpts = { host, port };
    if (localAddress) opts.localAddress = localAddress;
    return net.connect(opts);
  }
  const n = tcpNative();
  if (n === null) throw new Error('TCP MD5 / GTSM need Kite\'s native addon (build/Release/kite_netlink.node, built by npm install on Linux)');
  const fd = n.tcpSocket(net.isIPv6(host) ? 6 : 4);
  try {
    if (o.password) n.tcpSetMd5(fd, host, o.password);
    if ((o.ttlSecurity ?? 0) > 0) n.tcpSetTtl(fd, 255, gtsmMinTtl(o.ttlSecurity!));
    if (localAddress) n.tcpBind(fd, localAddress, 0);
  } catch (e) {
    n.tcpClose(fd);
    throw withCode(e);
  }
  const sock = new net.Socket({ fd, readable: true, writable: true });
  sock.connect({ host, port });
  return sock;
}

/**
 * A listening socket created natively (so per-peer MD5 keys can be set on it), or null
 * when the addon is missing (the caller listens with net instead; peers with a password then fail
 * with a clear error). Dual-stack when `host` is IPv6.
 */
export function nativeListenFd(host: string, port: number, beforeListen: (fd: number) => void = () => {}): number | null {
  const n = tcpNative();
  if (n === null) return null;
  const fd = n.tcpSocket(net.isIPv6(host) ? 6 : 4);
  try {
    n.tcpBind(fd, host, port);
    // Keys and TTL go on before listen(): a SYN arriving in between would be answered without them.
    beforeListen(fd);
    n.tcpListen(fd, 511);
  } catch (e) {
    n.tcpClose(fd);
    throw withCode(e);
  }
  return fd;
}

/** The file descriptor behind a net.Socket or net.Server (Linux; undefined if Node hides it). */
export function fdOf(h: net.Socket | net.Server): number | undefined {
  const fd = (h as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** GTSM on an accepted connection: send with TTL 255, drop what arrives from too far. */
export function applyGtsm(sock: net.Socket, hops: number): void {
  const n = tcpNative();
  const fd = fdOf(sock);
  if (n === null || fd === undefined) throw new Error('GTSM needs Kite\'s native addon');
  n.tcpSetTtl(fd, 255, gtsmMinTtl(hops));
}

/** TCP MD5 counters of this network namespace (/proc/net/netstat TcpExt), or null. */
export function md5Counters(): Record<string, number> | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (!lines[i]!.startsWith('TcpExt:')) continue;
      const names = lines[i]!.split(/\s+/).slice(1);
      const values = lines[i + 1]!.split(/\s+/).slice(1).map(Number);
      const out: Record<string, number> = {};
      names.forEach((n, j) => { if (n.startsWith('TCPMD5')) out[n] = values[j] ?? 0; });
      return out;
    }
  } catch { /* not Linux */ }
  return null;
}
