/**
 * The benchmarks still run: each module of bench/measures once, with tiny sizes and a one-shot
 * measurer. No timing is asserted (benchmarks are not tests); what is checked is that every
 * module produces its rows, and that the fixtures say what they claim (the mixed stream gets
 * the outcomes it expects, the references have the strategy's states and edges).
 */
import { performance } from 'node:perf_hooks';
import { createActor } from 'xstate';
import { BENCHES } from '../../bench/measures';
import {
  BASE_EDGES,
  bareConfig,
  createBareMachine,
  createPlainTable,
  createRecordingBareMachine,
  plainStep,
} from '../../bench/fixtures/bareMachine';
import { checkStream, driveBare, drivePlain, newBareActor, newClock } from '../../bench/fixtures/drivers';
import { CYCLE_EVENTS, expectedMix, mixedStream } from '../../bench/fixtures/mixedStream';
import { oneShotMeasurer, type BenchRow } from '../../bench/harness';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { STRATEGY_STATES, type StrategyState } from '../../machines/states';
import { lt112 } from '../../machines/variants';

describe('the mixed stream', () => {
  const stream = mixedStream(3 * CYCLE_EVENTS);

  test('every event gets the outcome the stream expects, and no deadline fires', () => {
    const check = checkStream(createStrategyMachine(lt112), stream);
    expect(check.mismatches).toEqual([]);
    expect(check.enteredError).toBe(false);
    expect(check.finalState).toBe('CLOSED');
  });

  test('about 20% of events have no edge, a few are duplicates or fail a guard', () => {
    const mix = expectedMix(stream);
    expect(mix.NO_EDGE / stream.length).toBeGreaterThan(0.15);
    expect(mix.NO_EDGE / stream.length).toBeLessThan(0.25);
    expect(mix.DUPLICATE_EVENT).toBeGreaterThan(0);
    expect(mix.GUARD_FAILED).toBeGreaterThan(0);
  });

  test('time only moves forward', () => {
    for (let i = 1; i < stream.length; i++) expect(stream[i].at).toBeGreaterThan(stream[i - 1].at);
  });

  test('the bare machine and the plain table walk the same cycles to CLOSED', () => {
    const { actor, clock } = newBareActor(createBareMachine(), stream);
    driveBare(actor, clock, stream);
    expect(actor.getSnapshot().value).toBe('CLOSED');
    actor.stop();
    expect(drivePlain(createPlainTable(), newClock(stream), stream)).toBe('CLOSED');
  });
});

describe('the references', () => {
  test('the recording bare machine walks the same cycles to CLOSED and records every event, edge or not', () => {
    const stream = mixedStream(3 * CYCLE_EVENTS);
    const { actor, clock } = newBareActor(createRecordingBareMachine(), stream);
    driveBare(actor, clock, stream);
    const { value, context } = actor.getSnapshot();
    expect(value).toBe('CLOSED');
    expect(context.seq).toBe(stream.length);
    const last = stream[stream.length - 1];
    expect(context.last).toEqual({ seq: stream.length, at: last.at, type: last.event.type, from: 'CLOSED', to: 'CLOSED' });
    actor.stop();
  });

  test('the bare machine has the 15 states and every (state, event) of the edge table', () => {
    const config = bareConfig();
    expect(Object.keys(config.states)).toEqual([...STRATEGY_STATES]);
    for (const row of BASE_EDGES)
      for (const from of row.from) for (const type of row.on) expect(config.states[from].on[type]).toBeDefined();
  });

  test('bare machine and plain table agree on the first row of every (state, event)', () => {
    const table = createPlainTable();
    const bare = createBareMachine();
    for (const [key, next] of table) {
      const [from, type] = key.split('|') as [StrategyState, string];
      const actor = createActor(bare, { snapshot: bare.resolveState({ value: from, context: undefined }) });
      actor.start();
      actor.send({ type });
      expect([key, actor.getSnapshot().value]).toEqual([key, next]);
      expect(plainStep(table, from, type)).toBe(next);
      actor.stop();
    }
  });
});

describe('every benchmark module runs once with tiny sizes', () => {
  test.each(BENCHES.map((b) => [b.id, b] as const))('%s', async (_id, bench) => {
    const rows: BenchRow[] = await bench.run(
      { measurer: oneShotMeasurer, now: () => performance.now(), smoke: true, log: () => undefined },
      bench.smoke,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.measure).not.toBe('');
      expect(Number.isFinite(row.ours.value)).toBe(true);
      expect(row.target).not.toBe('');
      if (row.reference) expect(Number.isFinite(row.reference.value)).toBe(true);
      for (const note of row.notes ?? []) expect(note).not.toMatch(/as expected: NO|ERROR entered: YES/);
    }
  });
});
