#!/usr/bin/env node
/**
 * The `strategy-lifecycle` command line: dispatches to the command modules in `bin/cli/`, each
 * loaded only when used (so `diagram` does not load the HTTP server). Exit codes: 0 done,
 * 1 the command failed at run time (one line on stderr; the stack too when DEBUG is set),
 * 2 bad arguments (one line on stderr).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROGRAM, UsageError, wantsHelp, type Command, type CommandIo } from './cli/args.js';

interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

const COMMANDS: Readonly<Record<string, Entry>> = {
  serve: { summary: 'run the HTTP service over a database (npm start)', load: async () => (await import('./cli/serve.js')).serveCommand },
  simulate: {
    summary: 'drive strategies through trading days on a simulated clock',
    load: async () => (await import('./cli/simulate.js')).simulateCommand,
  },
  replay: {
    summary: 'rebuild every strategy from its audit trail and compare',
    load: async () => (await import('./cli/replay.js')).replayCommand,
  },
  diagram: { summary: "a variant's state diagram as Mermaid or SVG", load: async () => (await import('./cli/diagram.js')).diagramCommand },
  status: {
    summary: 'summary of a database, without starting anything',
    load: async () => (await import('./cli/status.js')).statusCommand,
  },
};

/** The top-level help text. */
export function topUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'The lifecycle of options-trading strategies (0DTE, LT112, strangles) as XState v5 statecharts.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(width)}  ${e.summary}`),
    '',
    'Options:',
    "  -h, --help     this text; `<command> --help` for a command's options",
    '  -v, --version  the version',
    '',
    'Exit codes: 0 done, 1 the command failed, 2 bad arguments. DEBUG=1 prints stack traces.',
  ].join('\n');
}

/** This package's version, from the package.json above the running file. */
export function packageVersion(): string {
  let dir = typeof __dirname === 'string' ? __dirname : dirname(process.argv[1] ?? '.');
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PROGRAM && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

const processIo: CommandIo = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') || text.endsWith('\r') ? text : `${text}\n`),
  errIsTTY: process.stderr.isTTY ?? false, // undefined when stderr is not a terminal
};

/**
 * Runs the command line `argv` (without node and the script) and resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['diagram', 'lt112']);
 * ```
 */
export async function main(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const [first, ...rest] = argv;
  let where = PROGRAM;
  try {
    if (first === undefined) throw new UsageError(`missing command (one of ${Object.keys(COMMANDS).join(', ')}; see --help)`);
    if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
      io.out(topUsage());
      return 0;
    }
    if (first === '--version' || first === '-v') {
      io.out(packageVersion());
      return 0;
    }
    const name = first === 'help' ? rest[0] : first;
    const entry = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) {
      throw new UsageError(
        name.startsWith('-')
          ? `unknown flag ${name} (see --help)`
          : `unknown command "${name}" (one of ${Object.keys(COMMANDS).join(', ')})`,
      );
    }
    where = `${PROGRAM}: ${name}`;
    const command = await entry.load();
    // `help <command>` and `<command> --help` print the command's usage, for every command.
    if (first === 'help' || wantsHelp(rest)) {
      io.out(command.usage);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    const badFile = badInputFile(error);
    const message = badFile ?? (error instanceof Error ? error.message : String(error));
    io.err(`${where}: ${message.split('\n')[0]}`);
    if (process.env.DEBUG && error instanceof Error && !(error instanceof UsageError) && error.stack) io.err(error.stack);
    // A file named by a flag or the config that does not parse is bad input, like a bad flag.
    return error instanceof UsageError || badFile !== undefined ? 2 : 1;
  }
}

/**
 * An EventCalendarError (a bad `--event-calendar` file) as one line that names its problems
 * (`file: 2 bad lines: line 3: ...; line 7: ...`); undefined for any other error. Matched by name
 * and shape: importing the calendar here would load it for every command.
 */
function badInputFile(error: unknown): string | undefined {
  const e = error as { name?: unknown; source?: unknown; problems?: unknown } | null;
  if (e?.name !== 'EventCalendarError' || typeof e.source !== 'string' || !Array.isArray(e.problems)) return undefined;
  const problems = e.problems as Array<{ line: number; reason: string }>;
  // Line 0: about the file itself (cannot be read, wrong extension).
  if (problems.every((p) => p.line <= 0)) return `${e.source}: ${problems.map((p) => p.reason).join('; ')}`.replace(/\s*\n\s*/g, ' ');
  const shown = problems.slice(0, 3).map((p) => (p.line > 0 ? `line ${p.line}: ${p.reason}` : p.reason));
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `${e.source}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`.replace(
    /\s*\n\s*/g,
    ' ',
  );
}

// Run when executed (the CommonJS build is the installed `bin`), not when imported.
if (typeof require !== 'undefined' && require.main === module) {
  // A closed pipe (`... | head`) ends the output, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Done: whatever a library left running (a socket's reconnect timer) must not keep the process.
    setTimeout(() => process.exit(code), 1000).unref();
  });
}
