// Help texts and the usage error of the kite command line. A UsageError means "the command
// line is wrong" and exits 2; every other failure exits 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command writes: the process's stdout/stderr, or a test's buffers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  /** The command whose help the user should read ("run", "show"), or "" for the top level. */
  readonly command: string;
  constructor(message: string, command: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

export const HELP = {
  '': `Usage: kite <command> [options]

Kite distributes pod and service routes over BGP for Kubernetes: a drop-in replacement for
the routing half of calico-node.

Commands:
  run       run the daemon on this node
  show      show the state of the running daemon (summary, peers, peer, routes, fib, config)
  peer      act on one peer of the running daemon: reset, disable, enable, refresh
  health    ask the running daemon whether it is live or ready (for exec probes)
  lab       build a network-namespace cluster on this machine and ping pod to pod
  version   print the version
  help      show help for a command: kite help <command>

Run 'kite <command> --help' for the options of a command.
`,
  run: `Usage: kite run --config FILE [options]
       kite run --datastore kubernetes [--kubeconfig PATH] [options]
       kite run --datastore etcdv3 [--kubeconfig PATH] [options]   (ETCD_ENDPOINTS, ETCD_*_FILE, ETCD_USERNAME/PASSWORD)

Runs the daemon: reads Calico resources, peers over BGP and serves the control API.

Options:
  --config FILE          Calico resources as YAML (required with the file datastore)
  --datastore file|kubernetes|etcdv3  where Calico's resources come from (default: file;
                         etcdv3 also when DATASTORE_TYPE=etcdv3 and no --config)
  --kubeconfig PATH      Kubernetes datastore: kubeconfig (default: $KUBECONFIG, in-cluster);
                         etcdv3: where BGP password Secrets are read, as calico-node does
  --node NAME            this node's name (default: $NODENAME, else $HOSTNAME, else the host name)
  --socket PATH          control API socket (default: /run/kite/kite.sock)
  --dataplane none|linux linux programs kernel routes (protocol 75), tunl0 and workload
                         routes; none keeps routes in the RIB only (default: linux on Linux)
  --workload-routes kite|felix  who programs the pods' /32 and /128 routes, their neighbour
                         entries and the cali* sysctls (default: $KITE_WORKLOAD_ROUTES, else
                         kite); felix on a node that keeps Felix: Kite never touches them
  --listen-address ADDR  address to accept BGP connections on (default: all)
  --listen-port N        BGP port (default: from BGPConfiguration, else 179)
  --log-level LEVEL      trace, debug, info, warn, error, fatal or silent (default: the
                         BGPConfiguration's logSeverityScreen, else info; the flag wins)
  --log-format FORMAT    json (one JSON object a line, ISO-8601 times), pretty (readable
                         lines, pino-pretty) or auto: pretty on a terminal, else json
                         (default: $KITE_LOG_FORMAT, else auto)
  --http-address ADDR    where /livez, /readyz and /metrics are served
                         (default: $KITE_HTTP_ADDRESS, else localhost)
  --http-port N|off      their port; 0 picks a free one, off serves none
                         (default: $KITE_HTTP_PORT, else 9097; Felix keeps 9099)
  --on-stop MODE         what SIGTERM/SIGINT do (default: $KITE_ON_STOP, else restart):
                         restart keeps kernel routes and peers keep this node's routes
                         (graceful restart) until Kite is back: Cease/Administrative Reset
                         to peers with the RFC 8538 N bit, a silent close to the others;
                         decommission sends Cease (as Hard Reset to peers with the N bit),
                         and peers withdraw the routes at once
  -h, --help             show this help

Start-up, as calico-node (each flag overrides its variable; see docs/startup.md):
  --ip ADDR|autodetect|none        $IP: the node's IPv4 address (default: the Node's, else autodetect)
  --ip6 ADDR|autodetect|none       $IP6: the node's IPv6 address (default: the Node's)
  --ip-autodetection-method M      $IP_AUTODETECTION_METHOD: first-found, can-reach=DEST,
                                   interface=RE,.., skip-interface=RE,.., cidr=CIDR,..,
                                   kubernetes-internal-ip (default first-found)
  --ip6-autodetection-method M     $IP6_AUTODETECTION_METHOD: the same for IPv6
  --as N                           $AS: the node's AS number (default: the Node's, else global)
  --router-id ADDR|hash            $CALICO_ROUTER_ID: hash derives one from the node name
                                   (needed by IPv6-only nodes)
  --no-default-pools               $NO_DEFAULT_POOLS: create no default pool ($CALICO_IPV4POOL_*
                                   and $CALICO_IPV6POOL_* shape the pools created otherwise)
`,
  show: `Usage: kite show summary|peers|routes|peer|fib|config [options]

Shows the state of the daemon that serves the control socket.

  summary                    node, router id, AS, RIB sizes and a table of peers
  peers                      the table of peers: type, state, since, prefixes, info
  peer ADDRESS               one peer in full: capabilities, timers, counters, graceful restart
  routes                     the Loc-RIB: every path per prefix, '*>' marks the best
  routes received PEER       the peer's Adj-RIB-In: what it sent, as accepted
  routes advertised PEER     the peer's Adj-RIB-Out: what Kite sends it, as sent
  fib                        the Linux dataplane: desired vs programmed kernel routes, and why they differ
  config                     what Kite derived for this node, and where each item came from

Options:
  --json           print JSON (the shapes of the control API) instead of a table
  --prefix P       routes only: the route for prefix P, or the routes covering address P
  --socket PATH    control API socket (default: /run/kite/kite.sock)
  -h, --help       show this help
`,
  peer: `Usage: kite peer reset|disable|enable|refresh ADDRESS [options]

Acts on one peer of the daemon that serves the control socket (as birdc restart, disable and
enable do on a protocol).

  reset     Cease/Administrative Reset to the peer, then the session starts again
  disable   Cease/Administrative Shutdown (with the reason as its message); the peer stays
            down, and its connections are refused, until enabled
  enable    the session starts again
  refresh   ask the peer to resend its routes (ROUTE-REFRESH, RFC 2918) for every family

Options:
  --reason TEXT    why, sent in the Cease (RFC 8203) and logged (default: kite peer ACTION)
  --json           print the result as JSON
  --socket PATH    control API socket (default: /run/kite/kite.sock)
  -h, --help       show this help
`,
  lab: `Usage: kite lab up|status|down [options]

A cluster in network namespaces on this machine (needs root): one Kite per node from a
generated Calico file datastore, pods behind Calico-named veths, and a pod-to-pod ping matrix.
State, config and logs live in /run/kite-lab, so status and down work from another shell.

  up       build the lab, wait for BGP to converge, program routes, ping every pod from every pod
  status   the recorded lab: processes, sessions, BGP and kernel routes
  down     stop every process and remove every kitelab- namespace (safe to repeat)

Options:
  --nodes N          up: number of nodes (default 3)
  --pods N           up: pods per node (default 2)
  --rr               up: node-1 is a route reflector instead of a full mesh
  --tor              up: an FRR top-of-rack router; each node on its own subnet, eBGP to it
                     (one session per family with --ipv6 / --dual-stack)
  --ipv6             up: IPv6 only (nodes, /122 blocks, pods; Kites with --ip none --router-id hash)
  --dual-stack       up: IPv4 and IPv6 on every node and pod; the ping matrix covers both
  --vxlan            up: the pools use VXLAN (vxlanMode Always): vxlan.calico (IPv4) and/or
                     vxlan-v6.calico (IPv6) on every node; with --tor, across the routed subnets
  --routes MODE      up: auto (Kite's linux dataplane when available, else the lab programs
                     routes from Kite's BGP table), kite or lab (default auto)
  --timeout S        up: seconds to wait for convergence (default 60)
  --datastore KIND   up: file (default) or etcd: an etcd in node-1's namespace holds the lab's
                     resources in Calico's etcdv3 layout and the Kites run --datastore etcdv3
  --ping             status: run the ping matrix again
  --json             print the report as JSON on stdout (progress stays on stderr)
  -h, --help         show this help
`,
  health: `Usage: kite health [live|ready] [options]

Asks the running daemon's /livez or /readyz (default: ready). Exit 0 and prints "live" or
"ready"; otherwise exit 1 with the reasons, e.g. "not ready: BGP not established with 10.0.0.2".

  live     the event loop answers; the datastore watch and the dataplane are not stuck
  ready    as calico-node -bird-ready: datastore in sync; during start-up every BGP peer
           Established and no graceful restart in progress; after it, at least one peer up

Options:
  --http-address ADDR  the daemon's HTTP address (default: $KITE_HTTP_ADDRESS, else localhost)
  --http-port N        its port (default: $KITE_HTTP_PORT, else 9097)
  --timeout S          seconds to wait for the answer (default 5)
  -h, --help           show this help
`,
  version: `Usage: kite version

Prints the version of kite.
`,
  help: `Usage: kite help [command]

Shows help for kite or for one command.
`,
} as const;

export type HelpTopic = keyof typeof HELP;

export function isHelpTopic(s: string): s is HelpTopic {
  return Object.hasOwn(HELP, s);
}

/** The one-line message for a usage error: where it happened and which help page to read. */
export function usageLine(err: UsageError): string {
  return err.command === ''
    ? `kite: ${err.message} (see 'kite help')`
    : `kite ${err.command}: ${err.message} (see 'kite help ${err.command}')`;
}

/**
 * node:util parseArgs in strict mode, with its TypeErrors (unknown option, missing value)
 * turned into a UsageError that names the command.
 */
export function parseOrUsage<T extends ParseArgsConfig>(config: T, command: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ ...config, strict: true });
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(firstSentence(err.message), command);
    }
    throw err;
  }
}

/** parseArgs messages go on to explain `--`; keep the first sentence, lower-cased. */
function firstSentence(message: string): string {
  const first = /^[^\n]*?(?=\. |\.?$)/m.exec(message)?.[0] ?? message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}
