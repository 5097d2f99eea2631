// BGPFilter as confd renders it for BIRD: each match field with a matching and a non-matching
// route, each action and operation, rule order and filter order, family separation, and the
// validation messages for rules confd would refuse to render.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/datastore/errors.js';
import { compileExportPolicy } from '../../src/policy/export.js';
import { compileImportPolicy } from '../../src/policy/import.js';
import { parseAsn, parseCommunity } from '../../src/policy/bgp-filter.js';
import type { BGPFilterRuleSpec } from '../../src/datastore/bgpfilter.js';
import { comm, ebgp, filter, ibgp, nodeConfig, pool, route, type RouteOpts } from './helpers.js';

const cfg = nodeConfig({
  pools: [pool('default-ipv4-ippool', '10.244.0.0/16'), pool('private', '10.250.0.0/16', { disableBGPExport: true }), pool('v6', 'fd00:10::/48')],
  originate: [{ prefix: '10.244.1.0/26', pool: 'default-ipv4-ippool' }],
});

/** Export decision for one route under one exportV4 rule (v6 routes use exportV6). */
function exp(rule: BGPFilterRuleSpec, cidr: string, o: RouteOpts = {}, peer = ebgp(['f'])) {
  const v6 = cidr.includes(':');
  const p = compileExportPolicy(cfg, [filter('f', v6 ? { exportV6: [rule] } : { exportV4: [rule] })]);
  return p.evaluate(route(cidr, o), peer);
}
/** True when the rule (made a Reject) matched and decided, rather than Calico's own rules. */
const rejects = (rule: Omit<BGPFilterRuleSpec, 'action'>, cidr: string, o: RouteOpts = {}, peer = ebgp(['f'])): boolean => {
  const d = exp({ ...rule, action: 'Reject' }, cidr, o, peer);
  return !d.accept && d.reason === 'BGPFilter "f" exportV4 rule 1 (Reject)'.replace('V4', cidr.includes(':') ? 'V6' : 'V4');
};

describe('cidr with each matchOperator', () => {
  it('Equal matches the exact prefix only', () => {
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'Equal' }, '10.244.0.0/16')).toBe(true);
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'Equal' }, '10.244.3.0/26')).toBe(false);
  });
  it('NotEqual matches everything but the exact prefix', () => {
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'NotEqual' }, '10.244.3.0/26')).toBe(true);
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'NotEqual' }, '10.244.0.0/16')).toBe(false);
  });
  it('In matches prefixes inside the cidr, not ones covering it', () => {
    expect(rejects({ cidr: '10.244.0.0/20', matchOperator: 'In' }, '10.244.3.0/26')).toBe(true);
    expect(rejects({ cidr: '10.244.0.0/20', matchOperator: 'In' }, '10.244.0.0/20')).toBe(true);
    expect(rejects({ cidr: '10.244.0.0/20', matchOperator: 'In' }, '10.244.16.0/26')).toBe(false);
    expect(rejects({ cidr: '10.244.0.0/20', matchOperator: 'In' }, '10.244.0.0/16')).toBe(false);
  });
  it('NotIn matches prefixes outside the cidr', () => {
    expect(rejects({ cidr: '10.244.0.0/20', matchOperator: 'NotIn' }, '10.244.16.0/26')).toBe(true);
    expect(rejects({ cidr: '10.244.0.0/20', matchOperator: 'NotIn' }, '10.244.3.0/26')).toBe(false);
  });
  it('host bits in the cidr are ignored, as Go\'s ParseCIDR does', () => {
    expect(rejects({ cidr: '10.244.7.7/16', matchOperator: 'In' }, '10.244.3.0/26')).toBe(true);
  });
});

