// The differential check's own parts (bench/differential, issue 11): its byte builder against
// hand-written bytes, its classifier, and a handful of its cases run against an in-process Kite on
// loopback, each expecting what BIRD 2.0.12 and FRR 8.4.4 did in `npm run check:differential`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as B from '../../bench/differential/bytes.mjs';
import { DUT_AS, EBGP_AS, classOf, generate, prefixesOf, type Case } from '../../bench/differential/cases.mjs';
import { OBSERVER_AS, Runner, kindOf, probeState } from '../../bench/differential/runner.mjs';
import { DaemonDir, testPort } from '../helpers/daemons.js';

describe('differential check: byte builder and classifier', () => {
  it('builds an UPDATE byte for byte', () => {
    const u = B.update({ attrs: B.cat(B.origin(0), B.asPath([B.seq(65001)]), B.nextHop('192.0.2.1')), nlri: B.nlri('10.0.1.0/24') });
    expect(u.toString('hex')).toBe(
      'ff'.repeat(16) + '002f' + '02' +   // marker, length 47, UPDATE
      '0000' + '0014' +                   // no withdrawn routes, 20 octets of attributes
      '40010100' +                        // ORIGIN IGP
      '4002060201' + '0000fde9' +         // AS_PATH AS_SEQUENCE [65001], 4-octet
      '400304c0000201' +                  // NEXT_HOP 192.0.2.1
      '180a0001');                        // 10.0.1.0/24
  });

  it('builds an OPEN with the usual capabilities', () => {
    const o = B.open({ as: 65001, hold: 90, id: '192.0.2.1', params: B.paramCaps(...B.defaultCaps(65001)) });
    expect(o.subarray(19).toString('hex')).toBe(
      '04' + 'fde9' + '005a' + 'c0000201' + '16' +   // version, AS, hold 90, id, 22 octets of parameters
      '0214' + '010400010001' + '010400020001' + '0200' + '41040000fde9'); // MP IPv4, MP IPv6, route refresh, 4-octet AS
  });

  it('reads what a daemon re-advertises and classifies it', () => {
    const body = B.update({ attrs: B.cat(B.origin(2), B.asPath([B.seq(65000, 65001, 64999)]), B.nextHop('192.0.2.1'), B.communities(1)), nlri: B.nlri('20.0.1.0/24') }).subarray(19);
    const u = B.readUpdate(body);
    expect(u.announced).toEqual(['20.0.1.0/24']);
    expect(probeState(u.route, null)).toBe('base');
    expect(probeState({ ...u.route, origin: 0 }, 'comm')).toBe('new +comm');
    expect(probeState({ ...u.route, origin: 0, comm: [] }, 'comm')).toBe('new -comm');
    expect(probeState(undefined, 'comm')).toBe('absent');
    expect(probeState({ ...u.route, origin: 0, path: [{ type: 2, asns: [65000] }, { type: 1, asns: [1, 2] }] }, 'path')).toBe('new path=2:65000;1:1,2');
    expect(kindOf('kept P=new path=2:65000;1:1,2 P6=absent')).toBe('kept P=new P6=absent');
    expect(kindOf('kept P=new +attr99(flags 0xe0) P6=new -comm')).toBe('kept P=new P6=new');
    expect(kindOf('reset 3/1')).toBe('reset');
  });

  it('generates the same few thousand cases from a seed', () => {
    const a = generate({ seed: 11 }), b = generate({ seed: 11 });
    expect(a.length).toBeGreaterThan(2000);
    const ctx = { local: '198.18.0.10', local6: 'fd00::10', dut: '198.18.0.1', dut6: 'fd00::1', other: '198.18.0.200', ibgp: false, as4: true, peerAs: EBGP_AS };
    for (const i of [0, 500, 1500, a.length - 1]) {
      const c = { ...ctx, ...prefixesOf(a[i]!.id), ibgp: a[i]!.ibgp, peerAs: a[i]!.ibgp ? DUT_AS : EBGP_AS };
      expect(b[i]!.build({ ...c })[0]!.equals(a[i]!.build({ ...c })[0]!)).toBe(true);
      expect(classOf(a[i]!, c)).toBe(classOf(b[i]!, c));
    }
  });
});

