// Calico label selectors (libcalico-go lib/selector): parse once, evaluate against a node's or
// workload's labels. Grammar, lowest precedence first:
//   or  := and ('||' and)*      and := op ('&&' op)*
//   op  := '!'* ( 'all()' | 'global()' | 'has(' key ')' | '(' or ')'
//               | key ('=='|'!=') str | key ('in'|'not in') '{' [str (',' str)*] '}'
//               | key ('contains'|'starts with'|'ends with') str )
// As in Calico, `!` binds to one operation, and the empty string parses to all(). Callers
// that treat "" as "not set" (BGPPeer.nodeSelector) must check for "" before parsing.
// Missing labels: `k != 'v'` and `k not in {...}` match; `==`, `in`, `contains`… do not.

export type Labels = Readonly<Record<string, string>>;

export type SelectorNode =
  | { op: 'all' }
  | { op: 'global' }
  | { op: 'has'; key: string }
  | { op: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; key: string; value: string }
  | { op: 'in' | 'notIn'; key: string; values: readonly string[] }
  | { op: 'not'; operand: SelectorNode }
  | { op: 'and' | 'or'; operands: readonly SelectorNode[] };

export interface Selector {
  /** The selector as written. */
  readonly source: string;
  readonly root: SelectorNode;
  matches(labels: Labels): boolean;
  /** Canonical text (fully parenthesised, double quotes where possible). */
  toString(): string;
}

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  /** 0-based character offset in the selector text where parsing failed. */
  readonly position: number;
  /** Reason without the position prefix. */
  readonly reason: string;
  constructor(source: string, position: number, reason: string) {
    super(`selector "${source}": at position ${position + 1}: ${reason}`);
    this.position = position;
    this.reason = reason;
  }
}

type TokKind =
  | 'label' | 'string' | 'has' | 'all' | 'global'
  | '==' | '!=' | 'in' | 'not in' | 'contains' | 'starts with' | 'ends with'
  | '!' | '&&' | '||' | '(' | ')' | '{' | '}' | ',' | 'eof';

interface Token { kind: TokKind; value: string; pos: number }

