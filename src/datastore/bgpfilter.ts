// Calico's BGPFilter resource (projectcalico.org/v3, api/pkg/apis/projectcalico/v3/bgpfilter.go):
// the one model of it, rule lists per direction and family with Calico's field names, and its
// validation. Shapes and value sets are checked here, with located errors; what a rule means (and
// rules that need the whole configuration) is src/policy's business, which compiles this model.
import { Checker, type Obj, type Path } from './check.js';

export interface BGPFilterOperationSpec {
  addCommunity?: { value: string };
  /** ASNs as numbers or Calico's numorstring text ("65001", "1.10" asdot). */
  prependASPath?: { prefix: (number | string)[] };
  setPriority?: { value: number };
}

export interface BGPFilterRuleSpec {
  cidr?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  /** BIRD shell pattern on the interface name (`*` and `?`). */
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  communities?: { values: string[] };
  asPathPrefix?: (number | string)[];
  priority?: number;
  action: 'Accept' | 'Reject';
  operations?: BGPFilterOperationSpec[];
}

export interface BGPFilterSpec {
  exportV4?: BGPFilterRuleSpec[];
  importV4?: BGPFilterRuleSpec[];
  exportV6?: BGPFilterRuleSpec[];
  importV6?: BGPFilterRuleSpec[];
}

const LISTS = ['exportV4', 'importV4', 'exportV6', 'importV6'] as const;

function oneOf<T extends string>(c: Checker, o: Obj, key: string, path: Path, values: readonly T[]): T | undefined {
  const v = c.str(o, key, path);
  if (v === undefined) return undefined;
  if ((values as readonly string[]).includes(v)) return v as T;
  return c.error([...path, key], `"${v}" is not one of ${values.join(', ')}`);
}

function asnList(c: Checker, o: Obj, key: string, path: Path): (number | string)[] | undefined {
  const l = c.list(o, key, path);
  if (l === undefined) return undefined;
  const out: (number | string)[] = [];
  l.forEach((x, i) => {
    if ((typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff) || (typeof x === 'string' && /^\d+(\.\d+)?$/.test(x))) out.push(x);
    else c.error([...path, key, i], `must be an AS number, got ${JSON.stringify(x)}`);
  });
  return out;
}

function rule(c: Checker, raw: unknown, path: Path): BGPFilterRuleSpec | undefined {
  const o = c.obj(raw, path);
  if (o === undefined) return undefined;
  c.fields(o, path, ['cidr', 'matchOperator', 'prefixLength', 'source', 'interface', 'peerType', 'communities',
    'asPathPrefix', 'priority', 'action', 'operations']);
  const action = oneOf(c, o, 'action', path, ['Accept', 'Reject'] as const);
  if (action === undefined) {
    if (o['action'] === undefined) c.error([...path, 'action'], 'is required (Accept or Reject)');
    return undefined;
  }
  const r: BGPFilterRuleSpec = { action };
  const cidr = c.cidr(o, 'cidr', path);
  if (cidr !== undefined) r.cidr = c.str(o, 'cidr', path)!;
  const op = oneOf(c, o, 'matchOperator', path, ['Equal', 'NotEqual', 'In', 'NotIn'] as const);
  if (op !== undefined) r.matchOperator = op;
  if ((r.cidr === undefined) !== (r.matchOperator === undefined)) c.error(path, 'cidr and matchOperator must be given together');
  const pl = c.optObj(o, 'prefixLength', path);
  if (pl !== undefined) {
    const pp = [...path, 'prefixLength'];
    c.fields(pl, pp, ['min', 'max']);
    r.prefixLength = {};
    const min = c.int(pl, 'min', pp, 0, 128);
    const max = c.int(pl, 'max', pp, 0, 128);
    if (min !== undefined) r.prefixLength.min = min;
    if (max !== undefined) r.prefixLength.max = max;
    if (min !== undefined && max !== undefined && min > max) c.error(pp, `min ${min} is greater than max ${max}`);
  }
  const src = oneOf(c, o, 'source', path, ['RemotePeers'] as const);
  if (src !== undefined) r.source = src;
  const itf = c.str(o, 'interface', path);
  if (itf !== undefined) r.interface = itf;
  const pt = oneOf(c, o, 'peerType', path, ['eBGP', 'iBGP'] as const);
  if (pt !== undefined) r.peerType = pt;
  const comm = c.optObj(o, 'communities', path);
  if (comm !== undefined) {
    c.fields(comm, [...path, 'communities'], ['values']);
    r.communities = { values: c.strList(comm, 'values', [...path, 'communities']) ?? [] };
  }
  const app = asnList(c, o, 'asPathPrefix', path);
  if (app !== undefined) r.asPathPrefix = app;
  const prio = c.int(o, 'priority', path, 1, 2147483647);
  if (prio !== undefined) r.priority = prio;
  const ops = c.list(o, 'operations', path);
  if (ops !== undefined) {
    r.operations = [];
    ops.forEach((x, i) => {
      const opath = [...path, 'operations', i];
      const oo = c.obj(x, opath);
      if (oo === undefined) return;
      c.fields(oo, opath, ['addCommunity', 'prependASPath', 'setPriority']);
      const out: BGPFilterOperationSpec = {};
      const ac = c.optObj(oo, 'addCommunity', opath);
      if (ac !== undefined) { const v = c.str(ac, 'value', [...opath, 'addCommunity'], true); if (v !== undefined) out.addCommunity = { value: v }; }
      const pa = c.optObj(oo, 'prependASPath', opath);
      if (pa !== undefined) out.prependASPath = { prefix: asnList(c, pa, 'prefix', [...opath, 'prependASPath']) ?? [] };
      const sp = c.optObj(oo, 'setPriority', opath);
      if (sp !== undefined) { const v = c.int(sp, 'value', [...opath, 'setPriority'], 1, 2147483647); if (v !== undefined) out.setPriority = { value: v }; }
      if (Object.keys(out).length !== 1) c.error(opath, 'must hold exactly one of addCommunity, prependASPath, setPriority');
      r.operations!.push(out);
    });
  }
  return r;
}

export function bgpFilter(c: Checker, spec: Obj): BGPFilterSpec {
  c.fields(spec, ['spec'], [...LISTS]);
  const out: BGPFilterSpec = {};
  for (const key of LISTS) {
    const l = c.list(spec, key, ['spec']);
    if (l === undefined) continue;
    const rules: BGPFilterRuleSpec[] = [];
    l.forEach((x, i) => { const r = rule(c, x, ['spec', key, i]); if (r !== undefined) rules.push(r); });
    out[key] = rules;
  }
  return out;
}
