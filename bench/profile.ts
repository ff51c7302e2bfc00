/**
 * Profiles the per-event path: the events/s benchmark's loop (the mixed stream through one LT112
 * strategy actor, a fresh actor every `--batch` events) and nothing else. It drives V8's CPU
 * profiler (the one behind `node --cpu-prof`) through `node:inspector`, started after the
 * stream is built and the code is warm, so setup (luxon building the stream) stays out of the
 * profile. Writes `bench/.profiles/<label>.cpuprofile` and prints its summary
 * (`cpuprofileSummary.ts`, which also reads profiles made with `node --cpu-prof`).
 *
 * Options: `--events=N` (default 100000), `--batch=N` (10000), `--hooks` adds one onTransition
 * hook (the pre-commit getNextSnapshot path), `--interval=µs` sampling interval (100),
 * `--top=N` functions listed (25). `--broadcast` profiles `system.broadcast` instead:
 * `--strategies=N` (10000) LT112 strategies in one system, `--events` broadcasts (default 20)
 * alternating TIME_WINDOW_START / TIME_WINDOW_END. `--alloc` measures allocation instead of time
 * (`allocation.ts`: bytes and objects per event, ours, bare and recording bare, by source; with
 * `--broadcast`, per delivery), in a child process with the V8 flags that measure needs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStrategyMachine } from '../machines/createStrategyMachine.js';
import { lt112 } from '../machines/variants/index.js';
import { driveStrategy, newStrategy, windowBroadcaster } from './fixtures/drivers.js';
import { mixedStream } from './fixtures/mixedStream.js';
import { renderSummary } from './cpuprofileSummary.js';
import { repoRoot } from './harness.js';

function option(argv: readonly string[], name: string, fallback: number): number {
  const raw = argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive whole number, got ${raw}`);
  return value;
}

/** The per-event loop: the mixed stream through fresh strategy actors, `batch` events each. */
function perEventDriver(argv: readonly string[]): { label: string; events: number; drive: (total: number) => void; warmup: number } {
  const events = option(argv, 'events', 100_000);
  const batch = option(argv, 'batch', 10_000);
  const hooks = argv.includes('--hooks') ? { onTransition: () => undefined } : undefined;
  const machine = createStrategyMachine(lt112);
  const stream = mixedStream(batch);
  const drive = (total: number) => {
    let done = 0;
    while (done < total) {
      const { strategy, clock } = newStrategy(machine, stream, hooks);
      const n = Math.min(batch, total - done);
      driveStrategy(strategy, clock, stream, 0, n);
      strategy.stop();
      done += n;
    }
  };
  return { label: hooks ? 'per-event-hooks' : 'per-event', events, drive, warmup: Math.min(events, batch) };
}

/** Broadcasts to one system of `strategies` LT112 strategies, alternating two window events. */
function broadcastDriver(argv: readonly string[]): { label: string; events: number; drive: (total: number) => void; warmup: number } {
  const strategies = option(argv, 'strategies', 10_000);
  const events = option(argv, 'events', 20);
  const broadcastNext = windowBroadcaster(strategies);
  const drive = (total: number) => {
    for (let i = 0; i < total; i++) broadcastNext();
  };
  return { label: 'broadcast', events, drive, warmup: 2 };
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--alloc')) {
    // A young generation large enough for a whole batch: heap used is read around it with no GC in between.
    const flags = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128'];
    const child = spawnSync(process.execPath, [...flags, join(__dirname, 'allocation.js'), ...argv], { stdio: 'inherit' });
    process.exitCode = child.status ?? 1;
    return;
  }
  const interval = option(argv, 'interval', 100);
  const { label, events, drive, warmup } = argv.includes('--broadcast') ? broadcastDriver(argv) : perEventDriver(argv);
  drive(warmup); // warm-up, not profiled

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval });
  await session.post('Profiler.start');
  const t0 = performance.now();
  drive(events);
  const ms = performance.now() - t0;
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();

  const dir = join(repoRoot(), 'bench', '.profiles');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(
    `[profile] ${label}: ${events} ${label === 'broadcast' ? 'broadcasts' : 'events'} in ${ms.toFixed(0)} ms while profiling (${((ms * 1000) / events).toFixed(1)} µs each); wrote ${file}\n`,
  );
  process.stdout.write(`${renderSummary(file, option(argv, 'top', 25))}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
