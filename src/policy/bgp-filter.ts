// Compiles Calico BGPFilter rules into matchers and evaluates them in Calico's order. Semantics
// follow what confd renders for BIRD (confd/pkg/resource/template/template_funcs.go,
// filterStatement and friends): every field set on a rule must match; the first matching rule
// of the first filter (in the BGPPeer's order) decides, because BIRD's `accept;`/`reject;` ends
// the whole filter; operations run only on Accept.
import { parseCidr, sameBits, type ParsedCidr } from './prefix-set.js';
import type { BGPFilterOperationSpec, BGPFilterRuleSpec } from '../datastore/bgpfilter.js';
import type { Accepted, BGPFilter, Decision, PeerInfo, PeerType, RouteInfo } from './types.js';

/** Calico's default kernel route priority (BGPConfiguration ipv4/ipv6NormalRoutePriority). */
export const NORMAL_ROUTE_PRIORITY = 1024;

export type Direction = 'export' | 'import';

type CommunityMatch = { large: false; value: number } | { large: true; value: readonly [number, number, number] };

interface CidrMatch {
  prefix: ParsedCidr;
  /** Accepted prefix lengths (BIRD `[ cidr{min,max} ]`; without prefixLength: cidr length..max). */
  min: number;
  max: number;
  /** In/NotIn compare containment, Equal/NotEqual compare equality. */
  contain: boolean;
  negate: boolean;
}

export interface CompiledRule {
  /** `BGPFilter "f" exportV4 rule 2 (Reject)`: printed by logs and `kite show routes`. */
  label: string;
  cidr?: CidrMatch;
  fromPeers: boolean;
  iface?: RegExp;
  peerType?: PeerType;
  community?: CommunityMatch;
  asPathPrefix?: readonly number[];
  priority?: number;
  /** The decision when the rule matches (shared, frozen). */
  decision: Decision;
}

/** Rules of one filter for one direction, per family. */
export interface CompiledFilter { v4: CompiledRule[]; v6: CompiledRule[] }

export interface CompiledFilters {
  /** By filter name. */
  byName: Map<string, CompiledFilter>;
  /** Problems found, each located ("BGPFilter \"f\" exportV4 rule 2: ..."); empty when valid. */
  errors: string[];
  /** Accepted with a remark (a field that has no effect). */
  notes: string[];
}

const U16 = 0xffff;
const U32 = 0xffffffff;

/** "65000:100" → RFC 1997 value; "65000:1:2" → RFC 8092 triple; null when neither. */
export function parseCommunity(text: string): CommunityMatch | null {
  const parts = text.split(':');
  if (!parts.every((p) => /^\d{1,10}$/.test(p))) return null;
  const n = parts.map(Number);
  if (n.length === 2 && n[0]! <= U16 && n[1]! <= U16) return { large: false, value: ((n[0]! << 16) | n[1]!) >>> 0 };
  if (n.length === 3 && n.every((x) => x <= U32)) return { large: true, value: [n[0]!, n[1]!, n[2]!] };
  return null;
}

/** An ASN as a number, or Calico's numorstring text: "65001" or asdot "1.10" (RFC 5396). */
export function parseAsn(v: number | string): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= U32 ? v : null;
  const dot = /^(\d{1,5})\.(\d{1,5})$/.exec(v);
  if (dot !== null) {
    const hi = Number(dot[1]);
    const lo = Number(dot[2]);
    return hi <= U16 && lo <= U16 ? hi * 65536 + lo : null;
  }
  if (!/^\d{1,10}$/.test(v)) return null;
  const n = Number(v);
  return n <= U32 ? n : null;
}

