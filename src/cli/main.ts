// The kite command line: dispatches `run`, `show`, `peer`, `health`, `lab`, `help` and `version`. Exit codes: 0 ok,
// 1 an error (one line on stderr, prefixed "kite:"), 2 a usage error.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { health, parseHealthArgs } from './health.js';
import { lab, parseLabArgs } from './lab.js';
import { parseRunArgs, run } from './run.js';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, HELP, isHelpTopic, usageLine, UsageError, type CliIo } from './usage.js';

const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** Runs one command line (without "node" and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    return await dispatch([...argv], io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${usageLine(err)}\n`);
      return EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`kite: ${message}\n`);
    if (process.env['KITE_DEBUG'] && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return EXIT_ERROR;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.err(HELP['']);
      return EXIT_USAGE;
    case 'help':
    case '--help':
    case '-h': {
      const topic = command === 'help' ? rest[0] ?? '' : '';
      if (rest.length > (command === 'help' ? 1 : 0)) throw new UsageError(`unexpected argument '${rest.at(-1)}'`, 'help');
      if (!isHelpTopic(topic)) throw new UsageError(`no help for unknown command '${topic}'`, '');
      io.out(HELP[topic]);
      return EXIT_OK;
    }
    case 'version':
    case '--version': {
      if (rest.length > 0) throw new UsageError('takes no arguments', 'version');
      io.out(`kite ${version()}\n`);
      return EXIT_OK;
    }
    case 'run': {
      const opts = parseRunArgs(rest);
      if (!opts) { io.out(HELP.run); return EXIT_OK; }
      await run(opts);
      return EXIT_OK;
    }
    // show and peer load the gRPC client; `kite run` must not (issue 16: idle footprint).
    case 'show': {
      const { parseShowArgs, show } = await import('./show.js');
      const opts = parseShowArgs(rest);
      if (!opts) { io.out(HELP.show); return EXIT_OK; }
      io.out(await show(opts));
      return EXIT_OK;
    }
    case 'peer': {
      const { parsePeerArgs, peer } = await import('./peer.js');
      const opts = parsePeerArgs(rest);
      if (!opts) { io.out(HELP.peer); return EXIT_OK; }
      const r = await peer(opts);
      io.out(r.text);
      return r.ok ? EXIT_OK : EXIT_ERROR;
    }
    case 'health': {
      const opts = parseHealthArgs(rest);
      if (!opts) { io.out(HELP.health); return EXIT_OK; }
      io.out(await health(opts));
      return EXIT_OK;
    }
    case 'lab': {
      const opts = parseLabArgs(rest);
      if (!opts) { io.out(HELP.lab); return EXIT_OK; }
      return await lab(opts, io);
    }
    default:
      if (command.startsWith('-')) throw new UsageError(`unknown option '${command}'`, '');
      throw new UsageError(`unknown command '${command}'`, '');
  }
}

/** The version from package.json, found by walking up from this module (src/ or dist/). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'kite' && 'version' in pkg) {
        return String(pkg.version);
      }
    } catch {
      // No package.json here; keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** Entry point for bin/kite: runs main() on process.argv and sets the exit code. */
export async function runCli(): Promise<void> {
  // `kite show routes | head` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
    throw err;
  });
  const argv = process.argv.slice(2);
  const code = await main(argv);
  if (argv[0] === 'run') {
    // Once the daemon has stopped (or failed to start) nothing may keep the process alive: a
    // half-started speaker's sockets or timers would leave a daemon that serves nothing.
    // stdout/stderr are synchronous for files and pipes on Linux, so nothing is lost.
    process.exit(code);
  }
  process.exitCode = code;
}
