// The composition root: wires the file datastore, the BGP speaker, the RIB (through one
// channel per peer) and the control API together, and owns the process lifecycle
// (SIGTERM/SIGINT: Cease to every peer; config edits: applied live, bad edits rejected).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startControlServer } from './api/server.js';
import type { FibReport, PeerStatus, StatusProvider, Summary } from './api/types.js';
import { Speaker, canonicalAddress, type PeerConfig } from './bgp/speaker.js';
import { CeaseSub } from './bgp/wire/errors.js';
import { Interner } from './rib/intern.js';
import type { PathAttrs } from './bgp/wire/types.js';
import { formatPrefix, ipv4ToUint, parsePrefix, type Prefix } from './bgp/wire/prefix.js';
import { IPV4_UNICAST, IPV6_UNICAST, Origin, type FamilyKey } from './bgp/wire/types.js';
import type { NodeConfig, PeerConfig as CalicoPeer } from './config/node-config.js';
import { BehaviorSubject, Subject, type Subscription } from 'rxjs';
import { calculate } from './calc/pipeline.js';
import { createFileDatastore, type Datastore, type SyncStatus } from './datastore/datastore.js';
import type { Resources } from './datastore/resources.js';
import { cidrContains, parseCIDR } from './datastore/ip.js';
import { ipipInUse } from './dataplane/inputs.js';
import { dataplaneFeed } from './calc/dataplane-inputs.js';
import type { FibStatus } from './dataplane/index.js';

/** What the daemon holds of the Linux dataplane (loaded lazily). */
interface DataplaneHandle {
  feed(): void;
  markInSync(): void;
  status(): FibStatus;
  stop(): void;
}
import { Channel } from './rib/channel.js';
import { Exporter, withMods, type ExportPeer, type ExportPolicy as ExportPolicyHook } from './rib/export.js';
import { compileExportPolicy, compileImportPolicy, peerInfo, PeerType, RouteSource, type ExportPolicy, type ImportPolicy, type RouteInfo, type Decision } from './policy/index.js';
import type { BGPFilter as BGPFilterResource } from './datastore/resources.js';
import { LOCAL_PEER, Rib } from './rib/rib.js';
import { allRoutes, lookupRoute } from './api/view.js';

export interface DaemonOptions {
  config: string;
  /** Where Calico's resources come from (default: the YAML file in `config`). */
  datastore?: 'file' | 'kubernetes';
  kubeconfig?: string;
  node: string;
  socket: string;
  dataplane: 'none' | 'linux';
  listenAddress?: string;
  listenPort?: number;
  logLevel?: string;
}

/** Runs until SIGTERM/SIGINT; resolves once every peer has been told and the socket is closed. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const log = pino({ level: opts.logLevel ?? 'info', base: { node: opts.node } });
  const daemon = new Daemon(opts, log);
  await daemon.start();
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'shutting down: sending Cease/Administrative Shutdown to every peer');
      void daemon.stop(`kite on ${opts.node} shutting down (${sig})`).finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

interface PeerEntry {
  calico: CalicoPeer;
  /** The password resolved from its Secret when the session was made (a Secret edit re-makes it). */
  password?: string | undefined;
  channel: Channel;
  /** The peer's graceful-restart time from its last OPEN (RFC 4724), 0 when it has none. */
  peerRestartTime: number;
  /** Runs out the restart (then stale-path) time of a restarting peer. */
  staleTimer?: NodeJS.Timeout;
}

