// Connecting to etcd as calico-node does: the endpoints, TLS client certificate and optional
// username/password from its variables (ETCD_ENDPOINTS, ETCD_KEY_FILE, ETCD_CERT_FILE,
// ETCD_CA_CERT_FILE, ETCD_USERNAME, ETCD_PASSWORD), and errors that say what to fix.
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Etcd3, type IOptions } from 'etcd3';
import type { EtcdConfig } from './env.js';

export type { EtcdConfig } from './env.js';

function readTls(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`etcd ${what} ${path}: ${(e as Error).message}`);
  }
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/**
 * Delays between watch-stream reconnects, capped at 2 s: the client's default keeps doubling,
 * so after a longer outage Kite would come back to etcd many seconds after etcd came back.
 */
function cappedBackoff(delays: readonly number[] = [100, 250, 500, 1000, 2000], i = 0): WatchBackoff {
  return { duration: delays[Math.min(i, delays.length - 1)] ?? 2000, next: () => cappedBackoff(delays, i + 1) };
}

/**
 * etcd's require-leader (clientv3.WithRequireLeader): the gRPC metadata `hasleader: true` makes
 * a member refuse a call or stream while it has no leader, and cancel a stream ("etcdserver: no
 * leader") once it has had none for three election timeouts (v3rpc's monitorLeader). Without
 * it, a member cut off from the quorum keeps the watch open and silent: it is alive, answers
 * keepalive pings, and never sees another write. With it, the client's watch reconnects to
 * another member and resumes from the last revision it saw.
 * `onPeer` hears the address of the member each stream was opened on.
 */
function requireLeader(onPeer?: (peer: string) => void): Interceptor {
  return (options, nextCall) => {
    const call = nextCall(options);
    return new InterceptingCall(call, {
      start(metadata, _listener, next) {
        // The client passes its shared metadata (the auth token): mark a copy, this stream's own.
        const md = metadata.clone();
        md.set('hasleader', 'true');
        // A partial listener: grpc-js passes everything else on to the caller's listener.
        next(md, { onReceiveMetadata: (m, pass) => { onPeer?.(call.getPeer()); pass(m); } });
      },
    });
  };
}

export interface EtcdClientHooks {
  /** The member address a watch stream was opened on (the stream's first response headers). */
  onStreamPeer?(peer: string): void;
}

/** Checks the configuration and builds the client (no connection is made yet). */
export function createEtcdClient(cfg: EtcdConfig, hooks: EtcdClientHooks = {}): Etcd3 {
  if (cfg.endpoints.length === 0) throw new Error('etcd: no endpoints (set ETCD_ENDPOINTS)');
  const https = cfg.endpoints.filter((e) => e.startsWith('https://'));
  if (https.length !== 0 && https.length !== cfg.endpoints.length) throw new Error('etcd: ETCD_ENDPOINTS mixes http:// and https://');
  if ((cfg.keyFile === undefined) !== (cfg.certFile === undefined)) throw new Error('etcd: ETCD_KEY_FILE and ETCD_CERT_FILE go together');
  if ((cfg.username === undefined) !== (cfg.password === undefined)) throw new Error('etcd: ETCD_USERNAME and ETCD_PASSWORD go together');
  const timeout = cfg.callTimeoutMs ?? 5000;
  const opts: IOptions = {
    hosts: cfg.endpoints,
    // Unary calls get a deadline, so a member we cannot reach fails over instead of hanging;
    // streams (watches) rely on keepalive for a dead member. Both require a leader: a live member
    // that lost the quorum refuses a call at once (no read waiting out its deadline there) and
    // ends a watch, and the client goes to another member.
    defaultCallOptions: (ctx) => (ctx.isStream
      ? { interceptors: [requireLeader(hooks.onStreamPeer)] }
      : { deadline: Date.now() + timeout, interceptors: [requireLeader()] }),
    faultHandling: { watchBackoff: cappedBackoff() },
    grpcOptions: {
      'grpc.keepalive_time_ms': cfg.keepaliveMs ?? 10_000,
      'grpc.keepalive_timeout_ms': cfg.keepaliveTimeoutMs ?? 3000,
      'grpc.keepalive_permit_without_calls': 1,
      // gRPC's own reconnect backoff grows to 2 minutes; a member back after an outage is
      // dialled again within 2 s instead.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2000,
    },
  };
  // TLS when the URLs say https, or certificates are given (unix:// endpoints carry no scheme).
  if (https.length > 0 || cfg.caCertFile !== undefined || cfg.certFile !== undefined) {
    opts.credentials = {
      rootCertificate: cfg.caCertFile !== undefined ? readTls('CA certificate (ETCD_CA_CERT_FILE)', cfg.caCertFile) : Buffer.alloc(0),
      ...(cfg.keyFile !== undefined ? { privateKey: readTls('key (ETCD_KEY_FILE)', cfg.keyFile) } : {}),
      ...(cfg.certFile !== undefined ? { certChain: readTls('certificate (ETCD_CERT_FILE)', cfg.certFile) } : {}),
    };
  }
  if (cfg.username !== undefined && cfg.password !== undefined) opts.auth = { username: cfg.username, password: cfg.password };
  return new Etcd3(opts);
}

