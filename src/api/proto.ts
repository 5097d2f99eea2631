// Loads proto/kite.proto at runtime and converts between the proto messages and the JSON
// shapes of types.ts. Both directions live here so the server and the client cannot drift:
// the client validates what it decodes instead of trusting the wire.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  PEER_TYPES,
  type AdjDirection, type AdjRoute, type ConfigReport, type FamilyPrefixes, type FibReport, type PathStatus, type PeerActionName,
  type PeerActionResult, type PeerDetail, type PeerState, type PeerStatus, type PeerType, type RouteStatus, type Sourced, type Summary,
} from './types.js';

export { DEFAULT_SOCKET } from './socket.js';

/** The decoded-message shapes proto-loader produces with LOADER_OPTIONS (camelCase, enum names). */
export interface ProtoPeerStatus {
  address: string;
  asNumber: number;
  state: string;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  lastError: string;
  peerType: string;
  name: string;
  sinceSeconds: number;
  disabled: boolean;
  ipv4?: FamilyPrefixes;
  ipv6?: FamilyPrefixes;
  maxPrefixes?: number;
}
export interface ProtoSummary {
  node: string;
  routerId: string;
  asNumber: number;
  peers: ProtoPeerStatus[];
  ribIpv4: number;
  ribIpv6: number;
}
export interface ProtoPathStatus {
  nextHop: string;
  asPath: number[];
  origin: string;
  localPref?: number;
  med?: number;
  communities: string[];
  largeCommunities: string[];
  originatorId?: string;
  clusterList: string[];
  peer?: string;
  best: boolean;
}
export interface ProtoRouteStatus {
  prefix: string;
  paths: ProtoPathStatus[];
  bestReason: string;
}
export interface ProtoPeersReply { peers: ProtoPeerStatus[] }
export interface ProtoRoutesReply { routes: ProtoRouteStatus[] }
export interface ProtoRoutesRequest { prefix?: string }

// longs: Number because every integer here is a uint32; defaults: true so empty repeated
// fields and zero scalars decode as [] and 0, while proto3 `optional` fields stay absent
// when unset (proto-loader does not default fields with explicit presence).
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: false,
};

/** Finds proto/kite.proto by walking up from this module: works from src/api and dist/api. */
export function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto', 'kite.proto');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`proto/kite.proto not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let cached: ServiceDefinition | undefined;

/** The Kite service definition (method paths, serializers), loaded once per process. */
export function kiteService(): ServiceDefinition {
  if (cached) return cached;
  const pkg = protoLoader.loadSync(protoPath(), LOADER_OPTIONS);
  const def = pkg['kite.v1.Kite'];
  if (!def || !isServiceDefinition(def)) throw new Error('kite.v1.Kite missing from proto/kite.proto');
  cached = def;
  return def;
}

function isServiceDefinition(v: protoLoader.AnyDefinition): v is protoLoader.ServiceDefinition {
  // Message and enum definitions carry a `format` field; service definitions are method maps.
  return !('format' in v);
}

// ---- enums: PeerState and origin -------------------------------------------------------

const PEER_STATES = {
  Idle: 'PEER_STATE_IDLE',
  Connect: 'PEER_STATE_CONNECT',
  Active: 'PEER_STATE_ACTIVE',
  OpenSent: 'PEER_STATE_OPEN_SENT',
  OpenConfirm: 'PEER_STATE_OPEN_CONFIRM',
  Established: 'PEER_STATE_ESTABLISHED',
} as const satisfies Record<PeerState, string>;

const ORIGINS = {
  igp: 'ORIGIN_IGP',
  egp: 'ORIGIN_EGP',
  incomplete: 'ORIGIN_INCOMPLETE',
} as const satisfies Record<PathStatus['origin'], string>;

function reverse<K extends string>(m: Record<K, string>): Map<string, K> {
  return new Map(Object.entries<string>(m).map(([k, v]) => [v, k as K]));
}
const PEER_STATE_BY_NAME = reverse<PeerState>(PEER_STATES);
const ORIGIN_BY_NAME = reverse<PathStatus['origin']>(ORIGINS);

// ---- types.ts -> proto (server side) ---------------------------------------------------

