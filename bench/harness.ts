/**
 * What every benchmark module shares: the row it reports, the measurer it times with, and the
 * context it runs in. A measure is one module in `bench/measures/` (one file per measure), listed
 * in `bench/measures/index.ts`; `bench/run.ts` runs them with tinybench, the smoke test runs them
 * once with tiny sizes and a one-shot measurer. Nothing here imports tinybench (ESM only), so
 * jest can load every module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One timing: milliseconds per call of the timed function. */
export interface Timing {
  meanMs: number;
  p50Ms: number;
  /** Relative margin of error of the mean, percent (0 for a single sample). */
  rmePct: number;
  samples: number;
}

/** How a task is timed. Hooks run outside the timed region. */
export interface TimeOptions {
  beforeAll?: () => void;
  beforeEach?: () => void;
  afterEach?: () => void;
  afterAll?: () => void;
  /** Minimum timed calls (tinybench `iterations`). */
  iterations?: number;
  /** Time budget, ms (tinybench `time`). */
  timeMs?: number;
  /** Warm the function up first (default true). */
  warmup?: boolean;
}

/** Times a function: tinybench in `npm run bench`, a single call in the smoke test. */
export interface Measurer {
  time(name: string, fn: () => void, options?: TimeOptions): Promise<Timing>;
}

/** A figure with its unit, as printed and as stored in results.json. */
export interface Figure {
  /** Printed in the table, e.g. `182k events/s (5.5 µs/event)`. */
  text: string;
  /** The number the ratio and the target are computed on. */
  value: number;
  unit: string;
}

/** One row of the table. */
export interface BenchRow {
  measure: string;
  ours: Figure;
  /** What the reference is (`bare XState v5 machine`, `plain Map table`, `none`). */
  referenceName: string;
  reference: Figure | null;
  /** ours / reference, in the direction that makes "x times the cost" (null when no reference). */
  ratio: number | null;
  target: string;
  /** Whether the target is met; null when the target is "report". */
  met: boolean | null;
  notes?: string[];
}

/** What a module gets to run. */
export interface BenchContext {
  measurer: Measurer;
  /** The clock the measurer times with, ms: for the few figures a module times by hand. */
  now: () => number;
  /** True in the smoke test: tiny sizes, no figure means anything. */
  smoke: boolean;
  /** Progress lines (stderr in the runner, silent in the smoke test). */
  log: (line: string) => void;
}

/** One measure: its sizes for a real run and for the smoke test, and how to run it. */
export interface BenchModule<S = unknown> {
  id: string;
  title: string;
  full: S;
  smoke: S;
  run(ctx: BenchContext, sizes: S): Promise<BenchRow[]>;
}

/** Helps TypeScript keep each module's sizes type while listing them together. */
export function defineBench<S>(module: BenchModule<S>): BenchModule<S> {
  return module;
}

/**
 * What timings are read from. `wall`: performance.now(), elapsed time, the default. `cpu`: this
 * process's CPU time (user + system, all its threads, GC helpers included), for a machine other
 * processes are loading: it leaves out the time they take, not the time our GC takes.
 */
export type TimeSource = 'wall' | 'cpu';

/** Milliseconds on the chosen time source. */
export function clockOfSource(source: TimeSource): () => number {
  if (source === 'wall') return () => performance.now();
  return () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
}

/** A measurer that calls the function once (hooks around it): proves the code runs, times nothing useful. */
export const oneShotMeasurer: Measurer = {
  async time(_name, fn, options = {}) {
    options.beforeAll?.();
    options.beforeEach?.();
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    options.afterEach?.();
    options.afterAll?.();
    return { meanMs: ms, p50Ms: ms, rmePct: 0, samples: 1 };
  },
};

/** The item whose `key` is the median (the upper one of an even count). */
export function medianOf<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new RangeError('medianOf: no items');
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)];
}

let gcFn: (() => void) | undefined;
/**
 * A full garbage collection. Uses `global.gc` (node --expose-gc); without the flag (jest) it
 * turns the flag on at run time and takes `gc` from a fresh context, so the memory module
 * still runs in the smoke test.
 */
export function collectGarbage(): void {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** Heap used after a full GC, bytes. */
export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** `1234567` -> `1.23M`, `182345` -> `182k`. */
export function si(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (abs >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  return n.toPrecision(3);
}

/** Milliseconds written with a sensible unit: `850 ns`, `5.5 µs`, `42.1 ms`, `3.20 s`. */
export function duration(ms: number): string {
  if (ms < 0.001) return `${(ms * 1e6).toPrecision(3)} ns`;
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

/** A ratio as the table prints it: `2.31x`. */
export function times(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio.toFixed(2)}x`;
}

/** Events per second from a per-call time and the events per call. */
export function eventsPerSecond(timing: Timing, eventsPerCall: number): number {
  return (eventsPerCall * 1000) / timing.meanMs;
}

/** `events/s (µs/event)` as a figure. */
export function rateFigure(timing: Timing, eventsPerCall: number): Figure {
  const rate = eventsPerSecond(timing, eventsPerCall);
  return {
    text: `${si(rate)} events/s (${duration(timing.meanMs / eventsPerCall)}/event, ±${timing.rmePct.toFixed(1)}%)`,
    value: rate,
    unit: 'events/s',
  };
}

/** The package root (the folder whose package.json names strategy-lifecycle), from source or from bench/.build. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'strategy-lifecycle') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no strategy-lifecycle package.json above ${__dirname}`);
    dir = parent;
  }
}

/**
 * The value a hook (`beforeAll`, `beforeEach`) or the timed function set up for the code after it;
 * throws if it was not, which would be a bug in the benchmark.
 */
export function setUp<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`bench: ${what} was not set up`);
  return value;
}
