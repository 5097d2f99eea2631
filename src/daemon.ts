// The composition root: datastore → start-up → calc pipeline → BGP instance (channels, RIB) →
// dataplane, plus the control API and the HTTP server (health, metrics); config edits applied live
// as deltas, bad edits rejected. Wiring only: the work is in the parts. The process around it
// (signals, the logger) is cli/lifecycle.ts.
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { BehaviorSubject, Subject, skip, type Subscription } from 'rxjs';
import { DEFAULT_HTTP_HOST, HttpServer } from './api/http.js';
import { startControlServer } from './api/server.js';
import type {
  AdjDirection, AdjRoute, ConfigReport, FibReport, PeerActionName, PeerActionResult, PeerDetail, PeerStatus, StatusProvider, Summary,
} from './api/types.js';
import { levelOfSeverity, type LogFormat } from './logger.js';
import { KiteMetrics } from './metrics/metrics.js';
import { realClock } from './bgp/timers.js';
import { Interner } from './rib/intern.js';
import { calculate, PeerDeltaKind, RouteDeltaKind, type PeerDelta, type RouteDelta } from './calc/pipeline.js';
import type { NodeConfig } from './config/types.js';
import { ipipInUse, vxlanInUse } from './dataplane/inputs.js';
import type { Datastore, SyncStatus } from './datastore/datastore.js';
import { datastoreSource, openDatastore } from './datastore/open.js';
import type { Resources } from './datastore/resources.js';
import type { EtcdConfig } from './datastore/etcd/env.js';
import type { IpamGrant } from './ipam/tunnel.js';
import { TunnelAddresses } from './ipam/tunnels.js';
import type { Channels } from './rib/channels.js';
import { BgpInstance } from './rib/instance.js';
import type { LocalRoutes } from './rib/local.js';
import { LocalRestart } from './rib/restart.js';
import { Rib } from './rib/rib.js';
import { startDataplane, type DataplaneHandle } from './fib.js';
import type { WorkloadRoutes } from './dataplane/dataplane.js';
import { InstanceStatus } from './status.js';
import type { StartupEnv } from './startup/index.js';
import { StartupGate } from './startup/gate.js';
import { liveness, readiness, type HealthInputs, type Verdict } from './health/health.js';
import { serveHealth } from './health/serve.js';
import { connectedInterfaceResolver } from './net/connected.js';
import { kernelRouteInterfaceResolver } from './net/kernel-routes.js';

export interface DaemonOptions {
  config: string;
  /** Where Calico's resources come from (default: the YAML file in `config`). */
  datastore?: 'file' | 'kubernetes' | 'etcdv3';
  kubeconfig?: string;
  etcd?: EtcdConfig;
  node: string;
  socket: string;
  dataplane: 'none' | 'linux';
  /**
   * With the linux dataplane, who programs workload routes, their neighbour entries and the
   * cali* sysctls: Kite (default), or Felix on a node that keeps it (docs/migrate.md); borrowed
   * /32s are originated from the datastore either way.
   */
  workloadRoutes?: WorkloadRoutes;
  listenAddress?: string;
  listenPort?: number;
  logLevel?: string;
  /** json, pretty, or auto (pretty on a terminal); default auto. */
  logFormat?: LogFormat;
  /**
   * Follow the BGPConfiguration's logSeverityScreen (runDaemon sets it when --log-level is not
   * given); in-process daemons keep the level of the logger they are handed.
   */
  logLevelFromDatastore?: boolean;
  /** The HTTP server (/livez, /readyz, /metrics): address and port; none when unset or off. */
  httpAddress?: string;
  httpPort?: number | 'off';
  /**
   * What SIGTERM/SIGINT mean: restart (default) keeps kernel routes and lets peers keep ours
   * through graceful restart, so the Kite that comes back takes over without a flap;
   * decommission sends Cease and the peers withdraw our routes at once.
   */
  onStop?: 'restart' | 'decommission';
  /**
   * calico-node's start-up variables (IP, IP6, *_AUTODETECTION_METHOD, AS, CALICO_ROUTER_ID,
   * default pools; src/startup): run between the first snapshot and BGP. Unset: no start-up
   * (in-process tests whose cluster file says everything).
   */
  startup?: StartupEnv;
  /** calico-node's -threshold-time: the start-up window of readiness (default 30 s). */
  readyThresholdMs?: number;
}

