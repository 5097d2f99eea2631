// The BGP instance's answers to the control API (src/api) and the metrics (src/metrics): summary,
// peers (in brief and in full), Loc-RIB routes, one peer's Adj-RIB-In/Out, the derived configuration
// with its sources, the dataplane's report, and the operator's actions on a peer.
import type {
  AdjDirection, AdjRoute, ConfigReport, FamilyPrefixes, FibReport, PeerActionName, PeerActionResult, PeerDetail, PeerStatus,
  StatusProvider, Summary,
} from './api/types.js';
import { allRoutes, lookupRoute, pathStatus } from './api/view.js';
import { canonicalAddress } from './bgp/address.js';
import type { PeerSessionStatus } from './bgp/speaker.js';
import { explainConfig, peerType } from './config/provenance.js';
import type { PeerConfig } from './config/types.js';
import type { FibStatus, RouteCounts } from './dataplane/index.js';
import type { Resources } from './datastore/resources.js';
import type { MetricPeer, NodeSnapshot } from './metrics/metrics.js';
import type { BgpInstance } from './rib/instance.js';
import type { Rib } from './rib/rib.js';
import { sortedSlots } from './rib/view.js';

export interface InstanceParts {
  node: string;
  rib: Rib;
  bgp: BgpInstance;
  /** The Linux dataplane's status; null with --dataplane none. */
  fib(): FibStatus | null;
  /** Its routes counted by state and refusal reason; null with --dataplane none. */
  fibCounts(): RouteCounts | null;
  /** The snapshot the configuration in force was derived from (for `kite show config`'s sources). */
  resources(): Resources | null;
  datastore(): NodeSnapshot['datastore'];
}

/** Thrown for a request about an address that is not a configured peer (the API answers NOT_FOUND). */
export class UnknownPeerError extends Error {
  constructor(address: string) {
    super(`${address} is not a configured peer (see kite show peers)`);
    this.name = 'UnknownPeerError';
  }
}

export class InstanceStatus implements StatusProvider {
  constructor(private readonly p: InstanceParts) {}

  summary(): Summary {
    const cfg = this.p.bgp.config;
    return { node: this.p.node, routerId: cfg.routerId, asNumber: cfg.asNumber, peers: this.peers(),
      ribIPv4: this.p.rib.countIPv4, ribIPv6: this.p.rib.countIPv6 };
  }

  peers(): PeerStatus[] {
    return this.p.bgp.speaker.status().map((s) => this.peerStatus(s));
  }

  /** peers() with each peer's key (its address, or address:port off port 179): the metrics' peer label. */
  metricPeers(): MetricPeer[] {
    return this.p.bgp.speaker.status().map((s) => ({ ...this.peerStatus(s), key: s.key }));
  }

  private peerStatus(s: PeerSessionStatus): PeerStatus {
    const { bgp } = this.p;
    const ch = bgp.channels.get(s.key);
    const st = ch?.status();
    const adv = bgp.exporter.advertisedByFamily(s.key);
    const fam = (f: 'ipv4' | 'ipv6'): FamilyPrefixes => {
      const c = st?.[f];
      return { received: c?.received ?? 0, accepted: c?.accepted ?? 0, rejectedPolicy: c?.rejectedPolicy ?? 0, rejectedLoop: c?.rejectedLoop ?? 0, advertised: adv[f] };
    };
    const out: PeerStatus = {
      address: s.address,
      asNumber: s.asNumber,
      state: s.state,
      prefixesReceived: st?.prefixesReceived ?? 0,
      prefixesAccepted: st?.prefixesAccepted ?? 0,
      prefixesAdvertised: adv.ipv4 + adv.ipv6,
      lastError: s.lastError,
      sinceSeconds: Math.floor(s.sinceMs / 1000),
      disabled: s.disabled,
      ipv4: fam('ipv4'),
      ipv6: fam('ipv6'),
      maxPrefixes: st?.maxPrefixes ?? null,
    };
    if (ch) { out.peerType = peerType(ch.config); out.name = ch.config.name; }
    return out;
  }

  peer(address: string): PeerDetail | null {
    const { bgp } = this.p;
    const s = bgp.speaker.peer(address)?.status();
    const ch = s === undefined ? undefined : bgp.channels.get(s.key);
    if (s === undefined || ch === undefined) return null;
    const c: PeerConfig = ch.config;
    const d = s.detail;
    return {
      ...this.peerStatus(s),
      channelState: ch.state,
      session: {
        port: s.port, passive: s.passive, localAs: c.localAsNumber, holdTime: d.holdTime, keepaliveTime: d.keepaliveTime,
        connectRetryTime: d.connectRetryTime, localAddress: d.localAddress, remoteRouterId: d.remoteBgpId, connection: d.connection,
        uptimeSeconds: Math.floor(s.uptimeMs / 1000), families: d.families, capabilities: d.capabilities,
      },
      counters: {
        messagesReceived: s.counters.messagesIn, messagesSent: s.counters.messagesOut, updatesReceived: s.counters.updatesIn,
        updatesSent: s.counters.updatesOut, notificationsReceived: s.counters.notificationsIn, notificationsSent: s.counters.notificationsOut,
        establishedTransitions: s.counters.establishedTransitions, connectRetries: s.counters.connectRetryCounter,
      },
      gracefulRestart: { localRestartTime: c.restartTime, peerRestartTime: d.peerRestartTime, peerRestarting: d.peerRestarting, staleRoutes: ch.staleRoutes() },
      config: {
        sourceAddress: c.sourceAddress ?? null, password: c.password !== undefined, ttlSecurity: c.ttlSecurity ?? null,
        nextHopMode: c.nextHopMode, filters: c.filters, resource: c.resource ?? '',
      },
    };
  }