export class Daemon implements StatusProvider {
  private readonly interner = new Interner();
  readonly rib = new Rib(this.interner);
  private speaker!: Speaker;
  private exporter!: Exporter;
  private policy!: ExportPolicy;
  private importPolicy!: ImportPolicy;
  private filters: readonly BGPFilterResource[] = [];
  /** Reused prefix bytes for policy evaluation (no allocation per route on export). */
  private readonly scratch = new Uint8Array(16);
  private cfg!: NodeConfig;
  private readonly sessions = new Map<string, PeerEntry>();
  /** Originated prefixes, by their text form. */
  private readonly local = new Map<string, Prefix>();
  /** The originated prefixes that are affine blocks (the rest are service CIDRs). */
  private blocks = new Set<string>();
  private datastore: Datastore | null = null;
  private readonly subscriptions: Subscription[] = [];
  /** The last snapshot the configuration was derived from (workloads, nodes for the dataplane). */
  private resources: Resources | null = null;
  private dp: DataplaneHandle | null = null;
  /** The datastore's sync status: nothing is pruned before 'in-sync'. */
  syncStatus: SyncStatus = 'waiting';
  private control: { close(): Promise<void> } | null = null;

  constructor(private readonly opts: DaemonOptions, private readonly log: Logger) {}

  /** Kite is restarting after an unclean exit (RFC 4724 Restart State). */
  private restarting = false;
  private marker = '';

