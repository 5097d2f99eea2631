// The compact RIB against a plain Map model: random announce/withdraw/flush sequences must
// leave the same prefixes, paths and best paths as the obvious implementation.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PrefixTable } from '../../src/rib/prefix-table.js';
import { LOCAL_PEER, Rib, type AttrTable } from '../../src/rib/rib.js';
import { SegType, type PathAttrs } from '../../src/bgp/wire/types.js';

function attrTable(pathLens: number[]): AttrTable & { refs: Map<number, number> } {
  const refs = new Map<number, number>();
  const sets = pathLens.map((n, id): PathAttrs => ({
    id, origin: 0, nextHop: '198.18.0.1', atomicAggregate: false, unknown: [],
    asPath: n === 0 ? [] : [{ type: SegType.AS_SEQUENCE, asns: Array.from({ length: n }, (_, i) => 65000 + i) }],
  }));
  return {
    refs,
    get: (id) => sets[id]!,
    ref: (id) => void refs.set(id, (refs.get(id) ?? 0) + 1),
    unref: (id) => {
      const n = (refs.get(id) ?? 0) - 1;
      if (n < 0) throw new Error(`unref below zero for ${id}`);
      if (n === 0) refs.delete(id); else refs.set(id, n);
    },
  };
}

describe('PrefixTable', () => {
  it('matches a Map under random insert/release, including hash deletions', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }), fc.constantFrom(8, 24, 32)), { maxLength: 2000 }),
      (ops) => {
        const t = new PrefixTable();
        const model = new Map<string, number>();
        for (const [add, n, len] of ops) {
          const addr = (n * 0x01000100) >>> 0;
          const key = `${addr}/${len}`;
          if (add) {
            const s = t.get4(addr, len);
            if (model.has(key)) expect(s).toBe(model.get(key));
            model.set(key, s);
          } else {
            const s = t.find4(addr, len);
            expect(s).toBe(model.get(key) ?? -1);
            if (s >= 0) { t.release(s); model.delete(key); }
          }
        }
        expect(t.count4).toBe(model.size);
        for (const [key, s] of model) {
          const [a, l] = key.split('/').map(Number);
          expect(t.find4(a!, l!)).toBe(s);
        }
      }), { numRuns: 200 });
  });

  it('holds IPv6 prefixes by value', () => {
    const t = new PrefixTable();
    const b = new Uint8Array(16); b[0] = 0xfd; b[15] = 0x40;
    const s = t.get(0x201, b, 122);
    b[0] = 0; // the table must have copied the bytes
    expect(t.find(0x201, Uint8Array.of(0xfd, ...new Array(14).fill(0), 0x40), 122)).toBe(s);
    expect(t.count6).toBe(1);
  });
});

describe('Rib', () => {
  it('picks local first, then shortest AS path, then lowest router ID', () => {
    const at = attrTable([0, 1, 2, 3]);
    const rib = new Rib(at);
    const a = rib.addPeer({ address: '198.18.0.2', bgpId: 0x0a000002, ibgp: false });
    const b = rib.addPeer({ address: '198.18.0.3', bgpId: 0x0a000001, ibgp: false });
    rib.announce4(a, 0x0a000000, 24, 0, 2);
    rib.announce4(b, 0x0a000000, 24, 0, 3);
    const slot = rib.prefixes.find4(0x0a000000, 24);
    expect(rib.pathPeer(rib.best(slot))).toBe(a); // shorter AS path
    rib.announce4(b, 0x0a000000, 24, 0, 2); // implicit withdraw: now equal length
    expect(rib.pathPeer(rib.best(slot))).toBe(b); // lower router ID
    expect(rib.bestReason(slot).step).toBe('router-id');
    expect(rib.equalCost(slot).length).toBe(2); // equal up to the router-ID step: ECMP
    rib.announce4(LOCAL_PEER, 0x0a000000, 24, 0, 3);
    expect(rib.pathPeer(rib.best(slot))).toBe(LOCAL_PEER);
    rib.withdraw4(LOCAL_PEER, 0x0a000000, 24, 0);
    rib.removePeer(b);
    expect(rib.pathPeer(rib.best(slot))).toBe(a);
    rib.withdraw4(a, 0x0a000000, 24, 0);
    expect(rib.prefixes.find4(0x0a000000, 24)).toBe(-1);
    expect(rib.countIPv4).toBe(0);
    expect(at.refs.size).toBe(0);
  });

  it('agrees with a model under random operations and releases every attribute reference', () => {
    type Op = { kind: 'ann' | 'wd' | 'flush'; peer: number; pfx: number; attr: number };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('ann', 'ann', 'wd', 'flush'),
      peer: fc.integer({ min: 1, max: 3 }), pfx: fc.integer({ min: 0, max: 40 }), attr: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const at = attrTable([0, 1, 2, 3]);
      const rib = new Rib(at);
      const ids = [0, 0x0a000003, 0x0a000002, 0x0a000001];
      for (let i = 1; i <= 3; i++) rib.addPeer({ address: `198.18.0.${i}`, bgpId: ids[i]!, ibgp: false });
      const model = new Map<number, Map<number, number>>(); // prefix → peer → attr
      const changes: number[] = [];
      rib.onBestChange((slot) => changes.push(slot));
      for (const o of ops) {
        const addr = (0x0a000000 + (o.pfx << 8)) >>> 0;
        if (o.kind === 'ann') {
          rib.announce4(o.peer, addr, 24, 0, o.attr);
          if (!model.has(addr)) model.set(addr, new Map());
          model.get(addr)!.set(o.peer, o.attr);
        } else if (o.kind === 'wd') {
          rib.withdraw4(o.peer, addr, 24, 0);
          model.get(addr)?.delete(o.peer);
          if (model.get(addr)?.size === 0) model.delete(addr);
        } else {
          rib.flushPeer(o.peer);
          for (const [k, m] of model) { m.delete(o.peer); if (m.size === 0) model.delete(k); }
        }
      }
      expect(rib.countIPv4).toBe(model.size);
      for (let i = 1; i <= 3; i++) {
        let n = 0; for (const m of model.values()) if (m.has(i)) n++;
        expect(rib.peerPrefixCount(i)).toBe(n);
      }
      for (const [addr, m] of model) {
        const slot = rib.prefixes.find4(addr, 24);
        expect(slot).toBeGreaterThanOrEqual(0);
        expect(rib.pathsOf(slot).length).toBe(m.size);
        // Expected best: shortest path (attr id = AS path length), then lowest router ID.
        const want = [...m.entries()].sort((x, y) => x[1] - y[1] || ids[x[0]]! - ids[y[0]]!)[0]!;
        const best = rib.best(slot);
        expect([rib.pathPeer(best), rib.pathAttrId(best)]).toEqual(want);
      }
      for (let i = 1; i <= 3; i++) rib.flushPeer(i);
      expect(at.refs.size).toBe(0);
      expect(rib.countIPv4).toBe(0);
    }), { numRuns: 300 });
  });
});