  /** Adj-RIB-In as accepted (the attributes after the import policy), or Adj-RIB-Out as sent. */
  adjRib(address: string, direction: AdjDirection): AdjRoute[] {
    const { bgp, rib } = this.p;
    const ch = bgp.channels.get(address);
    if (ch === undefined) throw new UnknownPeerError(address);
    const peer = canonicalAddress(ch.config.address);
    const rows: { slot: number; pathId: number; route: AdjRoute }[] = [];
    if (direction === 'received') {
      for (const p of ch.receivedPaths()) {
        const slot = rib.pathPrefix(p);
        rows.push({ slot, pathId: rib.pathId(p), route: { prefix: rib.prefixes.text(slot), pathId: rib.pathId(p), path: pathStatus(rib.pathAttrs(p), peer, rib.best(slot) === p) } });
      }
    } else {
      for (const e of bgp.exporter.adjRibOut(ch.key)) {
        rows.push({ slot: e.slot, pathId: e.pathId, route: { prefix: rib.prefixes.text(e.slot), pathId: e.pathId, path: pathStatus(e.attrs, null, false) } });
      }
    }
    // In the Loc-RIB's order (IPv4 first, by address), then by path ID.
    const order = new Map(sortedSlots(rib).map((s, i) => [s, i]));
    rows.sort((a, b) => (order.get(a.slot) ?? 0) - (order.get(b.slot) ?? 0) || a.pathId - b.pathId);
    return rows.map((r) => r.route);
  }

  configReport(): ConfigReport {
    const cfg = this.p.bgp.config;
    return { node: cfg.node, ...explainConfig(cfg, this.p.resources()), notes: cfg.notes };
  }

  peerAction(address: string, action: PeerActionName, reason: string): PeerActionResult {
    const speaker = this.p.bgp.speaker;
    const before = speaker.peer(address)?.status();
    if (before === undefined) throw new UnknownPeerError(address);
    const ok = speaker.peerAction(address, action, reason);
    const a = before.address;
    switch (action) {
      case 'disable':
        return { ok, message: before.disabled ? `${a} was already disabled` : `${a} disabled: Cease/Administrative Shutdown sent${before.state === 'Established' ? '' : ' (no session was up)'}; held down until \`kite peer enable ${a}\`` };
      case 'enable':
        return { ok, message: before.disabled ? `${a} enabled: the session starts again` : `${a} was not disabled` };
      case 'reset':
        return before.disabled
          ? { ok: false, message: `${a} is disabled; enable it first` }
          : { ok, message: `${a} reset: Cease/Administrative Reset sent${before.state === 'Established' ? '' : ' (no session was up)'}; the session starts again` };
      case 'refresh':
        return ok
          ? { ok, message: `${a}: ROUTE-REFRESH sent for ${speaker.peer(a)?.status().detail.families.join(', ')}` }
          : { ok, message: `${a}: no ROUTE-REFRESH sent (${before.state === 'Established' ? 'the peer did not announce route refresh' : `the session is ${before.state}`})` };
    }
  }

  fib(): FibReport {
    const s = this.p.fib();
    if (s === null) return { enabled: false, protocol: 0, table: 0, inSync: false, lastResync: null, routes: [], notes: ['the linux dataplane is off (--dataplane none)'] };
    return {
      enabled: true, protocol: s.protocol, table: s.table, inSync: s.inSync, lastResync: s.lastResync, notes: s.notes,
      routes: s.routes.map((r) => ({ prefix: r.prefix, source: r.source, state: r.state, desired: r.desired ?? null, kernel: r.kernel ?? null, reason: r.reason })),
    };
  }

  routes(filter: { prefix?: string }): ReturnType<StatusProvider['routes']> {
    return filter.prefix ? lookupRoute(this.p.rib, filter.prefix) : allRoutes(this.p.rib);
  }

  /** The node-wide numbers the metrics read at each scrape. */
  nodeSnapshot(): NodeSnapshot {
    const { rib } = this.p;
    const dataplane = this.p.fibCounts();
    return {
      rib: { prefixesIPv4: rib.countIPv4, prefixesIPv6: rib.countIPv6, paths: rib.pathCount, bestPathChanges: rib.bestChangeCount },
      dataplane,
      datastore: this.p.datastore(),
    };
  }
}
