// The file datastore: a multi-document YAML file of Calico resources (what `calicoctl get -o
// yaml` prints, or hand-written), parsed and validated as a whole. loadFile() reads it once;
// watchFile() re-reads it on change and only ever hands out a complete, valid snapshot, so an
// editor's half-saved file or a typo never tears down working peerings.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { Checker, type Path } from './check.js';
import { ConfigError, formatProblem, type ConfigProblem } from './errors.js';
import { addResource, allResources, emptyResources, type Resource, type Resources } from './resources.js';
import { isEndpointSliceDoc, isServiceDoc, readEndpointSlice, readService, type Read } from './services.js';
import { validateDocument } from './validate.js';

/** Parses and validates YAML text. `file` is only used in messages. Throws ConfigError. */
export function parseResources(text: string, file: string): Resources {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const out = emptyResources();
  const seen = new Map<string, Resource>();
  // parseAllDocuments returns an empty-array-like EmptyStream for an empty file.
  const list: Document.Parsed[] = Array.isArray(docs) ? docs : [];

  list.forEach((doc, idx) => {
    const document = idx + 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        const where = pos === undefined ? '' : `line ${pos.line}, column ${pos.col}`;
        // yaml repeats the position at the end of its first message line; we print it up front.
        const reason = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        problems.push(formatProblem({
          file, document, object: '', path: where, line: pos?.line ?? 0, reason: `YAML syntax error: ${reason}`,
        }));
      }
      return;
    }
    for (const w of doc.warnings) out.warnings.push(`${file}: line ${w.linePos?.[0].line ?? '?'}: ${w.message.split('\n')[0] ?? ''}`);
    const lineOf = (path: Path): number => {
      // Walk to the deepest existing node of the path and report its line.
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (node !== undefined && node !== null && typeof node === 'object' && 'range' in node) {
          const range = (node as { range?: [number, number, number] | null }).range;
          if (range !== undefined && range !== null) return lines.linePos(range[0]).line;
        }
        // A missing key: fall back to its parent mapping.
      }
      return 0;
    };
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined) return; // an empty document (e.g. a trailing ---)
    const kind: unknown = isMap(doc.contents) ? doc.contents.get('kind') : undefined;
    const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
    // calicoctl exports several objects as one `kind: <Kind>List` document with `items`.
    const isList = typeof kind === 'string' && kind.endsWith('List') && isSeq(items);
    const objects: { value: unknown; prefix: Path }[] = isList
      ? ((raw as { items: unknown[] }).items ?? []).map((value, i) => ({ value, prefix: ['items', i] }))
      : [{ value: raw, prefix: [] }];
    for (const { value, prefix } of objects) {
      const c = new Checker({ file, document, prefix, lineOf: (p) => lineOf([...prefix, ...p]) });
      if (isSecret(value)) {
        // Kubernetes Secrets (v1) carry the BGP passwords that BGPPeer/BGPConfiguration
        // secretKeyRefs name, as in a cluster; the file datastore reads them from the same file.
        const sec = secret(value, c);
        problems.push(...c.problems);
        if (sec !== undefined) {
          out.secrets ??= {};
          if (out.secrets[sec.name] !== undefined) {
            c.error(['metadata', 'name'], `duplicate Secret "${sec.name}"`);
            problems.push(...c.problems);
          } else out.secrets[sec.name] = sec.data;
        }
        continue;
      }
      if (isServiceDoc(value) || isEndpointSliceDoc(value)) {
        // Kubernetes Services and EndpointSlices, for per-service routes as with the Kubernetes
        // datastore (a cluster's `kubectl get -o yaml` can be pasted in).
        const problem = addKubernetesObject(out, value as Record<string, unknown>);
        if (problem !== undefined) { c.error(problem.path, problem.reason); problems.push(...c.problems); }
        continue;
      }
      const r = validateDocument(value, c);
      problems.push(...c.problems);
      out.warnings.push(...c.warnings);
      if (r === undefined) continue;
      const key = `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        c.error(['metadata', 'name'], `duplicate ${r.kind} "${r.metadata.name}" (already defined in document ${first.origin.document})`);
        problems.push(...c.problems);
        continue;
      }
      seen.set(key, r);
      addResource(out, r);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** Adds a Service or EndpointSlice document; the problem with it otherwise. */
function addKubernetesObject(out: Resources, raw: Record<string, unknown>): { path: Path; reason: string } | undefined {
  return isServiceDoc(raw)
    ? addNamed('Service', readService(raw), (out.services ??= []))
    : addNamed('EndpointSlice', readEndpointSlice(raw), (out.endpointSlices ??= []));
}

function addNamed<T extends { namespace: string; name: string }>(kind: string, read: Read<T>, list: T[]): { path: Path; reason: string } | undefined {
  if ('error' in read) return { path: [], reason: read.error };
  const { namespace, name } = read.value;
  if (list.some((x) => x.namespace === namespace && x.name === name)) return { path: ['metadata', 'name'], reason: `duplicate ${kind} "${namespace}/${name}"` };
  list.push(read.value);
  return undefined;
}

function isSecret(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Secret' && (v as { apiVersion?: unknown }).apiVersion === 'v1';
}

/** A v1 Secret: name, and its keys from `data` (base64) and `stringData` (plain; wins, as in Kubernetes). */
function secret(v: Record<string, unknown>, c: Checker): { name: string; data: Record<string, string> } | undefined {
  const meta = v.metadata as { name?: unknown } | undefined;
  if (typeof meta?.name !== 'string' || meta.name === '') return c.error(['metadata', 'name'], 'a Secret needs metadata.name');
  for (const k of Object.keys(v)) {
    if (!['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type'].includes(k)) c.warn([k], `field "${k}" of a Secret is ignored`);
  }
  const data: Record<string, string> = {};
  for (const field of ['data', 'stringData'] as const) {
    const m = v[field];
    if (m === undefined) continue;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return c.error([field], `${field} must be a map of key: value`);
    for (const [k, val] of Object.entries(m)) {
      if (typeof val !== 'string') return c.error([field, k], 'must be a string');
      if (field === 'data') {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(val.replace(/\s/g, ''))) return c.error([field, k], 'is not base64 (use stringData for plain text)');
        data[k] = Buffer.from(val, 'base64').toString('utf8');
      } else data[k] = val;
    }
  }
  return { name: meta.name, data };
}

/** Reads, parses and validates a resource file. Throws ConfigError (also for a missing file). */
export async function loadFile(path: string): Promise<Resources> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new ConfigError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read: ${(e as Error).message}`);
  }
  return parseResources(text, path);
}

