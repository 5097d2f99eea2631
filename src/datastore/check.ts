// Field readers for validating one YAML document: each reader checks a value's type and
// syntax, records a located problem on failure (file, document, object, field path, line) and
// returns undefined, so one pass reports every mistake in the document, not just the first.
import { formatProblem, type ConfigProblem } from './errors.js';
import { parseAddr, parsePrefix, type Family, type IpAddr, type Prefix } from '../net/index.js';
import { parseSelector, SelectorError } from './selector.js';

export type Path = readonly (string | number)[];
export type Obj = Record<string, unknown>;

export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

export interface DocSource {
  file: string;
  document: number;
  /** 1-based line of the value at `path`, 0 when unknown. */
  lineOf(path: Path): number;
  /** Path of the object inside the document (["items", 3] in a List), "" for the document root. */
  prefix?: Path;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];
  /** `Kind "name"`, set once known so later problems name the object. */
  object = '';

  constructor(readonly src: DocSource) {}

  private located(relative: Path, reason: string): ConfigProblem {
    const path = [...(this.src.prefix ?? []), ...relative];
    return formatProblem({
      file: this.src.file, document: this.src.document, object: this.object,
      path: formatPath(path), line: this.src.lineOf(path), reason,
    });
  }

  error(path: Path, reason: string): undefined {
    this.problems.push(this.located(path, reason));
    return undefined;
  }

  warn(path: Path, reason: string): void {
    this.warnings.push(this.located(path, reason).text);
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /**
   * Flags fields that are not in `known`. A near miss of a known name (wrong case, a typo) is an
   * error, since the user clearly meant to set something; anything else is ignored with a warning
   * so exports from newer Calico versions still load.
   */
  fields(o: Obj, path: Path, known: readonly string[]): void {
    for (const key of Object.keys(o)) {
      if (known.includes(key)) continue;
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || (key.length > 4 && editDistance(k, key) <= 2));
      if (near !== undefined) this.error([...path, key], `unknown field (did you mean ${near}?)`);
      else this.warn([...path, key], 'unknown field, ignored');
    }
  }

  obj(v: unknown, path: Path): Obj | undefined {
    if (isObj(v)) return v;
    return this.error(path, `must be a mapping, got ${show(v)}`);
  }

  optObj(o: Obj, key: string, path: Path): Obj | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.obj(v, [...path, key]);
  }

  str(o: Obj, key: string, path: Path, required: true): string | undefined;
  str(o: Obj, key: string, path: Path, required?: false): string | undefined;
  str(o: Obj, key: string, path: Path, required = false): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') {
      return required ? this.error([...path, key], 'is required') : undefined;
    }
    if (typeof v !== 'string') return this.error([...path, key], `must be a string, got ${show(v)}`);
    return v;
  }

  bool(o: Obj, key: string, path: Path): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    // The crd.projectcalico.org/v1 form stores some booleans as strings (BlockAffinity.deleted).
    if (v === 'true') return true;
    if (v === 'false') return false;
    return this.error([...path, key], `must be true or false, got ${show(v)}`);
  }

  int(o: Obj, key: string, path: Path, min: number, max: number): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.error([...path, key], `must be a whole number, got ${show(v)}`);
    if (v < min || v > max) return this.error([...path, key], `${v} is out of range (${min} to ${max})`);
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: Path, values: readonly T[]): T | undefined {
    const v = this.str(o, key, path);
    if (v === undefined) return undefined;
    const hit = values.find((x) => x === v) ?? values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (hit === undefined) return this.error([...path, key], `${show(v)} is not one of ${values.join(', ')}`);
    return hit;
  }

  strList(o: Obj, key: string, path: Path): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.error([...path, key], `must be a list, got ${show(v)}`);
    const out: string[] = [];
    v.forEach((x: unknown, i) => {
      if (typeof x === 'string') out.push(x);
      else this.error([...path, key, i], `must be a string, got ${show(x)}`);
    });
    return out;
  }

  list(o: Obj, key: string, path: Path): unknown[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.error([...path, key], `must be a list, got ${show(v)}`);
    return v;
  }

  stringMap(o: Obj, key: string, path: Path): Record<string, string> {
    const v = o[key];
    const out: Record<string, string> = {};
    if (v === undefined || v === null) return out;
    const m = this.obj(v, [...path, key]);
    if (m === undefined) return out;
    for (const [k, x] of Object.entries(m)) {
      if (typeof x === 'string') out[k] = x;
      else if (typeof x === 'number' || typeof x === 'boolean') {
        this.error([...path, key, k], `must be a string, got ${show(x)} (quote it: "${String(x)}")`);
      } else this.error([...path, key, k], `must be a string, got ${show(x)}`);
    }
    return out;
  }

  /** AS number: 1..4294967295, or the asdot string "high.low" (RFC 5396), or a numeric string. */
  asn(o: Obj, key: string, path: Path): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const p = [...path, key];
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\d+$/.test(v)) n = Number(v);
    else if (typeof v === 'string' && /^\d+\.\d+$/.test(v)) {
      const [hi = 0, lo = 0] = v.split('.').map(Number);
      if (hi > 65535 || lo > 65535) return this.error(p, `${show(v)} is not a valid asdot AS number (each part 0 to 65535)`);
      n = hi * 65536 + lo;
    } else return this.error(p, `${show(v)} is not an AS number`);
    if (!Number.isInteger(n) || n < 1 || n > 4294967295) {
      return this.error(p, n === 0 ? 'AS 0 is reserved (RFC 7607)' : `${show(v)} is out of range (1 to 4294967295)`);
    }
    return n;
  }

  /** Go duration text ("90s", "2m", "1h30m", "500ms") → whole seconds, rounded like Calico does. */
  duration(o: Obj, key: string, path: Path): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const p = [...path, key];
    if (typeof v !== 'string') return this.error(p, `must be a duration string such as "120s", got ${show(v)}`);
    const secs = parseGoDuration(v);
    if (secs === undefined) return this.error(p, `${show(v)} is not a duration (examples: "120s", "2m", "1h30m")`);
    return Math.round(secs);
  }

  ip(o: Obj, key: string, path: Path, family?: Family): IpAddr | undefined {
    const v = this.str(o, key, path);
    if (v === undefined) return undefined;
    const ip = parseAddr(v);
    if (ip === null) return this.error([...path, key], `${show(v)} is not an IP${family === undefined ? '' : `v${family}`} address`);
    if (family !== undefined && ip.family !== family) return this.error([...path, key], `${show(v)} is not an IPv${family} address`);
    return ip;
  }

  /** CIDR text as a Prefix keeping what was written (a node address keeps its host part). */
  cidr(o: Obj, key: string, path: Path, opts: { required?: boolean; family?: Family; aligned?: boolean } = {}): Prefix | undefined {
    const v = opts.required === true ? this.str(o, key, path, true) : this.str(o, key, path);
    return v === undefined ? undefined : this.cidrOf(v, [...path, key], opts);
  }

  /** Checks CIDR text found at `p` (see cidr()). */
  cidrOf(v: string, p: Path, opts: { family?: Family; aligned?: boolean } = {}): Prefix | undefined {
    const what = opts.family === undefined ? 'a CIDR' : `an IPv${opts.family} CIDR`;
    const c = parsePrefix(v);
    if (c === null) {
      const bare = parseAddr(v);
      const hint = bare !== null ? ` (write it with a prefix length, like ${v}/${bare.family === 4 ? 24 : 64})` : '';
      return this.error(p, `${show(v)} is not ${what}${hint}`);
    }
    if (opts.family !== undefined && c.family !== opts.family) return this.error(p, `${show(v)} is not ${what}`);
    if (opts.aligned === true && !c.isAligned()) {
      return this.error(p, `${show(v)} has host bits set (did you mean ${c.network().toString()}?)`);
    }
    return c;
  }

  selector(o: Obj, key: string, path: Path): string | undefined {
    const v = this.str(o, key, path);
    if (v === undefined) return undefined;
    try {
      parseSelector(v);
    } catch (e) {
      if (e instanceof SelectorError) return this.error([...path, key], e.message);
      throw e;
    }
    return v;
  }
}

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let pos = 0;
  let total = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN);
    pos = re.lastIndex;
  }
  return pos === 0 || Number.isNaN(total) ? undefined : total;
}

export function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] ?? 0;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] ?? 0;
      d[j] = Math.min((d[j] ?? 0) + 1, (d[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] ?? 0;
}
