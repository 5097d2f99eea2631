// ConfigError: every problem found in user configuration (a resource file, a selector, a node
// name) is reported as one of these, with a message that names the file, document and field.
// The CLI prints `message` as is; callers that want structure read `problems`.

export interface ConfigProblem {
  /** File the problem is in ("" when not from a file). */
  file: string;
  /** 1-based document index in the file, 0 when the problem is not about one document. */
  document: number;
  /** `Kind "name"` of the object, "" when unknown. */
  object: string;
  /** Dotted field path such as spec.peerIP or metadata.labels, "" for the whole document. */
  path: string;
  /** 1-based line of the field in the file, 0 when unknown. */
  line: number;
  /** What is wrong, without the location prefix. */
  reason: string;
  /** Full human-readable line: `<file>: document N (Kind "name"): <path>: <reason>`. */
  text: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[] | string) {
    const list = typeof problems === 'string' ? [plainProblem(problems)] : problems;
    super(list.map((p) => p.text).join('\n'));
    this.problems = list;
  }
}

export function plainProblem(reason: string): ConfigProblem {
  return { file: '', document: 0, object: '', path: '', line: 0, reason, text: reason };
}

/** Formats a problem the way every ConfigError message line reads. */
export function formatProblem(p: Omit<ConfigProblem, 'text'>): ConfigProblem {
  const parts: string[] = [];
  if (p.file !== '') parts.push(p.file);
  if (p.document > 0) parts.push(`document ${p.document}${p.object !== '' ? ` (${p.object})` : ''}`);
  if (p.path !== '') parts.push(p.path);
  parts.push(p.reason);
  return { ...p, text: parts.join(': ') };
}