export class Daemon implements StatusProvider {
  private readonly interner = new Interner();
  readonly rib = new Rib(this.interner);
  private bgp: BgpInstance | null = null;
  /** The configuration in force (the first one until the BGP instance exists, then the instance's). */
  private first: NodeConfig | null = null;
  private resources: Resources | null = null;
  /** The datastore's sync status: nothing is pruned before 'in-sync'. */
  syncStatus: SyncStatus = 'waiting';
  /** How long the dataplane (and our graceful restart) waits for every peer's End-of-RIB (ms). */
  inSyncTimeoutMs = 30_000;
  /** What IPAM allocated: the IPIP tunnel address and the VXLAN VTEP, as they come. */
  private readonly grants = new BehaviorSubject<readonly IpamGrant[]>([]);
  private readonly subscriptions: Subscription[] = [];
  private datastore: Datastore | null = null;
  private restart!: LocalRestart;
  private tunnels: TunnelAddresses | null = null;
  private view!: InstanceStatus;
  private dp: DataplaneHandle | null = null;
  private control: { close(): Promise<void> } | null = null;
  /** Kite's HTTP endpoint: health registers here at start, other parts add their paths (/metrics). */
  readonly http = new HttpServer();
  /** Prometheus metrics, served on the HTTP server's /metrics. */
  readonly metrics: KiteMetrics;
  private startedAt = Date.now();
  private started = false;
  private datastoreActivity = Date.now();

  constructor(private readonly opts: DaemonOptions, private readonly log: Logger) {
    // Process metrics only when served: in-process daemons in tests share one process.
    this.metrics = new KiteMetrics({ defaultMetrics: opts.httpPort !== undefined && opts.httpPort !== 'off', log });
  }