  async start(): Promise<void> {
    // A marker left by a previous run that did not stop cleanly (SIGKILL, crash) means the
    // kernel still forwards with its routes: tell peers we restart gracefully (RFC 4724 §3).
    this.marker = join(dirname(this.opts.socket), `kite-${this.opts.node}.running`);
    this.restarting = existsSync(this.marker);
    if (this.restarting) this.log.warn({ marker: this.marker }, 'previous run did not stop cleanly: announcing graceful restart (Restart State, forwarding preserved)');
    let first = true;
    let firstError: Error | null = null;
    const source = this.opts.datastore === 'kubernetes' ? 'kubernetes' : this.opts.config;
    // Snapshots and sync status feed the calculation pipeline (src/calc); its outputs drive
    // the speaker, the RIB's local routes, the export policy and the dataplane.
    const snapshots = new Subject<Resources>();
    const status = new BehaviorSubject<SyncStatus>('waiting');
    const desired = calculate(snapshots, status, this.opts.node);
    this.subscriptions.push(
      desired.accepted.subscribe(({ config, resources }) => {
        this.filters = resources.bgpFilters;
        this.resources = resources;
        if (first) { this.cfg = this.withIpam(config); first = false; return; }
        this.apply(this.withIpam(config));
        this.feedDataplane();
      }),
      desired.rejected.subscribe((e) => {
        if (first) { firstError = e; return; }
        this.log.error({ datastore: source, err: e.message }, 'configuration rejected; the last good configuration stays in force');
      }),
      desired.inSync.subscribe((s) => { if (s) this.checkDataplaneSync(); }),
    );
    this.datastore = this.opts.datastore === 'kubernetes'
      // Loaded only when used: the Kubernetes client is large and the file datastore needs none of it.
      ? (await import('./datastore/kubernetes/index.js')).createKubernetesDatastore({ nodeName: this.opts.node, log: this.log, ...(this.opts.kubeconfig ? { kubeconfig: this.opts.kubeconfig } : {}) })
      : createFileDatastore(this.opts.config);
    await this.datastore.start({
      onStatus: (s) => { this.syncStatus = s; status.next(s); this.log.info({ datastore: source, status: s }, 'datastore sync status'); },
      onSnapshot: (resources) => {
        snapshots.next(resources);
        // The file datastore refuses to start on a first snapshot that yields no configuration.
        if (firstError) { const e = firstError; firstError = null; throw e; }
      },
      onError: (e) => this.log.error({ datastore: source, err: e.message }, 'datastore problem; the last good configuration stays in force'),
    });
    if (first) throw new Error(`no usable configuration for node "${this.opts.node}" from ${source} (see the errors above)`);
    if (await this.ensureTunnelAddress()) this.cfg = this.withIpam(this.cfg);
    const cfg = this.cfg;
    for (const note of cfg.notes) this.log.info({ note }, 'configuration note');
    this.policy = compileExportPolicy(cfg, this.filters);
    this.importPolicy = compileImportPolicy(cfg, this.filters);
    for (const note of this.policy.notes) this.log.info({ note }, 'export policy note');
    this.exporter = new Exporter(this.rib, this.interner, {
      routerId: ipv4ToUint(cfg.routerId),
      clusterId: clusterIdOf(cfg),
      log: this.log,
      policy: (slot, best, peer) => this.exportDecision(slot, best, peer),
    });
    this.speaker = new Speaker({
      localAs: cfg.asNumber,
      routerId: cfg.routerId,
      logger: this.log,
      listenAddress: this.opts.listenAddress,
      listenPort: this.opts.listenPort ?? cfg.listenPort,
      interner: this.interner,
    });
    this.speaker.setConsumer({
      onEstablished: (peer, info) => {
        const id = canonicalAddress(peer.address);
        const e = this.sessions.get(id);
        if (!e) return;
        const gr = info.negotiated.remoteGracefulRestart;
        const peerRestarts = gr !== undefined;
        if (e.channel.retained) {
          if (peerRestarts) {
            // Keep the stale paths until End-of-RIB, bounded by the restart time once more.
            this.startStaleTimer(id, e, Math.max(gr.restartTime, 1));
          } else {
            clearTimeout(e.staleTimer);
          }
        }
        e.peerRestartTime = gr?.restartTime ?? 0;
        e.channel.up(peer.address, info.remoteOpen.bgpId, peerRestarts);
        const p = e.calico;
        this.exporter.join({
          id, sink: peer, ibgp: p.asNumber === p.localAsNumber, rrClient: p.routeReflectorClient,
          localAs: p.localAsNumber, nextHopMode: p.nextHopMode,
          nextHop4: p.sourceAddress && !p.sourceAddress.includes(':') ? p.sourceAddress : this.cfg.ipv4Address?.address ?? this.cfg.routerId,
          nextHop6: this.cfg.ipv6Address?.address,
          ctx: info.negotiated, families: info.negotiated.families, filters: p.filters,
        });
      },
      onUpdate: (peer, msg) => this.sessions.get(canonicalAddress(peer.address))?.channel.update(msg),
      onRouteRefresh: (peer) => this.exporter.refresh(canonicalAddress(peer.address)),
      onDown: (peer, reason, how) => {
        const id = canonicalAddress(peer.address);
        this.exporter.leave(id);
        const e = this.sessions.get(id);
        if (!e) return;
        if (!how.notification && e.peerRestartTime > 0) {
          // RFC 4724 §4.2 helper: the peer may be restarting; keep its routes, marked stale.
          const n = e.channel.retain();
          this.log.info({ peer: id, reason, staleRoutes: n, restartTime: e.peerRestartTime },
            'peer session lost without NOTIFICATION: keeping its routes as stale for its restart time (graceful restart)');
          this.startStaleTimer(id, e, e.peerRestartTime);
          return;
        }
        clearTimeout(e.staleTimer);
        e.channel.down();
      },
    });
    this.applyPeers(cfg);
    this.applyOrigination(cfg);
    try {
      if (this.opts.dataplane === 'linux') await this.startDataplane();
      // The control socket first: a second Kite on the same socket stops here, before it
      // touches the BGP port or the restart marker of the running one.
      this.control = await startControlServer(this, this.opts.socket, this.log);
      mkdirSync(dirname(this.marker), { recursive: true });
      writeFileSync(this.marker, `${process.pid}\n`);
      await this.speaker.start();
    } catch (e) {
      this.datastore?.stop();
      this.dp?.stop();
      await this.speaker.stop('start-up failed').catch(() => {});
      await this.control?.close().catch(() => {});
      throw e;
    }
    this.log.info({ routerId: cfg.routerId, asNumber: cfg.asNumber, peers: cfg.peers.length, originated: this.local.size,
      socket: this.opts.socket }, 'kite started');
    if (this.restarting) {
      // Peers that never come back do not keep the restart open forever (as the dataplane's wait).
      setTimeout(() => this.restartDone(`no End-of-RIB from every peer within ${this.inSyncTimeoutMs / 1000} s`), this.inSyncTimeoutMs).unref();
      this.checkDataplaneSync(); // no peers at all: the restart is over at once
    }
  }

