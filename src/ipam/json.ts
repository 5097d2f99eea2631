// JSON text <-> values for IPAM objects without losing precision: Calico stores an IPAMBlock's
// sequenceNumber as a uint64 seeded from the clock in nanoseconds (~1.7e18), beyond
// Number.MAX_SAFE_INTEGER, so plain JSON.parse would round it and a later write would corrupt it.

const MARK = `\u{1F4CD}kite-bigint:`;

/** Parses JSON; integers that a double cannot hold exactly come back as bigint. */
export function parseJson(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '"') {
      // Skip the string, honouring escapes, so digits inside strings are never touched.
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < n && (text[j] ?? '') >= '0' && (text[j] ?? '') <= '9') j++;
      const next = text[j];
      if (next === '.' || next === 'e' || next === 'E') {
        while (j < n && /[0-9eE+\-.]/.test(text[j] ?? '')) j++;
      } else {
        const digits = text.slice(i, j);
        if (!Number.isSafeInteger(Number(digits))) {
          out += `${text.slice(last, i)}"${MARK}${digits}"`;
          last = j;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  out += text.slice(last);
  return JSON.parse(out, (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v);
}

/** Serialises to JSON; bigint values are written as bare integers. */
export function stringifyJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v), indent);
  return text.replace(new RegExp(`"${MARK}(-?\\d+)"`, 'gu'), '$1');
}