describe('prefixLength min/max', () => {
  const rule = { cidr: '10.244.0.0/16', matchOperator: 'In' as const, prefixLength: { min: 24, max: 26 } };
  it('matches lengths within [min, max] inside the cidr', () => {
    expect(rejects(rule, '10.244.3.0/24')).toBe(true);
    expect(rejects(rule, '10.244.3.0/26')).toBe(true);
  });
  it('does not match shorter or longer ones', () => {
    expect(rejects(rule, '10.244.2.0/23')).toBe(false);
    expect(rejects(rule, '10.244.3.0/27')).toBe(false);
  });
  it('min below the cidr length is raised to it (confd: max(cidr length, min))', () => {
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'In', prefixLength: { min: 8 } }, '10.0.0.0/8')).toBe(false);
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'In', prefixLength: { min: 8 } }, '10.244.0.0/16')).toBe(true);
  });
  it('max alone: /32s are excluded by max 31', () => {
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'In', prefixLength: { max: 31 } }, '10.244.9.9/32')).toBe(false);
    expect(rejects({ cidr: '10.244.0.0/16', matchOperator: 'In', prefixLength: { max: 31 } }, '10.244.9.8/31')).toBe(true);
  });
  it('NotIn with prefixLength matches what the In form would not', () => {
    expect(rejects({ ...rule, matchOperator: 'NotIn' }, '10.244.3.0/27')).toBe(true);
    expect(rejects({ ...rule, matchOperator: 'NotIn' }, '10.244.3.0/25')).toBe(false);
  });
  it('IPv6 rules use 128-bit lengths', () => {
    expect(rejects({ cidr: 'fd00:10::/48', matchOperator: 'In', prefixLength: { min: 120, max: 124 } }, 'fd00:10::/122')).toBe(true);
    expect(rejects({ cidr: 'fd00:10::/48', matchOperator: 'In', prefixLength: { min: 120, max: 124 } }, 'fd00:10::1/128')).toBe(false);
  });
});

describe('source, interface, peerType', () => {
  it('source RemotePeers matches routes learned over BGP only', () => {
    expect(rejects({ source: 'RemotePeers' }, '10.244.3.0/26', { source: 'peer' })).toBe(true);
    expect(rejects({ source: 'RemotePeers' }, '10.244.1.0/26', { source: 'local-block' })).toBe(false);
    expect(rejects({ source: 'RemotePeers' }, '10.244.9.9/32', { source: 'kernel', iface: 'cali123' })).toBe(false);
  });
  it('interface is a BIRD pattern on the route\'s interface; routes without one never match', () => {
    expect(rejects({ interface: 'cali*' }, '10.244.9.9/32', { source: 'kernel', iface: 'cali0123456789a' })).toBe(true);
    expect(rejects({ interface: 'eth?' }, '10.244.9.9/32', { source: 'kernel', iface: 'eth0' })).toBe(true);
    expect(rejects({ interface: 'eth?' }, '10.244.9.9/32', { source: 'kernel', iface: 'eth10' })).toBe(false);
    expect(rejects({ interface: 'cali*' }, '10.244.3.0/26', { source: 'peer' })).toBe(false);
    expect(rejects({ interface: 'vxlan.calico' }, '10.244.9.9/32', { source: 'kernel', iface: 'vxlanXcalico' })).toBe(false);
  });
  it('peerType iBGP matches iBGP sessions only, eBGP the others', () => {
    expect(rejects({ peerType: 'iBGP' }, '10.244.3.0/26', {}, ibgp(['f']))).toBe(true);
    expect(rejects({ peerType: 'iBGP' }, '10.244.3.0/26', {}, ebgp(['f']))).toBe(false);
    expect(rejects({ peerType: 'eBGP' }, '10.244.3.0/26', {}, ebgp(['f']))).toBe(true);
    expect(rejects({ peerType: 'eBGP' }, '10.244.3.0/26', {}, ibgp(['f']))).toBe(false);
  });
});

