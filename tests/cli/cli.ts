/**
 * Runs the BUILT command line (`dist/cjs/bin/strategy-lifecycle.js`, what `npm test` builds first)
 * as a child process: one-shot runs with their output and exit code, and long-running `serve`
 * processes whose output lines can be waited for.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built entry point. */
export const CLI = resolve(__dirname, '../../dist/cjs/bin/strategy-lifecycle.js');

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

/** The environment of a child: no token from the test runner's environment, no DEBUG. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('STRATEGY_LIFECYCLE_TOKEN' in extra)) delete env.STRATEGY_LIFECYCLE_TOKEN;
  if (!('DEBUG' in extra)) delete env.DEBUG;
  return env;
}

/** What a finished run printed and how it ended. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (stdout and stderr are pipes, not terminals). */
export function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  requireBuild();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: childEnv(options.env),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A running CLI process whose output is collected as it comes. */
export interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (waiting for it), rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string | null>;
}

/** Starts the CLI and keeps it running. */
export function start(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Running {
  return startProcess(process.execPath, [CLI, ...args], options);
}

/**
 * Starts any command that runs the built CLI (`npm start`, the bin) and keeps it running;
 * `detached` puts it in a process group of its own, so a test can tell when the whole tree is gone.
 */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {},
): Running {
  requireBuild();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const check of [...waiters]) check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
  const exited = new Promise<number | string | null>((done) =>
    child.on('exit', (code, signal) => {
      done(code ?? signal);
      for (const check of [...waiters]) check();
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, ms = 20_000) {
      return new Promise((resolveMatch, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} in:\n${out}\nstderr:\n${err}`)), ms);
        const finish = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolveMatch(match!);
        };
        const check = () => {
          const match = pattern.exec(out);
          if (match) finish(undefined, match);
          else if (child.exitCode !== null || child.signalCode !== null)
            finish(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}\nstderr:\n${err}`));
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A fresh temporary directory and its removal. */
export function tempDir(prefix = 'sl-cli-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The line `serve` prints once it listens; its first group is the service's URL. */
export const SERVING = /^strategy-lifecycle: serving (http:\/\/127\.0\.0\.1:\d+) \(store /m;

/** What {@link serveFixture} gives a test file. */
export interface ServeFixture {
  /** This test's temporary directory (fresh for each test). */
  readonly dir: string;
  /** Starts `serve` with `args`, kept to be killed after the test, and waits for its {@link SERVING} line. */
  serve(args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<{ server: Running; url: string }>;
  /** Keeps a process started otherwise, to be killed after the test if it still runs. */
  track(process: Running): Running;
}

/**
 * For a test file that runs `serve` processes: a fresh temporary directory per test, and after
 * each test every process still running killed (SIGKILL) and the directory removed.
 */
export function serveFixture(prefix?: string): ServeFixture {
  let current: { dir: string; cleanup: () => void } | undefined;
  const running: Running[] = [];
  beforeEach(() => {
    current = tempDir(prefix);
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGKILL');
        await r.exited;
      }
    }
    current?.cleanup();
  });
  const track = (process: Running) => {
    running.push(process);
    return process;
  };
  return {
    get dir() {
      if (!current) throw new Error('serveFixture: dir is only there inside a test');
      return current.dir;
    },
    track,
    async serve(args, options = {}) {
      const server = track(start(['serve', ...args], options));
      const [, url] = await server.waitFor(SERVING);
      return { server, url };
    },
  };
}
