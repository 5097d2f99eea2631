// The control API server: exposes a StatusProvider as the kite.v1.Kite gRPC service on a
// Unix socket. Reads daemon state and takes the operator's peer actions; the socket's file
// permissions (root) are its authentication. It refuses to steal the socket from another live daemon.
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type {
  ProtoAdjRibRequest, ProtoPeerActionRequest, ProtoPeersReply, ProtoRoutesReply, ProtoRoutesRequest, ProtoSummary,
} from './proto.js';
import { Lazy } from '../lazy.js';
import type { StatusProvider } from './types.js';

export { DEFAULT_SOCKET } from './socket.js';

/** The subset of a pino logger the server uses. */
export interface ControlServerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ControlServer {
  /** Stops serving (in-flight calls get a second to finish) and removes the socket file. */
  close(): Promise<void>;
}

/** Thrown when the socket path is held by something we must not remove. */
export class SocketInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SocketInUseError';
  }
}

/** gRPC and the service definition, loaded at the first connection. */
export type GrpcModules = { grpc: Grpc; proto: Proto };

export interface ControlServerOptions {
  /** For tests: how gRPC is loaded (a load that fails, then one that works). */
  loadGrpc?: () => Promise<GrpcModules>;
}

const importGrpc = async (): Promise<GrpcModules> => {
  const [grpc, proto] = await Promise.all([import('@grpc/grpc-js'), import('./proto.js')]);
  return { grpc, proto };
};