describe('communities, asPathPrefix, priority', () => {
  it('a standard community matches a route carrying it', () => {
    expect(rejects({ communities: { values: ['65000:100'] } }, '10.244.3.0/26', { communities: [comm(65000, 1), comm(65000, 100)] })).toBe(true);
    expect(rejects({ communities: { values: ['65000:100'] } }, '10.244.3.0/26', { communities: [comm(65000, 101)] })).toBe(false);
    expect(rejects({ communities: { values: ['65000:100'] } }, '10.244.3.0/26')).toBe(false);
  });
  it('a large community matches bgp_large_community', () => {
    expect(rejects({ communities: { values: ['4200000000:1:2'] } }, '10.244.3.0/26', { large: [[4200000000, 1, 2]] })).toBe(true);
    expect(rejects({ communities: { values: ['4200000000:1:2'] } }, '10.244.3.0/26', { large: [[4200000000, 2, 1]] })).toBe(false);
  });
  it('asPathPrefix of one ASN compares the first AS (bgp_path.first)', () => {
    expect(rejects({ asPathPrefix: [65001] }, '10.244.3.0/26', { asPath: [65001, 65002] })).toBe(true);
    expect(rejects({ asPathPrefix: [65002] }, '10.244.3.0/26', { asPath: [65001, 65002] })).toBe(false);
    expect(rejects({ asPathPrefix: [65001] }, '10.244.3.0/26')).toBe(false);
  });
  it('asPathPrefix of several ASNs matches a path that starts with them ([= a b * =])', () => {
    expect(rejects({ asPathPrefix: [65001, '65002'] }, '10.244.3.0/26', { asPath: [65001, 65002, 65003] })).toBe(true);
    expect(rejects({ asPathPrefix: [65001, 65003] }, '10.244.3.0/26', { asPath: [65001, 65002, 65003] })).toBe(false);
    expect(rejects({ asPathPrefix: [65001, 65002] }, '10.244.3.0/26', { asPath: [65001] })).toBe(false);
    expect(rejects({ asPathPrefix: ['1.10'] }, '10.244.3.0/26', { asPath: [65546] })).toBe(true);
  });
  it('priority compares the route\'s kernel metric, 1024 when it has none', () => {
    expect(rejects({ priority: 512 }, '10.244.9.9/32', { source: 'kernel', iface: 'cali1', priority: 512 })).toBe(true);
    expect(rejects({ priority: 512 }, '10.244.9.9/32', { source: 'kernel', iface: 'cali1' })).toBe(false);
    expect(rejects({ priority: 1024 }, '10.244.9.9/32', { source: 'kernel', iface: 'cali1' })).toBe(true);
  });
  it('every field set must match (logical and)', () => {
    const rule = { cidr: '10.244.0.0/16', matchOperator: 'In' as const, source: 'RemotePeers' as const, peerType: 'eBGP' as const };
    expect(rejects(rule, '10.244.3.0/26', { source: 'peer' })).toBe(true);
    expect(rejects(rule, '10.244.3.0/26', { source: 'peer' }, ibgp(['f']))).toBe(false);
    expect(rejects(rule, '10.245.3.0/26', { source: 'peer' })).toBe(false);
  });
});

describe('actions', () => {
  it('Accept ends the filter: Calico\'s own rules (disableBGPExport, the final reject) do not run', () => {
    const d = exp({ action: 'Accept', cidr: '10.250.0.0/16', matchOperator: 'In' }, '10.250.1.0/26');
    expect(d).toEqual({ accept: true, reason: 'BGPFilter "f" exportV4 rule 1 (Accept)' });
    expect(exp({ action: 'Accept', cidr: '8.8.8.0/24', matchOperator: 'Equal' }, '8.8.8.0/24')).toMatchObject({ accept: true });
  });
  it('Reject ends the filter: even an own block is withheld', () => {
    expect(exp({ action: 'Reject', cidr: '10.244.1.0/26', matchOperator: 'Equal' }, '10.244.1.0/26', { source: 'local-block' }))
      .toEqual({ accept: false, reason: 'BGPFilter "f" exportV4 rule 1 (Reject)' });
  });
  it('a rule that does not match leaves the decision to Calico', () => {
    expect(exp({ action: 'Reject', cidr: '10.99.0.0/16', matchOperator: 'In' }, '10.244.1.0/26', { source: 'local-block' }))
      .toMatchObject({ accept: true, reason: 'own block 10.244.1.0/26 (IPPool "default-ipv4-ippool")' });
  });
  it('a BGPFilter Accept does not add prefixAdvertisement communities (apply_communities runs after)', () => {
    const c = nodeConfig({ ...cfg, prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['65000:1'] }] });
    const p = compileExportPolicy(c, [filter('f', { exportV4: [{ action: 'Accept' }] })]);
    expect(p.evaluate(route('10.244.1.0/26', { source: 'local-block' }), ebgp(['f']))).toEqual({ accept: true, reason: 'BGPFilter "f" exportV4 rule 1 (Accept)' });
    expect(p.evaluate(route('10.244.1.0/26', { source: 'local-block' }), ebgp())).toMatchObject({ communities: [comm(65000, 1)] });
  });
});