// What BIRD 2.0.12 and FRR 8.4.4 both did with these cases (issue 11's run, docs/conformance.md).
const EXPECT: Record<string, string> = {
  'KEEPALIVE with a 4-octet body (eBGP)': 'reset 1/2',            // RFC 4271 §6.1
  'OPEN identifier 0.0.0.0 (eBGP)': 'reset 2/3',                  // RFC 6286 §2.1
  'OPEN OPEN with 3 trailing octets (eBGP)': 'up P=new',
  'ORIGIN value 3 (eBGP)': 'kept P=absent',                       // RFC 7606 §7.1
  'COMMUNITIES NO_EXPORT (eBGP)': 'kept P=absent',                // RFC 1997
  'attribute code 35 (OTC) length 3 (eBGP)': 'kept P=absent',     // RFC 9234 §5
};
// Crashed Kite before (RFC 4760 §3); its IPv6 next hop is ::1 here, which is no connected subnet of a
// single-hop session, so only "kept" (the daemon alive, the session up) is checked.
const SURVIVES = 'MP with classic NLRI and NEXT_HOP too (eBGP)';

describe('differential check: a handful of cases against Kite', () => {
  const port = testPort(23600);
  const net = '127.0.36.';
  const dir = new DaemonDir('differential');
  const ebgp = [10, 11, 12].map((h) => `${net}${h}`), ibgp = [50, 51, 52].map((h) => `${net}${h}`);
  beforeAll(async () => {
    const doc = (kind: string, name: string, spec: string) => `apiVersion: projectcalico.org/v3\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    dir.write([
      doc('BGPConfiguration', 'default', `  asNumber: ${DUT_AS}\n  nodeToNodeMeshEnabled: false\n  listenPort: ${port}`),
      doc('Node', 'dut', `  bgp:\n    ipv4Address: ${net}1/8\n    asNumber: ${DUT_AS}`),
      // Kite exports what lies inside an IPPool (a disabled pool still does): these cover everything.
      ...[['all4', '0.0.0.0/0', 26], ['all6', '::/0', 122]].map(([n, c, b]) =>
        doc('IPPool', String(n), `  cidr: ${c}\n  blockSize: ${b}\n  disabled: true`)),
      ...[...ebgp.map((a) => [a, EBGP_AS] as const), ...ibgp.map((a) => [a, DUT_AS] as const), [`${net}250`, OBSERVER_AS] as const].map(([a, as], i) =>
        doc('BGPPeer', `p${i}`, `  peerIP: ${a}\n  asNumber: ${as}`)),
    ].join('\n---\n') + '\n');
    await dir.start('dut', `${net}1`);
  });
  afterAll(() => dir.close());

  it('reacts as BIRD and FRR do', async () => {
    const ctx = { local: `${net}10`, local6: '::1', dut: `${net}1`, dut6: '::1', other: `${net}200`, as4: true };
    const cases = generate().filter((c: Case) => {
      const cls = classOf(c, { ...ctx, ibgp: c.ibgp, peerAs: c.ibgp ? DUT_AS : EBGP_AS, ...prefixesOf(c.id) });
      return cls in EXPECT || cls === SURVIVES;
    });
    expect(cases).toHaveLength(Object.keys(EXPECT).length + 1);
    const runner = new Runner({ dut: `${net}1`, dut6: '::1', port, observer: `${net}250`, other: `${net}200`, ebgp, ibgp, v6: () => '::1', alive: () => true });
    const got = Object.fromEntries((await runner.runAll(cases, 1)).map((r) => [r.cls, r.reaction]));
    expect(got[SURVIVES]).toMatch(/^kept P6=/);
    delete got[SURVIVES];
    expect(got).toEqual(EXPECT);
  }, 60_000);
});
