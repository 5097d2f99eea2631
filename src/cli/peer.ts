// `kite peer reset|disable|enable|refresh <address>`: the operator's actions on one peer of the
// running daemon, over the control socket (birdc restart/disable/enable on a protocol).
import { createControlClient, DEFAULT_SOCKET, type ControlClient } from '../api/client.js';
import { PEER_ACTIONS, type PeerActionName } from '../api/types.js';
import { parseOrUsage, UsageError } from './usage.js';

export interface PeerCliOptions {
  action: PeerActionName;
  address: string;
  reason?: string;
  json: boolean;
  socket: string;
}

/** Parses `kite peer ...` (after "peer"); null when help was asked for. */
export function parsePeerArgs(args: string[]): PeerCliOptions | null {
  const { values, positionals } = parseOrUsage({
    args,
    allowPositionals: true,
    options: {
      reason: { type: 'string' },
      json: { type: 'boolean' },
      socket: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'peer');
  if (values.help) return null;
  const [action, address, ...extra] = positionals;
  const actions = PEER_ACTIONS.join(', ');
  if (action === undefined) throw new UsageError(`say what to do: ${actions}`, 'peer');
  if (!(PEER_ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}' (${actions})`, 'peer');
  if (address === undefined) throw new UsageError(`say which peer: kite peer ${action} <address>`, 'peer');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, 'peer');
  const opts: PeerCliOptions = { action: action as PeerActionName, address, json: values.json ?? false, socket: values.socket ?? DEFAULT_SOCKET };
  if (values.reason !== undefined) opts.reason = values.reason;
  return opts;
}

/** Runs the action; returns the text to print and whether it did what was asked. */
export async function peer(opts: PeerCliOptions, client: ControlClient = createControlClient(opts.socket)): Promise<{ text: string; ok: boolean }> {
  try {
    const r = await client.peerAction(opts.address, opts.action, opts.reason ?? '');
    return { text: opts.json ? `${JSON.stringify(r, null, 2)}\n` : `${r.message}\n`, ok: r.ok };
  } finally {
    client.close();
  }
}