/** A client error in words an operator can act on (wrong certificate, wrong password, unreachable). */
export function explainEtcdError(e: unknown, endpoints: readonly string[]): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const where = endpoints.join(',');
  if (/authentication failed|invalid auth token|user name not found|EtcdAuthenticationFailed/i.test(msg)) {
    return new Error(`etcd ${where}: authentication failed: check ETCD_USERNAME and ETCD_PASSWORD (${msg})`);
  }
  if (/permission denied/i.test(msg)) return new Error(`etcd ${where}: permission denied for this user: ${msg}`);
  if (/certificate|SSL|TLS|handshake|self.signed|unable to verify/i.test(msg)) {
    return new Error(`etcd ${where}: TLS failed: check ETCD_CA_CERT_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE (${msg})`);
  }
  return new Error(`etcd ${where}: ${msg}`);
}

/** Whether the client would use TLS with this configuration (https endpoints, or certificate files). */
export const usesTls = (cfg: EtcdConfig): boolean =>
  cfg.endpoints.some((e) => e.startsWith('https://')) || cfg.caCertFile !== undefined || cfg.certFile !== undefined;

/** gRPC's words for a connection it could not make, whatever the cause (it hides TLS alerts). */
export const isConnectFailure = (msg: string): boolean => /No connection established|Failed to connect/i.test(msg);

/**
 * Why a TLS connection to `endpoint` fails, by a handshake of our own with the same files:
 * gRPC reports a member that rejects our client certificate (TLS 1.3 sends that alert after the
 * handshake) only as "Failed to connect". Resolves undefined when TLS is not the problem (the
 * handshake holds for `settleMs`, or the endpoint cannot be reached at all).
 */
export function probeTls(cfg: EtcdConfig, endpoint: string, settleMs = 1000): Promise<string | undefined> {
  let target: ConnectionOptions;
  try {
    if (endpoint.startsWith('unix://')) {
      // grpc-js names a Unix-socket target "localhost" for TLS.
      target = { path: endpoint.slice('unix://'.length), servername: 'localhost' };
    } else {
      const u = new URL(endpoint.includes('://') ? endpoint : `https://${endpoint}`);
      target = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || '2379') };
    }
  } catch {
    return Promise.resolve(undefined);
  }
  const read = (f: string | undefined): Buffer | undefined => {
    if (f === undefined) return undefined;
    try { return readFileSync(f); } catch { return undefined; }
  };
  const ca = read(cfg.caCertFile), cert = read(cfg.certFile), key = read(cfg.keyFile);
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(why);
    };
    const sock = tlsConnect({ ...target, ALPNProtocols: ['h2'], ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
    const timer = setTimeout(() => finish(undefined), 5000);
    timer.unref();
    let secured = false;
    sock.on('secureConnect', () => { secured = true; setTimeout(() => finish(undefined), settleMs).unref(); });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // Not reachable at all: not a TLS matter.
      const network = ['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(e.code ?? '');
      if (network && !secured) finish(undefined);
      else if (network) finish(`the member closed the connection right after the TLS handshake (${e.message}): does it trust the client certificate?`);
      else finish(e.message);
    });
    sock.on('close', () => finish(secured ? 'the member closed the connection right after the TLS handshake: does it trust the client certificate?' : undefined));
  });
}
