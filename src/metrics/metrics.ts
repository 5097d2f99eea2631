// Kite's Prometheus metrics (prom-client): per-peer session and prefix metrics labelled by peer
// address, peer type and AS (never per prefix), and node-wide RIB, dataplane and datastore metrics.
// Events are counted in plain maps as they happen; everything is turned into samples at scrape time.
// prom-client itself (~10 MiB of RSS) is loaded at the first scrape, not at start (issue 16: a
// daemon nobody scrapes does not carry it); dataplane apply times observed before then are kept
// and replayed into the histogram, so nothing is lost.
import type { Histogram, Registry } from 'prom-client';
import type { FamilyPrefixes, PeerState, PeerStatus } from '../api/types.js';
import type { StateName } from '../bgp/fsm/fsm.js';
import type { SpeakerMeter } from '../bgp/speaker.js';
import type { SyncStatus } from '../datastore/datastore.js';
import { Lazy } from '../lazy.js';

/** The FSM states, in RFC 4271 §8.2.2 order: every peer has one series per state (a state set). */
export const PEER_STATES: readonly PeerState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];
export const SYNC_STATES: readonly SyncStatus[] = ['waiting', 'resyncing', 'in-sync'];
/** The dataplane route states counted by kite_dataplane_routes (src/dataplane/status.ts FibState). */
export const ROUTE_STATES = ['programmed', 'pending', 'failed', 'conflict', 'stale', 'refused', 'waiting'] as const;

/** BGP message type names (RFC 4271 §4.1, RFC 2918 §3) for the `type` label. */
const MESSAGE_TYPES: Record<number, string> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'route-refresh' };

/** Node-wide numbers read at each scrape. */
export interface NodeSnapshot {
  rib: { prefixesIPv4: number; prefixesIPv6: number; paths: number; bestPathChanges: number };
  /** null with --dataplane none. */
  dataplane: { byState: ReadonlyMap<string, number>; refused: ReadonlyMap<string, number> } | null;
  datastore: { status: SyncStatus; watchRestarts: ReadonlyMap<string, number> };
}

/** A peer as the metrics see it: its status, and its key (the address, or address:port off 179). */
export type MetricPeer = PeerStatus & { key: string };

/** What the metrics read at scrape time: the daemon's status views. */
export interface MetricsSource {
  peers(): MetricPeer[];
  node(): NodeSnapshot;
}

type Dir = 'in' | 'out';
const LABELS = ['peer', 'peer_type', 'peer_as'] as const;

/** Counts per peer (its key), then per key (a message type, "code/subcode"). */
class PeerCounts {
  private readonly by = new Map<string, Map<string, number>>();
  add(peer: string, key: string, n = 1): void {
    let m = this.by.get(peer);
    if (m === undefined) this.by.set(peer, (m = new Map()));
    m.set(key, (m.get(key) ?? 0) + n);
  }
  of(peer: string): ReadonlyMap<string, number> { return this.by.get(peer) ?? new Map(); }
}

export interface KiteMetricsOptions {
  /** Node.js and process metrics (process_*, nodejs_*); off in unit tests that count series. */
  defaultMetrics?: boolean;
  /** Where a failed load of prom-client is reported (it is tried again at the next scrape). */
  log?: { warn(obj: object, msg: string): void };
  /** For tests: how prom-client is loaded (a load that fails, then one that works). */
  loadPromClient?: () => Promise<PromClient>;
}

type PromClient = typeof import('prom-client');

/** Observations kept before prom-client is loaded; past this many it is loaded to take them. */
const PENDING_LIMIT = 4096;

export class KiteMetrics {
  /** A load that failed is not kept: the next scrape, or the next full replay buffer, loads again. */
  private readonly built = new Lazy(() => this.build());
  private ctype = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly defaultMetrics: boolean;
  private readonly log: KiteMetricsOptions['log'];
  private readonly loadPromClient: () => Promise<PromClient>;
  private source: MetricsSource | null = null;
  /** The source read once per scrape (every family's collect reads it): null between scrapes. */
  private current: { peers: MetricPeer[]; node: NodeSnapshot } | null = null;
  private readonly messages = { in: new PeerCounts(), out: new PeerCounts() };
  private readonly notifications = { in: new PeerCounts(), out: new PeerCounts() };
  private readonly transitions = new PeerCounts();
  private resyncCount = 0;
  private applyHistogram: Histogram<'result'> | undefined;
  private pendingApplies: [result: string, seconds: number][] = [];
  /** Failed netlink requests by "op code". */
  private readonly netlinkErrorCounts = new Map<string, number>();

