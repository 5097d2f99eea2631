// Control API round trip: a fake StatusProvider served on a temporary Unix socket, read back
// through the typed client. The expected JSON is written out by hand, so nulls, zeros and
// empty lists that the proto encoding could lose are checked field by field.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlServer, type ControlServer } from '../../src/api/server.js';
import { createControlClient, ControlApiError } from '../../src/api/client.js';
import type { AdjRoute, ConfigReport, PeerDetail, PeerStatus, RouteStatus, StatusProvider, Summary } from '../../src/api/types.js';

const PEERS: PeerStatus[] = [
  { address: '198.18.0.2', asNumber: 64512, state: 'Established', prefixesReceived: 3, prefixesAccepted: 2, prefixesAdvertised: 1, lastError: '' },
  { address: 'fd00::3', asNumber: 4200000000, state: 'OpenSent', prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0, lastError: 'hold timer expired' },
];

const SUMMARY: Summary = { node: 'node-1', routerId: '198.18.0.1', asNumber: 64512, peers: PEERS, ribIPv4: 2, ribIPv6: 0 };

const ROUTES: RouteStatus[] = [
  {
    prefix: '10.244.1.0/26',
    paths: [
      {
        nextHop: '198.18.0.2', asPath: [], origin: 'igp', localPref: 100, med: 0,
        communities: ['64512:100'], largeCommunities: ['64512:1:2'], originatorId: '198.18.0.9',
        clusterList: ['198.18.0.9', '1.2.3.4'], peer: '198.18.0.2', best: true,
      },
      {
        nextHop: '198.18.0.3', asPath: [64513, 4200000000], origin: 'incomplete', localPref: null, med: null,
        communities: [], largeCommunities: [], originatorId: null, clusterList: [], peer: '198.18.0.3', best: false,
      },
    ],
    bestReason: 'router-id: RFC 4271 §9.1.2.2 f',
  },
  {
    prefix: '10.244.2.0/26',
    paths: [{
      nextHop: '0.0.0.0', asPath: [], origin: 'egp', localPref: 0, med: 4294967295,
      communities: [], largeCommunities: [], originatorId: null, clusterList: [], peer: null, best: true,
    }],
    bestReason: 'only-path: the only path to this prefix',
  },
];

class FakeProvider implements StatusProvider {
  filters: Array<{ prefix?: string }> = [];
  summary(): Summary { return SUMMARY; }
  peers(): PeerStatus[] { return PEERS; }
  routes(filter: { prefix?: string }): RouteStatus[] {
    this.filters.push(filter);
    if (filter.prefix === 'bad') throw new Error('bad is not a prefix');
    return filter.prefix === undefined ? ROUTES : ROUTES.filter((r) => r.prefix === filter.prefix);
  }
}

const silent = { info: () => {}, warn: () => {} };
let dir: string;
const servers: ControlServer[] = [];
const children: ChildProcess[] = [];

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kite-api-')); });
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(name: string, provider: StatusProvider = new FakeProvider()): Promise<string> {
  const path = join(dir, name);
  servers.push(await startControlServer(provider, path, silent));
  return path;
}

