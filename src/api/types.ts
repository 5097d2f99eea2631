// The control API's view of a running daemon: exactly the JSON shapes `kite show ... --json`
// prints. The daemon implements StatusProvider; the gRPC server (server.ts) exposes it.
import type { ConfigProvenance, PeerTypeName, Sourced } from '../config/provenance.js';

export type { Sourced };

export type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/**
 * The peer types `calicoctl node status` prints (calicoctl/commands/node/status.go maps BIRD's
 * Mesh_/Node_/Global_ protocol names to them), plus Kite's name for our route-reflector clients.
 */
export const PEER_TYPES = ['node-to-node mesh', 'global', 'node specific', 'route-reflector client'] as const satisfies readonly PeerTypeName[];
export type PeerType = PeerTypeName;

/** One address family's prefix counts for a peer; received = accepted + rejected. */
export interface FamilyPrefixes {
  received: number;
  accepted: number;
  /** Rejected by the import policy (BGPFilter). */
  rejectedPolicy: number;
  /** Rejected by the loop checks (own AS in AS_PATH, ORIGINATOR_ID, CLUSTER_LIST). */
  rejectedLoop: number;
  advertised: number;
}

export interface PeerStatus {
  address: string;
  asNumber: number;
  state: PeerState;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  /** Last reason the session went down or failed to come up, "" when none. */
  lastError: string;
  /** Absent from daemons before issue 13 (and from hand-made fixtures): read as unknown. */
  peerType?: PeerType;
  /** The configured name: "Mesh_198_18_0_2", a BGPPeer's name. */
  name?: string;
  /** Seconds in the current state (calicoctl's "since"). */
  sinceSeconds?: number;
  /** Held down by `kite peer disable`. */
  disabled?: boolean;
  ipv4?: FamilyPrefixes;
  ipv6?: FamilyPrefixes;
  /** The prefix limit (kite.dev/max-prefixes), null when none. */
  maxPrefixes?: number | null;
}

export interface Summary {
  node: string;
  routerId: string;
  asNumber: number;
  peers: PeerStatus[];
  ribIPv4: number;
  ribIPv6: number;
}

export interface PathStatus {
  nextHop: string;
  asPath: number[];
  origin: 'igp' | 'egp' | 'incomplete';
  localPref: number | null;
  med: number | null;
  communities: string[];
  largeCommunities: string[];
  originatorId: string | null;
  clusterList: string[];
  /** Peer address the path was learned from; null for local routes. */
  peer: string | null;
  best: boolean;
}

export interface RouteStatus {
  prefix: string;
  paths: PathStatus[];
  /**
   * The decision step that chose the best path over the runner-up (src/rib/decision.ts), e.g.
   * "as-path-length: RFC 4271 §9.1.2.2 a: shortest AS_PATH …", or "only-path".
   */
  bestReason: string;
}

export interface FibRoute {
  prefix: string;
  source: string;
  state: string;
  desired: string | null;
  kernel: string | null;
  reason: string;
}

/** `kite show fib --json`: the dataplane's desired vs programmed routes. */
export interface FibReport {
  enabled: boolean;
  protocol: number;
  table: number;
  inSync: boolean;
  lastResync: number | null;
  routes: FibRoute[];
  notes: string[];
}

/** `kite show peer <address>`: one peer in full. */
export interface PeerDetail extends PeerStatus {
  /** The channel's state (rib/channel.ts): down, start, up, stale (graceful restart), flushing. */
  channelState: string;
  session: {
    port: number;
    passive: boolean;
    localAs: number;
    /** Hold time in force (negotiated once OPEN was exchanged), keepalive and connect-retry intervals, seconds. */
    holdTime: number;
    keepaliveTime: number;
    connectRetryTime: number;
    localAddress: string | null;
    remoteRouterId: string | null;
    connection: string;
    uptimeSeconds: number;
    families: string[];
    capabilities: string[];
  };
  counters: {
    messagesReceived: number; messagesSent: number; updatesReceived: number; updatesSent: number;
    notificationsReceived: number; notificationsSent: number; establishedTransitions: number; connectRetries: number;
  };
  gracefulRestart: {
    /** Our restart time toward this peer (seconds). */
    localRestartTime: number;
    /** The peer's restart time from its last OPEN, null when it does not do graceful restart. */
    peerRestartTime: number | null;
    /** The peer said it is restarting (Restart State bit). */
    peerRestarting: boolean;
    /** Its paths kept as stale while it restarts. */
    staleRoutes: number;
  };
  config: {
    sourceAddress: string | null;
    password: boolean;
    ttlSecurity: number | null;
    nextHopMode: string;
    filters: string[];
    /** The BGPPeer resource, or "" for the mesh. */
    resource: string;
  };
}

/** A route of one peer's Adj-RIB-In (as accepted) or Adj-RIB-Out (as sent). */
export interface AdjRoute {
  prefix: string;
  /** ADD-PATH path identifier (RFC 7911); 1 without ADD-PATH on the way out, 0 on the way in. */
  pathId: number;
  path: PathStatus;
}

export const ADJ_DIRECTIONS = ['received', 'advertised'] as const;
export type AdjDirection = (typeof ADJ_DIRECTIONS)[number];

/** `kite show config`: what Kite derived for this node from the datastore, each item with its source. */
export interface ConfigReport extends ConfigProvenance {
  node: string;
  notes: string[];
}

export const PEER_ACTIONS = ['reset', 'disable', 'enable', 'refresh'] as const;
export type PeerActionName = (typeof PEER_ACTIONS)[number];

export interface PeerActionResult {
  ok: boolean;
  /** What happened, in words ("Cease/Administrative Shutdown sent; held down until enabled"). */
  message: string;
}

export interface StatusProvider {
  summary(): Summary;
  peers(): PeerStatus[];
  /** All Loc-RIB routes, or only the one whose prefix equals (or, for an address, covers) `prefix`. */
  routes(filter: { prefix?: string }): RouteStatus[];
  /** The Linux dataplane's report; absent or `enabled: false` with --dataplane none. */
  fib?(): FibReport;
  /** One peer in full; null when the address is not a configured peer. */
  peer?(address: string): PeerDetail | null;
  /** A peer's Adj-RIB-In or Adj-RIB-Out; throws when the address is not a configured peer. */
  adjRib?(address: string, direction: AdjDirection): AdjRoute[];
  configReport?(): ConfigReport;
  /** Acts on one peer (`kite peer reset|disable|enable|refresh`). */
  peerAction?(address: string, action: PeerActionName, reason: string): PeerActionResult;
}
