/**
 * Events/s through one strategy actor (LT112, audit trail and guards on) on the realistic mixed
 * stream, against the same stream through a bare XState v5 machine with the same 15 states and
 * edges, and through a plain transition table (the floor). Also: the same actor with one
 * `onTransition` hook (the pre-commit `getNextSnapshot` path), and the trail-growth check:
 * the cost per event of events 90k-100k of one long run against its first 10k.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine.js';
import { lt112 } from '../../machines/variants/index.js';
import { createBareMachine, createPlainTable, createRecordingBareMachine } from '../fixtures/bareMachine.js';
import { checkStream, driveBare, driveClockOnly, drivePlain, driveStrategy, newBareActor, newClock, newStrategy } from '../fixtures/drivers.js';
import { expectedMix, mixedStream } from '../fixtures/mixedStream.js';
import { defineBench, duration, rateFigure, type BenchRow, type TimeOptions, type Timing } from '../harness.js';
import { measureTrailGrowth, type TrailGrowthSizes } from './trailGrowth.js';

interface Sizes extends TrailGrowthSizes {
  /** Alternating rounds; each times every implementation once. */
  rounds: number;
  /** Back-to-back single passes of bare, recording bare and ours, for the paired ratios. */
  pairs: number;
  /** Events per timed call (one fresh actor per call). */
  events: number;
  iterations: number;
  timeMs: number;
}

const TARGET_RATIO = 1.5;
const TARGET_RATE = 100_000;

/** Milliseconds of one call of `run` on a fresh fixture (built and torn down outside the timing). */
function timeOnce<T>(now: () => number, setup: () => T, run: (fixture: T) => void, teardown: (fixture: T) => void): number {
  const fixture = setup();
  const start = now();
  run(fixture);
  const ms = now() - start;
  teardown(fixture);
  return ms;
}

