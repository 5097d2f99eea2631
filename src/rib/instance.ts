// The BGP instance (BIRD's protocol instance): the speaker, one channel per configured peer,
// the update groups, the route policy and this node's own routes, around one RIB. The daemon
// feeds it the calc pipeline's deltas; identity (AS, router ID, port) is fixed for its lifetime.
import type { Logger } from 'pino';
import { Speaker, type SpeakerMeter } from '../bgp/speaker.js';
import type { Clock } from '../bgp/timers.js';
import { ipv4ToUint } from '../bgp/wire/prefix.js';
import type { NodeConfig } from '../config/types.js';
import type { BGPFilter } from '../datastore/resources.js';
import type { RestartView } from './channel.js';
import { Channels } from './channels.js';
import { Exporter } from './export.js';
import type { Interner } from './intern.js';
import { LocalRoutes } from './local.js';
import { RoutePolicy } from './policy.js';
import type { Rib } from './rib.js';

export interface BgpInstanceOptions {
  rib: Rib;
  interner: Interner;
  /** The first configuration: its identity stays until a restart. */
  config: NodeConfig;
  filters: readonly BGPFilter[];
  listenAddress?: string | undefined;
  /** The host interface a next hop is reached on, for BGPFilter `interface` rules on learned routes (net/connected.ts). */
  nextHopInterface?: (nextHop: string) => string | undefined;
  /** Whether a next hop is on a connected subnet of the host: single-hop sessions' check (net/connected.ts). */
  onConnectedSubnet?: (nextHop: string) => boolean;
  /** Overrides the configuration's listen port (0: any, for tests). */
  listenPort?: number | undefined;
  restart: RestartView;
  clock: Clock;
  log: Logger;
  /** A peer's first End-of-RIB (see channels.allEndOfRib). */
  onEndOfRib(): void;
  /** Counts the sessions' messages and state changes (the metrics). */
  meter?: SpeakerMeter;
}

export class BgpInstance {
  readonly local: LocalRoutes;
  readonly policy: RoutePolicy;
  readonly exporter: Exporter;
  readonly speaker: Speaker;
  readonly channels: Channels;
  /** The configuration in force, read by the channels when a peer is (re)configured or comes up. */
  private readonly current: { config: NodeConfig };

  /** Throws ConfigError when the configuration's BGPFilters do not compile. */
  constructor(private readonly o: BgpInstanceOptions) {
    const { rib, interner, config: cfg, log } = o;
    this.current = { config: cfg };
    for (const note of cfg.notes) log.info({ note }, 'configuration note');
    this.local = new LocalRoutes(rib, interner);
    this.policy = new RoutePolicy({ rib, interner, local: this.local, ...(o.nextHopInterface !== undefined ? { nextHopInterface: o.nextHopInterface } : {}) }, cfg, o.filters);
    for (const note of this.policy.notes) log.info({ note }, 'export policy note');
    this.exporter = new Exporter(rib, interner, { routerId: ipv4ToUint(cfg.routerId), log, policy: this.policy.exportCheck,
      clusterId: cfg.routeReflectorClusterID === undefined ? undefined : ipv4ToUint(cfg.routeReflectorClusterID) });
    this.speaker = new Speaker({ localAs: cfg.asNumber, routerId: cfg.routerId, logger: log, listenAddress: o.listenAddress ?? bindAddresses(cfg),
      listenPort: o.listenPort ?? cfg.listenPort, interner, clock: o.clock, ...(o.meter ? { meter: o.meter } : {}) });
    this.channels = new Channels({ rib, speaker: this.speaker, exporter: this.exporter, policy: this.policy, instance: this.current,
      restart: o.restart, clock: o.clock, log, onEndOfRib: () => o.onEndOfRib(),
      ...(o.onConnectedSubnet !== undefined ? { onConnectedSubnet: o.onConnectedSubnet } : {}) });
    this.speaker.setConsumer(this.channels);
  }

  get config(): NodeConfig { return this.current.config; }

  /** A new valid configuration (peers and routes follow as deltas): identity stays, policy is recompiled. */
  reconfigure(cfg: NodeConfig, filters: readonly BGPFilter[]): void {
    const old = this.current.config;
    if (old.asNumber !== cfg.asNumber || old.routerId !== cfg.routerId || old.listenPort !== cfg.listenPort || old.bindMode !== cfg.bindMode) {
      this.o.log.warn({ old: { asNumber: old.asNumber, routerId: old.routerId, listenPort: old.listenPort, bindMode: old.bindMode },
        new: { asNumber: cfg.asNumber, routerId: cfg.routerId, listenPort: cfg.listenPort, bindMode: cfg.bindMode } },
      'asNumber, router ID, listen port and bindMode changes take effect after a restart; other changes are applied now');
    }
    this.current.config = { ...cfg, asNumber: old.asNumber, routerId: old.routerId, listenPort: old.listenPort, bindMode: old.bindMode };
    try {
      this.policy.update(this.current.config, filters);
      this.exporter.reevaluate();
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'export policy rejected; the previous one stays in force');
    }
  }

  /** Listens and starts every configured peer. */
  start(): Promise<void> { return this.speaker.start(); }

  /** Cease/Administrative Shutdown to every peer (with `restart`: dropped without a word, so they keep our routes); timers end. */
  async stop(reason: string, how: { restart?: boolean } = {}): Promise<void> {
    await this.speaker.stop(reason, how);
    this.channels.stop();
  }
}

/**
 * BGPConfiguration bindMode NodeIP: listen only on the node's own addresses (confd's
 * populateNodeConfig sets BIRD's `listen bgp address` to the node IP per family), one listener
 * each for IPv4 and IPv6; None (the default): every address.
 */
function bindAddresses(cfg: NodeConfig): string[] | undefined {
  if (cfg.bindMode !== 'NodeIP') return undefined;
  const list = [cfg.ipv4Address?.address, cfg.ipv6Address?.address].filter((a): a is string => a !== undefined);
  return list.length > 0 ? list : undefined;
}