/** BIRD's shell-like interface pattern (`*` any run, `?` one character) as an anchored RegExp. */
export function interfacePattern(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const LISTS = [
  ['exportV4', 'export', 4], ['exportV6', 'export', 6], ['importV4', 'import', 4], ['importV6', 'import', 6],
] as const;

/** Compiles every filter's rules for one direction. Never throws: problems go to `errors`. */
export function compileFilters(filters: readonly BGPFilter[], direction: Direction): CompiledFilters {
  const out: CompiledFilters = { byName: new Map(), errors: [], notes: [] };
  for (const f of filters) {
    const name = f.metadata.name;
    const cf: CompiledFilter = { v4: [], v6: [] };
    for (const [field, dir, fam] of LISTS) {
      if (dir !== direction) continue;
      const rules = f.spec[field] ?? [];
      rules.forEach((r, i) => {
        const where = `BGPFilter "${name}" ${field} rule ${i + 1}`;
        const c = compileRule(r, fam, where, out.errors, out.notes);
        if (c !== null) (fam === 4 ? cf.v4 : cf.v6).push(c);
      });
    }
    if (out.byName.has(name)) out.errors.push(`BGPFilter "${name}" is defined twice`);
    out.byName.set(name, cf);
  }
  return out;
}

function compileRule(r: BGPFilterRuleSpec, fam: 4 | 6, where: string, errors: string[], notes: string[]): CompiledRule | null {
  const bad = (msg: string): void => { errors.push(`${where}: ${msg}`); };
  const before = errors.length;
  if (r.action !== 'Accept' && r.action !== 'Reject') bad(`action must be Accept or Reject, not "${String(r.action)}"`);
  const rule: CompiledRule = { label: `${where} (${r.action})`, fromPeers: false, decision: { accept: false, reason: '' } };

  if (r.cidr !== undefined) {
    const p = parseCidr(r.cidr);
    const max = fam === 4 ? 32 : 128;
    if (p === null) bad(`cidr "${r.cidr}" is not a CIDR`);
    else if (p.family !== fam) bad(`cidr "${r.cidr}" is not an IPv${fam} CIDR`);
    const op = r.matchOperator;
    if (op === undefined) bad('cidr needs a matchOperator (Equal, NotEqual, In or NotIn)');
    else if (!['Equal', 'NotEqual', 'In', 'NotIn'].includes(op)) bad(`matchOperator must be Equal, NotEqual, In or NotIn, not "${String(op)}"`);
    if (p !== null && op !== undefined) {
      // confd: min = max(cidr length, prefixLength.min), max = min(family bits, prefixLength.max).
      let min = p.len;
      let hi = max;
      const pl = r.prefixLength;
      if (pl !== undefined) {
        for (const [k, v] of [['min', pl.min], ['max', pl.max]] as const) {
          if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) bad(`prefixLength.${k} must be 0..${max}`);
        }
        if (pl.min !== undefined) min = Math.max(min, pl.min);
        if (pl.max !== undefined) hi = Math.min(hi, pl.max);
        if (min > hi) bad(`prefixLength selects no length: ${min} > ${hi} (min is at least the cidr's /${p.len})`);
        if (op === 'Equal' || op === 'NotEqual') {
          notes.push(`${where}: prefixLength has no effect with matchOperator ${op} (it compares the exact prefix)`);
        }
      }
      rule.cidr = { prefix: p, min, max: hi, contain: op === 'In' || op === 'NotIn', negate: op === 'NotEqual' || op === 'NotIn' };
    }
  } else if (r.matchOperator !== undefined || r.prefixLength !== undefined) {
    notes.push(`${where}: matchOperator/prefixLength without cidr have no effect`);
  }

  if (r.source !== undefined) {
    if (r.source !== 'RemotePeers') bad(`source must be RemotePeers, not "${String(r.source)}"`);
    rule.fromPeers = true;
  }
  if (r.interface !== undefined) {
    if (r.interface === '') bad('interface is empty');
    rule.iface = interfacePattern(r.interface);
  }
  if (r.peerType !== undefined) {
    if (r.peerType !== 'iBGP' && r.peerType !== 'eBGP') bad(`peerType must be eBGP or iBGP, not "${String(r.peerType)}"`);
    rule.peerType = r.peerType;
  }
  if (r.communities !== undefined) {
    const vals = r.communities.values;
    // The CRD allows one value (MaxItems=1) and confd renders only the first.
    if (vals.length !== 1) bad(`communities.values must hold exactly one value, has ${vals.length}`);
    const c = vals[0] === undefined ? null : parseCommunity(vals[0]);
    if (vals[0] !== undefined && c === null) bad(`community "${vals[0]}" is not "a:b" (16-bit parts) or "a:b:c" (32-bit parts)`);
    if (c !== null) rule.community = c;
  }
  if (r.asPathPrefix !== undefined) {
    if (r.asPathPrefix.length === 0) bad('asPathPrefix is empty');
    const asns = r.asPathPrefix.map(parseAsn);
    asns.forEach((a, i) => { if (a === null) bad(`asPathPrefix[${i}] "${String(r.asPathPrefix?.[i])}" is not an AS number`); });
    rule.asPathPrefix = asns.filter((a): a is number => a !== null);
  }
  if (r.priority !== undefined) {
    if (!Number.isInteger(r.priority) || r.priority < 0) bad('priority must be a non-negative integer');
    rule.priority = r.priority;
  }
  const ops = r.operations ?? [];
  if (ops.length > 0 && r.action !== 'Accept') bad('operations are only allowed with action Accept');
  const accepted = compileOperations(ops, rule.label, bad);
  if (errors.length > before) return null;
  rule.decision = Object.freeze(r.action === 'Accept' ? accepted : { accept: false as const, reason: rule.label });
  return rule;
}

