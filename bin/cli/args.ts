/**
 * What every command shares: its errors (usage: exit 2, runtime: exit 1), argument parsing over
 * `node:util` parseArgs with one-line messages, and value checks that name the flag.
 */
import { parseArgs } from 'node:util';
import { isIsoDate } from '../../services/market/time.js';
import { StrategyLifecycleError } from '../../machines/errors.js';

/** The program name every message starts with. */
export const PROGRAM = 'strategy-lifecycle';

/** Bad input on the command line: one line on stderr, exit code 2. */
export class UsageError extends StrategyLifecycleError {
  override readonly name = 'UsageError';
}

/** A command that could not do its work (no database, schema too new): one line, exit code 1. */
export class CommandError extends StrategyLifecycleError {
  override readonly name = 'CommandError';
}

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may redraw one line. */
  errIsTTY: boolean;
}

/** One command: its help text and what it does; resolves to the exit code. */
export interface Command {
  name: string;
  usage: string;
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

type Options = Record<string, { type: 'string' | 'boolean' }>;

/** What {@link parse} returns: each flag's value (string or boolean by its type), and the positionals. */
export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/** The name of the flag in a parseArgs message (`Unknown option '--foo'`, `Option '-p, --port <value>' ...`). */
function flagIn(message: string): string {
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const long = /--[\w-]+/.exec(quoted)?.[0];
  return long ?? quoted.split(/[ ,]/)[0] ?? quoted;
}

/**
 * parseArgs in strict mode, with its errors rewritten as one short line naming the flag.
 *
 * @example
 * ```ts
 * const { values, positionals } = parse(argv, { port: { type: 'string' } }, 1);
 * ```
 */
export function parse<O extends Options>(argv: readonly string[], options: O, maxPositionals = 0): Parsed<O> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flagIn(message)}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = flagIn(message);
      if (/does not take an argument/.test(message)) throw new UsageError(`${flag} does not take a value`);
      // `--seed -1`: parseArgs reads the "-1" as a flag, not as the value.
      if (/ambiguous/.test(message)) throw new UsageError(`${flag} needs a value (for one starting with "-", write ${flag}=<value>)`);
      throw new UsageError(`${flag} needs a value`);
    }
    throw new UsageError(message.split('\n')[0]);
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`);
  return parsed as Parsed<O>;
}

/** True when the arguments ask for help (before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** A whole number within [min, max]; `what` describes it in the message. */
export function wholeNumber(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER, what = 'a whole number'): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be ${what}, got ${JSON.stringify(value)}`);
  return n;
}

/** A calendar date written yyyy-MM-dd. */
export function isoDate(flag: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`${flag} is required (a date written yyyy-MM-dd)`);
  if (!isIsoDate(value)) throw new UsageError(`${flag} must be a date written yyyy-MM-dd, got ${JSON.stringify(value)}`);
  return value;
}

/** One of `allowed`. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}
