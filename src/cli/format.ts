// Plain-text table helpers for `kite show`: fixed-width columns separated by two spaces, the
// way birdc and vtysh print, so output lines up in a terminal and stays easy to grep and awk.
import type { PathStatus } from '../api/types.js';

export const Align = { Left: 'left', Right: 'right' } as const;
export type Align = (typeof Align)[keyof typeof Align];

export interface Column {
  header: string;
  align?: Align;
}

/** Placeholder for an absent value, so every row has the same number of fields for awk. */
export const NONE = '-';

/**
 * Renders rows under headers. Each column is as wide as its widest cell; trailing spaces are
 * trimmed so the last column can hold free text (an error message) without padding.
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] ?? 0;
        return c.align === Align.Right ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

/** "-" for null, the decimal number otherwise (0 stays 0: LOCAL_PREF 0 is a real value). */
export function optional(v: number | string | null): string {
  return v === null ? NONE : String(v);
}

/** AS_PATH as space-separated ASNs, the notation of `show ip bgp`; "-" when empty (local/iBGP). */
export function asPath(path: readonly number[]): string {
  return path.length === 0 ? NONE : path.join(' ');
}

/** One-letter ORIGIN codes from `show ip bgp` (RFC 4271 §5.1.1). */
export function originCode(origin: PathStatus['origin']): string {
  switch (origin) {
    case 'igp': return 'i';
    case 'egp': return 'e';
    case 'incomplete': return '?';
  }
}

/** Standard then large communities, space-separated; "-" when none. */
export function communities(p: Pick<PathStatus, 'communities' | 'largeCommunities'>): string {
  const all = [...p.communities, ...p.largeCommunities];
  return all.length === 0 ? NONE : all.join(' ');
}

/** "1 route" / "2 routes"; pass `many` for irregular plurals ("prefixes"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
