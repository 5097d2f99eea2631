// Property tests: random selector trees survive format → parse with the same meaning, and
// addresses survive format → parse; IPv6 text agrees with Node's own URL canonicaliser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpAddr, parseAddr } from '../../src/net/index.js';
import { evaluate, formatSelector, parseSelector, type SelectorNode } from '../../src/datastore/selector.js';

const KEYS = ['a', 'rack', 'kubernetes.io/hostname', 'x-y_z'];
const VALUES = ['', 'r1', 'r2', 'has', 'in'];
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);

const tree: fc.Arbitrary<SelectorNode> = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<SelectorNode>({ op: 'all' }),
    key.map<SelectorNode>((k) => ({ op: 'has', key: k })),
    fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const, 'contains' as const, 'startsWith' as const, 'endsWith' as const), key, value }),
    fc.record({ op: fc.constantFrom('in' as const, 'notIn' as const), key, values: fc.array(value, { maxLength: 3 }) }),
    tie('node').map<SelectorNode>((n) => ({ op: 'not', operand: n })),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), operands: fc.array(tie('node'), { minLength: 2, maxLength: 3 }) }),
  ),
})).node;

const labels = fc.dictionary(key, value, { maxKeys: 4 });

describe('selector round trip', () => {
  it('format → parse keeps the meaning', () => {
    fc.assert(fc.property(tree, fc.array(labels, { minLength: 1, maxLength: 5 }), (t, ls) => {
      const text = formatSelector(t);
      const parsed = parseSelector(text);
      for (const l of ls) expect(parsed.matches(l)).toBe(evaluate(t, l));
      expect(parseSelector(parsed.toString()).toString()).toBe(parsed.toString());
    }), { numRuns: 500 });
  });
});

describe('address round trip', () => {
  it('IPv4', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => {
      const text = IpAddr.fromBigInt(4, v).toString();
      expect(parseAddr(text)?.toBigInt()).toBe(v);
    }));
  });
  it('IPv6, canonical like WHATWG URL hosts (RFC 5952 compression)', () => {
    // Many zero groups so that compression cases are common.
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
      const v = gs.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
      const text = IpAddr.fromBigInt(6, v).toString();
      expect(parseAddr(text)?.toBigInt()).toBe(v);
      // The URL parser serialises IPv6 hosts with the same compression rules.
      expect(new URL(`http://[${gs.map((g) => g.toString(16)).join(':')}]/`).hostname).toBe(`[${text}]`);
    }), { numRuns: 1000 });
  });
});
