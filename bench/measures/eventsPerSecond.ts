/**
 * Events/s through one strategy actor (LT112, audit trail and guards on) on the realistic mixed
 * stream, against the same stream through a bare XState v5 machine with the same 15 states and
 * edges, and through a plain transition table (the floor). Also: the same actor with one
 * `onTransition` hook (the pre-commit `getNextSnapshot` path), and the trail-growth check:
 * the cost per event of events 90k-100k of one long run against its first 10k.
 */
import { createMachine } from 'xstate';
import { createStrategyMachine, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import { lt112 } from '../../machines/variants/index.js';
import { createBareMachine, createPlainTable, createRecordingBareMachine } from '../fixtures/bareMachine.js';
import {
  checkStream,
  driveBare,
  driveChart,
  driveClockOnly,
  drivePlain,
  driveStrategy,
  newBareActor,
  newChartActor,
  newClock,
  newStrategy,
} from '../fixtures/drivers.js';
import { expectedMix, mixedStream } from '../fixtures/mixedStream.js';
import { defineBench, duration, setUp, medianOf, rateFigure, type BenchRow, type TimeOptions, type Timing } from '../harness.js';
import type { StrategyHooks } from '../../machines/definition.js';
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

/** Issue 14: per event at most 2.0x bare XState `actor.send` on the same stream. */
const TARGET_RATIO = 2.0;
const TARGET_RATE = 100_000;

/** One thing to time: a fresh fixture per pass of the stream, driven, then torn down. */
interface Fixture<T> {
  fresh: () => T;
  drive: (fixture: T) => void;
  stop: (fixture: T) => void;
}

/** Milliseconds of one pass on a fresh fixture (built and torn down outside the timing). */
function timeOnce<T>(now: () => number, { fresh, drive, stop }: Fixture<T>): number {
  const fixture = fresh();
  const start = now();
  drive(fixture);
  const ms = now() - start;
  stop(fixture);
  return ms;
}

/**
 * The machine with the same config and implementations but no `invoke` and no `after` on any
 * state: how much of the chart's XState cost its invoked actors and delays are (an ablation).
 */
function withoutActorsAndDelays(machine: StrategyMachine): StrategyMachine {
  const strip = (node: Record<string, unknown>): Record<string, unknown> => {
    const { invoke: _invoke, after: _after, states, ...rest } = node;
    if (!states) return rest;
    const children: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(states as Record<string, Record<string, unknown>>)) children[name] = strip(child);
    return { ...rest, states: children };
  };
  return createMachine(
    strip(machine.config as Record<string, unknown>) as never,
    machine.implementations as never,
  ) as unknown as StrategyMachine;
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
    const strategyFixture = (hooks?: StrategyHooks): Fixture<ReturnType<typeof newStrategy>> => ({
      fresh: () => newStrategy(machine, stream, hooks),
      drive: (r) => driveStrategy(r.strategy, r.clock, stream),
      stop: (r) => r.strategy.stop(),
    });
    const bareFixture = (logic: typeof bare): Fixture<ReturnType<typeof newBareActor>> => ({
      fresh: () => newBareActor(logic, stream),
      drive: (r) => driveBare(r.actor, r.clock, stream),
      stop: (r) => r.actor.stop(),
    });
    /** A tinybench task over a fixture: a fresh one before each timed pass. */
    const timeFixture = <T>(name: string, { fresh, drive, stop }: Fixture<T>): Promise<Timing> => {
      let fixture: T | undefined;
      return measurer.time(
        name,
        () => drive(setUp(fixture, name)),
        opts({ beforeEach: () => void (fixture = fresh()), afterEach: () => stop(setUp(fixture, name)) }),
      );
    };
    const chartFixture = (logic: StrategyMachine): Fixture<ReturnType<typeof newChartActor>> => ({
      fresh: () => newChartActor(logic, stream),
      drive: (r) => driveChart(r.actor, r.clock, stream, r.events),
      stop: (r) => r.actor.stop(),
    });
    const fixtures = {
      ours: strategyFixture(),
      chart: chartFixture(machine),
      chartCore: chartFixture(withoutActorsAndDelays(machine)),
      hooked: strategyFixture({ onTransition: () => undefined }),
      bare: bareFixture(bare),
      recording: bareFixture(recording),
    };
    let clock = newClock(stream);
    let sink = '';
    // Every implementation is timed once per round, rounds alternate, and each figure is the
    // median round: a burst of load on a shared machine then hits all of them alike.
    const tasks: Record<'ours' | 'hooked' | 'bare' | 'recording' | 'plain' | 'loop', () => Promise<Timing>> = {
      ours: () => timeFixture('strategy actor: trigger()', fixtures.ours),
      hooked: () => timeFixture('strategy actor with onTransition hook', fixtures.hooked),
      bare: () => timeFixture('bare XState actor: send()', fixtures.bare),
      recording: () => timeFixture('bare XState + one recording assign: send()', fixtures.recording),
      plain: () =>
        measurer.time(
          'plain Map table',
          () => void (sink = drivePlain(table, clock, stream)),
          opts({ beforeEach: () => void (clock = newClock(stream)) }),
        ),
      loop: () =>
        measurer.time(
          'harness: clock.set loop',
          () => void (sink += String(driveClockOnly(clock, stream))),
          opts({ beforeEach: () => void (clock = newClock(stream)) }),
        ),
    };
    const rounds: Array<Record<keyof typeof tasks, Timing>> = [];
    for (let round = 0; round < sizes.rounds; round++) {
      log(
        `events/s: round ${round + 1} of ${sizes.rounds} (${n} events per call): ours, with hook, bare, recording bare, plain table, harness`,
      );
      const timings = {} as Record<keyof typeof tasks, Timing>;
      for (const [name, task] of Object.entries(tasks) as Array<[keyof typeof tasks, () => Promise<Timing>]>) timings[name] = await task();
      rounds.push(timings);
    }
    if (sink === '') throw new Error('plain table loop did not run');
    /** The round whose ours/bare ratio is the median: every figure of a row comes from one round. */
    const median = medianOf(rounds, (r) => r.ours.meanMs / r.bare.meanMs);
    const { ours: oursTiming, hooked: hookTiming, bare: bareTiming, recording: recTiming, plain: plainTiming, loop: loopTiming } = median;
    const roundsNote = `median of ${sizes.rounds} alternating rounds by ours/bare ratio; per-round ratios ${rounds.map((r) => (r.ours.meanMs / r.bare.meanMs).toFixed(2)).join(', ')}`;
    const oursFig = rateFigure(oursTiming, n);
    const harness = `harness alone (loop + simulated clock.set, included in every figure): ${duration(loopTiming.meanMs / n)}/event`;
    const ratioBare = oursTiming.meanMs / bareTiming.meanMs;
    // Paired runs: one pass of the stream through a fresh actor of each side, back to back (the
    // order reversed every other pair), so slow drifts of a shared machine's load cancel in the ratios.
    const passes = {
      bare: () => timeOnce(ctx.now, fixtures.bare),
      recording: () => timeOnce(ctx.now, fixtures.recording),
      ours: () => timeOnce(ctx.now, fixtures.ours),
      chart: () => timeOnce(ctx.now, fixtures.chart),
      chartCore: () => timeOnce(ctx.now, fixtures.chartCore),
    };
    const pairs = { recording: [] as number[], ours: [] as number[], chart: [] as number[], chartCore: [] as number[] };
    const forward = ['bare', 'recording', 'chartCore', 'chart', 'ours'] as const;
    for (let i = 0; i < sizes.pairs; i++) {
      const order = i % 2 === 0 ? forward : [...forward].reverse();
      const ms = {} as Record<keyof typeof passes, number>;
      for (const name of order) ms[name] = passes[name]();
      pairs.recording.push(ms.recording / ms.bare);
      pairs.ours.push(ms.ours / ms.bare);
      pairs.chart.push(ms.chart / ms.bare);
      pairs.chartCore.push(ms.chartCore / ms.bare);
    }
    const spread = (ratios: number[]) =>
      `${medianOf(ratios, (r) => r).toFixed(2)}x bare [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`;
    const oursOverFloor = medianOf(pairs.ours, (r) => r) / medianOf(pairs.recording, (r) => r);
    const floorNote = `paired runs (${sizes.pairs} back-to-back passes of each, median [range]): bare XState + one recording assign per event = ${spread(pairs.recording)}; ours = ${spread(pairs.ours)}, ${oursOverFloor.toFixed(2)}x the recording machine`;
    const rows: BenchRow[] = [
      {
        measure: 'events/s, one strategy actor (audit + guards), mixed stream',
        ours: oursFig,
        referenceName: 'bare XState v5 machine, same 15 states and edges',
        reference: rateFigure(bareTiming, n),
        ratio: ratioBare,
        target: `≤ ${TARGET_RATIO.toFixed(1)}x bare cost/event; ≥ 100k events/s`,
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
        measure: 'the same stream through our LT112 machine in plain XState (createActor + send, no runtime)',
        ours: { text: spread(pairs.chart), value: medianOf(pairs.chart, (r) => r), unit: 'x' },
        referenceName: 'bare XState v5 machine (paired passes)',
        reference: null,
        ratio: medianOf(pairs.chart, (r) => r),
        target: 'report: the XState cost of the chart alone, below which no runtime around it can go',
        met: null,
        notes: [
          `no validation, duplicate check or rejection audit (events no edge takes are simply dropped by XState); the same machine without its invoked actors and \`after\` delays (an ablation, not a product): ${spread(pairs.chartCore)}; ours is ${(medianOf(pairs.ours, (r) => r) / medianOf(pairs.chart, (r) => r)).toFixed(2)}x the chart alone`,
        ],
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