// Calico's label key syntax: an optional DNS-prefix and a name; we accept the same characters.
const LABEL_RE = /^[a-zA-Z0-9_./-]+/;
const WORD_OPS: ReadonlyArray<readonly [RegExp, TokKind]> = [
  [/^not\s+in\b/, 'not in'],
  [/^in\b/, 'in'],
  [/^contains\b/, 'contains'],
  [/^starts\s+with\b/, 'starts with'],
  [/^ends\s+with\b/, 'ends with'],
];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // After a label an operator word may follow ("env in {...}"); elsewhere words are labels.
  const afterLabel = (): boolean => out.length > 0 && out[out.length - 1]?.kind === 'label';
  while (i < src.length) {
    const ch = src[i] ?? '';
    if (/\s/.test(ch)) { i++; continue; }
    const rest = src.slice(i);
    const two = rest.slice(0, 2);
    if (two === '==' || two === '!=' || two === '&&' || two === '||') {
      out.push({ kind: two, value: two, pos: i });
      i += 2;
      continue;
    }
    if ('!(){},'.includes(ch)) {
      out.push({ kind: ch as TokKind, value: ch, pos: i });
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = src.indexOf(ch, i + 1);
      if (end < 0) throw new SelectorError(src, i, `unterminated string starting with ${ch}`);
      out.push({ kind: 'string', value: src.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const fn = /^(has|all|global)\s*\(/.exec(rest);
    if (fn !== null && !afterLabel()) {
      const name = fn[1] as 'has' | 'all' | 'global';
      const close = src.indexOf(')', i + fn[0].length);
      if (close < 0) throw new SelectorError(src, i, `missing ) after ${name}(`);
      const arg = src.slice(i + fn[0].length, close).trim();
      if (name === 'has') {
        if (!LABEL_RE.test(arg) || (LABEL_RE.exec(arg)?.[0] ?? '') !== arg) {
          throw new SelectorError(src, i + fn[0].length, `has() needs a label name, got "${arg}"`);
        }
        out.push({ kind: 'has', value: arg, pos: i });
      } else {
        if (arg !== '') throw new SelectorError(src, i + fn[0].length, `${name}() takes no argument`);
        out.push({ kind: name, value: name, pos: i });
      }
      i = close + 1;
      continue;
    }
    if (afterLabel()) {
      const word = WORD_OPS.find(([re]) => re.test(rest));
      if (word !== undefined) {
        const m = word[0].exec(rest);
        out.push({ kind: word[1], value: word[1], pos: i });
        i += m?.[0].length ?? 1;
        continue;
      }
    }
    const lab = LABEL_RE.exec(rest);
    if (lab !== null) {
      out.push({ kind: 'label', value: lab[0], pos: i });
      i += lab[0].length;
      continue;
    }
    throw new SelectorError(src, i, `unexpected character "${ch}"`);
  }
  out.push({ kind: 'eof', value: '', pos: src.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly src: string, private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i] ?? { kind: 'eof', value: '', pos: this.src.length };
  }
  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }
  private fail(t: Token, reason: string): never {
    throw new SelectorError(this.src, t.pos, reason);
  }
  private describe(t: Token): string {
    return t.kind === 'eof' ? 'end of selector' : t.kind === 'string' ? `string "${t.value}"` : `"${t.value}"`;
  }

  parseRoot(): SelectorNode {
    if (this.peek().kind === 'eof') return { op: 'all' };
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, `unexpected ${this.describe(t)}, expected && or || or end of selector`);
    return node;
  }

  private parseOr(): SelectorNode {
    const ops = [this.parseAnd()];
    while (this.peek().kind === '||') {
      this.next();
      ops.push(this.parseAnd());
    }
    return ops.length === 1 ? (ops[0] as SelectorNode) : { op: 'or', operands: ops };
  }

  private parseAnd(): SelectorNode {
    const ops = [this.parseOp()];
    while (this.peek().kind === '&&') {
      this.next();
      ops.push(this.parseOp());
    }
    return ops.length === 1 ? (ops[0] as SelectorNode) : { op: 'and', operands: ops };
  }

  private parseOp(): SelectorNode {
    let negated = false;
    while (this.peek().kind === '!') {
      this.next();
      negated = !negated;
    }
    const node = this.parseTerm();
    return negated ? { op: 'not', operand: node } : node;
  }

  private parseTerm(): SelectorNode {
    const t = this.next();
    switch (t.kind) {
      case 'all': return { op: 'all' };
      case 'global': return { op: 'global' };
      case 'has': return { op: 'has', key: t.value };
      case '(': {
        const inner = this.parseOr();
        const close = this.next();
        if (close.kind !== ')') this.fail(close, `expected ) to close ( at position ${t.pos + 1}, got ${this.describe(close)}`);
        return inner;
      }
      case 'label': return this.parseComparison(t.value);
      default:
        return this.fail(t, `unexpected ${this.describe(t)}, expected a label, has(), all(), ! or (`);
    }
  }

  private parseComparison(key: string): SelectorNode {
    const opTok = this.next();
    const str = (): string => {
      const v = this.next();
      if (v.kind !== 'string') this.fail(v, `expected a quoted string after ${opTok.value}, got ${this.describe(v)}`);
      return v.value;
    };
    switch (opTok.kind) {
      case '==': return { op: 'eq', key, value: str() };
      case '!=': return { op: 'ne', key, value: str() };
      case 'contains': return { op: 'contains', key, value: str() };
      case 'starts with': return { op: 'startsWith', key, value: str() };
      case 'ends with': return { op: 'endsWith', key, value: str() };
      case 'in':
      case 'not in': {
        const open = this.next();
        if (open.kind !== '{') this.fail(open, `expected { after ${opTok.value}, got ${this.describe(open)}`);
        const values: string[] = [];
        if (this.peek().kind !== '}') {
          for (;;) {
            const v = this.next();
            if (v.kind !== 'string') this.fail(v, `expected a quoted string in the set, got ${this.describe(v)}`);
            values.push(v.value);
            const sep = this.next();
            if (sep.kind === '}') break;
            if (sep.kind !== ',') this.fail(sep, `expected , or } in the set, got ${this.describe(sep)}`);
          }
        } else {
          this.next();
        }
        return { op: opTok.kind === 'in' ? 'in' : 'notIn', key, values };
      }
      default:
        return this.fail(opTok, `expected ==, !=, in, not in, contains, starts with or ends with after label "${key}", got ${this.describe(opTok)}`);
    }
  }
}

export function evaluate(node: SelectorNode, labels: Labels): boolean {
  const get = (k: string): string | undefined => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  switch (node.op) {
    case 'all':
    case 'global':
      return true;
    case 'has': return get(node.key) !== undefined;
    case 'eq': return get(node.key) === node.value;
    case 'ne': return get(node.key) !== node.value;
    case 'contains': { const v = get(node.key); return v !== undefined && v.includes(node.value); }
    case 'startsWith': { const v = get(node.key); return v !== undefined && v.startsWith(node.value); }
    case 'endsWith': { const v = get(node.key); return v !== undefined && v.endsWith(node.value); }
    case 'in': { const v = get(node.key); return v !== undefined && node.values.includes(v); }
    case 'notIn': { const v = get(node.key); return v === undefined || !node.values.includes(v); }
    case 'not': return !evaluate(node.operand, labels);
    case 'and': return node.operands.every((o) => evaluate(o, labels));
    case 'or': return node.operands.some((o) => evaluate(o, labels));
  }
}

const quote = (s: string): string => (s.includes('"') ? `'${s}'` : `"${s}"`);

export function formatSelector(node: SelectorNode): string {
  switch (node.op) {
    case 'all': return 'all()';
    case 'global': return 'global()';
    case 'has': return `has(${node.key})`;
    case 'eq': return `${node.key} == ${quote(node.value)}`;
    case 'ne': return `${node.key} != ${quote(node.value)}`;
    case 'contains': return `${node.key} contains ${quote(node.value)}`;
    case 'startsWith': return `${node.key} starts with ${quote(node.value)}`;
    case 'endsWith': return `${node.key} ends with ${quote(node.value)}`;
    case 'in': return `${node.key} in {${node.values.map(quote).join(', ')}}`;
    case 'notIn': return `${node.key} not in {${node.values.map(quote).join(', ')}}`;
    case 'not': return `!${formatSelector(node.operand)}`;
    case 'and': return `(${node.operands.map(formatSelector).join(' && ')})`;
    case 'or': return `(${node.operands.map(formatSelector).join(' || ')})`;
  }
}

/** Parses Calico selector text. Throws SelectorError (with the 0-based `position`). */
export function parseSelector(text: string): Selector {
  const root = new Parser(text, tokenize(text)).parseRoot();
  return {
    source: text,
    root,
    matches: (labels: Labels) => evaluate(root, labels),
    toString: () => formatSelector(root),
  };
}
