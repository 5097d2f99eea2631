// `kite run`: validates the daemon's command line and hands it to runDaemon in cli/lifecycle.ts.
// The daemon is imported lazily so `kite show` never loads the BGP speaker or the datastores.
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { DEFAULT_SOCKET } from '../api/socket.js';
import type { LogFormat } from '../logger.js';
import type { WorkloadRoutes } from '../dataplane/dataplane.js';
import { STARTUP_VARIABLES } from '../startup/variables.js';
import { etcdConfigFromEnv, type EtcdConfig } from '../datastore/etcd/env.js';
import { parseOrUsage, UsageError } from './usage.js';

export const Dataplane = { None: 'none', Linux: 'linux' } as const;
export type Dataplane = (typeof Dataplane)[keyof typeof Dataplane];

/** Who programs workload routes (dataplane.ts WorkloadRoutes, repeated so `kite show` loads no dataplane). */
export const WORKLOAD_ROUTES = ['kite', 'felix'] as const satisfies readonly WorkloadRoutes[];

/** logger.ts's formats, listed here so `kite show` does not load pino to parse `kite run`'s flags. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const satisfies readonly LogFormat[];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** What `kite run` passes to runDaemon (cli/lifecycle.ts). */
export const DatastoreKind = { File: 'file', Kubernetes: 'kubernetes', Etcd: 'etcdv3' } as const;
export type DatastoreKind = (typeof DatastoreKind)[keyof typeof DatastoreKind];

export interface RunDaemonOptions {
  /** The YAML file (file datastore); unused with the Kubernetes datastore. */
  config: string;
  datastore?: DatastoreKind;
  kubeconfig?: string;
  /** The etcdv3 datastore's endpoints and credentials (calico-node's ETCD_* variables). */
  etcd?: EtcdConfig;
  node: string;
  socket: string;
  dataplane: Dataplane;
  /** Who programs workload routes, neighbours and cali* sysctls: Kite (default) or a kept Felix. */
  workloadRoutes?: WorkloadRoutes;
  listenAddress?: string;
  listenPort?: number;
  logLevel?: string;
  logFormat?: LogFormat;
  /** The HTTP server (/livez, /readyz, /metrics); unset: runDaemon's defaults (localhost:9097). */
  httpAddress?: string;
  httpPort?: number | 'off';
  /** What SIGTERM/SIGINT mean (default restart: peers keep our routes; Cease/Administrative Reset only to peers with the RFC 8538 N bit). */
  onStop?: 'restart' | 'decommission';
  /** calico-node's start-up variables set in the environment, flags laid over them (runDaemon runs start-up either way). */
  startup?: Record<string, string>;
}

/** `kite run` flags that stand for calico-node's variables (a flag overrides its variable). */
const STARTUP_FLAGS = {
  ip: 'IP', ip6: 'IP6', 'ip-autodetection-method': 'IP_AUTODETECTION_METHOD', 'ip6-autodetection-method': 'IP6_AUTODETECTION_METHOD',
  as: 'AS', 'router-id': 'CALICO_ROUTER_ID', 'no-default-pools': 'NO_DEFAULT_POOLS',
} as const;

interface DaemonModule {
  runDaemon(opts: RunDaemonOptions): Promise<void>;
}

