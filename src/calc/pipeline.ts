// The calculation pipeline (rxjs): datastore snapshots, sync status and what IPAM granted in;
// this node's desired state out — its configuration, and typed deltas for the BGP instance
// (peer added / changed / removed, route originated / withdrawn). Pure: no I/O; the daemon
// subscribes and applies. An invalid snapshot produces a `rejected` event and nothing else, so
// the last good desired state stays in force; nothing downstream may prune or withdraw before
// `inSync` is true.
import { Observable, combineLatest, distinctUntilChanged, filter, map, mergeMap, scan, share, shareReplay } from 'rxjs';
import { peerKey } from '../bgp/address.js';
import { formatPrefix, parsePrefix } from '../bgp/wire/prefix.js';
import { deriveNodeConfig, type DeriveOptions } from '../config/node-config.js';
import type { NodeConfig, PeerIntent } from '../config/types.js';
import type { SyncStatus } from '../datastore/datastore.js';
import type { Resources } from '../datastore/resources.js';
import type { IpamGrant } from '../ipam/tunnel.js';
import { samePeer } from './peer-equal.js';

/** One step of derivation: the config for this node, or why the snapshot was rejected. */
export type Derived =
  | { ok: true; config: NodeConfig; resources: Resources }
  | { ok: false; error: Error };


export const PeerDeltaKind = { Added: 'peer-added', Changed: 'peer-changed', Removed: 'peer-removed' } as const;
export type PeerDeltaKind = (typeof PeerDeltaKind)[keyof typeof PeerDeltaKind];

/** A change of the peer set, keyed by the peer's key: its canonical address, and port when not 179 (bgp/address.ts peerKey). */
export type PeerDelta =
  | { readonly kind: typeof PeerDeltaKind.Added; readonly key: string; readonly peer: PeerIntent }
  | { readonly kind: typeof PeerDeltaKind.Changed; readonly key: string; readonly peer: PeerIntent; readonly previous: PeerIntent }
  | { readonly kind: typeof PeerDeltaKind.Removed; readonly key: string; readonly previous: PeerIntent };

export const RouteDeltaKind = { Originated: 'route-originated', Withdrawn: 'route-withdrawn' } as const;
export type RouteDeltaKind = (typeof RouteDeltaKind)[keyof typeof RouteDeltaKind];

/**
 * A change of what this node originates, by canonical prefix text. `block`: an affine block
 * (export policy: local-block) rather than a service CIDR (local-static); a prefix already
 * originated is originated again when only that changes.
 */
export type RouteDelta =
  | { readonly kind: typeof RouteDeltaKind.Originated; readonly prefix: string; readonly block: boolean }
  | { readonly kind: typeof RouteDeltaKind.Withdrawn; readonly prefix: string };

export interface Desired {
  config: NodeConfig;
  resources: Resources;
}

export interface DesiredState {
  /** Every valid configuration with the snapshot it came from, IPAM's grant merged in (also when only notes changed). */
  config: Observable<Desired>;
  /** Snapshots that could not be turned into a configuration; the previous one stays. */
  rejected: Observable<Error>;
  /** Peer set changes; a new subscriber first gets the current set as additions. */
  peers: Observable<PeerDelta>;
  /** Originated route changes (own blocks, then service CIDRs); a new subscriber first gets the current set. */
  routes: Observable<RouteDelta>;
  /** True once the datastore is in sync and a valid configuration exists: pruning is allowed from then on. */
  inSync: Observable<boolean>;
}

/** Adds what IPAM allocated for this node to a derived configuration (a tunnel address in the Node wins). */
export function withIpam(cfg: NodeConfig, grant: IpamGrant | null | readonly IpamGrant[]): NodeConfig {
  if (grant === null) return cfg;
  if (isGrantList(grant)) return grant.reduce<NodeConfig>((c, g) => withIpam(c, g), cfg);
  const vx = grant.kind === 'vxlan';
  const v6 = vx && grant.family === 6;
  if (v6 ? cfg.ipv6VXLANTunnelAddr : vx ? cfg.ipv4VXLANTunnelAddr : cfg.ipv4IPIPTunnelAddr) return cfg;
  const have = new Set(cfg.originate.map((o) => o.prefix));
  const out: NodeConfig = { ...cfg, originate: [...cfg.originate, ...grant.blocks.filter((b) => !have.has(b.prefix))] };
  if (!vx) out.ipv4IPIPTunnelAddr = grant.tunnelAddress;
  else if (v6) {
    out.ipv6VXLANTunnelAddr = grant.tunnelAddress;
    if (grant.mac !== undefined && cfg.vxlanTunnelMACAddrV6 === undefined) out.vxlanTunnelMACAddrV6 = grant.mac;
  } else {
    out.ipv4VXLANTunnelAddr = grant.tunnelAddress;
    if (grant.mac !== undefined && cfg.vxlanTunnelMACAddr === undefined) out.vxlanTunnelMACAddr = grant.mac;
  }
  return out;
}

