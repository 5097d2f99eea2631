// `kite show summary|peers|peer|routes|fib|config`: asks the running daemon over the control
// socket and prints either the API's JSON or tables modelled on `calicoctl node status`,
// `birdc show protocols all` and `show ip bgp`.
import { createControlClient, DEFAULT_SOCKET, type ControlClient } from '../api/client.js';
import { ADJ_DIRECTIONS, type AdjDirection, type AdjRoute, type ConfigReport, type FibReport, type PeerDetail, type PeerStatus, type RouteStatus, type Summary } from '../api/types.js';
import { Align, asPath, communities, NONE, optional, originCode, plural, table, type Column } from './format.js';
import { parseOrUsage, UsageError } from './usage.js';

export const SHOW_TOPICS = ['summary', 'peers', 'peer', 'routes', 'fib', 'config'] as const;
export type ShowTopic = (typeof SHOW_TOPICS)[number];

export interface ShowOptions {
  topic: ShowTopic;
  json: boolean;
  prefix?: string;
  socket: string;
  /** `show peer <address>`, `show routes received|advertised <peer>`. */
  peer?: string;
  direction?: AdjDirection;
}

/** Parses `kite show ...` arguments (after "show"); returns null when help was asked for. */
export function parseShowArgs(args: string[]): ShowOptions | null {
  const { values, positionals } = parseOrUsage({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      prefix: { type: 'string' },
      socket: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'show');
  if (values.help) return null;
  const [topic, ...rest] = positionals;
  const topics = 'summary, peers, peer, routes, fib or config';
  if (topic === undefined) throw new UsageError(`say what to show: ${topics}`, 'show');
  if (!isShowTopic(topic)) throw new UsageError(`unknown topic '${topic}' (${topics})`, 'show');
  const opts: ShowOptions = { topic, json: values.json ?? false, socket: values.socket ?? DEFAULT_SOCKET };
  let extra = rest;
  if (topic === 'peer') {
    const [address, ...more] = rest;
    if (address === undefined) throw new UsageError('say which peer: kite show peer <address>', 'show');
    opts.peer = address;
    extra = more;
  } else if (topic === 'routes' && rest.length > 0) {
    const [direction, address, ...more] = rest;
    if (!(ADJ_DIRECTIONS as readonly string[]).includes(direction!)) throw new UsageError(`unexpected argument '${direction}' (routes received|advertised <peer>)`, 'show');
    if (address === undefined) throw new UsageError(`say which peer: kite show routes ${direction} <peer>`, 'show');
    opts.direction = direction as AdjDirection;
    opts.peer = address;
    extra = more;
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'show');
  if (values.prefix !== undefined && (topic !== 'routes' || opts.direction !== undefined)) {
    throw new UsageError(`--prefix applies to routes only`, 'show');
  }
  if (values.prefix === '') throw new UsageError('--prefix needs a prefix or an address', 'show');
  if (values.prefix !== undefined) opts.prefix = values.prefix;
  return opts;
}

function isShowTopic(s: string): s is ShowTopic {
  return (SHOW_TOPICS as readonly string[]).includes(s);
}

/** Fetches and renders; returns the text to print (ending in a newline). */
export async function show(opts: ShowOptions, client: ControlClient = createControlClient(opts.socket)): Promise<string> {
  try {
    switch (opts.topic) {
      case 'summary': {
        const s = await client.summary();
        return opts.json ? json(s) : lines(renderSummary(s));
      }
      case 'peers': {
        const p = await client.peers();
        return opts.json ? json(p) : lines(renderPeers(p));
      }
      case 'peer': {
        const d = await client.peer(opts.peer!);
        return opts.json ? json(d) : lines(renderPeer(d));
      }
      case 'config': {
        const c = await client.config();
        return opts.json ? json(c) : lines(renderConfig(c));
      }
      case 'routes': {
        if (opts.direction !== undefined) {
          const r = await client.adjRib(opts.peer!, opts.direction);
          return opts.json ? json(r) : lines(renderAdjRib(r, opts.direction, opts.peer!));
        }
        const r = await client.routes(opts.prefix === undefined ? {} : { prefix: opts.prefix });
        return opts.json ? json(r) : lines(renderRoutes(r, opts.prefix));
      }
      case 'fib': {
        const f = await client.fib();
        return opts.json ? json(f) : lines(renderFib(f));
      }
    }
  } finally {
    client.close();
  }
}

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

function lines(ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

export function renderSummary(s: Summary): string[] {
  const up = s.peers.filter((p) => p.state === 'Established').length;
  return [
    `Node ${s.node}, router id ${s.routerId}, local AS ${s.asNumber}`,
    `RIB: ${plural(s.ribIPv4, 'IPv4 route')}, ${plural(s.ribIPv6, 'IPv6 route')}`,
    `Peers: ${up} of ${s.peers.length} established`,
    '',
    ...renderPeers(s.peers),
  ];
}

/**
 * `kite show peers`: calicoctl node status's columns (address, type, state, since, info) with the
 * prefix counts. A daemon from before issue 13 reports no peer type: its table keeps its old
 * columns (no type or since, "Last error" for info).
 */
export function renderPeers(peers: readonly PeerStatus[]): string[] {
  if (peers.length === 0) return ['No peers configured.'];
  const typed = peers.every((p) => p.peerType !== undefined);
  type Col = [Column, (p: PeerStatus) => string];
  const cols: Col[] = [
    [{ header: 'Peer' }, (p) => p.address],
    ...(typed ? [[{ header: 'Type' }, (p) => p.peerType ?? NONE] satisfies Col] : []),
    [{ header: 'AS', align: Align.Right }, (p) => String(p.asNumber)],
    [{ header: 'State' }, (p) => (p.disabled ? 'disabled' : p.state)],
    ...(typed ? [[{ header: 'Since', align: Align.Right }, (p) => duration(p.sinceSeconds ?? 0)] satisfies Col] : []),
    [{ header: 'Rcvd', align: Align.Right }, (p) => String(p.prefixesReceived)],
    [{ header: 'Accepted', align: Align.Right }, (p) => String(p.prefixesAccepted)],
    [{ header: 'Adv', align: Align.Right }, (p) => String(p.prefixesAdvertised)],
    typed ? [{ header: 'Info' }, info] : [{ header: 'Last error' }, (p) => p.lastError],
  ];
  return table(cols.map(([c]) => c), peers.map((p) => cols.map(([, cell]) => cell(p))));
}

/** `kite show fib`: one row per kernel route Kite cares about, and why it differs when it does. */
export function renderFib(f: FibReport): string[] {
  if (!f.enabled) return ['The linux dataplane is off (kite run --dataplane none).'];
  const head = [
    `Kernel routes: protocol ${f.protocol}, table ${f.table}, ${f.inSync ? 'in sync (pruning allowed)' : 'waiting for BGP and the datastore to sync (nothing is pruned yet)'}`,
    `Last resync: ${f.lastResync === null ? 'never' : new Date(f.lastResync).toISOString()}`,
    ...f.notes.map((n) => `Note: ${n}`),
    '',
  ];
  if (f.routes.length === 0) return [...head, 'No routes.'];
  const rows = f.routes.map((r) => [r.prefix, r.source, r.state, r.desired ?? NONE, r.state === 'programmed' ? '' : r.reason]);
  return [...head, ...table([{ header: 'Prefix' }, { header: 'Source' }, { header: 'State' }, { header: 'Desired' }, { header: 'Why different' }], rows)];
}

export function renderRoutes(routes: readonly RouteStatus[], prefix?: string): string[] {
  if (routes.length === 0) return [prefix === undefined ? 'No routes.' : `No route matches ${prefix}.`];
  const rows: string[][] = [];
  let paths = 0;
  for (const r of routes) {
    // Like `show ip bgp`, the prefix is printed on its first path only.
    r.paths.forEach((p, i) => {
      paths++;
      rows.push([
        p.best ? '*>' : '*',
        i === 0 ? r.prefix : '',
        p.nextHop,
        asPath(p.asPath),
        originCode(p.origin),
        optional(p.localPref),
        optional(p.med),
        communities(p),
        p.peer ?? 'local',
      ]);
    });
    // A prefix with no paths left (being withdrawn) still shows up, unmarked.
    if (r.paths.length === 0) rows.push(['', r.prefix, NONE, NONE, NONE, NONE, NONE, NONE, NONE]);
  }
  // For a single prefix, say why the best path won (like `show ip bgp <prefix>` bestpath-reason).
  const reason = routes.length === 1 && routes[0]!.bestReason && routes[0]!.paths.length > 1
    ? ['', `Best path chosen by ${routes[0]!.bestReason}`] : [];
  return [
    "Status: *> best, * valid. Origin: i IGP, e EGP, ? incomplete.",
    '',
    ...table(
      [
        { header: '' },
        { header: 'Network' },
        { header: 'Next hop' },
        { header: 'AS path' },
        { header: 'Origin' },
        { header: 'LocPrf', align: Align.Right },
        { header: 'MED', align: Align.Right },
        { header: 'Communities' },
        { header: 'Peer' },
      ],
      rows,
    ),
    '',
    `${plural(routes.length, 'prefix', 'prefixes')}, ${plural(paths, 'path')}`,
    ...reason,
  ];
}

/** "45s", "12m03s", "5h02m", "3d04h": how long a peer has been in its state. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** calicoctl node status's Info column: "Established", or why the session is not. */
function info(p: PeerStatus): string {
  if (p.disabled) return p.lastError || 'disabled';
  if (p.state === 'Established') return 'Established';
  return p.lastError || p.state;
}

/** `kite show peer <address>`: one peer in full, in the spirit of `birdc show protocols all`. */
export function renderPeer(d: PeerDetail): string[] {
  const s = d.session;
  const fam = (name: string, f: PeerStatus['ipv4']): string =>
    f === undefined ? `  ${name}: -`
      : `  ${name}: received ${f.received}, accepted ${f.accepted}, rejected ${f.rejectedPolicy} by policy and ${f.rejectedLoop} as loops, advertised ${f.advertised}`;
  const g = d.gracefulRestart;
  const c = d.counters;
  return [
    `Peer ${d.address}${d.name ? ` (${d.name})` : ''}, ${d.peerType ?? 'peer'}, AS ${d.asNumber}`,
    `  State:          ${d.disabled ? 'disabled, ' : ''}${d.state} for ${duration(d.sinceSeconds ?? 0)} (channel ${d.channelState})`,
    `  Info:           ${info(d)}`,
    `  Local AS:       ${s.localAs}${s.passive ? ', passive (waits for the peer to connect)' : ''}`,
    `  Connection:     ${s.connection}, port ${s.port}${s.localAddress ? `, local address ${s.localAddress}` : ''}`,
    `  Router ID:      ${s.remoteRouterId ?? NONE}`,
    `  Timers:         hold ${s.holdTime} s, keepalive ${s.keepaliveTime} s, connect retry ${s.connectRetryTime} s${d.state === 'Established' ? `; up ${duration(s.uptimeSeconds)}` : ''}`,
    `  Families:       ${s.families.join(', ') || NONE}`,
    `  Capabilities:   ${s.capabilities.join(', ') || NONE}`,
    `  Graceful restart: ours ${g.localRestartTime} s; peer's ${g.peerRestartTime === null ? 'none' : `${g.peerRestartTime} s${g.peerRestarting ? ', restarting' : ''}`}; ${plural(g.staleRoutes, 'stale route')}`,
    `  Prefix limit:   ${d.maxPrefixes == null ? 'none' : d.maxPrefixes}`,
    'Prefixes:',
    fam('IPv4', d.ipv4),
    fam('IPv6', d.ipv6),
    'Messages:',
    `  received ${c.messagesReceived} (${c.updatesReceived} UPDATE, ${c.notificationsReceived} NOTIFICATION), sent ${c.messagesSent} (${c.updatesSent} UPDATE, ${c.notificationsSent} NOTIFICATION)`,
    `  established ${plural(c.establishedTransitions, 'time')}, ${plural(c.connectRetries, 'connect retry', 'connect retries')}`,
    'Configuration:',
    `  From:           ${d.config.resource ? `BGPPeer ${d.config.resource}` : 'node-to-node mesh'}`,
    `  Source address: ${d.config.sourceAddress ?? NONE}; password ${d.config.password ? 'set' : 'none'}; TTL security ${d.config.ttlSecurity ?? 'off'}`,
    `  Next hop:       ${d.config.nextHopMode}; filters ${d.config.filters.join(', ') || 'none'}`,
  ];
}

/** `kite show routes received|advertised <peer>`: the Adj-RIB with the attributes as accepted or sent. */
export function renderAdjRib(routes: readonly AdjRoute[], direction: AdjDirection, peer: string): string[] {
  const what = direction === 'received' ? `received from ${peer} (Adj-RIB-In, as accepted)` : `advertised to ${peer} (Adj-RIB-Out, as sent)`;
  if (routes.length === 0) return [`No routes ${what}.`];
  const rows = routes.map((r) => [
    direction === 'received' && r.path.best ? '*>' : '*', r.prefix, String(r.pathId), r.path.nextHop, asPath(r.path.asPath), originCode(r.path.origin),
    optional(r.path.localPref), optional(r.path.med), communities(r.path),
  ]);
  return [
    `Routes ${what}. Status: *> best in the Loc-RIB. Origin: i IGP, e EGP, ? incomplete.`,
    '',
    ...table([{ header: '' }, { header: 'Network' }, { header: 'Path ID', align: Align.Right }, { header: 'Next hop' }, { header: 'AS path' },
      { header: 'Origin' }, { header: 'LocPrf', align: Align.Right }, { header: 'MED', align: Align.Right }, { header: 'Communities' }], rows),
    '',
    plural(routes.length, 'path'),
  ];
}

/** `kite show config`: what Kite derived for this node, each item with its source. */
export function renderConfig(c: ConfigReport): string[] {
  const item = (name: string, v: { value: unknown; source: string } | null): string[] =>
    v === null ? [] : [`${name.padEnd(20)}${String(v.value).padEnd(24)}${v.source}`];
  return [
    `Node ${c.node}`,
    ...item('Router ID', c.routerId),
    ...item('AS', c.asNumber),
    ...item('IPv4 address', c.ipv4Address),
    ...item('IPv6 address', c.ipv6Address),
    ...item('Listen port', c.listenPort),
    ...item('Log severity', c.logSeverityScreen),
    ...item('Node-to-node mesh', c.nodeToNodeMesh),
    '',
    'Peers:',
    ...(c.peers.length === 0 ? ['  none'] : table([{ header: '  Peer' }, { header: 'Type' }, { header: 'AS', align: Align.Right }, { header: 'Name' }, { header: 'From' }],
      c.peers.map((p) => [`  ${p.address}`, p.peerType, String(p.asNumber), p.name, p.source]))),
    '',
    'Originated:',
    ...(c.originated.length === 0 ? ['  none'] : table([{ header: '  Prefix' }, { header: 'From' }], c.originated.map((o) => [`  ${o.prefix}`, o.source]))),
    '',
    'Pools:',
    ...(c.pools.length === 0 ? ['  none'] : table([{ header: '  Pool' }, { header: 'CIDR' }, { header: 'IPIP' }, { header: 'VXLAN' }, { header: 'NAT' }, { header: 'Disabled' }],
      c.pools.map((p) => [`  ${p.name}`, p.cidr, p.ipipMode, p.vxlanMode, p.natOutgoing ? 'yes' : 'no', p.disabled ? 'yes' : 'no']))),
    ...(c.notes.length ? ['', 'Notes:', ...c.notes.map((n) => `  - ${n}`)] : []),
  ];
}