function compileOperations(ops: readonly BGPFilterOperationSpec[], reason: string, bad: (m: string) => void): Accepted {
  const communities: number[] = [];
  const large: [number, number, number][] = [];
  const prepend: number[] = [];
  let priority: number | undefined;
  ops.forEach((op, i) => {
    const set = [op.addCommunity, op.prependASPath, op.setPriority].filter((x) => x !== undefined).length;
    if (set !== 1) { bad(`operations[${i}] must set exactly one of addCommunity, prependASPath, setPriority`); return; }
    if (op.addCommunity !== undefined) {
      const c = parseCommunity(op.addCommunity.value);
      if (c === null) bad(`operations[${i}].addCommunity "${op.addCommunity.value}" is not "a:b" or "a:b:c"`);
      else if (!c.large) { if (!communities.includes(c.value)) communities.push(c.value); }
      else if (!large.some((l) => l[0] === c.value[0] && l[1] === c.value[1] && l[2] === c.value[2])) large.push([...c.value]);
    } else if (op.prependASPath !== undefined) {
      if (op.prependASPath.prefix.length === 0) bad(`operations[${i}].prependASPath.prefix is empty`);
      // Two prepend operations: the later one ends up leftmost, as in BIRD's sequential prepends.
      const asns = op.prependASPath.prefix.map(parseAsn);
      if (asns.some((a) => a === null)) bad(`operations[${i}].prependASPath.prefix holds a value that is not an AS number`);
      else prepend.unshift(...(asns as number[]));
    } else if (op.setPriority !== undefined) {
      const v = op.setPriority.value;
      if (!Number.isInteger(v) || v < 0) bad(`operations[${i}].setPriority.value must be a non-negative integer`);
      priority = v;
    }
  });
  const d: { -readonly [K in keyof Accepted]: Accepted[K] } = { accept: true, reason };
  if (communities.length > 0) d.communities = communities;
  if (large.length > 0) d.largeCommunities = large;
  if (prepend.length > 0) d.prependAs = prepend;
  if (priority !== undefined) d.priority = priority;
  return d;
}

function cidrMatches(m: CidrMatch, route: RouteInfo): boolean {
  const p = m.prefix;
  let hit: boolean;
  if (m.contain) {
    // BIRD `net ~ [ cidr{min,max} ]`: inside the cidr, length within [min, max].
    hit = route.len >= m.min && route.len <= m.max && sameBits(route.bytes, p.bytes, p.len);
  } else {
    hit = route.len === p.len && sameBits(route.bytes, p.bytes, p.len);
  }
  return m.negate ? !hit : hit;
}

function asPathStartsWith(route: RouteInfo, prefix: readonly number[]): boolean {
  // Segments are flattened in order; BIRD's `bgp_path.first` / `[= a b * =]` read the path left to right.
  let i = 0;
  for (const seg of route.attrs?.asPath ?? []) {
    for (const asn of seg.asns) {
      if (i === prefix.length) return true;
      if (asn !== prefix[i]) return false;
      i++;
    }
  }
  if (i === prefix.length) return true;
  // BIRD's bgp_path.first is 0 on an empty path: a one-ASN prefix of 0 matches it.
  return i === 0 && prefix.length === 1 && prefix[0] === 0;
}

function hasCommunity(route: RouteInfo, c: CommunityMatch): boolean {
  const a = route.attrs;
  if (a === undefined) return false;
  if (!c.large) return a.communities?.includes(c.value) ?? false;
  const [g, l1, l2] = c.value;
  return a.largeCommunities?.some((x) => x[0] === g && x[1] === l1 && x[2] === l2) ?? false;
}

/** True when every field the rule sets matches the route sent to / learned from `peer`. */
export function ruleMatches(rule: CompiledRule, route: RouteInfo, peer: PeerInfo): boolean {
  if (rule.peerType !== undefined && (rule.peerType === 'iBGP') !== peer.ibgp) return false;
  if (rule.cidr !== undefined && !cidrMatches(rule.cidr, route)) return false;
  if (rule.fromPeers && route.source !== 'peer') return false;
  // BIRD `defined(ifname) && ifname ~ "pattern"`: routes without an interface never match.
  if (rule.iface !== undefined && (route.interface === undefined || !rule.iface.test(route.interface))) return false;
  if (rule.community !== undefined && !hasCommunity(route, rule.community)) return false;
  if (rule.asPathPrefix !== undefined && !asPathStartsWith(route, rule.asPathPrefix)) return false;
  if (rule.priority !== undefined && (route.priority ?? NORMAL_ROUTE_PRIORITY) !== rule.priority) return false;
  return true;
}

/**
 * Runs the peer's filters in order and returns the first matching rule's decision, or null
 * when no rule matches (Calico's own rules decide then).
 */
export function evaluateFilters(compiled: CompiledFilters, route: RouteInfo, peer: PeerInfo): Decision | null {
  const v6 = route.family === 6;
  for (const name of peer.filters) {
    const f = compiled.byName.get(name);
    if (f === undefined) continue;
    for (const rule of v6 ? f.v6 : f.v4) {
      if (ruleMatches(rule, route, peer)) return rule.decision;
    }
  }
  return null;
}
