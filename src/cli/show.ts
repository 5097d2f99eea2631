// `kite show summary|peers|routes|fib`: asks the running daemon over the control socket and
// prints either the API's JSON or tables modelled on `birdc show protocols` and `show ip bgp`.
import { createControlClient, DEFAULT_SOCKET, type ControlClient } from '../api/client.js';
import type { FibReport, PeerStatus, RouteStatus, Summary } from '../api/types.js';
import { Align, asPath, communities, NONE, optional, originCode, plural, table } from './format.js';
import { parseOrUsage, UsageError } from './usage.js';

export const SHOW_TOPICS = ['summary', 'peers', 'routes', 'fib'] as const;
export type ShowTopic = (typeof SHOW_TOPICS)[number];

export interface ShowOptions {
  topic: ShowTopic;
  json: boolean;
  prefix?: string;
  socket: string;
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
  const [topic, ...extra] = positionals;
  if (topic === undefined) throw new UsageError('say what to show: summary, peers, routes or fib', 'show');
  if (!isShowTopic(topic)) throw new UsageError(`unknown topic '${topic}' (summary, peers, routes or fib)`, 'show');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'show');
  if (values.prefix !== undefined && topic !== 'routes') {
    throw new UsageError(`--prefix applies to routes only`, 'show');
  }
  if (values.prefix === '') throw new UsageError('--prefix needs a prefix or an address', 'show');
  const opts: ShowOptions = { topic, json: values.json ?? false, socket: values.socket ?? DEFAULT_SOCKET };
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
      case 'routes': {
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

export function renderPeers(peers: readonly PeerStatus[]): string[] {
  if (peers.length === 0) return ['No peers configured.'];
  return table(
    [
      { header: 'Peer' },
      { header: 'AS', align: Align.Right },
      { header: 'State' },
      { header: 'Rcvd', align: Align.Right },
      { header: 'Accepted', align: Align.Right },
      { header: 'Adv', align: Align.Right },
      { header: 'Last error' },
    ],
    peers.map((p) => [
      p.address,
      String(p.asNumber),
      p.state,
      String(p.prefixesReceived),
      String(p.prefixesAccepted),
      String(p.prefixesAdvertised),
      p.lastError,
    ]),
  );
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