const isGrantList = (g: IpamGrant | readonly IpamGrant[]): g is readonly IpamGrant[] => Array.isArray(g);

/** What this node originates, by canonical prefix: its blocks, then the service CIDRs unless excluded. */
export function originatedPrefixes(cfg: NodeConfig): Map<string, { block: boolean }> {
  const out = new Map<string, { block: boolean }>();
  for (const o of cfg.originate) out.set(o.prefix, { block: true });
  // Borrowed workload addresses: not blocks (no blackhole, Calico learns them from the kernel).
  for (const b of cfg.borrowed ?? []) if (!out.has(b)) out.set(b, { block: false });
  // Service CIDRs are originated by every node (Calico's static routes), unless the node is
  // excluded from external load balancers; the export policy decides who receives them. Then
  // the per-service /32s and /128s (a Local traffic policy and a ready endpoint here, confd's
  // routeGenerator), inside those CIDRs.
  if (cfg.services.advertise) {
    for (const c of [...cfg.services.clusterIPs, ...cfg.services.externalIPs, ...cfg.services.loadBalancerIPs, ...(cfg.services.routes ?? [])]) {
      const p = parsePrefix(c);
      const key = formatPrefix(p.family, p.bytes, p.len);
      if (!out.has(key)) out.set(key, { block: false });
    }
  }
  return out;
}

/** The peers a configuration asks for, with their passwords, by key (address, and port when not 179). */
function peerIntents(cfg: NodeConfig, resources: Resources): Map<string, PeerIntent> {
  const out = new Map<string, PeerIntent>();
  for (const p of cfg.peers) {
    const ref = p.password?.secretKeyRef;
    const password = ref === undefined ? undefined : resources.secrets?.[ref.name]?.[ref.key];
    const problem = ref !== undefined && password === undefined
      ? `BGP password: Secret "${ref.name}" or its key "${ref.key}" not found; the session runs without TCP MD5, and a peer that expects a password will not answer it`
      : undefined;
    out.set(peerKey(p.address, p.port), { config: p, password, ...(problem !== undefined ? { passwordProblem: problem } : {}) });
  }
  return out;
}

/** Removals first (a removed address may come back under another peer), then additions and changes in configuration order. */
function peerDeltas(old: ReadonlyMap<string, PeerIntent>, now: ReadonlyMap<string, PeerIntent>): PeerDelta[] {
  const out: PeerDelta[] = [];
  for (const [key, previous] of old) if (!now.has(key)) out.push({ kind: PeerDeltaKind.Removed, key, previous });
  for (const [key, peer] of now) {
    const previous = old.get(key);
    if (previous === undefined) out.push({ kind: PeerDeltaKind.Added, key, peer });
    else if (!samePeer(previous.config, peer.config) || previous.password !== peer.password) out.push({ kind: PeerDeltaKind.Changed, key, peer, previous });
  }
  return out;
}

function routeDeltas(old: ReadonlyMap<string, { block: boolean }>, now: ReadonlyMap<string, { block: boolean }>): RouteDelta[] {
  const out: RouteDelta[] = [];
  for (const prefix of old.keys()) if (!now.has(prefix)) out.push({ kind: RouteDeltaKind.Withdrawn, prefix });
  for (const [prefix, { block }] of now) {
    if (old.get(prefix)?.block !== block) out.push({ kind: RouteDeltaKind.Originated, prefix, block });
  }
  return out;
}

/** Turns successive states into the deltas between them, starting from nothing. */
function deltas<S, D>(states: Observable<S>, empty: S, diff: (a: S, b: S) => D[]): Observable<D> {
  return states.pipe(
    scan((acc: { state: S; out: D[] }, s: S) => ({ state: s, out: diff(acc.state, s) }), { state: empty, out: [] }),
    mergeMap((acc) => acc.out),
  );
}

export function calculate(snapshots: Observable<Resources>, status: Observable<SyncStatus>, node: string,
  ipam: Observable<IpamGrant | null | readonly IpamGrant[]>, derive: DeriveOptions = {}): DesiredState {
  const derived = snapshots.pipe(
    map((resources): Derived => {
      try {
        return { ok: true, config: deriveNodeConfig(resources, node, derive), resources };
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
  const config = combineLatest([good, ipam]).pipe(map(([d, grant]): Desired => ({ config: withIpam(d.config, grant), resources: d.resources })));
  return {
    config,
    rejected: derived.pipe(filter((d): d is Extract<Derived, { ok: false }> => !d.ok), map((d) => d.error)),
    peers: deltas(config.pipe(map((d) => peerIntents(d.config, d.resources))), new Map(), peerDeltas),
    routes: deltas(config.pipe(map((d) => originatedPrefixes(d.config))), new Map(), routeDeltas),
    inSync: combineLatest([status, good]).pipe(map(([s]) => s === 'in-sync'), distinctUntilChanged()),
  };
}