describe('operations', () => {
  it('addCommunity adds standard and large communities in order, once each', () => {
    expect(exp({ action: 'Accept', operations: [
      { addCommunity: { value: '65000:2' } }, { addCommunity: { value: '65000:1:1' } }, { addCommunity: { value: '65000:2' } },
    ] }, '10.244.3.0/26')).toEqual({
      accept: true, reason: 'BGPFilter "f" exportV4 rule 1 (Accept)', communities: [comm(65000, 2)], largeCommunities: [[65000, 1, 1]],
    });
  });
  it('prependASPath puts the prefix in front as written; a later prepend goes further left', () => {
    expect(exp({ action: 'Accept', operations: [{ prependASPath: { prefix: [65010, '65011'] } }] }, '10.244.3.0/26')).toMatchObject({ prependAs: [65010, 65011] });
    expect(exp({ action: 'Accept', operations: [{ prependASPath: { prefix: [1, 2] } }, { prependASPath: { prefix: [3] } }] }, '10.244.3.0/26'))
      .toMatchObject({ prependAs: [3, 1, 2] });
  });
  it('setPriority sets the priority; the last one wins', () => {
    expect(exp({ action: 'Accept', operations: [{ setPriority: { value: 100 } }, { setPriority: { value: 512 } }] }, '10.244.3.0/26')).toMatchObject({ priority: 512 });
  });
  it('an Accept without operations carries none', () => {
    const d = exp({ action: 'Accept' }, '10.244.3.0/26');
    expect(Object.keys(d).sort()).toEqual(['accept', 'reason']);
  });
});

describe('rule order and filter order', () => {
  const first = filter('first', { exportV4: [
    { action: 'Reject', cidr: '10.244.3.0/26', matchOperator: 'Equal' },
    { action: 'Accept', cidr: '10.244.0.0/16', matchOperator: 'In', operations: [{ setPriority: { value: 7 } }] },
  ] });
  const second = filter('second', { exportV4: [{ action: 'Reject', cidr: '10.244.0.0/16', matchOperator: 'In' }] });
  const p = compileExportPolicy(cfg, [second, first]);
  it('within a filter, the first matching rule decides', () => {
    expect(p.evaluate(route('10.244.3.0/26'), ebgp(['first']))).toEqual({ accept: false, reason: 'BGPFilter "first" exportV4 rule 1 (Reject)' });
    expect(p.evaluate(route('10.244.4.0/26'), ebgp(['first']))).toMatchObject({ accept: true, priority: 7, reason: 'BGPFilter "first" exportV4 rule 2 (Accept)' });
  });
  it('filters run in the order the peer lists them, not the order they were defined', () => {
    expect(p.evaluate(route('10.244.4.0/26'), ebgp(['first', 'second']))).toMatchObject({ accept: true, priority: 7 });
    expect(p.evaluate(route('10.244.4.0/26'), ebgp(['second', 'first']))).toEqual({ accept: false, reason: 'BGPFilter "second" exportV4 rule 1 (Reject)' });
  });
  it('a peer without filters is untouched by them', () => {
    expect(p.evaluate(route('10.244.3.0/26'), ebgp())).toMatchObject({ accept: true, reason: 'inside IPPool "default-ipv4-ippool" (10.244.0.0/16)' });
  });
  it('exportV4 rules do not apply to IPv6 routes, and exportV6 rules not to IPv4', () => {
    const q = compileExportPolicy(cfg, [filter('all', { exportV4: [{ action: 'Reject' }] })]);
    expect(q.evaluate(route('fd00:10::/122'), ebgp(['all']))).toMatchObject({ accept: true });
    const r = compileExportPolicy(cfg, [filter('all', { exportV6: [{ action: 'Reject' }] })]);
    expect(r.evaluate(route('10.244.3.0/26'), ebgp(['all']))).toMatchObject({ accept: true });
    expect(r.evaluate(route('fd00:10::/122'), ebgp(['all']))).toEqual({ accept: false, reason: 'BGPFilter "all" exportV6 rule 1 (Reject)' });
  });
  it('a filter a peer names but nobody defined is skipped, with a note', () => {
    const c = nodeConfig({ ...cfg, peers: [{ name: 'tor', filters: ['ghost'] } as unknown as typeof cfg.peers[number]] });
    const q = compileExportPolicy(c, []);
    expect(q.notes).toEqual(['peer tor lists BGPFilter "ghost", which does not exist; skipped']);
    expect(q.evaluate(route('10.244.3.0/26'), ebgp(['ghost']))).toMatchObject({ accept: true });
  });
});

