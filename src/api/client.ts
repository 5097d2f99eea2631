// Typed client for the control API: returns exactly the types.ts shapes, and turns "daemon
// not running" into one sentence a user can act on instead of a gRPC UNAVAILABLE dump.
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  adjRibRequest, adjRoutesFromProto, configFromProto, fibFromProto, kiteService, peerActionRequest, peerActionResultFromProto,
  peerDetailFromProto, peersFromProto, routesFromProto, summaryFromProto, type ProtoRoutesRequest,
} from './proto.js';
import type {
  AdjDirection, AdjRoute, ConfigReport, FibReport, PeerActionName, PeerActionResult, PeerDetail, PeerStatus, RouteStatus, Summary,
} from './types.js';

export { DEFAULT_SOCKET } from './proto.js';

export interface ControlClient {
  summary(): Promise<Summary>;
  peers(): Promise<PeerStatus[]>;
  routes(filter?: { prefix?: string }): Promise<RouteStatus[]>;
  fib(): Promise<FibReport>;
  peer(address: string): Promise<PeerDetail>;
  adjRib(peer: string, direction: AdjDirection): Promise<AdjRoute[]>;
  config(): Promise<ConfigReport>;
  peerAction(address: string, action: PeerActionName, reason?: string): Promise<PeerActionResult>;
  close(): void;
}

export interface ControlClientOptions {
  /** Per-call deadline; the daemon answers from memory, so seconds mean it is wedged. */
  timeoutMs?: number;
}

/** A control API failure; `code` is an errno name (ENOENT, ECONNREFUSED) or a gRPC status name. */
export class ControlApiError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'ControlApiError';
    this.code = code;
  }
}

/**
 * KITE_API_TIMEOUT (seconds) overrides the 5 s per-call deadline: a node under heavy load (or an
 * emulated one, as the qemu tests run) may need longer; a bad value is ignored.
 */
function envTimeoutMs(): number | undefined {
  const s = Number(process.env['KITE_API_TIMEOUT']);
  return Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
}

export function createControlClient(socketPath: string, options: ControlClientOptions = {}): ControlClient {
  const path = resolve(socketPath);
  const service = kiteService();
  const client = new grpc.Client(`unix://${path}`, grpc.credentials.createInsecure());
  const timeoutMs = options.timeoutMs ?? envTimeoutMs() ?? 5000;

  function call<T>(method: 'Summary' | 'Peers' | 'Routes' | 'Fib' | 'Peer' | 'AdjRib' | 'Config' | 'PeerAction', request: object, convert: (v: unknown) => T): Promise<T> {
    const def = service[method];
    if (!def) return Promise.reject(new Error(`kite.v1.Kite.${method} missing from proto/kite.proto`));
    return new Promise((ok, fail) => {
      client.makeUnaryRequest<object, object>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, reply) => {
          if (err) { fail(toControlError(err, path)); return; }
          try {
            ok(convert(reply));
          } catch (e) {
            fail(e);
          }
        },
      );
    });
  }

  return {
    summary: () => call('Summary', {}, summaryFromProto),
    peers: () => call('Peers', {}, peersFromProto),
    routes: (filter = {}) => {
      const req: ProtoRoutesRequest = filter.prefix === undefined ? {} : { prefix: filter.prefix };
      return call('Routes', req, routesFromProto);
    },
    fib: () => call('Fib', {}, fibFromProto),
    peer: (address) => call('Peer', { address }, peerDetailFromProto),
    adjRib: (peer, direction) => call('AdjRib', adjRibRequest(peer, direction), adjRoutesFromProto),
    config: () => call('Config', {}, configFromProto),
    peerAction: (address, action, reason = '') => call('PeerAction', peerActionRequest(address, action, reason), peerActionResultFromProto),
    close: () => client.close(),
  };
}

function toControlError(err: grpc.ServiceError, path: string): ControlApiError {
  if (err.code === grpc.status.UNAVAILABLE) {
    // grpc-js puts the connect() failure into details, e.g.
    // "No connection established. Last error: connect ENOENT /run/kite/kite.sock".
    const errno = /\b(E[A-Z]{3,})\b/.exec(err.details)?.[1] ?? 'UNAVAILABLE';
    if (errno === 'EACCES') {
      return new ControlApiError(`cannot reach kite at ${path}: permission denied; run as root (EACCES)`, errno);
    }
    return new ControlApiError(`cannot reach kite at ${path}: is \`kite run\` running? (${errno})`, errno);
  }
  if (err.code === grpc.status.DEADLINE_EXCEEDED) {
    return new ControlApiError(`kite at ${path} did not answer in time (DEADLINE_EXCEEDED)`, 'DEADLINE_EXCEEDED');
  }
  const name = grpc.status[err.code] ?? String(err.code);
  return new ControlApiError(`kite at ${path} failed the request: ${err.details} (${name})`, name);
}
