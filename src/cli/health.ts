// `kite health live|ready`: asks the running daemon's /livez or /readyz over HTTP, for exec
// probes and scripts. Exit 0 with "ok", else 1 with the daemon's reasons (calico-node's
// `-bird-ready` prints its reason the same way). Loads nothing of the daemon.
import { request } from 'node:http';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from '../api/http.js';
import { parseOrUsage, UsageError } from './usage.js';

export interface HealthOptions {
  check: 'live' | 'ready';
  address: string;
  port: number;
  timeoutMs: number;
}

export function parseHealthArgs(args: string[], env: NodeJS.ProcessEnv = process.env): HealthOptions | null {
  const { values, positionals } = parseOrUsage({
    args,
    allowPositionals: true,
    options: {
      'http-address': { type: 'string' },
      'http-port': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'health');
  if (values.help) return null;
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'health');
  const check = positionals[0] ?? 'ready';
  if (check !== 'live' && check !== 'ready') throw new UsageError(`check must be live or ready, not '${check}'`, 'health');
  const port = values['http-port'] ?? env['KITE_HTTP_PORT'] ?? String(DEFAULT_HTTP_PORT);
  const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`--http-port '${port}' is not a port number (1-65535)`, 'health');
  const timeout = Number(values.timeout ?? '5');
  if (!(timeout > 0)) throw new UsageError(`--timeout '${values.timeout ?? ''}' is not a positive number of seconds`, 'health');
  return { check, address: values['http-address'] ?? env['KITE_HTTP_ADDRESS'] ?? DEFAULT_HTTP_HOST, port: n, timeoutMs: timeout * 1000 };
}

/** "ok" when healthy; throws with the reasons otherwise (main turns that into exit 1). */
export async function health(o: HealthOptions): Promise<string> {
  const path = o.check === 'live' ? '/livez' : '/readyz';
  const { status, body } = await get(o.address, o.port, path, o.timeoutMs);
  if (status === 200) return `${o.check === 'live' ? 'live' : 'ready'}\n`;
  throw new Error(`not ${o.check}: ${body.trim().split('\n').join('; ') || `HTTP ${status}`}`);
}

function get(host: string, port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // A wedged event loop accepts the connection and never answers: that is "not live".
    req.on('timeout', () => req.destroy(new Error(`no answer from http://${host}:${port}${path} within ${timeoutMs / 1000} s`)));
    req.on('error', (e) => reject(new Error(`cannot ask http://${host}:${port}${path}: ${e.message}`)));
    req.end();
  });
}