  /** The speaker's events (messages, NOTIFICATIONs, state changes), counted per peer address. */
  readonly speakerMeter: SpeakerMeter = {
    message: (peer, dir, type, count = 1) => this.messages[dir].add(peer, MESSAGE_TYPES[type] ?? String(type), count),
    notification: (peer, dir, code, subcode) => this.notifications[dir].add(peer, `${code}/${subcode}`),
    stateChange: (peer, from: StateName, to: StateName) => {
      if (to === 'Established') this.transitions.add(peer, 'established');
      if (from === 'Established') this.transitions.add(peer, 'flap');
    },
  };

  constructor(o: KiteMetricsOptions = {}) {
    this.defaultMetrics = o.defaultMetrics ?? true;
    this.log = o.log;
    this.loadPromClient = o.loadPromClient ?? (() => import('prom-client'));
  }

  /** The prom-client registry with every family; prom-client is loaded at the first call. */
  registry(): Promise<Registry> {
    return this.built.get();
  }

  private async build(): Promise<Registry> {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = await this.loadPromClient();
    const registry = new Registry();
    this.ctype = registry.contentType;
    const r = [registry];
    if (this.defaultMetrics) collectDefaultMetrics({ register: registry });
    const self = this;
    const peers = (): MetricPeer[] => self.current?.peers ?? self.source?.peers() ?? [];
    // The key, not the address: two BGPPeers to one address on different ports are two peers.
    const labels = (p: MetricPeer): Record<(typeof LABELS)[number], string> =>
      ({ peer: p.key, peer_type: p.peerType ?? 'unknown', peer_as: String(p.asNumber) });
    const fams = (p: MetricPeer): [string, FamilyPrefixes | undefined][] => [['ipv4', p.ipv4], ['ipv6', p.ipv6]];

    // ---- per peer: session -----------------------------------------------------------
    new Gauge({ name: 'kite_bgp_session_up', help: '1 when the BGP session with the peer is Established, else 0.', labelNames: LABELS, registers: r,
      collect() { this.reset(); for (const p of peers()) this.set(labels(p), p.state === 'Established' ? 1 : 0); } });
    new Gauge({ name: 'kite_bgp_session_state', help: 'The BGP FSM state of the session (RFC 4271 §8.2.2): 1 for the current state, 0 for the others.',
      labelNames: [...LABELS, 'state'], registers: r,
      collect() { this.reset(); for (const p of peers()) for (const s of PEER_STATES) this.set({ ...labels(p), state: s }, p.state === s ? 1 : 0); } });
    new Gauge({ name: 'kite_bgp_session_state_seconds', help: 'Seconds since the session last changed state.', labelNames: LABELS, registers: r,
      collect() { this.reset(); for (const p of peers()) this.set(labels(p), p.sinceSeconds ?? 0); } });
    new Gauge({ name: 'kite_bgp_session_disabled', help: '1 while the peer is held down by `kite peer disable`.', labelNames: LABELS, registers: r,
      collect() { this.reset(); for (const p of peers()) this.set(labels(p), p.disabled === true ? 1 : 0); } });
    const transitionCounter = (name: string, key: string, help: string): void => {
      new Counter({ name, help, labelNames: LABELS, registers: r,
        collect() { this.reset(); for (const p of peers()) this.inc(labels(p), self.transitions.of(p.key).get(key) ?? 0); } });
    };
    transitionCounter('kite_bgp_session_established_transitions_total', 'established', 'Times the session reached Established.');
    transitionCounter('kite_bgp_session_flaps_total', 'flap', 'Times the session left Established (a flap).');
    for (const [dir, word] of [['in', 'received'], ['out', 'sent']] as const) {
      new Counter({ name: `kite_bgp_messages_${word}_total`, help: `BGP messages ${word}, by type (open, update, notification, keepalive, route-refresh).`,
        labelNames: [...LABELS, 'type'], registers: r,
        collect() {
          this.reset();
          for (const p of peers()) for (const [type, n] of self.messages[dir].of(p.key)) this.inc({ ...labels(p), type }, n);
        } });
      new Counter({ name: `kite_bgp_notifications_${word}_total`, help: `BGP NOTIFICATION messages ${word}, by error code and subcode (RFC 4271 §4.5).`,
        labelNames: [...LABELS, 'code', 'subcode'], registers: r,
        collect() {
          this.reset();
          for (const p of peers()) {
            for (const [key, n] of self.notifications[dir].of(p.key)) {
              const [code = '0', subcode = '0'] = key.split('/');
              this.inc({ ...labels(p), code, subcode }, n);
            }
          }
        } });
    }

    // ---- per peer: prefixes ----------------------------------------------------------
    const famGauge = (name: string, help: string, value: (f: FamilyPrefixes) => number): void => {
      new Gauge({ name, help, labelNames: [...LABELS, 'family'], registers: r,
        collect() { this.reset(); for (const p of peers()) for (const [family, f] of fams(p)) if (f) this.set({ ...labels(p), family }, value(f)); } });
    };
    famGauge('kite_bgp_prefixes_received', 'Prefixes the peer announced and Kite holds in its Adj-RIB-In, accepted or rejected.', (f) => f.received);
    famGauge('kite_bgp_prefixes_accepted', 'Prefixes from the peer accepted into the RIB.', (f) => f.accepted);
    famGauge('kite_bgp_prefixes_advertised', 'Prefixes Kite advertises to the peer (its Adj-RIB-Out).', (f) => f.advertised);
    new Gauge({ name: 'kite_bgp_prefixes_rejected', help: 'Prefixes from the peer rejected, by reason: policy (import BGPFilter) or loop (AS_PATH, ORIGINATOR_ID, CLUSTER_LIST).',
      labelNames: [...LABELS, 'family', 'reason'], registers: r,
      collect() {
        this.reset();
        for (const p of peers()) {
          for (const [family, f] of fams(p)) {
            if (!f) continue;
            this.set({ ...labels(p), family, reason: 'policy' }, f.rejectedPolicy);
            this.set({ ...labels(p), family, reason: 'loop' }, f.rejectedLoop);
          }
        }
      } });
    new Gauge({ name: 'kite_bgp_prefix_limit', help: 'The most prefixes accepted from the peer (kite.dev/max-prefixes); only peers with a limit.', labelNames: LABELS, registers: r,
      collect() { this.reset(); for (const p of peers()) if (p.maxPrefixes != null) this.set(labels(p), p.maxPrefixes); } });
    new Gauge({ name: 'kite_bgp_prefix_limit_usage_ratio', help: 'Accepted prefixes over the limit (1 is the limit); only peers with a limit.', labelNames: LABELS, registers: r,
      collect() { this.reset(); for (const p of peers()) if (p.maxPrefixes != null && p.maxPrefixes > 0) this.set(labels(p), p.prefixesAccepted / p.maxPrefixes); } });

    // ---- node-wide -----------------------------------------------------------------------
    const node = (): NodeSnapshot | null => self.current?.node ?? self.source?.node() ?? null;
    new Gauge({ name: 'kite_rib_prefixes', help: 'Prefixes in the Loc-RIB.', labelNames: ['family'], registers: r,
      collect() { const n = node(); this.reset(); if (n) { this.set({ family: 'ipv4' }, n.rib.prefixesIPv4); this.set({ family: 'ipv6' }, n.rib.prefixesIPv6); } } });
    new Gauge({ name: 'kite_rib_paths', help: 'Paths in the RIB (every peer\'s accepted paths and this node\'s own).', registers: r,
      collect() { const n = node(); this.set(n?.rib.paths ?? 0); } });
    new Counter({ name: 'kite_rib_best_path_changes_total', help: 'Best-path changes in the Loc-RIB (a new, changed or withdrawn best path).', registers: r,
      collect() { const n = node(); this.reset(); this.inc(n?.rib.bestPathChanges ?? 0); } });
    new Gauge({ name: 'kite_dataplane_routes', help: 'Routes the Linux dataplane holds, by state (programmed, pending, failed, conflict, stale, refused, waiting).',
      labelNames: ['state'], registers: r,
      collect() {
        const d = node()?.dataplane;
        this.reset();
        if (d) for (const s of ROUTE_STATES) this.set({ state: s }, d.byState.get(s) ?? 0);
      } });
    new Gauge({ name: 'kite_dataplane_routes_refused', help: 'Routes refused by the dataplane, by reason (a fixed set: src/dataplane/desired.ts Refusal).',
      labelNames: ['reason'], registers: r,
      collect() { const d = node()?.dataplane; this.reset(); if (d) for (const [reason, n] of d.refused) this.set({ reason }, n); } });
    const hist = new Histogram({ name: 'kite_dataplane_apply_duration_seconds', help: 'Time to apply one round of dataplane changes to the kernel.',
      labelNames: ['result'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r });
    for (const [result, seconds] of this.pendingApplies) hist.observe({ result }, seconds);
    this.pendingApplies = [];
    this.applyHistogram = hist;
    new Counter({ name: 'kite_netlink_errors_total', help: 'Failed netlink requests, by operation and errno name.', labelNames: ['op', 'code'], registers: r,
      collect() {
        this.reset();
        for (const [key, n] of self.netlinkErrorCounts) {
          const [op = '', code = ''] = key.split(' ');
          this.inc({ op, code }, n);
        }
      } });
    new Gauge({ name: 'kite_datastore_sync_state', help: 'The datastore sync status (waiting, resyncing, in-sync): 1 for the current one.', labelNames: ['state'], registers: r,
      collect() { const n = node(); this.reset(); for (const s of SYNC_STATES) this.set({ state: s }, n?.datastore.status === s ? 1 : 0); } });
    new Counter({ name: 'kite_datastore_resyncs_total', help: 'Times the datastore started a resync (a new full listing).', registers: r,
      collect() { this.reset(); this.inc(self.resyncCount); } });
    new Counter({ name: 'kite_datastore_watch_restarts_total', help: 'Times a datastore watch ended and was started again, by resource.', labelNames: ['resource'], registers: r,
      collect() { const d = node()?.datastore; this.reset(); if (d) for (const [resource, n] of d.watchRestarts) this.inc({ resource }, n); } });
    return registry;
  }

  /** Where the scrape-time numbers come from (the daemon, once its BGP instance exists). */
  setSource(s: MetricsSource): void { this.source = s; }

  /** A dataplane apply finished (src/dataplane/scheduler.ts). */
  dataplaneApplied(seconds: number, ok: boolean): void {
    const result = ok ? 'ok' : 'failed';
    if (this.applyHistogram !== undefined) { this.applyHistogram.observe({ result }, seconds); return; }
    this.pendingApplies.push([result, seconds]);
    // Once per PENDING_LIMIT observations, so a prom-client that does not load is tried (and
    // logged) again now and then, not at every apply; the buffer is kept for the next try.
    if (this.pendingApplies.length % PENDING_LIMIT === 0) {
      this.registry().catch((err: unknown) => {
        this.log?.warn({ err: err instanceof Error ? err.message : String(err), pending: this.pendingApplies.length }, 'metrics: cannot load prom-client');
      });
    }
  }

  netlinkError(op: string, code: string): void {
    const key = `${op} ${code}`;
    this.netlinkErrorCounts.set(key, (this.netlinkErrorCounts.get(key) ?? 0) + 1);
  }

  /** The datastore's sync status changed; entering `resyncing` counts one resync. */
  datastoreStatus(s: SyncStatus): void { if (s === 'resyncing') this.resyncCount++; }

  /** The exposition text (Prometheus text format 0.0.4); the daemon's views are read once for it. */
  async expose(): Promise<string> {
    const registry = await this.registry();
    const s = this.source;
    this.current = s === null ? null : { peers: s.peers(), node: s.node() };
    try {
      return await registry.metrics();
    } finally {
      this.current = null;
    }
  }
  /** The exposition's content type (prom-client's, once loaded). */
  get contentType(): string { return this.ctype; }
}