describe('control API', () => {
  it('returns the exact JSON shapes, including nulls, zeros and empty lists', async () => {
    const provider = new FakeProvider();
    const path = await serve('exact.sock', provider);
    const client = createControlClient(path);
    try {
      // Compare the serialized JSON so key order and null-vs-missing both count.
      expect(JSON.stringify(await client.summary())).toBe(JSON.stringify(SUMMARY));
      expect(JSON.stringify(await client.peers())).toBe(JSON.stringify(PEERS));
      expect(JSON.stringify(await client.routes())).toBe(JSON.stringify(ROUTES));
      const second = (await client.routes())[0]!.paths[1]!;
      expect(second.localPref).toBeNull();
      expect(second.med).toBeNull();
      expect(second.originatorId).toBeNull();
      expect((await client.routes())[1]!.paths[0]!.peer).toBeNull();
      expect((await client.routes())[1]!.paths[0]!.localPref).toBe(0);
    } finally {
      client.close();
    }
  });

  it('serves the dataplane report exactly, and a disabled one when the provider has none', async () => {
    const fib = {
      enabled: true, protocol: 75, table: 254, inSync: true, lastResync: 1795426428418, notes: ['no ipip pool: tunl0 unused'],
      routes: [
        { prefix: '10.244.2.0/26', source: 'remote', state: 'programmed', desired: '10.244.2.0/26 via 198.18.0.2 dev eth0 onlink proto 75', kernel: '10.244.2.0/26 via 198.18.0.2 dev eth0 onlink proto 75', reason: '' },
        { prefix: '0.0.0.0/0', source: 'remote', state: 'refused', desired: null, kernel: null, reason: 'a default route is never programmed from BGP' },
      ],
    };
    const withFib = createControlClient(await serve('fib.sock', { ...new FakeProvider(), summary: () => SUMMARY, peers: () => PEERS, routes: () => ROUTES, fib: () => fib }));
    const without = createControlClient(await serve('nofib.sock'));
    try {
      expect(await withFib.fib()).toEqual(fib);
      expect(await without.fib()).toEqual({ enabled: false, protocol: 0, table: 0, inSync: false, lastResync: null, routes: [], notes: [] });
    } finally {
      withFib.close();
      without.close();
    }
  });

  it('round-trips the peer views and actions of issue 13 exactly (nulls, zeros, empty lists), and says NOT_FOUND, INVALID_ARGUMENT, UNIMPLEMENTED', async () => {
    const fam = { received: 3, accepted: 2, rejectedPolicy: 1, rejectedLoop: 0, advertised: 1 };
    const zero = { received: 0, accepted: 0, rejectedPolicy: 0, rejectedLoop: 0, advertised: 0 };
    const peer: PeerStatus = { ...PEERS[0]!, peerType: 'node-to-node mesh', name: 'Mesh_198_18_0_2', sinceSeconds: 0, disabled: false, ipv4: fam, ipv6: zero, maxPrefixes: null };
    const detail: PeerDetail = {
      ...peer, channelState: 'up',
      session: { port: 179, passive: false, localAs: 64512, holdTime: 240, keepaliveTime: 80, connectRetryTime: 5, localAddress: null, remoteRouterId: '198.18.0.2',
        connection: 'incoming', uptimeSeconds: 0, families: ['IPv4 unicast'], capabilities: [] },
      counters: { messagesReceived: 5, messagesSent: 4, updatesReceived: 1, updatesSent: 0, notificationsReceived: 0, notificationsSent: 0, establishedTransitions: 1, connectRetries: 0 },
      gracefulRestart: { localRestartTime: 120, peerRestartTime: null, peerRestarting: false, staleRoutes: 0 },
      config: { sourceAddress: null, password: false, ttlSecurity: null, nextHopMode: 'Auto', filters: [], resource: '' },
    };
    const adj: AdjRoute[] = [{ prefix: '10.244.1.0/26', pathId: 0, path: ROUTES[0]!.paths[1]! }];
    const config: ConfigReport = {
      node: 'node-1', routerId: { value: '198.18.0.1', source: 'Node node-1 spec.bgp.ipv4Address' }, asNumber: { value: 64512, source: 'Calico default (64512)' },
      ipv4Address: { value: '198.18.0.1/24', source: 'Node node-1 spec.bgp.ipv4Address' }, ipv6Address: null,
      listenPort: { value: 179, source: 'Calico default (179)' }, logSeverityScreen: { value: 'Info', source: 'Calico default (Info)' },
      nodeToNodeMesh: { value: false, source: 'BGPConfiguration default spec.nodeToNodeMeshEnabled' },
      peers: [{ name: 'tor', address: '198.19.0.100', asNumber: 65000, peerType: 'global', source: 'BGPPeer tor' }], originated: [], pools: [], notes: [],
    };
    const actions: string[] = [];
    const provider: StatusProvider = {
      ...new FakeProvider(), summary: () => SUMMARY, routes: () => ROUTES,
      peers: () => [peer, PEERS[1]!],
      peer: (a) => (a === peer.address ? detail : null),
      adjRib: (a, d) => { if (a !== peer.address) throw new Error(`${a} is not a configured peer`); return d === 'received' ? adj : []; },
      configReport: () => config,
      peerAction: (a, action, reason) => { actions.push(`${action} ${a} ${reason}`); return { ok: action !== 'refresh', message: `${action} done` }; },
    };
    const client = createControlClient(await serve('views.sock', provider));
    const bare = createControlClient(await serve('bare.sock'));
    try {
      // A peer with the new fields and one without (an older daemon's shape) both survive as they are.
      expect(JSON.stringify(await client.peers())).toBe(JSON.stringify([peer, PEERS[1]]));
      expect(await client.peer(peer.address)).toEqual(detail);
      expect(await client.adjRib(peer.address, 'received')).toEqual(adj);
      expect(await client.adjRib(peer.address, 'advertised')).toEqual([]);
      expect(await client.config()).toEqual(config);
      expect(await client.peerAction(peer.address, 'disable', 'maintenance')).toEqual({ ok: true, message: 'disable done' });
      expect(await client.peerAction(peer.address, 'refresh')).toEqual({ ok: false, message: 'refresh done' });
      expect(actions).toEqual(['disable 198.18.0.2 maintenance', 'refresh 198.18.0.2 kite peer refresh']);
      await expect(client.peer('192.0.2.1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(bare.config()).rejects.toMatchObject({ code: 'UNIMPLEMENTED' });
    } finally {
      client.close();
      bare.close();
    }
  });

  it('returns empty lists as [] and a summary without peers', async () => {
    const empty: StatusProvider = {
      summary: () => ({ ...SUMMARY, peers: [], ribIPv4: 0 }),
      peers: () => [],
      routes: () => [{ prefix: '10.0.0.0/8', paths: [], bestReason: '' }],
    };
    const client = createControlClient(await serve('empty.sock', empty));
    try {
      expect(await client.summary()).toEqual({ node: 'node-1', routerId: '198.18.0.1', asNumber: 64512, peers: [], ribIPv4: 0, ribIPv6: 0 });
      expect(await client.peers()).toEqual([]);
      expect(await client.routes()).toEqual([{ prefix: '10.0.0.0/8', paths: [], bestReason: '' }]);
    } finally {
      client.close();
    }
  });

  it('serves clients that connect at once while gRPC is still being loaded (it is loaded at the first client, issue 16), and on close lets go of them', async () => {
    const path = await serve('first.sock');
    const clients = [0, 1, 2].map(() => createControlClient(path));
    try {
      const answers = await Promise.all(clients.map((c) => c.summary()));
      for (const a of answers) expect(a).toEqual(SUMMARY);
      expect(await clients[0]!.peers()).toEqual(PEERS); // the same connection, again
    } finally {
      for (const c of clients) c.close();
    }
    await servers.splice(0).map((s) => s.close())[0];
    expect(existsSync(path)).toBe(false);
  });

  it('a connection after one whose gRPC load failed loads gRPC again and is served, not closed like the first', async () => {
    const path = join(dir, 'reload.sock');
    const warned: string[] = [];
    let loads = 0;
    const server = await startControlServer(new FakeProvider(), path, { info: () => {}, warn: (_o, m) => warned.push(m) }, {
      loadGrpc: async () => {
        if (++loads === 1) throw new Error('cannot load @grpc/grpc-js');
        const [grpc, proto] = await Promise.all([import('@grpc/grpc-js'), import('../../src/api/proto.js')]);
        return { grpc, proto };
      },
    });
    servers.push(server);
    const first = createControlClient(path);
    try {
      await expect(first.summary()).rejects.toBeInstanceOf(ControlApiError);
    } finally {
      first.close();
    }
    expect(warned).toEqual(['control API: cannot load gRPC']);
    const second = createControlClient(path);
    try {
      expect(await second.summary()).toEqual(SUMMARY);
    } finally {
      second.close();
    }
    expect(loads).toBe(2);
  });

  it('closes while a client is still connected: an open client connection does not hold up daemon exit', async () => {
    // net.Server.close() waits for the open connections; close() must end them (gRPC shutdown,
    // then destroy), not wait for the client. Before that fix this close() never settled and the
    // test ran into vitest's timeout.
    const path = join(dir, 'open-client.sock');
    const server = await startControlServer(new FakeProvider(), path, silent);
    const client = createControlClient(path);
    try {
      expect(await client.summary()).toEqual(SUMMARY);
      await server.close();
      expect(existsSync(path)).toBe(false);
      await expect(client.summary()).rejects.toBeInstanceOf(ControlApiError);
    } finally {
      client.close();
    }
  });

  it('passes the prefix filter through, and no filter when none is given', async () => {
    const provider = new FakeProvider();
    const client = createControlClient(await serve('filter.sock', provider));
    try {
      expect(await client.routes({ prefix: '10.244.2.0/26' })).toEqual([ROUTES[1]]);
      expect(await client.routes()).toHaveLength(2);
      expect(await client.routes({ prefix: '10.0.0.0/8' })).toEqual([]);
      expect(provider.filters).toEqual([{ prefix: '10.244.2.0/26' }, {}, { prefix: '10.0.0.0/8' }]);
    } finally {
      client.close();
    }
  });

  it('reports a provider error as a ControlApiError with its message', async () => {
    const client = createControlClient(await serve('err.sock'));
    try {
      await expect(client.routes({ prefix: 'bad' })).rejects.toThrow(/bad is not a prefix/);
    } finally {
      client.close();
    }
  });

  it('says the daemon is not running when the socket is missing', async () => {
    const path = join(dir, 'missing.sock');
    const client = createControlClient(path);
    try {
      const err = await client.summary().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ControlApiError);
      expect((err as ControlApiError).message).toBe(`cannot reach kite at ${path}: is \`kite run\` running? (ENOENT)`);
    } finally {
      client.close();
    }
  });

  it('creates the parent directory and removes its socket on close', async () => {
    const path = join(dir, 'nested', 'deeper', 'kite.sock');
    const server = await startControlServer(new FakeProvider(), path, silent);
    expect(existsSync(path)).toBe(true);
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('removes a stale socket nobody listens on, then serves', async () => {
    const path = join(dir, 'stale.sock');
    await leaveStaleSocket(path);
    expect(existsSync(path)).toBe(true);
    const warned: string[] = [];
    const server = await startControlServer(new FakeProvider(), path, { info: () => {}, warn: (_o, m) => warned.push(m) });
    servers.push(server);
    expect(warned).toHaveLength(1);
    const client = createControlClient(path);
    try {
      expect((await client.summary()).node).toBe('node-1');
    } finally {
      client.close();
    }
  });

  it('refuses to start on a socket a live daemon answers on, and leaves it working', async () => {
    const path = await serve('live.sock');
    await expect(startControlServer(new FakeProvider(), path, silent)).rejects.toThrow(`another kite is running on ${path}`);
    const client = createControlClient(path);
    try {
      expect((await client.peers())).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('refuses to remove a path that is not a socket', async () => {
    const path = join(dir, 'regular-file');
    writeFileSync(path, 'not a socket');
    await expect(startControlServer(new FakeProvider(), path, silent)).rejects.toThrow(/is not a socket/);
    expect(existsSync(path)).toBe(true);
  });

  /** A socket file whose owner died without unlinking it, as after SIGKILL of the daemon. */
  async function leaveStaleSocket(path: string): Promise<void> {
    const script = `const s=require('net').createServer();s.listen(${JSON.stringify(path)},()=>process.stdout.write('up'));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((ok, fail) => {
      child.stdout!.once('data', () => ok());
      child.once('exit', (code) => fail(new Error(`socket holder exited with ${code}`)));
    });
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGKILL');
    await exited;
  }
});
