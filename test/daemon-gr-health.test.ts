// Readiness while Kite restarts gracefully (calico-node -bird-ready: "graceful restart in
// progress"), over HTTP and `kite health`, from a real daemon on loopback. Node b's one mesh peer
// is a raw BGP speaker written here byte by byte (test/fixtures/bytes.ts), so the test decides
// when End-of-RIB arrives. b runs once and stops for a restart (its .running marker stays); the b
// that comes back announces Restart State (RFC 4724 §3), and /readyz answers 503 "graceful restart
// in progress" with the session Established until the peer's End-of-RIB, then 200.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Daemon } from '../src/daemon.js';
import { parseStream } from './bgp/helpers/net-fakes.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually, eventuallyAsync } from './helpers/eventually.js';
import { cap, ip4, msg, u16, u32, u8 } from './fixtures/bytes.js';

const world = new DaemonDir('grhealth');
const port = testPort(22200, 400);
const RAW = '127.0.0.81';
const B = '127.0.0.82';
world.write(clusterYaml({
  bgp: { asNumber: 64512, listenPort: port },
  nodes: [{ name: 'a', ipv4: `${RAW}/8` }, { name: 'b', ipv4: `${B}/8`, blocks: ['10.244.2.0/26'] }],
  pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
}));

/** The raw speaker's OPEN: version 4, AS 64512, hold 90, id 127.0.0.81, IPv4 unicast, 4-octet AS, graceful restart 120 s with IPv4 forwarding kept. */
const caps = cap(1, u16(1), u8(0), u8(1)) + cap(65, u32(64512)) + cap(64, u16(120), u16(1), u8(1), u8(0x80));
const OPEN = msg(1, u8(4), u16(64512), u16(90), ip4(RAW), u8(2 + caps.length / 2), u8(2), u8(caps.length / 2), caps);
const KEEPALIVE = msg(4);
/** RFC 4724 §2: End-of-RIB for IPv4 unicast is an UPDATE with no withdrawn routes, no attributes, no NLRI. */
const END_OF_RIB = msg(2, u16(0), u16(0));

/** Restart State (R) bit of the graceful restart capability in an OPEN body, undefined without one. */
function restartState(open: Buffer): boolean | undefined {
  for (let i = 10; i + 1 < open.length; i += 2 + open[i + 1]!) {
    const p = open.subarray(i + 2, i + 2 + open[i + 1]!);
    for (let j = 0; j + 1 < p.length; j += 2 + p[j + 1]!) if (p[j] === 64) return (p[j + 2]! & 0x80) !== 0;
  }
  return undefined;
}

/** Answers each connection's OPEN with its own and a KEEPALIVE; End-of-RIB follows at once unless held. */
class RawSpeaker {
  readonly server = net.createServer((s) => this.accept(s));
  readonly opens: Buffer[] = [];
  holdEndOfRib = false;
  private current: net.Socket | null = null;

  listen(): Promise<void> {
    return new Promise((resolve, reject) => { this.server.once('error', reject); this.server.listen(port, RAW, () => resolve()); });
  }

  sendEndOfRib(): void { this.current?.write(END_OF_RIB); }

  private accept(s: net.Socket): void {
    this.current = s;
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const msgs = parseStream(buf);
      const used = msgs.reduce((n, m) => n + 19 + m.body.length, 0);
      buf = buf.subarray(used);
      for (const m of msgs) {
        if (m.type !== 1) continue;
        this.opens.push(Buffer.from(m.body));
        s.write(Buffer.concat([OPEN, KEEPALIVE]));
        if (!this.holdEndOfRib) s.write(END_OF_RIB);
      }
    });
  }

  close(): Promise<void> {
    this.current?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const raw = new RawSpeaker();
let b: Daemon | undefined;
afterAll(async () => {
  await b?.stop('test over').catch(() => {});
  await raw.close();
  await world.close();
});

async function kiteHealth(httpPort: number): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['health', 'ready', '--http-address', '127.0.0.1', '--http-port', String(httpPort)], { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

describe('readiness during a graceful restart', () => {
  it('answers 503 "graceful restart in progress" with the session up until the peer\'s End-of-RIB, then 200', async () => {
    await raw.listen();
    // A first run, stopped for a restart: the marker stays.
    b = world.daemon('b', B);
    await b.start();
    await eventually('b up and ready', () => b!.peers()[0]?.state === 'Established' && b!.readiness().ok);
    expect(restartState(raw.opens[0]!)).toBe(false);
    await b.stop('upgrading', { restart: true });
    b = undefined;
    expect(existsSync(join(world.dir, 'kite-b.running'))).toBe(true);

    raw.holdEndOfRib = true;
    const again: Daemon = world.daemon('b', B, { httpAddress: '127.0.0.1', httpPort: 0 });
    b = again;
    await again.start();
    const httpPort = again.http.address!.port;
    const readyz = async (): Promise<[number, string]> => { const r = await fetch(`http://127.0.0.1:${httpPort}/readyz`); return [r.status, await r.text()]; };
    await eventually('the session Established again', () => again.peers()[0]?.state === 'Established');
    expect(restartState(raw.opens[1]!)).toBe(true); // RFC 4724 §3: Restart State while restarting
    expect(await readyz()).toEqual([503, 'graceful restart in progress\n']);
    expect(await kiteHealth(httpPort)).toEqual({ code: 1, out: '', err: 'kite: not ready: graceful restart in progress\n' });
    // Neither the datastore's sync nor the session coming up ends it: only End-of-RIB (or the deadline).
    await new Promise((r) => setTimeout(r, 1000));
    expect(await readyz()).toEqual([503, 'graceful restart in progress\n']);

    raw.sendEndOfRib();
    await eventuallyAsync('ready after End-of-RIB', async () => (await readyz())[0] === 200);
    expect(await readyz()).toEqual([200, 'ok\n']);
    expect(again.healthInputs().restarting).toBe(false);
    expect(await kiteHealth(httpPort)).toEqual({ code: 0, out: 'ready\n', err: '' });
  });
});