export function peerToProto(p: PeerStatus): ProtoPeerStatus {
  const out: ProtoPeerStatus = {
    address: p.address,
    asNumber: p.asNumber,
    state: PEER_STATES[p.state],
    prefixesReceived: p.prefixesReceived,
    prefixesAccepted: p.prefixesAccepted,
    prefixesAdvertised: p.prefixesAdvertised,
    lastError: p.lastError,
    peerType: p.peerType ?? '',
    name: p.name ?? '',
    sinceSeconds: p.sinceSeconds ?? 0,
    disabled: p.disabled ?? false,
  };
  if (p.ipv4) out.ipv4 = p.ipv4;
  if (p.ipv6) out.ipv6 = p.ipv6;
  if (p.maxPrefixes != null) out.maxPrefixes = p.maxPrefixes;
  return out;
}

export function summaryToProto(s: Summary): ProtoSummary {
  return {
    node: s.node,
    routerId: s.routerId,
    asNumber: s.asNumber,
    peers: s.peers.map(peerToProto),
    ribIpv4: s.ribIPv4,
    ribIpv6: s.ribIPv6,
  };
}

export function pathToProto(p: PathStatus): ProtoPathStatus {
  const out: ProtoPathStatus = {
    nextHop: p.nextHop,
    asPath: p.asPath,
    origin: ORIGINS[p.origin],
    communities: p.communities,
    largeCommunities: p.largeCommunities,
    clusterList: p.clusterList,
    best: p.best,
  };
  // null means "attribute absent": leave the optional field unset so presence survives.
  if (p.localPref !== null) out.localPref = p.localPref;
  if (p.med !== null) out.med = p.med;
  if (p.originatorId !== null) out.originatorId = p.originatorId;
  if (p.peer !== null) out.peer = p.peer;
  return out;
}

export function routeToProto(r: RouteStatus): ProtoRouteStatus {
  return { prefix: r.prefix, paths: r.paths.map(pathToProto), bestReason: r.bestReason };
}

// ---- proto -> types.ts (client side) ---------------------------------------------------
// The decoded value is `object` as far as grpc-js knows; check every field so a daemon of a
// different version produces a clear error rather than undefined in a table.

export class ProtoShapeError extends Error {
  constructor(what: string) {
    super(`unexpected reply from kite: ${what}`);
    this.name = 'ProtoShapeError';
  }
}

type Rec = Record<string, unknown>;

function rec(v: unknown, what: string): Rec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtoShapeError(`${what} is not a message`);
  return v as Rec;
}
function str(o: Rec, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new ProtoShapeError(`${what}.${k} is not a string`);
  return v;
}
function num(o: Rec, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ProtoShapeError(`${what}.${k} is not an integer`);
  return v;
}
function optNum(o: Rec, k: string, what: string): number | null {
  return o[k] === undefined || o[k] === null ? null : num(o, k, what);
}
function optStr(o: Rec, k: string, what: string): string | null {
  return o[k] === undefined || o[k] === null ? null : str(o, k, what);
}
function list(o: Rec, k: string, what: string): unknown[] {
  const v = o[k] ?? [];
  if (!Array.isArray(v)) throw new ProtoShapeError(`${what}.${k} is not a list`);
  return v;
}
function strList(o: Rec, k: string, what: string): string[] {
  return list(o, k, what).map((v, i) => {
    if (typeof v !== 'string') throw new ProtoShapeError(`${what}.${k}[${i}] is not a string`);
    return v;
  });
}
function numList(o: Rec, k: string, what: string): number[] {
  return list(o, k, what).map((v, i) => {
    if (typeof v !== 'number') throw new ProtoShapeError(`${what}.${k}[${i}] is not a number`);
    return v;
  });
}

function familyFromProto(v: unknown, what: string): FamilyPrefixes {
  const o = rec(v, what);
  return { received: num(o, 'received', what), accepted: num(o, 'accepted', what), rejectedPolicy: num(o, 'rejectedPolicy', what),
    rejectedLoop: num(o, 'rejectedLoop', what), advertised: num(o, 'advertised', what) };
}

