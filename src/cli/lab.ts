// `kite lab up|status|down`: the command line of the network-namespace lab (src/lab/). Progress
// lines go to stderr as the lab is built; the result goes to stdout as tables, or as one JSON
// object with --json (the LabReport of src/lab/lab.ts).
import { parseOrUsage, UsageError, type CliIo } from './usage.js';

export const LAB_ACTIONS = ['up', 'status', 'down'] as const;
export type LabAction = (typeof LAB_ACTIONS)[number];

export interface LabCliOptions {
  action: LabAction;
  json: boolean;
  nodes: number;
  pods: number;
  rr: boolean;
  tor: boolean;
  /** --ipv6: ipv6; --dual-stack: dual; neither: ipv4. */
  family: 'ipv4' | 'ipv6' | 'dual';
  vxlan: boolean;
  routes: 'auto' | 'kite' | 'lab';
  ping: boolean;
  timeoutS: number;
  /** Where the Kites read the lab's resources: the generated file, or an etcd the lab runs. */
  datastore: 'file' | 'etcd';
}

/** Parses `kite lab ...` (after "lab"); null when help was asked for. */
export function parseLabArgs(args: string[]): LabCliOptions | null {
  const { values, positionals } = parseOrUsage({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      nodes: { type: 'string' },
      pods: { type: 'string' },
      rr: { type: 'boolean' },
      tor: { type: 'boolean' },
      ipv6: { type: 'boolean' },
      'dual-stack': { type: 'boolean' },
      vxlan: { type: 'boolean' },
      routes: { type: 'string' },
      ping: { type: 'boolean' },
      timeout: { type: 'string' },
      datastore: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'lab');
  if (values.help) return null;
  const [action, ...extra] = positionals;
  if (action === undefined) throw new UsageError('say what to do: up, status or down', 'lab');
  if (!(LAB_ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}' (up, status or down)`, 'lab');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'lab');
  const int = (name: string, v: string | undefined, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) throw new UsageError(`--${name} must be a number from ${min} to ${max}, not '${v}'`, 'lab');
    return n;
  };
  const routes = values.routes ?? 'auto';
  if (routes !== 'auto' && routes !== 'kite' && routes !== 'lab') throw new UsageError(`--routes must be auto, kite or lab, not '${routes}'`, 'lab');
  const datastore = values.datastore ?? 'file';
  if (datastore !== 'file' && datastore !== 'etcd') throw new UsageError(`--datastore must be file or etcd, not '${datastore}'`, 'lab');
  const upOnly = ['nodes', 'pods', 'rr', 'tor', 'ipv6', 'dual-stack', 'vxlan', 'routes', 'timeout', 'datastore'] as const;
  if (action !== 'up') for (const k of upOnly) if (values[k] !== undefined) throw new UsageError(`--${k} applies to 'lab up' only`, 'lab');
  if (action !== 'status' && values.ping) throw new UsageError(`--ping applies to 'lab status' only`, 'lab');
  if (values.rr && values.tor) throw new UsageError('--rr and --tor do not combine', 'lab');
  if (values.ipv6 && values['dual-stack']) throw new UsageError('--ipv6 and --dual-stack do not combine', 'lab');
  if ((values.ipv6 || values['dual-stack']) && values.rr) {
    throw new UsageError(`--${values.ipv6 ? 'ipv6' : 'dual-stack'} builds a mesh or a ToR: --rr is IPv4-only in the lab so far`, 'lab');
  }
  return {
    action: action as LabAction,
    json: values.json ?? false,
    nodes: int('nodes', values.nodes, 3, 2, 50),
    pods: int('pods', values.pods, 2, 1, 60),
    rr: values.rr ?? false,
    tor: values.tor ?? false,
    family: values.ipv6 ? 'ipv6' : values['dual-stack'] ? 'dual' : 'ipv4',
    vxlan: values.vxlan ?? false,
    routes,
    ping: values.ping ?? false,
    timeoutS: int('timeout', values.timeout, 60, 5, 600),
    datastore,
  };
}

/** Runs the action; returns the exit code (1 when the ping matrix has a failure). */
export async function lab(opts: LabCliOptions, io: CliIo): Promise<number> {
  // Lazy: `kite help` and `kite show` never load the lab.
  const m = await import('../lab/lab.js');
  const progress = (line: string): void => io.err(`lab: ${line}\n`);
  switch (opts.action) {
    case 'up': {
      const report = await m.labUp({
        nodes: opts.nodes, podsPerNode: opts.pods, routeReflector: opts.rr, tor: opts.tor, family: opts.family, vxlan: opts.vxlan,
        routes: opts.routes, convergeTimeoutMs: opts.timeoutS * 1000, datastore: opts.datastore,
      }, progress);
      io.out(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
      return report.ping?.allOk ? 0 : 1;
    }
    case 'status': {
      const report = await m.labStatus({ ping: opts.ping });
      if (report === null) {
        io.out(opts.json ? 'null\n' : 'no lab is up (nothing recorded in /run/kite-lab)\n');
        return 0;
      }
      io.out(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
      return report.ping && !report.ping.allOk ? 1 : 0;
    }
    case 'down': {
      const r = await m.labDown(progress);
      io.out(opts.json ? JSON.stringify(r, null, 2) + '\n'
        : r.namespaces.length === 0 && r.killed.length === 0 ? 'lab down (there was nothing to remove)\n'
        : `lab down: stopped ${r.killed.length} process(es), removed ${r.namespaces.length} namespaces\n`);
      return 0;
    }
  }
}

type Report = Awaited<ReturnType<typeof import('../lab/lab.js').labUp>>;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function formatReport(r: Report): string {
  const out: string[] = [];
  const family = r.family === 'ipv6' ? ', IPv6 only' : r.family === 'dual' ? ', dual-stack' : '';
  out.push(`Lab: ${r.nodes.length} nodes, ${r.underlay}${family}, ipipMode ${r.ipipMode}${r.vxlanMode !== undefined ? `, vxlanMode ${r.vxlanMode}` : ''} (${r.phase})`);
  for (const reason of r.reasons) out.push(`  - ${reason}`);
  if (r.routeModeText) out.push(`Routes: ${r.routeModeText}${r.routeModeReason ? ` (${r.routeModeReason})` : ''}`);
  if (r.convergenceMs !== undefined) {
    out.push(`Converged in ${(r.convergenceMs / 1000).toFixed(2)} s after the last Kite started (every session Established, every block learned)` +
      (r.kiteStartMs !== undefined ? `; starting the Kites took ${(r.kiteStartMs / 1000).toFixed(2)} s` : ''));
  }
  for (const n of r.nodes) {
    out.push('');
    out.push(`${n.name}  ${n.ip}${n.ip6 ? ` ${n.ip6}` : ''}  AS ${n.asNumber}  block ${n.block}${n.block6 ? ` ${n.block6}` : ''}${n.routeReflector ? '  route reflector' : ''}  kite ${n.kiteRunning ? 'running' : 'NOT running'}`);
    if (n.error) out.push(`  error: ${n.error}`);
    out.push(`  pods: ${n.pods.map((p) => `${p.name} ${p.ip}${p.ip6 ? ` ${p.ip6}` : ''} (${p.interface})`).join(', ')}`);
    out.push('  peers:');
    for (const p of n.peers) out.push(`    ${pad(p.address, 16)} AS ${pad(String(p.asNumber), 6)} ${pad(p.state, 12)} rx ${p.prefixesReceived} tx ${p.prefixesAdvertised}${p.lastError ? `  (${p.lastError})` : ''}`);
    out.push('  BGP routes (best):');
    for (const rt of n.routes) {
      const best = rt.paths.find((p) => p.best);
      if (best) out.push(`    ${pad(rt.prefix, 18)} via ${pad(best.nextHop, 15)} ${best.peer === null ? 'local' : `from ${best.peer}`}  as-path [${best.asPath.join(' ')}]`);
    }
    out.push('  kernel:');
    for (const l of n.kernelRoutes) out.push(`    ${l}`);
  }
  if (r.tor) { out.push(''); out.push('ToR (FRR) bgp summary:'); out.push(r.tor.trimEnd()); }
  if (r.ping) {
    const pods = [...new Set(r.ping.matrix.map((c) => c.from))];
    const w = Math.max(8, ...pods.map((p) => p.length)) + 1;
    out.push('');
    const both = r.family === 'dual';
    out.push(`Ping matrix (row pings column, net-ping ICMP echo${both ? '; IPv4 rtt/IPv6 rtt' : ''}): ${r.ping.ok}/${r.ping.total} ok`);
    out.push(pad('', w) + pods.map((p) => pad(p, w)).join(''));
    for (const from of pods) {
      out.push(pad(from, w) + pods.map((to) => {
        if (to === from) return pad('-', w);
        // One cell per family for a dual-stack pair: FAIL when either failed.
        const cs = r.ping?.matrix.filter((x) => x.from === from && x.to === to) ?? [];
        return pad(cs.length === 0 ? '?' : cs.every((c) => c.ok) ? cs.map((c) => `${c.rttMs ?? 0}ms`).join('/') : 'FAIL', w);
      }).join(''));
    }
    for (const c of r.ping.matrix.filter((x) => !x.ok)) out.push(`  ${c.from} -> ${c.to} (${c.toIp}): ${c.error ?? 'failed'}`);
  }
  return out.join('\n') + '\n';
}
