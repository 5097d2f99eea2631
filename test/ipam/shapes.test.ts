// Names, JSON and block bookkeeping against Calico's own conventions, with expected values
// written by hand from libcalico-go (names.CIDRToName, ipam_affinity.go parseKey, ipam_block.go).
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assignFromBlock, assignOrdinal, checkBlock, handleOrdinals, ipToOrdinal, newBlock, ordinalToIP, releaseOrdinals } from '../../src/ipam/block.js';
import { parseJson, stringifyJson } from '../../src/ipam/json.js';
import { affinityName, blockName, handleName, ipipTunnelHandle } from '../../src/ipam/names.js';
import { fromRawSpec, toRawSpec } from '../../src/ipam/objects.js';

describe('names', () => {
  it('match Calico', () => {
    expect(blockName('10.244.1.64/26')).toBe('10-244-1-64-26');
    expect(blockName('fd00:10:244::/122')).toBe('fd00-10-244---122');
    expect(affinityName('node-1', '10.244.1.64/26')).toBe('node-1-10-244-1-64-26');
    expect(handleName('K8s-Pod-Network.ABC')).toBe('k8s-pod-network.abc');
    expect(ipipTunnelHandle('worker-3')).toBe('ipip-tunnel-addr-worker-3');
  });
  it('shorten long affinity names with a sha256 suffix as Calico does', () => {
    const host = 'h'.repeat(250);
    const name = affinityName(host, '10.0.0.0/26');
    const suffix = createHash('sha256').update(`${host}+10-0-0-0-26`).digest('hex').slice(0, 11);
    expect(name).toBe(`${'h'.repeat(252 - 11 - 13)}-10-0-0-0-26-${suffix}`);
    expect(name.length).toBeLessThan(253);
  });
});

describe('JSON with uint64', () => {
  it('keeps integers beyond 2^53 exact and leaves strings alone', () => {
    const text = '{"a":18446744073709551615,"b":"18446744073709551615","c":[1.5e3,-2,9007199254740993],"d":"x\\"9999999999999999999"}';
    const v = parseJson(text) as Record<string, unknown>;
    expect(v['a']).toBe(18446744073709551615n);
    expect(v['b']).toBe('18446744073709551615');
    expect(v['c']).toEqual([1500, -2, 9007199254740993n]);
    expect(stringifyJson(v)).toBe('{"a":18446744073709551615,"b":"18446744073709551615","c":[1500,-2,9007199254740993],"d":"x\\"9999999999999999999"}');
  });
});

describe('IPAMBlock specs', () => {
  // A block as Calico's CNI plugin writes it (hand-written, from a live cluster's shape).
  const calicoBlock = {
    cidr: '10.244.1.64/30', affinity: 'host:node-1', affinityClaimTime: '2024-05-01T10:00:00Z', strictAffinity: false,
    allocations: [0, null, 1, null], unallocated: [1, 3],
    attributes: [
      { handle_id: 'ipip-tunnel-addr-node-1', secondary: { node: 'node-1', type: 'ipipTunnelAddress' } },
      { handle_id: 'k8s-pod-network.0123', secondary: { namespace: 'default', node: 'node-1', pod: 'web', timestamp: '2024-05-01 10:00:01 +0000 UTC' } },
    ],
    sequenceNumber: 1714557600000000002n, sequenceNumberForAllocation: { 0: 1714557600000000000n, 2: 1714557600000000001n }, deleted: false,
  };
  it('reads a Calico block and writes the same fields back', () => {
    const spec = fromRawSpec('IPAMBlock', '10-244-1-64-30', calicoBlock);
    expect(checkBlock(spec)).toEqual([]);
    expect(handleOrdinals(spec, 'k8s-pod-network.0123')).toEqual([2]);
    expect(toRawSpec('IPAMBlock', spec)).toEqual(calicoBlock);
  });
  it('rejects inconsistent blocks with the field named', () => {
    expect(() => fromRawSpec('IPAMBlock', 'b', { ...calicoBlock, allocations: [0, null] })).toThrow('spec.allocations has 2 entries for a block of 4 addresses');
    expect(() => fromRawSpec('IPAMBlock', 'b', { ...calicoBlock, allocations: [5, null, null, null] })).toThrow('spec.allocations[0] = 5 is not an attribute index');
    expect(() => fromRawSpec('BlockAffinity', 'a', { node: 'n', cidr: '10.0.0.0/26', state: 'odd', deleted: 'false' })).toThrow('spec.state "odd"');
  });
  it('new blocks list every ordinal free in order; addresses map both ways', () => {
    const b = newBlock('10.0.0.0/29', 'host:n', new Date('2024-01-01T00:00:00.123Z'), 5n);
    expect(b.unallocated).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(b.affinityClaimTime).toBe('2024-01-01T00:00:00Z');
    expect(ordinalToIP('fd00::/122', 63)).toBe('fd00::3f');
    expect(ipToOrdinal('10.0.0.0/29', '10.0.0.7')).toBe(7);
    expect(ipToOrdinal('10.0.0.0/29', '10.0.0.8')).toBeUndefined();
  });
  it('keeps allocations, unallocated and attributes consistent under any assign/release sequence', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('auto' as const), n: fc.integer({ min: 1, max: 5 }), h: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ t: fc.constant('one' as const), o: fc.integer({ min: 0, max: 15 }), h: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ t: fc.constant('rel' as const), os: fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 6 }) }),
      fc.record({ t: fc.constant('relh' as const), h: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const b = newBlock('10.0.0.0/28', 'host:n', new Date(0), 1n);
      const model = new Map<number, string>();
      for (const x of ops) {
        if (x.t === 'auto') for (const o of assignFromBlock(b, x.n, `h${x.h}`, { k: String(x.h) })) { expect(model.has(o)).toBe(false); model.set(o, `h${x.h}`); }
        else if (x.t === 'one') { const ok = assignOrdinal(b, x.o, `h${x.h}`, { k: String(x.h) }); expect(ok).toBe(!model.has(x.o)); if (ok) model.set(x.o, `h${x.h}`); }
        else if (x.t === 'rel') for (const o of releaseOrdinals(b, x.os)) model.delete(o);
        else for (const o of releaseOrdinals(b, handleOrdinals(b, `h${x.h}`))) model.delete(o);
        expect(checkBlock(b)).toEqual([]);
      }
      for (let o = 0; o < 16; o++) {
        const a = b.allocations[o];
        expect(a === null ? undefined : b.attributes[a!]?.handle_id).toBe(model.get(o));
      }
      expect(Object.keys(b.sequenceNumberForAllocation).map(Number).sort((x, y) => x - y)).toEqual([...model.keys()].sort((x, y) => x - y));
    }));
  });
});
