// The HTTP endpoint other parts register paths on: exact paths, GET/HEAD only, a throwing
// handler answers 500, an occupied port fails listen (a second Kite says so at start).
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer } from '../../src/api/http.js';

const servers: HttpServer[] = [];
afterEach(async () => { for (const s of servers.splice(0)) await s.close(); });

async function started(): Promise<{ s: HttpServer; base: string }> {
  const s = new HttpServer();
  servers.push(s);
  s.handle('/hello', () => ({ status: 200, body: 'hi\n' }));
  s.handle('/boom', () => { throw new Error('handler failed'); });
  s.handle('/json', async () => ({ status: 503, body: '{"a":1}', contentType: 'application/json' }));
  const a = await s.listen('127.0.0.1', 0);
  return { s, base: `http://127.0.0.1:${a.port}` };
}

describe('HttpServer', () => {
  it('routes registered paths and answers 404 naming the known ones', async () => {
    const { base } = await started();
    const ok = await fetch(`${base}/hello?x=1`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hi\n');
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    const json = await fetch(`${base}/json`);
    expect(json.status).toBe(503);
    expect(json.headers.get('content-type')).toBe('application/json');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('/hello');
  });

  it('answers 500 when a handler throws, 405 for other methods, and registers late paths', async () => {
    const { s, base } = await started();
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).toContain('handler failed');
    expect((await fetch(`${base}/hello`, { method: 'POST' })).status).toBe(405);
    s.handle('/metrics', () => ({ status: 200, body: 'm 1\n' }));
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('m 1\n');
    expect(() => s.handle('metrics', () => ({ status: 200, body: '' }))).toThrow(/must start with/);
  });

  it('refuses a port already taken', async () => {
    const { s } = await started();
    const other = new HttpServer();
    servers.push(other);
    await expect(other.listen('127.0.0.1', s.address!.port)).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('HttpServer on localhost', () => {
  it('answers on 127.0.0.1 and on ::1, whichever a prober resolves localhost to', async () => {
    const s = new HttpServer();
    servers.push(s);
    s.handle('/livez', () => ({ status: 200, body: 'ok\n' }));
    const { port } = await s.listen('localhost', 0);
    expect(await (await fetch(`http://127.0.0.1:${port}/livez`)).text()).toBe('ok\n');
    const v6 = await fetch(`http://[::1]:${port}/livez`).then((r) => r.text(), () => 'no IPv6 loopback here');
    expect(['ok\n', 'no IPv6 loopback here']).toContain(v6);
  });
});
