// Reading remote routes out of the Loc-RIB: equal-cost next hops marked with their Calico node,
// local originations excluded, withdrawals reported as null (node addresses from Node resources:
// test/calc/dataplane-inputs.test.ts).

import { describe, expect, it } from 'vitest';
import { ipv4ToUint } from '../../src/bgp/wire/prefix.js';
import { SegType, type PathAttrs } from '../../src/bgp/wire/types.js';
import type { Dataplane } from '../../src/dataplane/dataplane.js';
import type { RemoteNextHop } from '../../src/dataplane/inputs.js';
import { followRib, remoteNextHops, remoteRoutes } from '../../src/dataplane/rib-source.js';
import { LOCAL_PEER, Rib, type AttrTable } from '../../src/rib/rib.js';

const HOPS = ['198.18.0.2', '198.18.0.3', '198.18.0.200', ''];

function attrs(): AttrTable {
  const sets = HOPS.map((nextHop, id): PathAttrs => ({
    id, origin: 0, nextHop, atomicAggregate: false, unknown: [], localPref: 100,
    asPath: [{ type: SegType.AS_SEQUENCE, asns: [] }],
  }));
  return { get: (id) => sets[id]!, ref: () => {}, unref: () => {} };
}

function ribWithPeers(): { rib: Rib; a: number; b: number } {
  const rib = new Rib(attrs());
  const a = rib.addPeer({ address: '198.18.0.2', bgpId: 2, ibgp: true });
  const b = rib.addPeer({ address: '198.18.0.3', bgpId: 3, ibgp: true });
  return { rib, a, b };
}

const nodes = new Map([['198.18.0.2', 'node-2'], ['198.18.0.3', 'node-3']]);

describe('remote routes from the RIB', () => {
  it('equal-cost paths give every next hop, marked with its Calico node', () => {
    const { rib, a, b } = ribWithPeers();
    rib.announce4(a, ipv4ToUint('10.244.2.0'), 26, 0, 0);
    rib.announce4(b, ipv4ToUint('10.244.2.0'), 26, 0, 1);
    rib.announce4(b, ipv4ToUint('10.244.3.0'), 26, 0, 2);
    rib.announce4(LOCAL_PEER, ipv4ToUint('10.244.1.0'), 26, 0, 3);
    const got = new Map([...remoteRoutes(rib, nodes)].map(([p, h]) => [p.toString(), h]));
    // Order within the equal-cost set follows the RIB (best first); compare as sets.
    got.forEach((hops) => hops.sort((x, y) => (x.address < y.address ? -1 : 1)));
    expect(got).toEqual(
      new Map<string, RemoteNextHop[]>([
        ['10.244.2.0/26', [{ address: '198.18.0.2', calicoNode: 'node-2' }, { address: '198.18.0.3', calicoNode: 'node-3' }]],
        ['10.244.3.0/26', [{ address: '198.18.0.200' }]],
      ]),
    );
  });

  it('a locally originated best path is not a remote route', () => {
    const { rib, a } = ribWithPeers();
    rib.announce4(LOCAL_PEER, ipv4ToUint('10.244.1.0'), 26, 0, 3);
    rib.announce4(a, ipv4ToUint('10.244.1.0'), 26, 0, 0);
    const slot = rib.prefixes.find4(ipv4ToUint('10.244.1.0'), 26);
    expect(rib.pathPeer(rib.best(slot))).toBe(LOCAL_PEER);
    expect(remoteNextHops(rib, slot, nodes)).toBeNull();
  });

  it('followRib feeds announcements and withdrawals into the dataplane', () => {
    const { rib, a } = ribWithPeers();
    const calls: [string, RemoteNextHop[] | null][] = [];
    const dp: Pick<Dataplane, 'setRemoteRoute'> = { setRemoteRoute: (p, h) => void calls.push([p.toString(), h === null ? null : [...h]]) };
    rib.onBestChange(followRib(rib, dp as Dataplane, () => nodes));
    rib.announce4(a, ipv4ToUint('10.244.2.0'), 26, 0, 0);
    rib.withdraw4(a, ipv4ToUint('10.244.2.0'), 26, 0);
    expect(calls).toEqual([
      ['10.244.2.0/26', [{ address: '198.18.0.2', calicoNode: 'node-2' }]],
      ['10.244.2.0/26', null],
    ]);
  });
});

describe('the prefix followRib hands the dataplane', () => {
  it('is the slot\'s prefix: it prints exactly as formatPrefix does', async () => {
    const fc = (await import('fast-check')).default;
    const { formatPrefix } = await import('../../src/bgp/wire/prefix.js');
    const { IPV4_UNICAST } = await import('../../src/bgp/wire/types.js');
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (addr, len) => {
      const { rib, a } = ribWithPeers();
      const net = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
      let handed = '';
      const dp: Pick<Dataplane, 'setRemoteRoute'> = { setRemoteRoute: (p) => void (handed = p.toString()) };
      rib.onBestChange(followRib(rib, dp as Dataplane, () => nodes));
      rib.announce4(a, net, len, 0, 0);
      const bytes = Uint8Array.of(net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255);
      expect(handed).toBe(formatPrefix(IPV4_UNICAST, bytes, len));
    }), { numRuns: 500 });
  });
});
