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
  private servers: Server[] = [];

  /** Registers `path` (exact match, e.g. "/metrics"); a later registration of the same path replaces it. */
  handle(path: string, handler: HttpHandler): void {
    if (!path.startsWith('/')) throw new Error(`HTTP path must start with '/': ${path}`);
    this.routes.set(path, handler);
  }

  get paths(): string[] { return [...this.routes.keys()].sort(); }

  /**
   * Binds host:port (port 0: any free port); rejects on EADDRINUSE so a second Kite says so at
   * start. "localhost" binds 127.0.0.1 and ::1 both: a prober (kubelet's httpGet host: localhost,
   * Docker's HEALTHCHECK) may resolve the name to either, whatever order this process gets.
   */
  async listen(host: string, port: number): Promise<AddressInfo> {
    const hosts = host === 'localhost' ? ['127.0.0.1', '::1'] : [host];
    let bound = port;
    for (const [i, h] of hosts.entries()) {
      const server = createServer((req, res) => void this.serve(req, res));
      // A probe's connection must not hold the daemon's stop open.
      server.keepAliveTimeout = 1000;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(bound, h, () => { server.off('error', reject); resolve(); });
        });
      } catch (e) {
        // No IPv6 loopback on this host (IPv6 disabled): 127.0.0.1 serves alone.
        const code = (e as NodeJS.ErrnoException).code;
        if (i > 0 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        await this.close();
        throw e;
      }
      this.servers.push(server);
      bound = (server.address() as AddressInfo).port;
    }
    return this.servers[0]!.address() as AddressInfo;
  }

  get address(): AddressInfo | null { return (this.servers[0]?.address() as AddressInfo | null | undefined) ?? null; }

  async close(): Promise<void> {
    const all = this.servers;
    this.servers = [];
    for (const s of all) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
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