  async stop(reason: string): Promise<void> {
    this.datastore?.stop();
    for (const s of this.subscriptions) s.unsubscribe();
    this.dp?.stop(); // routes stay in the kernel: a restart adopts them
    await this.speaker.stop(reason);
    await this.control?.close();
    for (const e of this.sessions.values()) clearTimeout(e.staleTimer);
    rmSync(this.marker, { force: true });
  }

  /** A new valid configuration: change only what differs; unaffected sessions stay up. */
  private apply(cfg: NodeConfig): void {
    const old = this.cfg;
    if (old.asNumber !== cfg.asNumber || old.routerId !== cfg.routerId || old.listenPort !== cfg.listenPort) {
      this.log.warn({ old: { asNumber: old.asNumber, routerId: old.routerId, listenPort: old.listenPort },
        new: { asNumber: cfg.asNumber, routerId: cfg.routerId, listenPort: cfg.listenPort } },
      'asNumber, router ID and listen port changes take effect after a restart; other changes are applied now');
    }
    this.cfg = { ...cfg, asNumber: old.asNumber, routerId: old.routerId, listenPort: old.listenPort };
    try {
      const policy = compileExportPolicy(this.cfg, this.filters);
      this.importPolicy = compileImportPolicy(this.cfg, this.filters);
      this.policy = policy;
      this.exporter.reevaluate();
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'export policy rejected; the previous one stays in force');
    }
    this.applyPeers(this.cfg);
    this.applyOrigination(this.cfg);
    this.log.info({ peers: this.sessions.size, originated: this.local.size }, 'configuration applied');
  }

  /**
   * The Linux dataplane (src/dataplane): kernel routes for remote blocks, blackholes for own
   * blocks, workload routes, tunl0. Loaded only with --dataplane linux (it needs the netlink addon).
   */
  private async startDataplane(): Promise<void> {
    const d = await import('./dataplane/index.js');
    const kernel = d.openKernel();
    const dp = d.createDataplane({ ops: kernel.ops, sysctl: d.procSysctl(), clock: d.systemClock(), log: this.log });
    let feed = dataplaneFeed(this.cfg, this.resources);
    // First among the RIB's listeners, so a burst of changes reaches the kernel (on the netlink
    // thread) before Kite re-advertises it, and the two overlap.
    this.rib.onBestChange(d.followRib(this.rib, dp, () => feed.nodes), { first: true });
    const stopLinks = await d.watchLinks(dp, this.log);
    // Nothing is pruned before BGP has converged: every peer's first End-of-RIB, or a timeout
    // for peers that never come up (RFC 4724's selection deferral plays the same role).
    const timer = setTimeout(() => this.dataplaneInSync('timeout waiting for End-of-RIB from every peer'), this.inSyncTimeoutMs);
    timer.unref();
    this.dp = {
      feed: () => {
        feed = dataplaneFeed(this.cfg, this.resources);
        dp.update({ config: feed.config, remote: d.remoteRoutes(this.rib, feed.nodes), workloads: feed.workloads });
      },
      markInSync: () => { clearTimeout(timer); dp.markInSync(); },
      status: () => dp.status(),
      stop: () => { clearTimeout(timer); stopLinks(); dp.stop(); kernel.close(); },
    };
    this.dp.feed();
    this.log.info({ protocol: dp.status().protocol }, 'linux dataplane started (routes tagged with this protocol number)');
  }

  /** How long the dataplane waits for every peer's End-of-RIB before pruning (ms). */
  inSyncTimeoutMs = 30_000;
  private dpInSync = false;

  private feedDataplane(): void { this.dp?.feed(); }

  /** Called at each End-of-RIB: once every peer has sent one, the dataplane may prune and a graceful restart is over. */
  private checkDataplaneSync(): void {
    if (this.syncStatus !== 'in-sync') return;
    for (const e of this.sessions.values()) if (!e.channel.endOfRibSeen) return;
    this.restartDone('End-of-RIB received from every peer');
    if (!this.dp || this.dpInSync) return;
    this.dataplaneInSync('End-of-RIB received from every peer');
  }

  /**
   * RFC 4724 §4.1: the restart ends once the restarting speaker has every peer's End-of-RIB
   * (or waited long enough). From then on Kite's OPENs carry Restart State 0 again: a session that
   * resets later is a plain reconnect, not part of the restart.
   */
  private restartDone(why: string): void {
    if (!this.restarting) return;
    this.restarting = false;
    this.log.info({ why }, 'graceful restart complete: later OPENs no longer announce Restart State');
  }

  private dataplaneInSync(why: string): void {
    if (!this.dp || this.dpInSync) return;
    this.dpInSync = true;
    this.log.info({ why }, 'dataplane in sync: routes Kite owns but no longer wants may now be removed');
    this.dp.markInSync();
  }

  /** The IPIP tunnel address and its block, when Kite allocated them (calico-node's job, now ours). */
  private ipam: { tunnelAddress: string; blocks: { prefix: string; pool: string }[] } | null = null;
  private ipamBusy = false;

  /** Adds what IPAM allocated for this node to a derived configuration. */
  private withIpam(cfg: NodeConfig): NodeConfig {
    if (!this.ipam || cfg.ipv4IPIPTunnelAddr) {
      if (!this.ipamBusy && !cfg.ipv4IPIPTunnelAddr && ipipInUse(cfg.pools) && this.speaker) {
        // An IPIP pool appeared while running: allocate in the background, then re-apply.
        void this.ensureTunnelAddress().then((ok) => { if (ok) this.apply(this.withIpam(this.cfg)); });
      }
      return cfg;
    }
    const have = new Set(cfg.originate.map((o) => o.prefix));
    return { ...cfg, ipv4IPIPTunnelAddr: this.ipam.tunnelAddress,
      originate: [...cfg.originate, ...this.ipam.blocks.filter((b) => !have.has(b.prefix))] };
  }

  /**
   * When a pool uses IPIP and the Node has no ipv4IPIPTunnelAddr, allocate one as calico-node
   * does (src/ipam: claims an affine block). With the file datastore the IPAM objects live in a
   * locked state file under KITE_STATE_DIR (default /var/lib/kite); with the Kubernetes datastore
   * they are Calico's own IPAM custom resources (so Calico's CNI IPAM and Kite agree), and the
   * address is written to the Kubernetes Node's projectcalico.org/IPv4IPIPTunnelAddr annotation,
   * where calico-node keeps it. Returns true when it allocated.
   */
  private async ensureTunnelAddress(): Promise<boolean> {
    const cfg = this.cfg;
    if (this.ipam || cfg.ipv4IPIPTunnelAddr || !ipipInUse(cfg.pools)) return false;
    this.ipamBusy = true;
    try {
      const { Allocator, FileStore, KubeStore, createKubeRequester } = await import('./ipam/index.js');
      const dir = process.env['KITE_STATE_DIR'] ?? '/var/lib/kite';
      let store;
      let requester;
      if (this.opts.datastore === 'kubernetes') {
        const { loadKubeConfig } = await import('./datastore/kubernetes/client.js');
        requester = createKubeRequester(loadKubeConfig(this.opts.kubeconfig));
        const group = (this.datastore as { group?: 'crd.projectcalico.org/v1' | 'projectcalico.org/v3' } | null)?.group;
        store = new KubeStore({ requester, ...(group !== undefined ? { apiVersion: group } : {}) });
      } else store = new FileStore(join(dir, 'ipam'));
      const alloc = new Allocator({ store, pools: () => this.resources?.ipPools ?? [] });
      const node = { name: this.opts.node, labels: cfg.labels };
      const r = await alloc.ensureTunnelAddress(node);
      if (!r.address) { this.log.warn({ reason: r.reason }, 'no IPIP tunnel address'); return false; }
      if (requester !== undefined) {
        const annotation = 'projectcalico.org/IPv4IPIPTunnelAddr';
        const res = await requester.request('PATCH', `/api/v1/nodes/${encodeURIComponent(this.opts.node)}`,
          JSON.stringify({ metadata: { annotations: { [annotation]: r.address } } }));
        if (res.status >= 300) {
          this.log.error({ node: this.opts.node, status: res.status, body: res.text.slice(0, 300) },
            `IPIP tunnel address ${r.address} allocated, but writing the Node annotation ${annotation} failed (RBAC: nodes patch); using it anyway`);
        }
      }
      const blocks = (await alloc.affineBlocks(this.opts.node, 4)).map((prefix) => ({ prefix, pool: cfg.pools.find((p) => { const a = parseCIDR(p.cidr), b = parseCIDR(prefix); return a !== null && b !== null && cidrContains(a, b); })?.name ?? '' }));
      this.ipam = { tunnelAddress: r.address, blocks: blocks.filter((b) => b.pool !== '') };
      this.log.info({ address: r.address, blocks: this.ipam.blocks.map((b) => b.prefix), reason: r.reason,
        ...(requester !== undefined ? { store: 'kubernetes' } : { stateDir: dir }) }, 'IPIP tunnel address allocated by Kite IPAM');
      return true;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'IPIP tunnel address allocation failed');
      return false;
    } finally {
      this.ipamBusy = false;
    }
  }

  /** Calico's export rules (src/policy) for one best path toward one peer. */
  private exportDecision(slot: number, best: number, peer: ExportPeer): ReturnType<ExportPolicyHook> {
    const t = this.rib.prefixes;
    const fam = t.family[slot]!;
    const src = this.rib.pathPeer(best);
    const srcPeer = this.rib.peer(src);
    const route: RouteInfo = {
      family: fam, bytes: t.bytesInto(slot, this.scratch), len: t.plen[slot]!, attrs: this.rib.pathAttrs(best),
      source: src !== LOCAL_PEER ? RouteSource.Peer
        : this.blocks.has(formatPrefix(fam, t.bytes(slot), t.plen[slot]!)) ? RouteSource.LocalBlock : RouteSource.LocalStatic,
    };
    if (src !== LOCAL_PEER) route.fromPeerType = srcPeer?.ibgp ? PeerType.IBGP : PeerType.EBGP;
    const d = this.policy.evaluate(route, { ibgp: peer.ibgp, address: peer.id, filters: peer.filters ?? [] });
    return d.accept ? { accept: true, communities: d.communities, largeCommunities: d.largeCommunities, prependAs: d.prependAs }
      : { accept: false, reason: d.reason };
  }

  private startStaleTimer(id: string, e: PeerEntry, seconds: number): void {
    clearTimeout(e.staleTimer);
    e.staleTimer = setTimeout(() => {
      const n = e.channel.sweepStale();
      if (n > 0) this.log.warn({ peer: id, removed: n }, 'graceful restart: stale routes removed (no End-of-RIB in time)');
      if (!this.speaker.peer(id)?.established) e.channel.down();
    }, seconds * 1000);
    e.staleTimer.unref();
  }

  /** Import operations' results, per decision (rules' decisions are shared objects) and received set. */
  private importMods = new WeakMap<object, Map<number, PathAttrs>>();

  /**
   * A BGPFilter import rule's operations applied to a received set: communities and large
   * communities added, ASNs prepended (they then count in the decision process), and setPriority
   * as the kernel route's metric (kept with the set, never sent). null: stored as received.
   */
  private importedAttrs(attrs: PathAttrs, d: Extract<Decision, { accept: true }>): PathAttrs | null {
    if (!d.communities?.length && !d.largeCommunities?.length && !d.prependAs?.length && d.priority === undefined) return null;
    let byId = this.importMods.get(d);
    if (byId === undefined) this.importMods.set(d, (byId = new Map()));
    const hit = byId.get(attrs.id);
    if (hit !== undefined && this.interner.has(hit.id)) return hit;
    if (byId.size > 50_000) byId.clear();
    const input = withMods(attrs, d);
    const built = this.interner.internAttrs(d.priority !== undefined ? { ...input, kernelPriority: d.priority } : input);
    byId.set(attrs.id, built);
    return built;
  }

  /** The peer's BGP password from the Secret its secretKeyRef names (Kubernetes, or Secret documents in the file). */
  private secretValue(p: CalicoPeer): string | undefined {
    const ref = p.password?.secretKeyRef;
    if (ref === undefined) return undefined;
    const v = this.resources?.secrets?.[ref.name]?.[ref.key];
    if (v === undefined) {
      this.log.error({ peer: p.address, secret: ref.name, key: ref.key },
        'BGP password: Secret or key not found; the session runs without TCP MD5, and a peer that expects a password will not answer it');
    }
    return v;
  }

  private speakerPeer(p: CalicoPeer): PeerConfig {
    return {
      address: p.address,
      port: p.port,
      peerAs: p.asNumber,
      localAs: p.localAsNumber,
      passive: p.passive,
      localAddress: p.sourceAddress,
      password: this.secretValue(p),
      ttlSecurity: p.ttlSecurity,
      // Calico has no hold-time field; keepaliveTime implies hold = 3 × keepalive (RFC 4271 §10).
      holdTime: p.keepaliveTime !== undefined ? p.keepaliveTime * 3 : undefined,
      capabilities: {
        // Read when each OPEN is built (a function is not part of the peer's config identity).
        gracefulRestartTime: p.restartTime, restarting: () => this.restarting,
        // ADD-PATH send/receive on iBGP (as Calico's BIRD): a reflector carries every equal-cost
        // path, so ECMP survives route reflection (RFC 7911).
        addPath: p.asNumber === p.localAsNumber ? [{ family: IPV4_UNICAST, mode: 3 }, { family: IPV6_UNICAST, mode: 3 }] : [],
      },
    };
  }

  private applyPeers(cfg: NodeConfig): void {
    const want = new Map(cfg.peers.map((p) => [canonicalAddress(p.address), p]));
    for (const [addr, e] of this.sessions) {
      if (want.has(addr)) continue;
      this.speaker.removePeer(addr);
      this.exporter.leave(addr);
      clearTimeout(e.staleTimer);
      e.channel.down();
      this.sessions.delete(addr);
      this.log.info({ peer: addr }, 'peer removed from configuration');
    }
    for (const [addr, p] of want) {
      const e = this.sessions.get(addr);
      const sp = this.speakerPeer(p);
      if (e && JSON.stringify(e.calico) === JSON.stringify(p) && e.password === sp.password) continue;
      if (e) { this.exporter.leave(addr); e.channel.down(); }
      const channel = new Channel(this.rib, {
        localAs: [...new Set([cfg.asNumber, p.localAsNumber])], allowLocalAs: p.numAllowedLocalASNumbers,
        routerId: ipv4ToUint(cfg.routerId), clusterId: clusterIdOf(cfg),
        ibgp: p.asNumber === p.localAsNumber, rrClient: p.routeReflectorClient, log: this.log,
        maxPrefixes: p.maxPrefixes,
        onEndOfRib: () => this.checkDataplaneSync(),
        importFilter: p.filters.length === 0 ? undefined : (family, bytes, len, attrs) => {
          const d = this.importPolicy.evaluate({ family, bytes, len, attrs, source: RouteSource.Peer,
            fromPeerType: p.asNumber === p.localAsNumber ? PeerType.IBGP : PeerType.EBGP }, peerInfo(p));
          return d.accept ? this.importedAttrs(attrs, d) : d.reason;
        },
        onLimit: (count, max) => {
          const restart = p.maxPrefixesRestart ?? 60;
          const reason = `maximum prefixes exceeded: received ${count}, limit ${max} (annotation kite.dev/max-prefixes); restarting in ${restart} s`;
          this.log.warn({ peer: addr, count, max, restartSeconds: restart }, 'peer exceeded its prefix limit: sending Cease/Maximum Number of Prefixes Reached');
          // Deferred: the session is still inside its UPDATE callback.
          setImmediate(() => this.speaker.peer(addr)?.cease(CeaseSub.MaxPrefixes, reason, restart * 1000));
        },
      });
      if (e) clearTimeout(e.staleTimer);
      this.sessions.set(addr, { calico: p, channel, peerRestartTime: 0, password: sp.password });
      if (e) this.speaker.updatePeer(sp); else this.speaker.addPeer(sp);
      this.log.info({ peer: addr, asNumber: p.asNumber, passive: p.passive, name: p.name }, e ? 'peer reconfigured' : 'peer added');
    }
  }

  /** Originated blocks: into the Loc-RIB as local routes, and to every established peer. */
  private applyOrigination(cfg: NodeConfig): void {
    const want = new Map<string, Prefix>();
    for (const o of cfg.originate) want.set(o.prefix, parsePrefix(o.prefix));
    this.blocks = new Set(want.keys());
    // Service CIDRs are originated by every node (Calico's static routes), unless the node is
    // excluded from external load balancers; the export policy decides who receives them.
    if (cfg.services.advertise) {
      for (const c of [...cfg.services.clusterIPs, ...cfg.services.externalIPs, ...cfg.services.loadBalancerIPs]) {
        const p = parsePrefix(c);
        want.set(formatPrefix(p.family, p.bytes, p.len), p);
      }
    }
    const removed: Prefix[] = [];
    const added: Prefix[] = [];
    for (const [k, p] of this.local) if (!want.has(k)) { removed.push(p); this.local.delete(k); }
    for (const [k, p] of want) if (!this.local.has(k)) { added.push(p); this.local.set(k, p); }
    for (const p of removed) this.rib.withdraw(LOCAL_PEER, p.family, p.bytes, p.len, 0);
    for (const p of added) this.rib.announce(LOCAL_PEER, p.family, p.bytes, p.len, 0, this.localAttrs(p.family).id);
  }

  /** The Loc-RIB view of a local route: ORIGIN IGP, empty AS path, unspecified next hop. */
  private localAttrs(family: FamilyKey) {
    return this.interner.internAttrs({
      origin: Origin.IGP, asPath: [], nextHop: family === IPV4_UNICAST ? '0.0.0.0' : '::',
      atomicAggregate: false, unknown: [],
    });
  }

  // ---- StatusProvider -------------------------------------------------------------

  summary(): Summary {
    return {
      node: this.opts.node,
      routerId: this.cfg.routerId,
      asNumber: this.cfg.asNumber,
      peers: this.peerStatus(),
      ribIPv4: this.rib.countIPv4,
      ribIPv6: this.rib.countIPv6,
    };
  }


  peers(): PeerStatus[] { return this.peerStatus(); }

  private peerStatus(): PeerStatus[] {
    return this.speaker.status().map((s) => {
      const id = canonicalAddress(s.address);
      const ch = this.sessions.get(id)?.channel.status();
      return {
        address: s.address,
        asNumber: s.asNumber,
        state: s.state,
        prefixesReceived: ch?.prefixesReceived ?? 0,
        prefixesAccepted: ch?.prefixesAccepted ?? 0,
        prefixesAdvertised: this.exporter.advertised(id),
        lastError: s.lastError,
      };
    });
  }

  fib(): FibReport {
    if (!this.dp) return { enabled: false, protocol: 0, table: 0, inSync: false, lastResync: null, routes: [], notes: ['the linux dataplane is off (--dataplane none)'] };
    const s = this.dp.status();
    return {
      enabled: true, protocol: s.protocol, table: s.table, inSync: s.inSync, lastResync: s.lastResync, notes: s.notes,
      routes: s.routes.map((r) => ({ prefix: r.prefix, source: r.source, state: r.state, desired: r.desired ?? null, kernel: r.kernel ?? null, reason: r.reason })),
    };
  }

  routes(filter: { prefix?: string }): ReturnType<StatusProvider['routes']> {
    return filter.prefix ? lookupRoute(this.rib, filter.prefix) : allRoutes(this.rib);
  }
}

/** The route-reflector cluster ID as a uint32 (Calico writes it as a dotted quad). */
function clusterIdOf(cfg: NodeConfig): number | undefined {
  return cfg.routeReflectorClusterID === undefined ? undefined : ipv4ToUint(cfg.routeReflectorClusterID);
}

