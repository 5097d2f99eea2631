// BGPFilter resources end to end on loopback: an export rule on one side and an import rule on
// the other decide which of node y's blocks node x ends up with; a filter edit applies live.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterYaml } from './helpers/cluster-config.js';
import { DaemonDir, testPort } from './helpers/daemons.js';
import { eventually } from './helpers/eventually.js';

const world = new DaemonDir('filters');
const port = testPort(19500);

afterAll(() => world.close());

type Rule = Record<string, unknown>;
const rule = (cidr: string, matchOperator: string, action: string): Rule => ({ cidr, matchOperator, action });

/** x and y on loopback without a mesh; y's three blocks; y-out on y's export, x-in on x's import. */
const config = (exportRule: Rule, importRule: Rule = rule('10.244.2.128/26', 'Equal', 'Reject')) => clusterYaml({
  bgp: { asNumber: 64512, listenPort: port, nodeToNodeMeshEnabled: false },
  nodes: [
    { name: 'x', ipv4: '127.0.0.51/8' },
    { name: 'y', ipv4: '127.0.0.52/8', blocks: ['10.244.2.0/26', '10.244.2.64/26', '10.244.2.128/26'] },
  ],
  pools: [{ name: 'pods', cidr: '10.244.0.0/16' }],
  filters: [{ name: 'y-out', exportV4: [exportRule] }, { name: 'x-in', importV4: [importRule] }],
  peers: [
    { name: 'x-to-y', node: 'x', peerIP: '127.0.0.52', asNumber: 64512, filters: ['x-in'] },
    { name: 'y-to-x', node: 'y', peerIP: '127.0.0.51', asNumber: 64512, filters: ['y-out'] },
  ],
});

describe('BGPFilter', () => {
  it('export and import rules decide what crosses, and edits apply live', async () => {
    world.write(config(rule('10.244.2.64/26', 'Equal', 'Reject')));
    const x = await world.start('x', '127.0.0.51');
    await world.start('y', '127.0.0.52');
    const prefixes = () => x.routes({}).map((r) => r.prefix).join(' ');
    await eventually('x to hold y\'s accepted block', () => prefixes() === '10.244.2.0/26');
    await new Promise((r) => setTimeout(r, 300));
    expect(prefixes()).toBe('10.244.2.0/26');
    // y exported 10.244.2.0/26 and .128/26; x rejected .128/26 on import.
    expect(x.peers()[0]).toMatchObject({ prefixesReceived: 2, prefixesAccepted: 1 });
    // Edit: y's export filter now rejects nothing in particular (rule for another prefix).
    world.write(config(rule('10.99.0.0/16', 'In', 'Reject')));
    await eventually('the edit to reach x', () => prefixes() === '10.244.2.0/26 10.244.2.64/26');
    expect(x.peers()[0]!.state).toBe('Established');
  });

  it('rejects a file with a malformed rule, naming the field', async () => {
    const { parseResources } = await import('../src/datastore/file.js');
    expect(() => parseResources(config(rule('10.244.2.64/26', 'Equals', 'Reject')), 'f.yaml'))
      .toThrow(/f\.yaml: document 5 \(BGPFilter "y-out"\): spec\.exportV4\[0\]\.matchOperator: "Equals" is not one of Equal, NotEqual, In, NotIn/);
  });

  it('import operations change what is stored: communities added, ASNs prepended, the kernel metric set', async () => {
    await world.stopAll('next test');
    world.write(config(rule('10.99.0.0/16', 'In', 'Reject'), {
      ...rule('10.244.2.0/26', 'Equal', 'Accept'),
      operations: [{ addCommunity: { value: '65000:100' } }, { prependASPath: { prefix: [65010, 65011] } }, { setPriority: { value: 512 } }],
    }));
    const x = await world.start('x', '127.0.0.51', { socket: join(world.dir, 'x2.sock') });
    await world.start('y', '127.0.0.52', { socket: join(world.dir, 'y2.sock') });
    const route = (p: string) => x.routes({}).find((r) => r.prefix === p)?.paths[0];
    await eventually('x to hold y\'s blocks', () => route('10.244.2.0/26') !== undefined && route('10.244.2.64/26') !== undefined);
    expect(route('10.244.2.0/26')).toMatchObject({ communities: ['65000:100'], asPath: [65010, 65011] });
    // Other routes are stored as received (iBGP: empty AS path, no communities).
    expect(route('10.244.2.64/26')).toMatchObject({ communities: [], asPath: [] });
    // setPriority travels with the stored set to the dataplane's input as the kernel metric.
    const { remoteRoutes } = await import('../src/dataplane/rib-source.js');
    const hops = new Map([...remoteRoutes(x.rib, new Map())].map(([p, h]) => [p.toString(), h]));
    expect(hops.get('10.244.2.0/26')).toEqual([{ address: '127.0.0.52', priority: 512 }]);
    expect(hops.get('10.244.2.64/26')).toEqual([{ address: '127.0.0.52' }]);
  });
});