export function peerFromProto(v: unknown, what = 'peer'): PeerStatus {
  const o = rec(v, what);
  const stateName = str(o, 'state', what);
  const state = PEER_STATE_BY_NAME.get(stateName);
  if (!state) throw new ProtoShapeError(`${what}.state ${stateName} is not a BGP FSM state`);
  const out: PeerStatus = {
    address: str(o, 'address', what),
    asNumber: num(o, 'asNumber', what),
    state,
    prefixesReceived: num(o, 'prefixesReceived', what),
    prefixesAccepted: num(o, 'prefixesAccepted', what),
    prefixesAdvertised: num(o, 'prefixesAdvertised', what),
    lastError: str(o, 'lastError', what),
  };
  // Fields of issue 13: an older daemon sends none of them (they decode as defaults), so they are
  // read only when the peer type is there, and the peer prints as it did.
  const type = o['peerType'];
  if (typeof type !== 'string' || !(PEER_TYPES as readonly string[]).includes(type)) return out;
  out.peerType = type as PeerType;
  out.name = str(o, 'name', what);
  out.sinceSeconds = num(o, 'sinceSeconds', what);
  out.disabled = o['disabled'] === true;
  if (o['ipv4'] != null) out.ipv4 = familyFromProto(o['ipv4'], `${what}.ipv4`);
  if (o['ipv6'] != null) out.ipv6 = familyFromProto(o['ipv6'], `${what}.ipv6`);
  out.maxPrefixes = optNum(o, 'maxPrefixes', what);
  return out;
}

export function summaryFromProto(v: unknown): Summary {
  const o = rec(v, 'summary');
  return {
    node: str(o, 'node', 'summary'),
    routerId: str(o, 'routerId', 'summary'),
    asNumber: num(o, 'asNumber', 'summary'),
    peers: list(o, 'peers', 'summary').map((p, i) => peerFromProto(p, `summary.peers[${i}]`)),
    ribIPv4: num(o, 'ribIpv4', 'summary'),
    ribIPv6: num(o, 'ribIpv6', 'summary'),
  };
}

export function peersFromProto(v: unknown): PeerStatus[] {
  const o = rec(v, 'peers reply');
  return list(o, 'peers', 'reply').map((p, i) => peerFromProto(p, `peers[${i}]`));
}

export function pathFromProto(v: unknown, what: string): PathStatus {
  const o = rec(v, what);
  const originName = str(o, 'origin', what);
  const origin = ORIGIN_BY_NAME.get(originName);
  if (!origin) throw new ProtoShapeError(`${what}.origin ${originName} is not an ORIGIN value`);
  return {
    nextHop: str(o, 'nextHop', what),
    asPath: numList(o, 'asPath', what),
    origin,
    localPref: optNum(o, 'localPref', what),
    med: optNum(o, 'med', what),
    communities: strList(o, 'communities', what),
    largeCommunities: strList(o, 'largeCommunities', what),
    originatorId: optStr(o, 'originatorId', what),
    clusterList: strList(o, 'clusterList', what),
    peer: optStr(o, 'peer', what),
    best: o['best'] === true,
  };
}

const DISABLED_FIB: FibReport = { enabled: false, protocol: 0, table: 0, inSync: false, lastResync: null, routes: [], notes: [] };

export function fibToProto(f: FibReport | undefined): object {
  const r = f ?? DISABLED_FIB;
  const out: Rec = { enabled: r.enabled, protocol: r.protocol, table: r.table, inSync: r.inSync, notes: r.notes,
    routes: r.routes.map((x) => {
      const o: Rec = { prefix: x.prefix, source: x.source, state: x.state, reason: x.reason };
      if (x.desired !== null) o['desired'] = x.desired;
      if (x.kernel !== null) o['kernel'] = x.kernel;
      return o;
    }) };
  if (r.lastResync !== null) out['lastResync'] = r.lastResync;
  return out;
}

export function fibFromProto(v: unknown): FibReport {
  const o = rec(v, 'fib reply');
  return {
    enabled: o['enabled'] === true,
    protocol: num(o, 'protocol', 'fib'),
    table: num(o, 'table', 'fib'),
    inSync: o['inSync'] === true,
    lastResync: optNum(o, 'lastResync', 'fib'),
    routes: list(o, 'routes', 'fib').map((x, i) => {
      const what = `fib.routes[${i}]`;
      const ro = rec(x, what);
      return { prefix: str(ro, 'prefix', what), source: str(ro, 'source', what), state: str(ro, 'state', what),
        desired: optStr(ro, 'desired', what), kernel: optStr(ro, 'kernel', what), reason: str(ro, 'reason', what) };
    }),
    notes: strList(o, 'notes', 'fib'),
  };
}