describe('import', () => {
  it('accepts everything no import rule decides (Calico\'s import filter ends in accept)', () => {
    const p = compileImportPolicy(cfg, []);
    for (const c of ['10.244.1.0/26', '10.250.0.0/24', '0.0.0.0/0', '10.96.0.10/32', '2001:db8::/32']) {
      expect(p.evaluate(route(c), ibgp())).toEqual({ accept: true, reason: 'no BGPFilter import rule matched; Calico imports every other route' });
    }
  });
  it('import rules reject and accept with operations; export rules do not apply on import', () => {
    const f = filter('f', {
      importV4: [
        { action: 'Reject', cidr: '0.0.0.0/0', matchOperator: 'Equal' },
        { action: 'Accept', asPathPrefix: [65000], operations: [{ setPriority: { value: 512 } }, { addCommunity: { value: '64512:9' } }] },
      ],
      exportV4: [{ action: 'Reject' }],
    });
    const p = compileImportPolicy(cfg, [f]);
    expect(p.evaluate(route('0.0.0.0/0'), ebgp(['f']))).toEqual({ accept: false, reason: 'BGPFilter "f" importV4 rule 1 (Reject)' });
    expect(p.evaluate(route('10.1.0.0/16', { asPath: [65000, 65100] }), ebgp(['f']))).toEqual({
      accept: true, reason: 'BGPFilter "f" importV4 rule 2 (Accept)', priority: 512, communities: [comm(64512, 9)],
    });
    expect(p.evaluate(route('10.1.0.0/16', { asPath: [65100] }), ebgp(['f']))).toMatchObject({ accept: true, reason: expect.stringContaining('Calico imports') });
  });
  it('peerType on import is the session\'s type', () => {
    const p = compileImportPolicy(cfg, [filter('f', { importV4: [{ action: 'Reject', peerType: 'eBGP' }] })]);
    expect(p.evaluate(route('10.1.0.0/16'), ebgp(['f']))).toMatchObject({ accept: false });
    expect(p.evaluate(route('10.1.0.0/16'), ibgp(['f']))).toMatchObject({ accept: true });
  });
});

