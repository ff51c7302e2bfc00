/**
 * Events/s through one strategy actor (LT112, audit trail and guards on) on the realistic mixed
 * stream, against the same stream through a bare XState v5 machine with the same 15 states and
 * edges, and through a plain transition table (the floor). Also: the same actor with one
 * `onTransition` hook (the pre-commit `getNextSnapshot` path), and the trail-growth check:
 * the cost per event of events 90k-100k of one long run against its first 10k.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine.js';
import { lt112 } from '../../machines/variants/index.js';
import { createBareMachine, createPlainTable } from '../fixtures/bareMachine.js';
import { checkStream, driveBare, driveClockOnly, drivePlain, driveStrategy, newBareActor, newClock, newStrategy } from '../fixtures/drivers.js';
import { expectedMix, mixedStream } from '../fixtures/mixedStream.js';
import { defineBench, duration, rateFigure, type BenchRow, type TimeOptions } from '../harness.js';
import { measureTrailGrowth, type TrailGrowthSizes } from './trailGrowth.js';

interface Sizes extends TrailGrowthSizes {
  /** Events per timed call (one fresh actor per call). */
  events: number;
  iterations: number;
  timeMs: number;
}

const TARGET_RATIO = 1.5;
const TARGET_RATE = 100_000;

export const eventsPerSecond = defineBench<Sizes>({
  id: 'events-per-second',
  title: 'events/s through one strategy actor',
  full: { events: 10_000, iterations: 10, timeMs: 2000, longRun: 100_000, segment: 10_000, block: 1000, longRuns: 3 },
  smoke: { events: 60, iterations: 1, timeMs: 0, longRun: 400, segment: 40, block: 10, longRuns: 1 },
  async run(ctx, sizes) {
    const { measurer, log } = ctx;
    const machine = createStrategyMachine(lt112);
    const bare = createBareMachine();
    const table = createPlainTable();
    const stream = mixedStream(sizes.events);
    const n = stream.length;
    const mix = expectedMix(stream);
    const check = checkStream(machine, stream);
    const pct = (k: number) => `${((100 * k) / n).toFixed(0)}%`;
    const streamNote = `stream: ${n} events per timed call (fresh actor each, created outside the timing), ${pct(mix.accepted)} accepted, ${pct(mix.NO_EDGE)} no edge, ${pct(mix.GUARD_FAILED)} guard failed, ${pct(mix.DUPLICATE_EVENT)} duplicate eventId; every result as expected: ${check.mismatches.length === 0 ? 'yes' : `NO (${check.mismatches.length} differ, first: ${JSON.stringify(check.mismatches[0])})`}; ERROR entered: ${check.enteredError ? 'YES' : 'no'}`;
    if (check.mismatches.length > 0) log(`WARNING ${streamNote}`);

    const opts = (o: TimeOptions): TimeOptions => ({ iterations: sizes.iterations, timeMs: sizes.timeMs, ...o });
    let ours: ReturnType<typeof newStrategy> | undefined;
    log(`events/s: ours (${n} events per call)`);
    const oursTiming = await measurer.time('strategy actor: trigger()', () => driveStrategy(ours!.strategy, ours!.clock, stream), opts({
      beforeEach: () => void (ours = newStrategy(machine, stream)),
      afterEach: () => ours!.strategy.stop(),
    }));
    let hooked: ReturnType<typeof newStrategy> | undefined;
    log('events/s: ours with an onTransition hook');
    const hookTiming = await measurer.time('strategy actor with onTransition hook', () => driveStrategy(hooked!.strategy, hooked!.clock, stream), opts({
      beforeEach: () => void (hooked = newStrategy(machine, stream, { onTransition: () => undefined })),
      afterEach: () => hooked!.strategy.stop(),
    }));
    let bareRun: ReturnType<typeof newBareActor> | undefined;
    log('events/s: bare XState');
    const bareTiming = await measurer.time('bare XState actor: send()', () => driveBare(bareRun!.actor, bareRun!.clock, stream), opts({
      beforeEach: () => void (bareRun = newBareActor(bare, stream)),
      afterEach: () => bareRun!.actor.stop(),
    }));
    let clock = newClock(stream);
    let sink = '';
    log('events/s: plain table');
    const plainTiming = await measurer.time('plain Map table', () => void (sink = drivePlain(table, clock, stream)), opts({ beforeEach: () => void (clock = newClock(stream)) }));
    log('events/s: harness only (clock.set loop)');
    const loopTiming = await measurer.time('harness: clock.set loop', () => void (sink += driveClockOnly(clock, stream)), opts({ beforeEach: () => void (clock = newClock(stream)) }));
    if (sink === '') throw new Error('plain table loop did not run');

    const oursFig = rateFigure(oursTiming, n);
    const harness = `harness alone (loop + simulated clock.set, included in every figure): ${duration(loopTiming.meanMs / n)}/event`;
    const ratioBare = oursTiming.meanMs / bareTiming.meanMs;
    const rows: BenchRow[] = [
      {
        measure: 'events/s, one strategy actor (audit + guards), mixed stream',
        ours: oursFig,
        referenceName: 'bare XState v5 machine, same 15 states and edges',
        reference: rateFigure(bareTiming, n),
        ratio: ratioBare,
        target: `≤ ${TARGET_RATIO}x bare cost/event; ≥ 100k events/s`,
        met: ratioBare <= TARGET_RATIO && oursFig.value >= TARGET_RATE,
        notes: [streamNote, harness],
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