  private get config(): NodeConfig { return this.bgp?.config ?? this.first!; }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    serveHealth(this.http, () => this.healthInputs());
    this.http.handle('/metrics', async () => ({ status: 200, body: await this.metrics.expose(), contentType: this.metrics.contentType }));
    if (this.opts.httpPort !== undefined && this.opts.httpPort !== 'off') {
      // First: liveness answers while the datastore syncs; readiness says "starting".
      const a = await this.http.listen(this.opts.httpAddress ?? DEFAULT_HTTP_HOST, this.opts.httpPort);
      this.log.info({ address: a.address, port: a.port }, 'HTTP server listening (/livez, /readyz, /metrics)');
    }
    try {
      await this.startParts();
    } catch (e) {
      await this.http.close();
      throw e;
    }
    this.started = true;
  }

  private async startParts(): Promise<void> {
    const { opts, log, rib } = this;
    this.restart = new LocalRestart({ marker: join(dirname(opts.socket), `kite-${opts.node}.running`), clock: realClock, log });
    const where = { kind: opts.datastore ?? 'file', file: opts.config } as const;
    const source = datastoreSource(where);
    const snapshots = new Subject<Resources>();
    const status = new BehaviorSubject<SyncStatus>('waiting');
    const derive: { routerId?: string } = {};
    const calc = calculate(snapshots, status, opts.node, this.grants, derive);
    let firstError: Error | null = null;
    this.subscriptions.push(
      calc.config.subscribe(({ config, resources }) => {
        this.resources = resources;
        if (this.bgp === null) this.first = config;
        else this.reconfigure(config);
      }),
      calc.rejected.subscribe((e) => {
        if (this.first === null) firstError = e;
        else log.error({ datastore: source, err: e.message }, 'configuration rejected; the last good configuration stays in force');
      }),
      calc.inSync.subscribe((s) => { if (s) this.checkConverged(); }),
    );
    // With start-up, snapshots wait until it has decided this node's identity, then carry it.
    const gate = new StartupGate({ env: opts.startup, nodeName: opts.node, log, routerId: (id) => { derive.routerId = id; }, push: (resources) => {
      snapshots.next(resources);
      // The file datastore refuses to start on a first snapshot that yields no configuration.
      if (firstError) { const e = firstError; firstError = null; throw e; }
    } });
    const datastore = this.datastore = await openDatastore({ ...where, nodeName: opts.node, log, kubeconfig: opts.kubeconfig, etcd: opts.etcd });
    await datastore.start({
      onStatus: (s) => { this.syncStatus = s; this.datastoreActivity = Date.now(); this.metrics.datastoreStatus(s); status.next(s); log.info({ datastore: source, status: s }, 'datastore sync status'); },
      onSnapshot: (resources) => { this.datastoreActivity = Date.now(); gate.onSnapshot(resources); },
      onError: (e) => {
        this.datastoreActivity = Date.now();
        log.error({ datastore: source, err: e.message }, 'datastore problem; the last good configuration stays in force');
      },
    });
    await gate.run(datastore).catch((e: unknown) => { datastore.stop(); throw e; });
    if (this.first === null) throw new Error(`no usable configuration for node "${opts.node}" from ${source} (see the errors above)`);
    this.applySeverity(this.first);
    this.tunnels = new TunnelAddresses({ node: opts.node, datastore, log, datastoreKind: where.kind, kubeconfig: opts.kubeconfig,
      stateDir: process.env['KITE_STATE_DIR'] ?? '/var/lib/kite', pools: () => this.resources?.ipPools ?? [],
      onGrant: (g) => this.grants.next([...this.grants.value, g]) });
    await this.ensureTunnels(this.first);
    const connected = connectedInterfaceResolver();
    const viaRoutes = kernelRouteInterfaceResolver();
    const bgp = new BgpInstance({ rib, interner: this.interner, config: this.first, filters: this.resources?.bgpFilters ?? [],
      listenAddress: opts.listenAddress, listenPort: opts.listenPort, restart: this.restart, clock: realClock, log,
      // BIRD's ifname for a learned route: its next hop's interface (BGPFilter `interface` rules),
      // on a connected subnet, else through the kernel route to it (Calico's `gateway recursive`).
      nextHopInterface: (nh) => connected(nh) ?? viaRoutes(nh),
      onConnectedSubnet: (nh) => connected(nh) !== undefined,
      meter: this.metrics.speakerMeter, onEndOfRib: () => this.checkConverged() });
    this.bgp = bgp;
    this.view = new InstanceStatus({ node: opts.node, rib, bgp, fib: () => this.dp?.status() ?? null, fibCounts: () => this.dp?.counts() ?? null, resources: () => this.resources,
      datastore: () => ({ status: this.syncStatus, watchRestarts: this.datastore?.watchRestarts?.() ?? new Map() }) });
    this.metrics.setSource({ peers: () => this.view.metricPeers(), node: () => this.view.nodeSnapshot() });
    // Subscribed now, each delta stream first replays the current state as additions.
    this.subscriptions.push(
      calc.peers.subscribe((d) => applyPeer(bgp.channels, d)),
      calc.routes.subscribe((d) => applyRoute(bgp.local, d)),
      calc.config.pipe(skip(1)).subscribe(() => {
        log.info({ peers: bgp.channels.size, originated: bgp.local.size }, 'configuration applied');
        this.dp?.feed();
      }),
    );
    try {
      if (opts.dataplane === 'linux') {
        this.dp = await startDataplane({ rib, log, inSyncTimeoutMs: this.inSyncTimeoutMs, inputs: () => ({ config: this.config, resources: this.resources }),
          workloadRoutes: opts.workloadRoutes ?? 'kite',
          meter: { applied: (sec, ok) => this.metrics.dataplaneApplied(sec, ok), netlinkError: (op, code) => this.metrics.netlinkError(op, code) } });
      }
      // The control socket first: a second Kite on the same socket stops here, before it
      // touches the BGP port or the restart marker of the running one.
      this.control = await startControlServer(this, opts.socket, log);
      // Taking over from calico-node's BIRD: its routes forward traffic now, so Kite starts as a
      // restarting speaker (RFC 4724 Restart State, forwarding preserved) and the peers keep this
      // node's routes until Kite's End-of-RIB, instead of flushing them at its first OPEN.
      if ((this.dp?.inheritedBirdRoutes ?? 0) > 0) this.restart.assume(`${this.dp!.inheritedBirdRoutes} routes of calico-node's BIRD (protocol 12) in the kernel: taking over its forwarding state`);
      this.restart.arm();
      await bgp.start();
    } catch (e) {
      this.datastore.stop();
      this.dp?.stop();
      await bgp.stop('start-up failed').catch(() => {});
      await this.control?.close().catch(() => {});
      throw e;
    }
    const cfg = bgp.config;
    log.info({ routerId: cfg.routerId, asNumber: cfg.asNumber, peers: cfg.peers.length, originated: bgp.local.size, socket: opts.socket }, 'kite started');
    if (this.restart.restarting) this.restart.startDeadline(this.inSyncTimeoutMs);
    // The datastore was in sync before the channels existed: judge now (no peers: over at once).
    this.checkConverged();
  }

  /**
   * Stops. By default a decommission: Cease to every peer (as Hard Reset where both sides set the
   * RFC 8538 N bit), and the next start is a fresh one. With `restart`: Cease/Administrative Reset
   * to peers with the N bit, connections dropped without NOTIFICATION to the others, and the
   * restart marker stays, so peers keep our routes as stale and the next start announces Restart
   * State (RFC 4724, RFC 8538 §4).
   * Either way the kernel keeps its routes (a decommission's peers stop sending traffic here).
   */
  async stop(reason: string, how: { restart?: boolean } = {}): Promise<void> {
    this.datastore?.stop();
    for (const s of this.subscriptions) s.unsubscribe();
    this.dp?.stop(); // routes stay in the kernel: a restart adopts them
    await this.bgp?.stop(reason, how);
    await this.control?.close();
    if (how.restart === true) this.restart.release();
    else this.restart.disarm();
    await this.http.close();
  }

  /** The server each datastore watch streams from, by resource (etcd: which member). */
  watchMembers(): ReadonlyMap<string, string> {
    return this.datastore?.watchMembers?.() ?? new Map();
  }

  /** What health.ts judges: read fresh at every probe. */
  healthInputs(): HealthInputs {
    const peers = this.bgp === null ? [] : this.view.peers().map((p) => ({ address: p.address, state: p.state }));
    return {
      now: Date.now(), startedAt: this.startedAt, started: this.started, datastore: this.syncStatus,
      datastoreActivity: this.datastoreActivity, peers, restarting: this.restart?.restarting ?? false,
      dataplaneBusySince: this.dp?.busySince() ?? null,
      ...(this.opts.readyThresholdMs !== undefined ? { readyThresholdMs: this.opts.readyThresholdMs } : {}),
    };
  }

  readiness(): Verdict { return readiness(this.healthInputs()); }
  liveness(): Verdict { return liveness(this.healthInputs()); }

  /**
   * Calico's logSeverityScreen (BGPConfiguration node.<name> over default) sets the log level,
   * unless --log-level was given: the command line wins, as calico-node's environment does.
   */
  private applySeverity(cfg: NodeConfig): void {
    if (this.opts.logLevelFromDatastore !== true) return;
    const level = levelOfSeverity(cfg.logSeverityScreen);
    if (this.log.level === level) return;
    this.log.info({ logSeverityScreen: cfg.logSeverityScreen, level }, 'log level set from BGPConfiguration logSeverityScreen');
    this.log.level = level;
  }

  private reconfigure(cfg: NodeConfig): void {
    this.applySeverity(cfg);
    this.bgp?.reconfigure(cfg, this.resources?.bgpFilters ?? []);
    // A tunnel pool appeared while running: allocate in the background (the grant re-applies).
    void this.ensureTunnels(this.config);
  }

  /** IPAM's tunnel addresses for the pools' tunnels (src/ipam/tunnels.ts): IPIP and the VXLAN VTEPs. */
  private ensureTunnels(cfg: NodeConfig): Promise<void> {
    return this.tunnels?.ensure(cfg, { ipip: ipipInUse(cfg.pools), vxlan: vxlanInUse(cfg.pools, 4), vxlan6: vxlanInUse(cfg.pools, 6) }) ?? Promise.resolve();
  }

  /** At each first End-of-RIB: once every peer has sent one, the dataplane may prune and a graceful restart is over. */
  private checkConverged(): void {
    // Before the channels exist nothing is converged: the datastore's first in-sync arrives
    // before any peer is configured, and ending the restart then would send OPENs without
    // Restart State, so peers would flush our routes (start() asks again once peers exist).
    if (this.syncStatus !== 'in-sync' || !(this.bgp?.channels.allEndOfRib ?? false)) return;
    this.restart.done('End-of-RIB received from every peer');
    this.dp?.markInSync('End-of-RIB received from every peer');
  }

  // The control API's questions, answered by status.ts.
  summary(): Summary { return this.view.summary(); }
  peers(): PeerStatus[] { return this.view.peers(); }
  fib(): FibReport { return this.view.fib(); }
  routes(filter: { prefix?: string }): ReturnType<StatusProvider['routes']> { return this.view.routes(filter); }
  peer(address: string): PeerDetail | null { return this.view.peer(address); }
  adjRib(address: string, direction: AdjDirection): AdjRoute[] { return this.view.adjRib(address, direction); }
  configReport(): ConfigReport { return this.view.configReport(); }
  peerAction(address: string, action: PeerActionName, reason: string): PeerActionResult {
    const r = this.view.peerAction(address, action, reason);
    this.log.info({ peer: address, action, reason, ok: r.ok }, r.message);
    return r;
  }
}

function applyPeer(channels: Channels, d: PeerDelta): void {
  if (d.kind === PeerDeltaKind.Removed) channels.remove(d.key);
  else if (d.kind === PeerDeltaKind.Added) channels.add(d.key, d.peer);
  else channels.change(d.key, d.peer);
}

function applyRoute(local: LocalRoutes, d: RouteDelta): void {
  if (d.kind === RouteDeltaKind.Withdrawn) local.withdraw(d.prefix);
  else local.originate(d.prefix, d.block);
}