export interface FileWatchHandlers {
  /** A new valid snapshot (also called once with the initial load). Throw to reject it. */
  onUpdate(resources: Resources): void;
  /** The file changed but is invalid; the previous snapshot stays in force. */
  onError(error: ConfigError): void;
}

export interface FileWatch {
  /** The last valid snapshot. */
  current(): Resources;
  close(): void;
}

/** Quiet time before the first change after a quiet period is reloaded (see watchFile). */
const QUICK_MS = 10;

/**
 * Loads `path`, then watches it. Watches the directory, not the file, because editors and
 * ConfigMap mounts replace the file by rename, which ends a watch on the old inode. A reload whose
 * content is byte-identical to the last good one is ignored.
 *
 * The debounce is adaptive (issue 16): the first change after a quiet period is reloaded once the
 * file has been still for QUICK_MS (a write's truncate and data events come within a millisecond),
 * so a single edit lands in milliseconds, not `debounceMs`. Changes that follow a reload within
 * `debounceMs` are coalesced with the full debounce, and a burst never waits more than
 * `debounceMs` after its first event. A quick reload that finds the file empty or invalid does
 * not act on it: it waits for `debounceMs` of quiet and looks again (a writer caught between its
 * truncate and its data must not empty the configuration, nor log an error it is about to fix).
 */
export async function watchFile(path: string, h: FileWatchHandlers, debounceMs = 200): Promise<FileWatch> {
  let good = await loadFile(path);
  let lastText = await readFile(path, 'utf8');
  h.onUpdate(good);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** When the last reload ran, and when the pending burst began (-Infinity: none pending). */
  let lastReloadAt = -Infinity;
  let burstStart = -Infinity;
  const quick = Math.min(QUICK_MS, debounceMs);
  const schedule = (delay: number, fast: boolean): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      burstStart = -Infinity;
      lastReloadAt = Date.now();
      void reload(fast);
    }, delay);
  };
  const reload = async (fast: boolean): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return; // mid-rename: the next event reloads
    }
    if (closed || text === lastText) return;
    let next: Resources | undefined;
    let error: unknown;
    try {
      next = parseResources(text, path);
    } catch (e) {
      error = e;
    }
    if (fast && (next === undefined || text.trim() === '')) {
      // Possibly a half-written file: decide once it has been still for the full debounce.
      if (timer === undefined) schedule(debounceMs, false);
      return;
    }
    lastText = text;
    try {
      if (next === undefined) throw error;
      // The consumer may reject a valid file too (e.g. our node was removed): a throw from
      // onUpdate keeps the previous snapshot as the last good one.
      h.onUpdate(next);
      good = next;
    } catch (e) {
      // Runs from a timer: nothing above us could catch, so every failure goes to onError.
      h.onError(e instanceof ConfigError ? e : new ConfigError(`${path}: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  const name = basename(path);
  const w: FSWatcher = watch(dirname(path), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    const now = Date.now();
    if (burstStart === -Infinity) burstStart = now;
    if (now - lastReloadAt < debounceMs) schedule(debounceMs, false); // a burst after a reload: coalesce
    else schedule(Math.max(0, Math.min(quick, burstStart + debounceMs - now)), true);
  });
  return {
    current: () => good,
    close: () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      w.close();
    },
  };
}

export { allResources };
