// The BGP instance's answers to the control API (src/api): summary, peers, Loc-RIB routes and the
// dataplane's report, read from the speaker, the channels, the update groups and the RIB.
import type { FibReport, PeerStatus, StatusProvider, Summary } from './api/types.js';
import type { FibStatus } from './dataplane/index.js';
import type { BgpInstance } from './rib/instance.js';
import type { Rib } from './rib/rib.js';
import { allRoutes, lookupRoute } from './api/view.js';

export interface InstanceParts {
  node: string;
  rib: Rib;
  bgp: BgpInstance;
  /** The Linux dataplane's status; null with --dataplane none. */
  fib(): FibStatus | null;
}

export class InstanceStatus implements StatusProvider {
  constructor(private readonly p: InstanceParts) {}

  summary(): Summary {
    const cfg = this.p.bgp.config;
    return { node: this.p.node, routerId: cfg.routerId, asNumber: cfg.asNumber, peers: this.peers(),
      ribIPv4: this.p.rib.countIPv4, ribIPv6: this.p.rib.countIPv6 };
  }

  peers(): PeerStatus[] {
    return this.p.bgp.speaker.status().map((s) => {
      const ch = this.p.bgp.channels.status(s.address);
      return {
        address: s.address,
        asNumber: s.asNumber,
        state: s.state,
        prefixesReceived: ch?.prefixesReceived ?? 0,
        prefixesAccepted: ch?.prefixesAccepted ?? 0,
        prefixesAdvertised: this.p.bgp.exporter.advertised(s.address),
        lastError: s.lastError,
      };
    });
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
}
