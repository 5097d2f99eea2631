// The calculation pipeline: Calico resources in, this node's desired state out — peers,
// originated routes and policy inputs emitted only on change (as typed deltas), bad snapshots rejected
// without disturbing the last good state, and "in sync" only once the datastore says so.
import { BehaviorSubject, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { calculate, PeerDeltaKind, RouteDeltaKind } from '../../src/calc/pipeline.js';
import type { IpamGrant } from '../../src/ipam/tunnel.js';
import type { SyncStatus } from '../../src/datastore/datastore.js';
import { parseResources } from '../../src/datastore/file.js';
import type { Resources } from '../../src/datastore/resources.js';

const yaml = (extra = '', blocks = ['10.244.1.0/26']) => parseResources(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: { name: default }
spec: { asNumber: 64512, serviceClusterIPs: [{ cidr: 10.96.0.0/12 }] }
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: a }
spec: { bgp: { ipv4Address: 198.18.0.1/24 } }
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: { name: b }
spec: { bgp: { ipv4Address: 198.18.0.2/24 } }
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: pods }
spec: { cidr: 10.244.0.0/16 }
${blocks.map((c, i) => `---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: { name: a-${i} }
spec: { node: a, cidr: ${c}, state: confirmed }
`).join('')}${extra}`, 'test.yaml');

const wep = (name: string, node: string, ip: string) => `---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: { name: ${name}, namespace: default }
spec: { node: ${node}, pod: ${name}, interfaceName: cali${name.padEnd(11, '0').slice(0, 11)}, ipNetworks: [${ip}/32] }
`;

/**
 * Folds the peer and route deltas back into the current sets: after each snapshot whose deltas
 * changed a set, the set (sorted) is recorded, so "emitted only on change" reads as before.
 */
function harness(node = 'a') {
  const input = new Subject<Resources>();
  const status = new BehaviorSubject<SyncStatus>('waiting');
  const d = calculate(input, status, node, new BehaviorSubject<IpamGrant | null>(null));
  const got = { peers: [] as string[][], originated: [] as string[][], rejected: [] as string[], inSync: [] as boolean[] };
  const peers = new Set<string>(), routes = new Set<string>();
  let peerDeltas = 0, routeDeltas = 0;
  d.peers.subscribe((x) => { peerDeltas++; if (x.kind === PeerDeltaKind.Removed) peers.delete(x.key); else peers.add(x.key); });
  d.routes.subscribe((x) => { routeDeltas++; if (x.kind === RouteDeltaKind.Withdrawn) routes.delete(x.prefix); else routes.add(x.prefix); });
  d.rejected.subscribe((e) => got.rejected.push(e.message));
  d.inSync.subscribe((s) => got.inSync.push(s));
  const snapshots = {
    next(r: Resources): void {
      const [p0, r0] = [peerDeltas, routeDeltas];
      input.next(r);
      if (peerDeltas > p0) got.peers.push([...peers].sort());
      if (routeDeltas > r0) got.originated.push([...routes].sort());
    },
  };
  return { snapshots, status, got };
}

describe('calculation pipeline', () => {
  it('turns resources into peers and originated routes', () => {
    const h = harness();
    h.snapshots.next(yaml(wep('web', 'a', '10.244.1.2') + wep('db', 'b', '10.244.2.2')));
    expect(h.got.peers).toEqual([['198.18.0.2']]);
    expect(h.got.originated).toEqual([['10.244.1.0/26', '10.96.0.0/12']]);
    // Which workloads are this node's is the dataplane inputs' job (dataplane-inputs.test.ts).
  });

  it('emits each output only when it changes', () => {
    const h = harness();
    h.snapshots.next(yaml());
    h.snapshots.next(yaml()); // identical: nothing new
    h.snapshots.next(yaml('', ['10.244.1.0/26', '10.244.1.64/26'])); // a block more: originated only
    expect(h.got.peers.length).toBe(1);
    expect(h.got.originated).toEqual([['10.244.1.0/26', '10.96.0.0/12'], ['10.244.1.0/26', '10.244.1.64/26', '10.96.0.0/12']]);
  });

  it('rejects a snapshot without this node and keeps the last good state', () => {
    const h = harness('c');
    h.snapshots.next(yaml());
    expect(h.got.rejected[0]).toMatch(/node "c" not found/);
    expect(h.got.peers).toEqual([]);
    const g = harness();
    g.snapshots.next(yaml());
    g.snapshots.next(parseResources('apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: { name: default }\nspec: {}\n', 'x.yaml'));
    expect(g.got.rejected.length).toBe(1);
    expect(g.got.peers).toEqual([['198.18.0.2']]); // no empty peer set was emitted
    expect(g.got.originated.length).toBe(1);
  });

  it('is in sync only when the datastore is and a configuration exists', () => {
    const h = harness();
    h.status.next('resyncing');
    h.snapshots.next(yaml());
    expect(h.got.inSync).toEqual([false]);
    h.status.next('in-sync');
    h.status.next('resyncing'); // a relist: pruning must stop again
    expect(h.got.inSync).toEqual([false, true, false]);
  });

  it('emits typed peer deltas: added, changed (a Secret\'s password too), removed; nothing for an equal snapshot', () => {
    const snapshots = new Subject<Resources>();
    const d = calculate(snapshots, new BehaviorSubject<SyncStatus>('in-sync'), 'a', new BehaviorSubject<IpamGrant | null>(null));
    const seen: string[] = [];
    d.peers.subscribe((x) => seen.push(`${x.kind} ${x.key}${x.kind !== PeerDeltaKind.Removed ? ` ${x.peer.password ?? '-'}` : ''}`));
    const tor = (password: string, keepalive = '') => `---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: { name: tor }
spec: { peerIP: 198.18.0.9, asNumber: 65000, password: { secretKeyRef: { name: bgp, key: tor } }${keepalive} }
---
apiVersion: v1
kind: Secret
metadata: { name: bgp }
stringData: { tor: ${password} }
`;
    snapshots.next(yaml(tor('one')));
    expect(seen).toEqual(['peer-added 198.18.0.2 -', 'peer-added 198.18.0.9 one']);
    snapshots.next(yaml(tor('one')));
    expect(seen).toHaveLength(2);
    snapshots.next(yaml(tor('two')));
    expect(seen.slice(2)).toEqual(['peer-changed 198.18.0.9 two']);
    snapshots.next(yaml(tor('two', ', keepaliveTime: 10s')));
    expect(seen.slice(3)).toEqual(['peer-changed 198.18.0.9 two']);
    snapshots.next(yaml());
    expect(seen.slice(4)).toEqual(['peer-removed 198.18.0.9']);
  });

  it('merges what IPAM granted: the tunnel block is originated, and only once', () => {
    const snapshots = new Subject<Resources>();
    const grants = new BehaviorSubject<IpamGrant | null>(null);
    const d = calculate(snapshots, new BehaviorSubject<SyncStatus>('in-sync'), 'a', grants);
    const seen: string[] = [];
    d.routes.subscribe((x) => seen.push(`${x.kind} ${x.prefix}${x.kind === RouteDeltaKind.Originated ? ` block=${x.block}` : ''}`));
    snapshots.next(yaml());
    grants.next({ tunnelAddress: '10.244.9.0', blocks: [{ prefix: '10.244.9.0/26', pool: 'pods' }, { prefix: '10.244.1.0/26', pool: 'pods' }] });
    expect(seen).toEqual(['route-originated 10.244.1.0/26 block=true', 'route-originated 10.96.0.0/12 block=false', 'route-originated 10.244.9.0/26 block=true']);
  });
});