export const eventsPerSecond = defineBench<Sizes>({
  id: 'events-per-second',
  title: 'events/s through one strategy actor',
  full: { rounds: 3, pairs: 21, events: 10_000, iterations: 10, timeMs: 700, longRun: 100_000, segment: 10_000, block: 1000, longRuns: 3 },
  smoke: { rounds: 1, pairs: 1, events: 60, iterations: 1, timeMs: 0, longRun: 400, segment: 40, block: 10, longRuns: 1 },
  async run(ctx, sizes) {
    const { measurer, log } = ctx;
    const machine = createStrategyMachine(lt112);
    const bare = createBareMachine();
    const recording = createRecordingBareMachine();
    const table = createPlainTable();
    const stream = mixedStream(sizes.events);
    const n = stream.length;
    const mix = expectedMix(stream);
    const check = checkStream(machine, stream);
    const pct = (k: number) => `${((100 * k) / n).toFixed(0)}%`;
    const streamNote = `stream: ${n} events per timed call (fresh actor each, created outside the timing), ${pct(mix.accepted)} accepted, ${pct(mix.NO_EDGE)} no edge, ${pct(mix.GUARD_FAILED)} guard failed, ${pct(mix.DUPLICATE_EVENT)} duplicate eventId; every result as expected: ${check.mismatches.length === 0 ? 'yes' : `NO (${check.mismatches.length} differ, first: ${JSON.stringify(check.mismatches[0])})`}; ERROR entered: ${check.enteredError ? 'YES' : 'no'}`;
    if (check.mismatches.length > 0) log(`WARNING ${streamNote}`);

    const opts = (o: TimeOptions): TimeOptions => ({ iterations: sizes.iterations, timeMs: sizes.timeMs, ...o });
    // Every implementation is timed once per round, rounds alternate, and each figure is the
    // median round: a burst of load on a shared machine then hits all of them alike.
    const tasks: Record<'ours' | 'hooked' | 'bare' | 'recording' | 'plain' | 'loop', () => Promise<Timing>> = {
      ours: () => {
        let run: ReturnType<typeof newStrategy> | undefined;
        return measurer.time('strategy actor: trigger()', () => driveStrategy(run!.strategy, run!.clock, stream), opts({
          beforeEach: () => void (run = newStrategy(machine, stream)),
          afterEach: () => run!.strategy.stop(),
        }));
      },
      hooked: () => {
        let run: ReturnType<typeof newStrategy> | undefined;
        return measurer.time('strategy actor with onTransition hook', () => driveStrategy(run!.strategy, run!.clock, stream), opts({
          beforeEach: () => void (run = newStrategy(machine, stream, { onTransition: () => undefined })),
          afterEach: () => run!.strategy.stop(),
        }));
      },
      bare: () => {
        let run: ReturnType<typeof newBareActor> | undefined;
        return measurer.time('bare XState actor: send()', () => driveBare(run!.actor, run!.clock, stream), opts({
          beforeEach: () => void (run = newBareActor(bare, stream)),
          afterEach: () => run!.actor.stop(),
        }));
      },
      recording: () => {
        let run: ReturnType<typeof newBareActor> | undefined;
        return measurer.time('bare XState + one recording assign: send()', () => driveBare(run!.actor, run!.clock, stream), opts({
          beforeEach: () => void (run = newBareActor(recording, stream)),
          afterEach: () => run!.actor.stop(),
        }));
      },
      plain: () => {
        let clock = newClock(stream);
        let sink = '';
        return measurer.time('plain Map table', () => void (sink = drivePlain(table, clock, stream)), opts({ beforeEach: () => void (clock = newClock(stream)), afterAll: () => void (sink === '' && log('plain table loop did not run')) }));
      },
      loop: () => {
        let clock = newClock(stream);
        let last = 0;
        return measurer.time('harness: clock.set loop', () => void (last += driveClockOnly(clock, stream)), opts({ beforeEach: () => void (clock = newClock(stream)), afterAll: () => void (last === 0 && log('clock loop did not run')) }));
      },
    };
    const rounds: Array<Record<keyof typeof tasks, Timing>> = [];
    for (let round = 0; round < sizes.rounds; round++) {
      log(`events/s: round ${round + 1} of ${sizes.rounds} (${n} events per call): ours, with hook, bare, recording bare, plain table, harness`);
      const timings = {} as Record<keyof typeof tasks, Timing>;
      for (const [name, task] of Object.entries(tasks) as Array<[keyof typeof tasks, () => Promise<Timing>]>) timings[name] = await task();
      rounds.push(timings);
    }
    /** The round whose ours/bare ratio is the median: every figure of a row comes from one round. */
    const byRatio = [...rounds].sort((a, b) => a.ours.meanMs / a.bare.meanMs - b.ours.meanMs / b.bare.meanMs);
    const median = byRatio[Math.floor(byRatio.length / 2)];
    const { ours: oursTiming, hooked: hookTiming, bare: bareTiming, recording: recTiming, plain: plainTiming, loop: loopTiming } = median;
    const roundsNote = `median of ${sizes.rounds} alternating rounds by ours/bare ratio; per-round ratios ${rounds.map((r) => (r.ours.meanMs / r.bare.meanMs).toFixed(2)).join(', ')}`;
    const oursFig = rateFigure(oursTiming, n);
    const harness = `harness alone (loop + simulated clock.set, included in every figure): ${duration(loopTiming.meanMs / n)}/event`;
    const ratioBare = oursTiming.meanMs / bareTiming.meanMs;
    // Paired runs: each pair times one pass of the stream through a fresh actor of each side back
    // to back (order alternating), so slow drifts of a shared machine's load cancel in the ratio.
    const pairs = { recording: [] as number[], ours: [] as number[] };
    for (let i = 0; i < sizes.pairs; i++) {
      const bareMs = timeOnce(ctx.now, () => newBareActor(bare, stream), (r) => driveBare(r.actor, r.clock, stream), (r) => r.actor.stop());
      const recMs = timeOnce(ctx.now, () => newBareActor(recording, stream), (r) => driveBare(r.actor, r.clock, stream), (r) => r.actor.stop());
      const oursMs = timeOnce(ctx.now, () => newStrategy(machine, stream), (r) => driveStrategy(r.strategy, r.clock, stream), (r) => r.strategy.stop());
      pairs.recording.push(recMs / bareMs);
      pairs.ours.push(oursMs / bareMs);
    }
    const describe = (ratios: number[]) => {
      const sorted = [...ratios].sort((a, b) => a - b);
      return { median: sorted[Math.floor(sorted.length / 2)], low: sorted[0], high: sorted[sorted.length - 1] };
    };
    const floorPairs = describe(pairs.recording);
    const oursPairs = describe(pairs.ours);
    const floorNote = `paired runs (${sizes.pairs} back-to-back passes of each, median [range]): bare XState + one recording assign per event = ${floorPairs.median.toFixed(2)}x bare [${floorPairs.low.toFixed(2)}-${floorPairs.high.toFixed(2)}]; ours = ${oursPairs.median.toFixed(2)}x bare [${oursPairs.low.toFixed(2)}-${oursPairs.high.toFixed(2)}], ${(oursPairs.median / floorPairs.median).toFixed(2)}x the recording machine`;
    const rows: BenchRow[] = [
      {
        measure: 'events/s, one strategy actor (audit + guards), mixed stream',
        ours: oursFig,
        referenceName: 'bare XState v5 machine, same 15 states and edges',
        reference: rateFigure(bareTiming, n),
        ratio: ratioBare,
        target: `≤ ${TARGET_RATIO}x bare cost/event; ≥ 100k events/s`,
        met: ratioBare <= TARGET_RATIO && oursFig.value >= TARGET_RATE,
        notes: [streamNote, harness, floorNote, roundsNote],
      },
      {
        measure: 'the same',
        ours: oursFig,
        referenceName: 'plain JS transition table (the floor)',
        reference: rateFigure(plainTiming, n),
        ratio: oursTiming.meanMs / plainTiming.meanMs,
        target: 'report',
        met: null,
      },
      {
        measure: 'the same',
        ours: oursFig,
        referenceName: 'bare XState + one assign recording each event (the least an in-machine audit costs)',
        reference: rateFigure(recTiming, n),
        ratio: oursTiming.meanMs / recTiming.meanMs,
        target: 'report',
        met: null,
      },
      {
        measure: 'the same, with one onTransition hook (pre-commit getNextSnapshot)',
        ours: rateFigure(hookTiming, n),
        referenceName: 'bare XState v5 machine',
        reference: rateFigure(bareTiming, n),
        ratio: hookTiming.meanMs / bareTiming.meanMs,
        target: 'report',
        met: null,
      },
    ];

    rows.push(await measureTrailGrowth(ctx, machine, sizes));
    return rows;
  },
});