export function routesFromProto(v: unknown): RouteStatus[] {
  const o = rec(v, 'routes reply');
  return list(o, 'routes', 'reply').map((r, i) => {
    const what = `routes[${i}]`;
    const ro = rec(r, what);
    return {
      prefix: str(ro, 'prefix', what),
      paths: list(ro, 'paths', what).map((p, j) => pathFromProto(p, `${what}.paths[${j}]`)),
      bestReason: typeof ro['bestReason'] === 'string' ? ro['bestReason'] : '',
    };
  });
}

// ---- issue 13: one peer in full, Adj-RIBs, the derived configuration, peer actions -----------

const ADJ = { received: 'ADJ_DIRECTION_RECEIVED', advertised: 'ADJ_DIRECTION_ADVERTISED' } as const satisfies Record<AdjDirection, string>;
const ACTIONS = { reset: 'PEER_ACTION_RESET', disable: 'PEER_ACTION_DISABLE', enable: 'PEER_ACTION_ENABLE', refresh: 'PEER_ACTION_REFRESH' } as const satisfies Record<PeerActionName, string>;
const ADJ_BY_NAME = reverse<AdjDirection>(ADJ);
const ACTION_BY_NAME = reverse<PeerActionName>(ACTIONS);

export interface ProtoAdjRibRequest { peer: string; direction: string }
export interface ProtoPeerActionRequest { address: string; action: string; reason: string }

export function adjRibRequest(peer: string, direction: AdjDirection): ProtoAdjRibRequest { return { peer, direction: ADJ[direction] }; }
export function adjDirectionFromProto(name: string): AdjDirection | undefined { return ADJ_BY_NAME.get(name); }
export function peerActionRequest(address: string, action: PeerActionName, reason: string): ProtoPeerActionRequest {
  return { address, action: ACTIONS[action], reason };
}
export function peerActionFromProto(name: string): PeerActionName | undefined { return ACTION_BY_NAME.get(name); }

/** null → absent, for proto3 `optional` fields and message fields. */
function present<T extends Rec>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === null || o[k] === undefined) delete o[k];
  return o;
}

export function peerDetailToProto(d: PeerDetail): object {
  const { channelState, session, counters, gracefulRestart, config, ...status } = d;
  return {
    status: peerToProto(status), channelState,
    session: present({ ...session }), counters, gracefulRestart: present({ ...gracefulRestart }), config: present({ ...config }),
  };
}

export function peerDetailFromProto(v: unknown): PeerDetail {
  const o = rec(v, 'peer detail');
  const s = rec(o['session'], 'peer.session');
  const c = rec(o['counters'], 'peer.counters');
  const g = rec(o['gracefulRestart'], 'peer.gracefulRestart');
  const k = rec(o['config'], 'peer.config');
  const n = (r: Rec, f: string, w: string): number => num(r, f, w);
  return {
    ...peerFromProto(o['status'], 'peer.status'),
    channelState: str(o, 'channelState', 'peer'),
    session: {
      port: n(s, 'port', 'session'), passive: s['passive'] === true, localAs: n(s, 'localAs', 'session'), holdTime: n(s, 'holdTime', 'session'),
      keepaliveTime: n(s, 'keepaliveTime', 'session'), connectRetryTime: n(s, 'connectRetryTime', 'session'),
      localAddress: optStr(s, 'localAddress', 'session'), remoteRouterId: optStr(s, 'remoteRouterId', 'session'),
      connection: str(s, 'connection', 'session'), uptimeSeconds: n(s, 'uptimeSeconds', 'session'),
      families: strList(s, 'families', 'session'), capabilities: strList(s, 'capabilities', 'session'),
    },
    counters: {
      messagesReceived: n(c, 'messagesReceived', 'counters'), messagesSent: n(c, 'messagesSent', 'counters'),
      updatesReceived: n(c, 'updatesReceived', 'counters'), updatesSent: n(c, 'updatesSent', 'counters'),
      notificationsReceived: n(c, 'notificationsReceived', 'counters'), notificationsSent: n(c, 'notificationsSent', 'counters'),
      establishedTransitions: n(c, 'establishedTransitions', 'counters'), connectRetries: n(c, 'connectRetries', 'counters'),
    },
    gracefulRestart: {
      localRestartTime: n(g, 'localRestartTime', 'gracefulRestart'), peerRestartTime: optNum(g, 'peerRestartTime', 'gracefulRestart'),
      peerRestarting: g['peerRestarting'] === true, staleRoutes: n(g, 'staleRoutes', 'gracefulRestart'),
    },
    config: {
      sourceAddress: optStr(k, 'sourceAddress', 'config'), password: k['password'] === true, ttlSecurity: optNum(k, 'ttlSecurity', 'config'),
      nextHopMode: str(k, 'nextHopMode', 'config'), filters: strList(k, 'filters', 'config'), resource: str(k, 'resource', 'config'),
    },
  };
}