describe('validation (what confd refuses to render)', () => {
  const bad = (rule: Record<string, unknown>, list = 'exportV4'): string => {
    try {
      compileExportPolicy(cfg, [filter('f', { [list]: [rule as unknown as BGPFilterRuleSpec] })]);
      compileImportPolicy(cfg, [filter('f', { [list]: [rule as unknown as BGPFilterRuleSpec] })]);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return 'no error';
  };
  it('names the filter, list and rule', () => {
    expect(bad({ action: 'Drop' })).toBe('BGPFilter "f" exportV4 rule 1: action must be Accept or Reject, not "Drop"');
    expect(bad({ action: 'Accept', cidr: '10.0.0.0/8' }, 'importV4')).toBe('BGPFilter "f" importV4 rule 1: cidr needs a matchOperator (Equal, NotEqual, In or NotIn)');
  });
  it('rejects bad cidrs, families, operators and prefix lengths', () => {
    expect(bad({ action: 'Accept', cidr: 'fd00::/8', matchOperator: 'In' })).toContain('is not an IPv4 CIDR');
    expect(bad({ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In' }, 'exportV6')).toContain('is not an IPv6 CIDR');
    expect(bad({ action: 'Accept', cidr: '10.0.0/8', matchOperator: 'In' })).toContain('is not a CIDR');
    expect(bad({ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'Like' })).toContain('matchOperator must be');
    expect(bad({ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { max: 33 } })).toContain('prefixLength.max must be 0..32');
    expect(bad({ action: 'Accept', cidr: '10.0.0.0/24', matchOperator: 'In', prefixLength: { max: 16 } })).toContain('prefixLength selects no length: 24 > 16');
  });
  it('rejects bad match fields', () => {
    expect(bad({ action: 'Accept', source: 'Kernel' })).toContain('source must be RemotePeers');
    expect(bad({ action: 'Accept', interface: '' })).toContain('interface is empty');
    expect(bad({ action: 'Accept', peerType: 'IBGP' })).toContain('peerType must be eBGP or iBGP');
    expect(bad({ action: 'Accept', communities: { values: ['1:2', '3:4'] } })).toContain('exactly one value, has 2');
    expect(bad({ action: 'Accept', communities: { values: ['65536:1'] } })).toContain('is not "a:b"');
    expect(bad({ action: 'Accept', asPathPrefix: [] })).toContain('asPathPrefix is empty');
    expect(bad({ action: 'Accept', asPathPrefix: ['AS65000'] })).toContain('asPathPrefix[0] "AS65000" is not an AS number');
    expect(bad({ action: 'Accept', priority: -1 })).toContain('priority must be a non-negative integer');
  });
  it('rejects operations on Reject and malformed operations', () => {
    expect(bad({ action: 'Reject', operations: [{ setPriority: { value: 1 } }] })).toContain('operations are only allowed with action Accept');
    expect(bad({ action: 'Accept', operations: [{}] })).toContain('must set exactly one of');
    expect(bad({ action: 'Accept', operations: [{ addCommunity: { value: 'x' } }] })).toContain('addCommunity "x"');
    expect(bad({ action: 'Accept', operations: [{ prependASPath: { prefix: [] } }] })).toContain('prependASPath.prefix is empty');
    expect(bad({ action: 'Accept', operations: [{ setPriority: { value: 1.5 } }] })).toContain('setPriority.value');
  });
  it('lists every problem at once', () => {
    const e = bad({ action: 'Drop', source: 'x', priority: -3 });
    expect(e.split('\n')).toHaveLength(3);
  });
  it('notes prefixLength that has no effect', () => {
    const p = compileExportPolicy(cfg, [filter('f', { exportV4: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'Equal', prefixLength: { max: 24 } }] })]);
    expect(p.notes).toEqual(['BGPFilter "f" exportV4 rule 1: prefixLength has no effect with matchOperator Equal (it compares the exact prefix)']);
  });
});

describe('value parsers', () => {
  it('parseCommunity: standard within 16 bits, large within 32 bits', () => {
    expect(parseCommunity('65535:65535')).toEqual({ large: false, value: 0xffffffff });
    expect(parseCommunity('65536:0')).toBeNull();
    expect(parseCommunity('4294967295:0:1')).toEqual({ large: true, value: [4294967295, 0, 1] });
    expect(parseCommunity('4294967296:0:1')).toBeNull();
    expect(parseCommunity('1:2:3:4')).toBeNull();
    expect(parseCommunity('a:b')).toBeNull();
  });
  it('parseAsn: plain, asdot (RFC 5396) and numbers', () => {
    expect(parseAsn('64512')).toBe(64512);
    expect(parseAsn('1.0')).toBe(65536);
    expect(parseAsn(4294967295)).toBe(4294967295);
    expect(parseAsn(4294967296)).toBeNull();
    expect(parseAsn('65536.0')).toBeNull();
  });
});
