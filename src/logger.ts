// Kite's logger: pino writing JSON lines with level names and ISO-8601 UTC times, or a readable
// line per record through pino-pretty (on a terminal, or with --log-format pretty). Also maps
// Calico's logSeverityScreen (BGPConfiguration) to a pino level.
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

/**
 * pino-pretty is loaded only when a pretty logger is made (issue 16): a daemon logging JSON, as
 * under Kubernetes, does not pay its ~10 MiB of resident memory. createRequire keeps
 * createLogger synchronous (pino-pretty is CommonJS).
 */
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level: string;
  /** auto: pretty when stdout is a terminal, JSON otherwise (default). */
  format?: LogFormat;
  /** Fields on every line (the node name). */
  base?: Record<string, unknown>;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The format `auto` resolves to for a destination. */
export function resolveFormat(format: LogFormat, destination: { isTTY?: boolean }): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return destination.isTTY === true ? 'pretty' : 'json';
}

export function createLogger(o: LoggerOptions): Logger {
  const out = o.destination ?? process.stdout;
  const format = resolveFormat(o.format ?? 'auto', out);
  const options = {
    level: o.level,
    base: o.base ?? {},
    // "level":"info" instead of "level":30, and "time":"2026-12-02T07:00:00.000Z" instead of epoch ms.
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === 'json') return pino(options, out as DestinationStream);
  // Synchronous, so a line written just before process.exit is not lost (as pino's own stdout).
  const stream = loadPretty()({ sync: true, destination: out, colorize: out.isTTY === true, ignore: 'pid,hostname', singleLine: true });
  return pino(options, stream);
}

/** Calico's logSeverityScreen values (BGPConfiguration) as pino levels. */
const SEVERITY_LEVELS: Record<string, string> = { Debug: 'debug', Info: 'info', Warning: 'warn', Error: 'error', Fatal: 'fatal' };

export function levelOfSeverity(severity: string): string {
  return SEVERITY_LEVELS[severity] ?? 'info';
}
