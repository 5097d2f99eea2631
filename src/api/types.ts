// The control API's view of a running daemon: exactly the JSON shapes `kite show ... --json`
// prints. The daemon implements StatusProvider; the gRPC server (server.ts) exposes it.

export type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface PeerStatus {
  address: string;
  asNumber: number;
  state: PeerState;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  /** Last reason the session went down or failed to come up, "" when none. */
  lastError: string;
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

export interface StatusProvider {
  summary(): Summary;
  peers(): PeerStatus[];
  /** All Loc-RIB routes, or only the one whose prefix equals (or, for an address, covers) `prefix`. */
  routes(filter: { prefix?: string }): RouteStatus[];
  /** The Linux dataplane's report; absent or `enabled: false` with --dataplane none. */
  fib?(): FibReport;
}
