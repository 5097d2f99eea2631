// logSeverityScreen on a running daemon: the BGPConfiguration sets the log level, the node's own
// BGPConfiguration ("node.<name>") over the default one, live on an edit; --log-level wins over
// both (calico-node's confd templates/bird.cfg.template reads /host/<node>/loglevel before
// /global/loglevel, which libcalico-go fills from the two BGPConfigurations' logSeverityScreen).
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Daemon } from '../src/daemon.js';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const world = new DaemonDir('logging');
const port = testPort(22600, 300);
const yaml = (global: string, node?: string): string => clusterYaml({
  bgp: { asNumber: 64512, listenPort: port, logSeverityScreen: global },
  nodes: [{ name: 'a', ipv4: '127.0.0.91/8' }],
  pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
}) + (node === undefined ? '' : `---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: node.a
spec:
  logSeverityScreen: ${node}
`);

afterAll(() => world.close());

function daemon(fromDatastore: boolean, level = 'info'): { d: Daemon; log: pino.Logger } {
  const log = pino({ level }, { write: () => {} });
  const d = new Daemon({ config: world.file, node: 'a', socket: `${world.dir}/a-${fromDatastore}.sock`, dataplane: 'none', listenAddress: '127.0.0.91',
    listenPort: 0, logLevelFromDatastore: fromDatastore }, log);
  return { d, log };
}

describe('logSeverityScreen', () => {
  it('sets the level, the node-specific BGPConfiguration first, and follows edits', async () => {
    world.write(yaml('Debug', 'Warning'));
    const { d, log } = daemon(true);
    await d.start();
    try {
      expect(log.level).toBe('warn');
      world.write(yaml('Debug'));
      await eventually('level follows the edit', () => log.level === 'debug');
    } finally {
      await d.stop('test over');
    }
  });

  it('--log-level wins: the daemon keeps the level it was given', async () => {
    world.write(yaml('Debug', 'Error'));
    const { d, log } = daemon(false, 'trace');
    await d.start();
    try {
      expect(log.level).toBe('trace');
    } finally {
      await d.stop('test over');
    }
  });
});