export async function startControlServer(
  provider: StatusProvider,
  socketPath: string,
  log: ControlServerLog,
  o: ControlServerOptions = {},
): Promise<ControlServer> {
  const path = resolve(socketPath);
  await mkdir(dirname(path), { recursive: true });
  await clearStaleSocket(path, log);

  // The socket is a plain listener; gRPC (grpc-js, proto-loader, protobufjs: ~11 MiB of RSS) is
  // loaded at the first connection, which is then handed to it with grpc-js's connection
  // injector (issue 16: an idle daemon that nobody queries does not carry it). Bytes the client
  // sends meanwhile wait in the socket, unread. A load that failed closes the connections that
  // waited for it and is not kept: the next connection loads again.
  const loadGrpc = o.loadGrpc ?? importGrpc;
  const grpcServer = new Lazy(async (): Promise<{ server: GrpcServer; inject: (c: Socket) => void }> => {
    const { grpc, proto } = await loadGrpc();
    const server = new grpc.Server();
    server.addService(proto.kiteService(), services(grpc, proto, provider));
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    return { server, inject: (c) => injector.injectConnection(c) };
  });
  const sockets = new Set<Socket>();
  const listener = createServer((sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    grpcServer.get().then(({ inject }) => { if (!sock.destroyed) inject(sock); }, (err: unknown) => {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'control API: cannot load gRPC');
      sock.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    listener.once('error', (err) => fail(new Error(`cannot listen on ${path}: ${err.message}`)));
    listener.listen(path, () => ok());
  });
  log.info({ socket: path }, 'control API listening');

  let closed: Promise<void> | undefined;
  return {
    close: () => {
      closed ??= (async () => {
        // No new connections; the listener's callback waits for the open ones, which the gRPC
        // shutdown (forced after a second) and the destroy below end: a client that stays
        // connected does not hold up daemon exit.
        const listenerClosed = new Promise<void>((ok) => { listener.close(() => ok()); });
        const g = await grpcServer.current?.catch(() => undefined);
        if (g !== undefined) await shutdown(g.server);
        for (const s of sockets) s.destroy();
        await listenerClosed;
        await removeSocket(path);
      })();
      return closed;
    },
  };
}

type Grpc = typeof import('@grpc/grpc-js');
type Proto = typeof import('./proto.js');
type GrpcServer = InstanceType<Grpc['Server']>;

/** The kite.v1.Kite service's handlers over the provider. */
function services(grpc: Grpc, proto: Proto, provider: StatusProvider): grpc.UntypedServiceImplementation {
  const answer = <T>(cb: grpc.sendUnaryData<T>, fn: () => T): void => answerWith(grpc, cb, fn);
  return {
    Summary: (_call: grpc.ServerUnaryCall<object, ProtoSummary>, cb: grpc.sendUnaryData<ProtoSummary>) =>
      answer(cb, () => proto.summaryToProto(provider.summary())),
    Peers: (_call: grpc.ServerUnaryCall<object, ProtoPeersReply>, cb: grpc.sendUnaryData<ProtoPeersReply>) =>
      answer(cb, () => ({ peers: provider.peers().map(proto.peerToProto) })),
    Routes: (call: grpc.ServerUnaryCall<ProtoRoutesRequest, ProtoRoutesReply>, cb: grpc.sendUnaryData<ProtoRoutesReply>) =>
      answer(cb, () => {
        const prefix = call.request.prefix;
        // An empty prefix means "no filter": the CLI never sends one, but grpcurl users might.
        const filter = prefix === undefined || prefix === '' ? {} : { prefix };
        return { routes: provider.routes(filter).map(proto.routeToProto) };
      }),
    Fib: (_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) =>
      answer(cb, () => proto.fibToProto(provider.fib?.())),
    Peer: (call: grpc.ServerUnaryCall<{ address: string }, object>, cb: grpc.sendUnaryData<object>) =>
      answer(cb, () => {
        const d = supported(provider.peer, 'Peer').call(provider, call.request.address);
        if (d === null) throw new NotFound(`${call.request.address} is not a configured peer (see kite show peers)`);
        return proto.peerDetailToProto(d);
      }),
    AdjRib: (call: grpc.ServerUnaryCall<ProtoAdjRibRequest, object>, cb: grpc.sendUnaryData<object>) =>
      answer(cb, () => {
        const dir = proto.adjDirectionFromProto(call.request.direction);
        if (dir === undefined) throw new InvalidArgument('direction must be received or advertised');
        return proto.adjRoutesToProto(supported(provider.adjRib, 'AdjRib').call(provider, call.request.peer, dir));
      }),
    Config: (_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) =>
      answer(cb, () => proto.configToProto(supported(provider.configReport, 'Config').call(provider))),
    PeerAction: (call: grpc.ServerUnaryCall<ProtoPeerActionRequest, object>, cb: grpc.sendUnaryData<object>) =>
      answer(cb, () => {
        const action = proto.peerActionFromProto(call.request.action);
        if (action === undefined) throw new InvalidArgument('action must be reset, disable, enable or refresh');
        const reason = call.request.reason || `kite peer ${action}`;
        return supported(provider.peerAction, 'PeerAction').call(provider, call.request.address, action, reason);
      }),
  };
}

/** A request about a peer that is not configured (gRPC NOT_FOUND). */
class NotFound extends Error {}
/** A request the API cannot read (gRPC INVALID_ARGUMENT). */
class InvalidArgument extends Error {}

/** A provider method the daemon may not implement (in-process test providers): UNIMPLEMENTED when absent. */
function supported<F>(f: F | undefined, rpc: string): F {
  if (f === undefined) throw new Unimplemented(`${rpc} is not served by this daemon`);
  return f;
}
class Unimplemented extends Error {}

/** Runs a provider call; a throw becomes a gRPC error carrying its message, not a crash. */
function answerWith<T>(grpc: Grpc, cb: grpc.sendUnaryData<T>, fn: () => T): void {
  let reply: T;
  try {
    reply = fn();
  } catch (err) {
    const details = err instanceof Error ? err.message : String(err);
    const code = err instanceof NotFound || (err instanceof Error && err.name === 'UnknownPeerError') ? grpc.status.NOT_FOUND
      : err instanceof InvalidArgument ? grpc.status.INVALID_ARGUMENT
      : err instanceof Unimplemented ? grpc.status.UNIMPLEMENTED : grpc.status.UNKNOWN;
    cb({ code, details, name: 'Error', message: details, metadata: new grpc.Metadata() });
    return;
  }
  cb(null, reply);
}

function shutdown(server: GrpcServer): Promise<void> {
  return new Promise((ok) => {
    // A CLI call is one short unary request; do not let a stuck client hold up daemon exit.
    const timer = setTimeout(() => { server.forceShutdown(); ok(); }, 1000);
    server.tryShutdown(() => { clearTimeout(timer); ok(); });
  });
}

async function removeSocket(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/**
 * A daemon killed with SIGKILL leaves its socket file behind, and bind() then fails with
 * EADDRINUSE. Remove the file only if it is a socket nobody answers on: a regular file may
 * be a user's mistake in --socket, and a live socket belongs to another kite.
 */
async function clearStaleSocket(path: string, log: ControlServerLog): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new SocketInUseError(`${path} exists and is not a socket; refusing to remove it`);
  if (await answers(path)) throw new SocketInUseError(`another kite is running on ${path}`);
  log.warn({ socket: path }, 'removing stale control socket left by a previous run');
  await unlink(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((ok, fail) => {
    const sock = connect(path);
    sock.once('connect', () => { sock.destroy(); ok(true); });
    sock.once('error', (err) => {
      const code = errnoCode(err);
      // ECONNREFUSED: the file is there but no process listens on it.
      if (code === 'ECONNREFUSED' || code === 'ENOENT') ok(false);
      else fail(new Error(`cannot check ${path}: ${err.message}`));
    });
  });
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
