// The calculation pipeline (rxjs): datastore snapshots and sync status in, this node's desired
// state out — BGP configuration (peer set, originated routes, policy inputs) and dataplane
// intents (workloads, Calico node addresses). Pure: no I/O; the daemon subscribes and applies.
// An invalid snapshot produces a `rejected` event and nothing else, so the last good desired
// state stays in force; nothing downstream may prune or withdraw before `inSync` is true.
import { Observable, combineLatest, distinctUntilChanged, filter, map, share, shareReplay } from 'rxjs';
import { deriveNodeConfig, type NodeConfig, type PeerConfig } from '../config/node-config.js';
import type { SyncStatus } from '../datastore/datastore.js';
import type { BGPFilter, Resources, WorkloadEndpoint } from '../datastore/resources.js';

/** One step of derivation: the config for this node, or why the snapshot was rejected. */
export type Derived =
  | { ok: true; config: NodeConfig; resources: Resources }
  | { ok: false; error: Error };

export interface DesiredState {
  /** Every accepted snapshot with the configuration derived from it. */
  accepted: Observable<{ config: NodeConfig; resources: Resources }>;
  /** Every valid derived configuration (also when only notes changed). */
  config: Observable<NodeConfig>;
  /** Snapshots that could not be turned into a configuration; the previous one stays. */
  rejected: Observable<Error>;
  /** The peer set, emitted only when it changes. */
  peers: Observable<readonly PeerConfig[]>;
  /** Originated prefixes (own blocks, then service CIDRs), only when they change. */
  originated: Observable<readonly string[]>;
  /** BGPFilter resources (policy inputs), only when they change. */
  filters: Observable<readonly BGPFilter[]>;
  /** This node's WorkloadEndpoints (dataplane intents), only when they change. */
  workloads: Observable<readonly WorkloadEndpoint[]>;
  /** True once the datastore is in sync and a valid configuration exists: pruning is allowed from then on. */
  inSync: Observable<boolean>;
}

const sameJson = <T>(a: T, b: T): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What this node originates: its blocks, then the service CIDRs unless excluded. */
export function originatedPrefixes(cfg: NodeConfig): string[] {
  const out = cfg.originate.map((o) => o.prefix);
  if (cfg.services.advertise) out.push(...cfg.services.clusterIPs, ...cfg.services.externalIPs, ...cfg.services.loadBalancerIPs);
  return [...new Set(out)];
}

export function calculate(snapshots: Observable<Resources>, status: Observable<SyncStatus>, node: string): DesiredState {
  const derived = snapshots.pipe(
    map((resources): Derived => {
      try {
        return { ok: true, config: deriveNodeConfig(resources, node), resources };
      } catch (e) {
        return { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
      }
    }),
    share(),
  );
  const good = derived.pipe(
    filter((d): d is Extract<Derived, { ok: true }> => d.ok),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
  const config = good.pipe(map((d) => d.config));
  return {
    accepted: good.pipe(map((d) => ({ config: d.config, resources: d.resources }))),
    config,
    rejected: derived.pipe(filter((d): d is Extract<Derived, { ok: false }> => !d.ok), map((d) => d.error)),
    peers: config.pipe(map((c) => c.peers), distinctUntilChanged(sameJson)),
    originated: config.pipe(map(originatedPrefixes), distinctUntilChanged(sameJson)),
    filters: good.pipe(map((d) => d.resources.bgpFilters), distinctUntilChanged(sameJson)),
    workloads: good.pipe(map((d) => d.resources.workloadEndpoints.filter((w) => w.spec.node === node)), distinctUntilChanged(sameJson)),
    inSync: combineLatest([status, good]).pipe(map(([s]) => s === 'in-sync'), distinctUntilChanged()),
  };
}