export function adjRoutesToProto(routes: AdjRoute[]): object {
  return { routes: routes.map((r) => ({ prefix: r.prefix, pathId: r.pathId, path: pathToProto(r.path) })) };
}

export function adjRoutesFromProto(v: unknown): AdjRoute[] {
  const o = rec(v, 'adj-rib reply');
  return list(o, 'routes', 'reply').map((x, i) => {
    const w = `routes[${i}]`;
    const r = rec(x, w);
    return { prefix: str(r, 'prefix', w), pathId: num(r, 'pathId', w), path: pathFromProto(r['path'], `${w}.path`) };
  });
}

export function configToProto(c: ConfigReport): object {
  return present({ ...c, ipv4Address: c.ipv4Address, ipv6Address: c.ipv6Address });
}

function sourced<T>(v: unknown, what: string, kind: (o: Rec) => T): Sourced<T> {
  const o = rec(v, what);
  return { value: kind(o), source: str(o, 'source', what) };
}

export function configFromProto(v: unknown): ConfigReport {
  const o = rec(v, 'config');
  const s = (k: string): Sourced<string> => sourced(o[k], k, (r) => str(r, 'value', k));
  const u = (k: string): Sourced<number> => sourced(o[k], k, (r) => num(r, 'value', k));
  return {
    node: str(o, 'node', 'config'),
    routerId: s('routerId'),
    asNumber: u('asNumber'),
    ipv4Address: o['ipv4Address'] == null ? null : s('ipv4Address'),
    ipv6Address: o['ipv6Address'] == null ? null : s('ipv6Address'),
    listenPort: u('listenPort'),
    logSeverityScreen: s('logSeverityScreen'),
    nodeToNodeMesh: sourced(o['nodeToNodeMesh'], 'nodeToNodeMesh', (r) => r['value'] === true),
    peers: list(o, 'peers', 'config').map((x, i) => {
      const r = rec(x, `peers[${i}]`);
      const t = str(r, 'peerType', 'peer');
      if (!(PEER_TYPES as readonly string[]).includes(t)) throw new ProtoShapeError(`peers[${i}].peerType ${t} is not a peer type`);
      return { name: str(r, 'name', 'peer'), address: str(r, 'address', 'peer'), asNumber: num(r, 'asNumber', 'peer'), peerType: t as PeerType, source: str(r, 'source', 'peer') };
    }),
    originated: list(o, 'originated', 'config').map((x, i) => {
      const r = rec(x, `originated[${i}]`);
      return { prefix: str(r, 'prefix', 'originated'), source: str(r, 'source', 'originated') };
    }),
    pools: list(o, 'pools', 'config').map((x, i) => {
      const r = rec(x, `pools[${i}]`);
      return { name: str(r, 'name', 'pool'), cidr: str(r, 'cidr', 'pool'), ipipMode: str(r, 'ipipMode', 'pool'), vxlanMode: str(r, 'vxlanMode', 'pool'),
        natOutgoing: r['natOutgoing'] === true, disabled: r['disabled'] === true, source: str(r, 'source', 'pool') };
    }),
    notes: strList(o, 'notes', 'config'),
  };
}

export function peerActionResultFromProto(v: unknown): PeerActionResult {
  const o = rec(v, 'peer action reply');
  return { ok: o['ok'] === true, message: str(o, 'message', 'reply') };
}
