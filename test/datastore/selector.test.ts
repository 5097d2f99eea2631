// Tests for the Calico selector parser and evaluator: every operator, precedence, the
// missing-label semantics Calico uses, and error positions.
import { describe, expect, it } from 'vitest';
import { parseSelector, SelectorError } from '../../src/datastore/selector.js';

const node = { rack: 'r1', zone: 'eu-west', 'kubernetes.io/hostname': 'node-1', role: '' };
const m = (sel: string, labels: Record<string, string> = node): boolean => parseSelector(sel).matches(labels);

describe('selector operators', () => {
  it('all() and the empty selector match everything (as in Calico)', () => {
    expect(m('all()')).toBe(true);
    expect(m('all()', {})).toBe(true);
    expect(m('')).toBe(true);
    expect(m('   ')).toBe(true);
    expect(m('global()')).toBe(true);
  });
  it('== and != with single or double quotes', () => {
    expect(m("rack == 'r1'")).toBe(true);
    expect(m('rack == "r1"')).toBe(true);
    expect(m("rack == 'r2'")).toBe(false);
    expect(m("rack != 'r2'")).toBe(true);
    expect(m("rack != 'r1'")).toBe(false);
    expect(m("kubernetes.io/hostname == 'node-1'")).toBe(true);
    expect(m("rack=='r1'")).toBe(true);
  });
  it('a missing label: == fails, != matches', () => {
    expect(m("missing == 'x'")).toBe(false);
    expect(m("missing != 'x'")).toBe(true);
  });
  it('an empty label value is present', () => {
    expect(m("role == ''")).toBe(true);
    expect(m('has(role)')).toBe(true);
  });
  it('has() and !has()', () => {
    expect(m('has(rack)')).toBe(true);
    expect(m('!has(rack)')).toBe(false);
    expect(m('has(missing)')).toBe(false);
    expect(m('!has(missing)')).toBe(true);
    expect(m('has( rack )')).toBe(true);
  });
  it('in and not in, including missing labels', () => {
    expect(m("rack in {'r1','r2'}")).toBe(true);
    expect(m("rack in { 'r2', \"r3\" }")).toBe(false);
    expect(m("rack not in {'r2'}")).toBe(true);
    expect(m("rack not in {'r1', 'r2'}")).toBe(false);
    expect(m("missing in {'x'}")).toBe(false);
    expect(m("missing not in {'x'}")).toBe(true);
    expect(m('rack in {}')).toBe(false);
    expect(m('rack not in {}')).toBe(true);
  });
  it('contains, starts with, ends with', () => {
    expect(m("zone contains 'west'")).toBe(true);
    expect(m("zone starts with 'eu-'")).toBe(true);
    expect(m("zone ends with 'east'")).toBe(false);
    expect(m("missing contains ''")).toBe(false);
  });
  it('labels named like operator words are still labels', () => {
    expect(m("in == 'x'", { in: 'x' })).toBe(true);
    expect(m("contains in {'a'}", { contains: 'a' })).toBe(true);
  });
});

describe('selector precedence', () => {
  it('&& binds tighter than ||', () => {
    // true || (false && false) = true; (true || false) && false would be false.
    expect(m("rack == 'r1' || rack == 'x' && zone == 'x'")).toBe(true);
    expect(m("(rack == 'r1' || rack == 'x') && zone == 'x'")).toBe(false);
  });
  it('! binds to one operation only', () => {
    // (!has(rack)) || true = true; !(has(rack) || ...) would be false.
    expect(m("!has(rack) || zone == 'eu-west'")).toBe(true);
    expect(m("!(has(rack) || zone == 'eu-west')")).toBe(false);
    expect(m('!!has(rack)')).toBe(true);
  });
  it('canonical text shows the structure', () => {
    expect(parseSelector("a == 'x' || b == 'y' && !has(c)").toString()).toBe('(a == "x" || (b == "y" && !has(c)))');
    expect(parseSelector("k not in {'a',\"b\"}").toString()).toBe('k not in {"a", "b"}');
  });
});

describe('selector errors', () => {
  const err = (sel: string): SelectorError => {
    try {
      parseSelector(sel);
    } catch (e) {
      if (e instanceof SelectorError) return e;
      throw e;
    }
    throw new Error(`"${sel}" parsed`);
  };
  it.each([
    ["rack == 'r1' &&", 15, /expected a label/],
    ["rack == r1", 8, /expected a quoted string/],
    ["rack = 'r1'", 5, /unexpected character "="/],
    ["rack 'r1'", 5, /expected ==, !=/],
    ["(rack == 'r1'", 13, /expected \) to close \(/],
    ["rack == 'r1')", 12, /unexpected "\)"/],
    ["rack == 'r1", 8, /unterminated string/],
    ["rack in {'a' 'b'}", 13, /expected , or \}/],
    ["rack in 'a'", 8, /expected \{/],
    ['has()', 4, /has\(\) needs a label/],
    ["all(x)", 4, /takes no argument/],
    ["rack == 'a' rack == 'b'", 12, /expected && or \|\|/],
  ])('%s → position %i', (sel, pos, re) => {
    const e = err(sel);
    expect(e.position).toBe(pos);
    expect(e.message).toMatch(re);
    expect(e.message).toContain(`selector "${sel}": at position ${pos + 1}`);
  });
});
