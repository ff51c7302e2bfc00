/**
 * The measurer of `npm run bench`: each timed task is one tinybench task (warm-up, then at least
 * `iterations` calls and `timeMs` of them), hooks outside the timed region. Only `run.ts`
 * imports this file: tinybench is ESM-only and jest's CommonJS loader cannot require it.
 */
import { Bench } from 'tinybench';
import type { Measurer, Timing } from './harness.js';

/**
 * Runs every `time()` as its own tinybench Bench, so tasks never share hooks or budgets.
 * `now` is the time source (ms): performance.now by default, or the process's CPU time.
 */
export function createTinybenchMeasurer(now?: () => number): Measurer {
  return {
    async time(name, fn, options = {}) {
      const iterations = options.iterations ?? 20;
      const bench = new Bench({
        name,
        iterations,
        time: options.timeMs ?? 1000,
        warmup: options.warmup ?? true,
        warmupIterations: Math.max(1, Math.min(3, iterations)),
        warmupTime: 0,
        throws: true,
        ...(now ? { now } : {}),
      });
      bench.add(name, fn, {
        ...(options.beforeAll ? { beforeAll: options.beforeAll } : {}),
        ...(options.beforeEach ? { beforeEach: options.beforeEach } : {}),
        ...(options.afterEach ? { afterEach: options.afterEach } : {}),
        ...(options.afterAll ? { afterAll: options.afterAll } : {}),
      });
      const [task] = await bench.run();
      const result = task.result;
      if (result.state !== 'completed') {
        throw new Error(
          `benchmark task "${name}" did not complete: ${result.state}${result.state === 'errored' ? `: ${result.error.message}` : ''}`,
        );
      }
      const timing: Timing = {
        meanMs: result.latency.mean,
        p50Ms: result.latency.p50,
        rmePct: result.latency.rme,
        samples: result.latency.samplesCount,
      };
      return timing;
    },
  };
}
