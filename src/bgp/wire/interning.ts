// What the UPDATE decoder needs to intern attribute sets, as a narrow interface: the table's
// interner (src/rib/intern.ts) implements it, so the codec stays pure and the table owns the sets.
// Decoding through it keeps the hot path: a repeated attribute section is one cache lookup.
import type { WireError } from './errors.js';
import type { ErrorAction, PathAttrs } from './types.js';

/** An attribute set before interning gives it an id. */
export type PathAttrsInput = Omit<PathAttrs, 'id'>;

/** What the decoder remembers about one raw attribute section (see update.ts). */
export interface RawEntry {
  readonly attrs: PathAttrs | null;
  readonly errors: readonly WireError[];
  readonly action: ErrorAction;
  /** Bit 0 ORIGIN, bit 1 AS_PATH, bit 2 NEXT_HOP seen (for RFC 7606 §3(d) checks per message). */
  readonly present: number;
}

export interface AttrInterner {
  /** The shared, frozen set equal to `input` (a new one with a fresh id when none is held). */
  internAttrs(input: PathAttrsInput): PathAttrs;
  /** Decoder cache: raw attribute section bytes (with session flags) → decoded result. */
  rawGet(key: string): RawEntry | undefined;
  rawSet(key: string, entry: RawEntry): void;
}
