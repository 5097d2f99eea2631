// Argument parsing of `kite run` and `kite show`, in process: the exact options object
// handed to runDaemon, the NODENAME fallback, and which mistakes are usage errors.
import { describe, expect, it } from 'vitest';
import { parseRunArgs, RunError } from '../../src/cli/run.js';
import { parseShowArgs } from '../../src/cli/show.js';
import { UsageError } from '../../src/cli/usage.js';
import { table, Align } from '../../src/cli/format.js';

describe('parseRunArgs', () => {
  it('builds the runDaemon options with defaults', () => {
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n1'], {})).toEqual({
      config: 'k.yaml', node: 'n1', socket: '/run/kite/kite.sock', dataplane: 'linux', // the default on Linux
    });
  });

  it('takes every option', () => {
    expect(parseRunArgs([
      '--config', 'k.yaml', '--node', 'n1', '--socket', '/tmp/k.sock', '--dataplane', 'none',
      '--listen-address', 'fd00::1', '--listen-port', '1179', '--log-level', 'debug',
    ], {})).toEqual({
      config: 'k.yaml', node: 'n1', socket: '/tmp/k.sock', dataplane: 'none',
      listenAddress: 'fd00::1', listenPort: 1179, logLevel: 'debug',
    });
  });

  it('falls back to NODENAME, and --node wins over it', () => {
    expect(parseRunArgs(['--config', 'k.yaml'], { NODENAME: 'from-env' })?.node).toBe('from-env');
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'flag'], { NODENAME: 'from-env' })?.node).toBe('flag');
  });

  it('falls back to HOSTNAME, then the host name, as calico-node determines its node name', async () => {
    expect(parseRunArgs(['--config', 'k.yaml'], { HOSTNAME: ' Worker-1 ' })?.node).toBe('worker-1');
    const { hostname } = await import('node:os');
    expect(parseRunArgs(['--config', 'k.yaml'], {})?.node).toBe(hostname().trim().toLowerCase());
  });

  it('collects calico-node\'s start-up variables, each flag overriding its variable', () => {
    const env = { IP: 'autodetect', IP_AUTODETECTION_METHOD: 'can-reach=8.8.8.8', AS: '64600', CALICO_IPV4POOL_CIDR: '10.1.0.0/16', UNRELATED: 'x' };
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--as', '64700', '--router-id', 'hash', '--no-default-pools'], env)?.startup).toEqual({
      IP: 'autodetect', IP_AUTODETECTION_METHOD: 'can-reach=8.8.8.8', AS: '64700', CALICO_IPV4POOL_CIDR: '10.1.0.0/16',
      CALICO_ROUTER_ID: 'hash', NO_DEFAULT_POOLS: 'true',
    });
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--ip', '10.0.0.5', '--ip6', 'none', '--ip6-autodetection-method', 'interface=eth1'], {})?.startup)
      .toEqual({ IP: '10.0.0.5', IP6: 'none', IP6_AUTODETECTION_METHOD: 'interface=eth1' });
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--on-stop', 'decommission'], {})?.onStop).toBe('decommission');
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n'], { KITE_ON_STOP: 'restart', KITE_HTTP_PORT: 'off' })).toMatchObject({ onStop: 'restart', httpPort: 'off' });
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--http-port', '9100', '--http-address', '0.0.0.0'], { KITE_HTTP_PORT: '1' }))
      .toMatchObject({ httpPort: 9100, httpAddress: '0.0.0.0' });
    expect(() => parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--on-stop', 'later'], {})).toThrow(/--on-stop must be restart or decommission/);
    // Who programs workload routes: the flag over $KITE_WORKLOAD_ROUTES, unset by default (Kite).
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n'], {})?.workloadRoutes).toBeUndefined();
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n'], { KITE_WORKLOAD_ROUTES: 'felix' })?.workloadRoutes).toBe('felix');
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--workload-routes', 'kite'], { KITE_WORKLOAD_ROUTES: 'felix' })?.workloadRoutes).toBe('kite');
    expect(() => parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--workload-routes', 'bird'], {})).toThrow(/--workload-routes must be kite or felix, not 'bird'/);
    expect(() => parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--http-port', 'x'], {})).toThrow(/--http-port 'x' is not a port number/);
  });

  it('returns null for --help', () => {
    expect(parseRunArgs(['--help'], {})).toBeNull();
    expect(parseRunArgs(['-h'], {})).toBeNull();
  });

  it.each([
    [[], /--config FILE is required/],
    [['--config', 'k.yaml', '--node', 'n', '--listen-port', '65536'], /not a port number/],
    [['--config', 'k.yaml', '--node', 'n', '--listen-port', '-1'], /argument is ambiguous/],
    [['--config', 'k.yaml', '--node', 'n', '--listen-port=-1'], /not a port number/],
    [['--config', 'k.yaml', '--node', 'n', '--listen-address', 'node-1'], /not an IP address/],
    [['--config', 'k.yaml', '--node', 'n', '--log-level', 'loud'], /--log-level must be one of/],
    [['--config', 'k.yaml', '--node', 'n', '--dataplane', 'ebpf'], /--dataplane must be none or linux/],
    [['--config', 'k.yaml', '--node', 'n', '--verbose'], /unknown option '--verbose'/],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseRunArgs(args, {})).toThrow(UsageError);
    expect(() => parseRunArgs(args, {})).toThrow(message);
  });

  it('takes the etcdv3 datastore from --datastore or calico-node\'s DATASTORE_TYPE, with its ETCD_* variables', () => {
    const env = { ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379', ETCD_CA_CERT_FILE: '/ca', ETCD_CERT_FILE: '/c', ETCD_KEY_FILE: '/k', ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p' };
    const etcd = { endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], caCertFile: '/ca', certFile: '/c', keyFile: '/k', username: 'u', password: 'p' };
    expect(parseRunArgs(['--datastore', 'etcdv3', '--node', 'n'], env)).toMatchObject({ datastore: 'etcdv3', etcd });
    expect(parseRunArgs(['--node', 'n'], { ...env, DATASTORE_TYPE: 'etcdv3' })).toMatchObject({ datastore: 'etcdv3', etcd });
    // A file given on the command line wins over the variable.
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n'], { ...env, DATASTORE_TYPE: 'etcdv3' })?.datastore).toBeUndefined();
    expect(() => parseRunArgs(['--datastore', 'etcdv3', '--node', 'n'], {})).toThrow(/ETCD_ENDPOINTS/);
  });

  it('accepts the linux dataplane, the kubernetes datastore, and refuses unknown values', () => {
    expect(parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--dataplane', 'linux'], {})?.dataplane).toBe('linux');
    expect(parseRunArgs(['--datastore', 'kubernetes', '--kubeconfig', '/k', '--node', 'n'], {})).toMatchObject({ datastore: 'kubernetes', kubeconfig: '/k' });
    expect(() => parseRunArgs(['--config', 'k.yaml', '--node', 'n', '--dataplane', 'vpp'], {})).toThrow(/--dataplane must be none or linux/);
    expect(() => parseRunArgs(['--node', 'n', '--datastore', 'etcd'], {})).toThrow(/--datastore must be file, kubernetes or etcdv3/);
    expect(() => parseRunArgs(['--node', 'n'], {})).toThrow(/--config FILE is required/);
    void RunError;
  });
});

describe('parseShowArgs', () => {
  it('parses topic, flags and the default socket', () => {
    expect(parseShowArgs(['routes', '--prefix', '10.0.0.1', '--json'])).toEqual({
      topic: 'routes', json: true, prefix: '10.0.0.1', socket: '/run/kite/kite.sock',
    });
    expect(parseShowArgs(['--socket', '/tmp/s', 'peers'])).toEqual({ topic: 'peers', json: false, socket: '/tmp/s' });
  });

  it.each([[[]], [['routez']], [['routes', 'extra']], [['summary', '--prefix', '10.0.0.0/8']], [['routes', '--prefix', '']]])(
    '%j is a usage error', (args) => {
      expect(() => parseShowArgs(args)).toThrow(UsageError);
    });
});

describe('table', () => {
  it('pads columns, right-aligns numbers and trims trailing spaces', () => {
    expect(table([{ header: 'Peer' }, { header: 'AS', align: Align.Right }, { header: 'Note' }], [
      ['10.0.0.1', '64512', ''],
      ['fd00::1', '1', 'down'],
    ])).toEqual([
      'Peer         AS  Note',
      '10.0.0.1  64512',
      'fd00::1       1  down',
    ]);
  });
});
