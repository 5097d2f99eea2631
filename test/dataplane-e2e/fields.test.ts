// BGPConfiguration ignoredInterfaces and BGPPeer reachableBy in a namespace (issue 12): Kite's
// Linux dataplane leaves an ignored workload interface alone (no route, no sysctl) while it
// programs the other, and installs <peer>/32 via the reachableBy gateway as confd's static
// route does; `kite show fib` says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml } from '../helpers/cluster-config.js';
import { Kite, requireKiteBuilt } from '../interop/kite.js';
import { Lab, must, waitFor, type LabNode } from '../interop/netns.js';
import { requireInteropPrereqs } from '../interop/prereqs.js';

const SUBNET = 78;
const ip = (i: number): string => `198.18.${SUBNET}.${i}`;

describe('ignoredInterfaces and reachableBy with the Linux dataplane', () => {
  const lab = new Lab('fld', SUBNET);
  let node: LabNode;
  let kite: Kite;

  beforeAll(async () => {
    await requireInteropPrereqs();
    requireKiteBuilt();
    await lab.create();
    node = await lab.addNode('k', 1);
    for (const [cali, peer] of [['calikept0', 'pk0'], ['caliign0', 'pi0']]) {
      await must('ip', ['-n', node.ns, 'link', 'add', cali!, 'type', 'veth', 'peer', 'name', peer!]);
      for (const l of [cali!, peer!]) await must('ip', ['-n', node.ns, 'link', 'set', l, 'up']);
    }
    kite = new Kite({ lab, node, nodeName: 'k', asNumber: 64512, peers: [], blocks: [], yaml: clusterYaml({
      bgp: { asNumber: 64512, nodeToNodeMeshEnabled: false, ignoredInterfaces: ['caliign*'] },
      nodes: [{ name: 'k', ipv4: `${ip(1)}/24`, blocks: ['10.244.1.0/26'] }],
      pools: [{ name: 'p', cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false }],
      peers: [{ name: 'tor', peerIP: '203.0.113.5', asNumber: 65001, reachableBy: ip(254) }],
      workloads: [{ node: 'k', pod: 'kept', ip: '10.244.1.5', interfaceName: 'calikept0' }, { node: 'k', pod: 'ign', ip: '10.244.1.6', interfaceName: 'caliign0' }],
    }) });
    await kite.start();
  }, 90_000);

  afterAll(async () => { await lab.destroy(); }, 60_000);

  const routes = async (...args: string[]): Promise<string> => (await lab.mustExec(node, 'ip', ['-4', 'route', 'show', ...args])).trim();
  const sysctl = async (key: string): Promise<string> => (await lab.mustExec(node, 'sysctl', ['-n', key])).trim();

  it('programs the kept workload and the reachableBy route, and leaves the ignored interface alone', async () => {
    await waitFor('routes programmed', async () => ((await routes('proto', '75')).includes('10.244.1.5 dev calikept0') ? true : undefined), { timeoutMs: 30_000 });
    expect(await routes('203.0.113.5/32')).toBe(`203.0.113.5 via ${ip(254)} dev eth0 proto 75`);
    expect(await routes('dev', 'caliign0')).toBe('');
    expect(await sysctl('net.ipv4.conf.calikept0.proxy_arp')).toBe('1');
    expect(await sysctl('net.ipv4.conf.caliign0.proxy_arp')).toBe('0');
    const fib = await kite.fib();
    expect(fib.routes.find((r) => r.prefix === '203.0.113.5/32')).toMatchObject({ state: 'programmed', reason: `BGPPeer 203.0.113.5 reachableBy ${ip(254)} (via eth0)` });
    expect(fib.routes.find((r) => r.prefix === '10.244.1.6/32')).toMatchObject({ state: 'refused', reason: 'workload k-k8s-ign-eth0: interface caliign0 is in BGPConfiguration ignoredInterfaces' });
  }, 60_000);
});