/** A failure that is not a usage error: exit 1 with this message. */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** Parses `kite run ...` arguments (after "run"); returns null when help was asked for. */
export function parseRunArgs(args: string[], env: NodeJS.ProcessEnv = process.env): RunDaemonOptions | null {
  const { values } = parseOrUsage({
    args,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      datastore: { type: 'string' },
      kubeconfig: { type: 'string' },
      node: { type: 'string' },
      socket: { type: 'string' },
      dataplane: { type: 'string' },
      'workload-routes': { type: 'string' },
      'listen-address': { type: 'string' },
      'listen-port': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'http-address': { type: 'string' },
      'http-port': { type: 'string' },
      'on-stop': { type: 'string' },
      ip: { type: 'string' },
      ip6: { type: 'string' },
      'ip-autodetection-method': { type: 'string' },
      'ip6-autodetection-method': { type: 'string' },
      as: { type: 'string' },
      'router-id': { type: 'string' },
      'no-default-pools': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'run');
  if (values.help) return null;

  // calico-node's DATASTORE_TYPE=etcdv3 chooses etcd when no flag says otherwise.
  const datastore = values.datastore ?? (env['DATASTORE_TYPE'] === DatastoreKind.Etcd && values.config === undefined ? DatastoreKind.Etcd : DatastoreKind.File);
  if (datastore !== DatastoreKind.File && datastore !== DatastoreKind.Kubernetes && datastore !== DatastoreKind.Etcd) {
    throw new UsageError(`--datastore must be file, kubernetes or etcdv3, not '${datastore}'`, 'run');
  }
  if (!values.config && datastore === DatastoreKind.File) throw new UsageError('--config FILE is required', 'run');
  // calico-node's order: NODENAME (what its DaemonSet sets from spec.nodeName), then HOSTNAME,
  // then the host name, lower-cased as Kubernetes names are.
  const node = values.node || env['NODENAME'] || env['HOSTNAME']?.trim().toLowerCase() || hostname().trim().toLowerCase();
  if (!node) throw new UsageError('the node name is required: pass --node NAME or set NODENAME', 'run');

  // The Linux dataplane is the default on Linux, as calico-node programs routes by default.
  const dataplane = values.dataplane ?? (process.platform === 'linux' ? Dataplane.Linux : Dataplane.None);
  if (dataplane !== Dataplane.None && dataplane !== Dataplane.Linux) {
    throw new UsageError(`--dataplane must be none or linux, not '${dataplane}'`, 'run');
  }
  if (dataplane === Dataplane.Linux && process.platform !== 'linux') {
    throw new RunError(`the linux dataplane needs Linux (this is ${process.platform}); use --dataplane none`);
  }

  const opts: RunDaemonOptions = { config: values.config ?? '', node, socket: values.socket ?? DEFAULT_SOCKET, dataplane };
  // A flag overrides its variable, as calico-node's do.
  const workloadRoutes = values['workload-routes'] ?? env['KITE_WORKLOAD_ROUTES'];
  if (workloadRoutes !== undefined) {
    if (!(WORKLOAD_ROUTES as readonly string[]).includes(workloadRoutes)) {
      throw new UsageError(`--workload-routes must be kite or felix, not '${workloadRoutes}'`, 'run');
    }
    opts.workloadRoutes = workloadRoutes as WorkloadRoutes;
  }
  if (datastore === DatastoreKind.Kubernetes) {
    opts.datastore = datastore;
    if (values.kubeconfig !== undefined) opts.kubeconfig = values.kubeconfig;
  }
  if (datastore === DatastoreKind.Etcd) {
    const etcd = etcdConfigFromEnv(env);
    if (etcd === undefined) throw new UsageError('--datastore etcdv3 needs ETCD_ENDPOINTS (e.g. http://10.0.0.1:2379,http://10.0.0.2:2379)', 'run');
    opts.datastore = datastore;
    opts.etcd = etcd;
  }

  const addr = values['listen-address'];
  if (addr !== undefined) {
    if (isIP(addr) === 0) throw new UsageError(`--listen-address '${addr}' is not an IP address`, 'run');
    opts.listenAddress = addr;
  }
  const port = values['listen-port'];
  if (port !== undefined) {
    const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(n >= 0 && n <= 65535)) throw new UsageError(`--listen-port '${port}' is not a port number (0-65535)`, 'run');
    opts.listenPort = n;
  }
  const level = values['log-level'];
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not '${level}'`, 'run');
    }
    opts.logLevel = level;
  }
  const format = values['log-format'] ?? env['KITE_LOG_FORMAT'];
  if (format !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(', ')}, not '${format}'`, 'run');
    opts.logFormat = format as LogFormat;
  }
  // Health and metrics over HTTP: a flag overrides its variable (as calico-node's flags do).
  const httpAddress = values['http-address'] ?? env['KITE_HTTP_ADDRESS'];
  if (httpAddress !== undefined) opts.httpAddress = httpAddress;
  const httpPort = values['http-port'] ?? env['KITE_HTTP_PORT'];
  if (httpPort === 'off') opts.httpPort = 'off';
  else if (httpPort !== undefined) {
    const n = /^\d{1,5}$/.test(httpPort) ? Number(httpPort) : NaN;
    if (!(n >= 0 && n <= 65535)) throw new UsageError(`--http-port '${httpPort}' is not a port number (0-65535) or off`, 'run');
    opts.httpPort = n;
  }
  const startup: Record<string, string> = {};
  for (const v of STARTUP_VARIABLES) { const x = env[v]; if (x !== undefined) startup[v] = x; }
  for (const [flag, v] of Object.entries(STARTUP_FLAGS)) {
    const x = values[flag as keyof typeof STARTUP_FLAGS];
    if (x !== undefined) startup[v] = String(x);
  }
  if (Object.keys(startup).length > 0) opts.startup = startup;

  const onStop = values['on-stop'] ?? env['KITE_ON_STOP'];
  if (onStop !== undefined) {
    if (onStop !== 'restart' && onStop !== 'decommission') throw new UsageError(`--on-stop must be restart or decommission, not '${onStop}'`, 'run');
    opts.onStop = onStop;
  }
  return opts;
}

/** Starts the daemon and resolves once it has stopped. */
export async function run(opts: RunDaemonOptions): Promise<void> {
  if ((opts.datastore ?? DatastoreKind.File) === DatastoreKind.File && !existsSync(opts.config)) throw new RunError(`config file ${opts.config} does not exist`);
  const daemon = await loadDaemon();
  await daemon.runDaemon(opts);
}

async function loadDaemon(): Promise<DaemonModule> {
  const url = new URL('./lifecycle.js', import.meta.url).href;
  try {
    // Typed import: the compiler checks RunDaemonOptions against runDaemon's parameter.
    return await import('./lifecycle.js');
  } catch (err) {
    if (isModuleNotFound(err, url)) throw new RunError(`the daemon is not built (${url} is missing): run npm run build`);
    throw err;
  }
}

function isModuleNotFound(err: unknown, url: string): boolean {
  // Only the daemon module itself being absent; a missing import *inside* it is a real bug
  // and keeps its own message.
  return err instanceof Error && 'code' in err && err.code === 'ERR_MODULE_NOT_FOUND' &&
    err.message.includes(new URL(url).pathname);
}
