// /livez and /readyz of a real daemon on loopback, and `kite health` against it: not ready while
// its configured peer is down during start-up (calico-node -bird-ready: "BGP not established
// with …"), ready once the session is Established; live throughout.
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const world = new DaemonDir('health');
const port = testPort(21300, 400);
world.write(clusterYaml({
  bgp: { asNumber: 64512, listenPort: port },
  nodes: [{ name: 'a', ipv4: '127.0.0.61/8' }, { name: 'b', ipv4: '127.0.0.62/8' }],
  pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
}));

afterAll(() => world.close());

async function kiteHealth(check: string, httpPort: number): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['health', check, '--http-address', '127.0.0.1', '--http-port', String(httpPort)], { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

describe('daemon health over HTTP', () => {
  it('is live at once, ready only once every peer is Established, and kite health agrees', async () => {
    const a = await world.start('a', '127.0.0.61', { httpAddress: '127.0.0.1', httpPort: 0 });
    const base = `http://127.0.0.1:${a.http.address!.port}`;
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('BGP not established with 127.0.0.62\n');
    const probe = await kiteHealth('ready', a.http.address!.port);
    expect(probe).toMatchObject({ code: 1, out: '' });
    expect(probe.err).toBe('kite: not ready: BGP not established with 127.0.0.62\n');
    expect(await kiteHealth('live', a.http.address!.port)).toEqual({ code: 0, out: 'live\n', err: '' });

    await world.start('b', '127.0.0.62');
    await eventually('a ready', () => a.readiness().ok);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await kiteHealth('ready', a.http.address!.port)).toEqual({ code: 0, out: 'ready\n', err: '' });
  });

  it('kite health fails with the reason when nothing answers', async () => {
    const r = await kiteHealth('live', 1);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kite: cannot ask http:\/\/127\.0\.0\.1:1\/livez/);
  });
});
