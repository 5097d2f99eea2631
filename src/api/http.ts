// Kite's HTTP endpoint: one small Node http server that parts of the daemon register paths on
// (health's /livez and /readyz, metrics' /metrics). No framework: GET/HEAD only, exact paths,
// and a handler that throws answers 500 instead of taking the daemon down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpReply {
  status: number;
  body: string;
  /** Default text/plain; charset=utf-8. */
  contentType?: string;
}

/** Answers one request; `url` is already parsed (query included). */
export type HttpHandler = (req: IncomingMessage, url: URL) => HttpReply | Promise<HttpReply>;

/** Calico's Felix serves health on localhost:9099; Kite keeps clear of it, because Felix stays on a migrated node. */
export const DEFAULT_HTTP_HOST = 'localhost';
export const DEFAULT_HTTP_PORT = 9097;

export class HttpServer {
  private readonly routes = new Map<string, HttpHandler>();
  private server: Server | null = null;

  /** Registers `path` (exact match, e.g. "/metrics"); a later registration of the same path replaces it. */
  handle(path: string, handler: HttpHandler): void {
    if (!path.startsWith('/')) throw new Error(`HTTP path must start with '/': ${path}`);
    this.routes.set(path, handler);
  }

  get paths(): string[] { return [...this.routes.keys()].sort(); }

  /** Binds host:port (port 0: any free port); rejects on EADDRINUSE so a second Kite says so at start. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.serve(req, res));
    // A probe's connection must not hold the daemon's stop open.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  get address(): AddressInfo | null { return (this.server?.address() as AddressInfo | null) ?? null; }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kite.invalid');
    const handler = this.routes.get(url.pathname);
    let reply: HttpReply;
    if (req.method !== 'GET' && req.method !== 'HEAD') reply = { status: 405, body: `${req.method ?? ''} not allowed\n` };
    else if (handler === undefined) reply = { status: 404, body: `no such path ${url.pathname}; try ${this.paths.join(' ')}\n` };
    else {
      try {
        reply = await handler(req, url);
      } catch (e) {
        reply = { status: 500, body: `${e instanceof Error ? e.message : String(e)}\n` };
      }
    }
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }
}
