/**
 * `createActor(createStrategyMachine(lt112))` straight from xstate, no runtime: what
 * docs/lifecycle.md promises. Events move states through the same guards, each edge emits its
 * audit record, and `after` delays run on XState's own clock (its public `SimulatedClock` here).
 * What only the runtime does is not there: no validation, no rejection records, no durability.
 */
import { createActor, SimulatedClock } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import type { TransitionRecord } from '../../machines/types';
import { lt112 } from '../../machines/variants';
import { realClock } from '../../services/market/clock';
import { FRIDAY_11AM, MINUTE, NEAR_EXPIRY, VARIANTS } from '../support/fixtures';

function bare() {
  const clock = new SimulatedClock();
  clock.set(FRIDAY_11AM);
  const actor = createActor(createStrategyMachine(lt112), { clock, input: { strategyId: 'lt-bare', createdAt: clock.now() } });
  const records: TransitionRecord[] = [];
  actor.on('transition', ({ record }) => records.push(record!));
  actor.start();
  // A bare user stamps events with the clock's time (unstamped ones take the real time).
  const send = (event: StrategyEvent) => actor.send({ ...event, at: clock.now() });
  return { clock, actor, records, send };
}

test('events move states through the same guards, and each edge emits its audit record', () => {
  const { actor, records, send } = bare();
  send({ type: 'MARKET_OPEN' });
  send({ type: 'TIME_WINDOW_START' });
  expect(actor.getSnapshot().can({ type: 'ENTRY_CONDITIONS_MET', vix: 80, expiry: '2027-03-29', at: FRIDAY_11AM })).toBe(false);
  send({ type: 'ENTRY_CONDITIONS_MET', vix: 80, expiry: '2027-03-29' }); // isVixInRange fails: nothing moves, nothing is written
  expect(actor.getSnapshot().value).toBe('ANALYZING');
  send(VARIANTS[1].entry);
  expect(actor.getSnapshot().value).toBe('PENDING_ENTRY');
  expect(records.map((r) => [r.seq, r.previousState, r.currentState, r.trigger])).toEqual([
    [1, 'INITIALIZING', 'READY', 'MARKET_OPEN'],
    [2, 'READY', 'ANALYZING', 'TIME_WINDOW_START'],
    [3, 'ANALYZING', 'PENDING_ENTRY', 'ENTRY_CONDITIONS_MET'],
  ]);
  expect(records[2]).toMatchObject({ accepted: true, at: FRIDAY_11AM, timestamp: '2026-12-04T11:00:00.000-05:00' });
  expect(actor.getSnapshot().context.lastRecord).toEqual(records[2]);
  actor.stop();
});

test("ERROR recovers after 30 minutes of XState's clock, to MANAGING with a position", () => {
  const { clock, actor, records, send } = bare();
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    VARIANTS[1].entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: NEAR_EXPIRY },
    { type: 'MARKET_OPEN' },
  ] as StrategyEvent[])
    send(event);
  expect(actor.getSnapshot().value).toBe('MANAGING');
  clock.increment(MINUTE);
  const erroredAt = clock.now();
  send({ type: 'SYSTEM_ERROR', reason: 'feed lost' });
  expect(actor.getSnapshot().value).toBe('ERROR');
  clock.increment(30 * MINUTE - 1);
  expect(actor.getSnapshot().value).toBe('ERROR');
  clock.increment(1);
  expect(actor.getSnapshot().value).toBe('MANAGING');
  expect(records.at(-1)).toMatchObject({
    previousState: 'ERROR',
    currentState: 'MANAGING',
    trigger: 'lifecycle.deadline',
    at: erroredAt + 30 * MINUTE,
  });
  actor.stop();
});

test('a stuck PENDING_ENTRY falls into ERROR after 5 minutes, and ERROR recovers flat to READY 30 minutes later', () => {
  const { clock, actor, records, send } = bare();
  for (const event of [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry] as StrategyEvent[]) send(event);
  clock.increment(5 * MINUTE - 1);
  expect(actor.getSnapshot().value).toBe('PENDING_ENTRY');
  clock.increment(1);
  expect(actor.getSnapshot().value).toBe('ERROR');
  expect(records.at(-1)).toMatchObject({
    previousState: 'PENDING_ENTRY',
    currentState: 'ERROR',
    trigger: 'lifecycle.deadline',
    at: FRIDAY_11AM + 5 * MINUTE,
  });
  clock.increment(30 * MINUTE);
  expect(actor.getSnapshot().value).toBe('READY');
  expect(records.at(-1)).toMatchObject({
    previousState: 'ERROR',
    currentState: 'READY',
    trigger: 'lifecycle.deadline',
    at: FRIDAY_11AM + 35 * MINUTE,
  });
  actor.stop();
});

test('what only the runtime does is absent: a refused event leaves no record (the runtime audits refusals)', () => {
  const { actor, records, send } = bare();
  send({ type: 'ORDER_FILLED', quantity: 1 });
  expect(actor.getSnapshot().value).toBe('INITIALIZING');
  expect(records).toEqual([]);
  actor.stop();
});

test('unstamped events: guards judge them at the real time, as the actions stamp them (not at time 0, 1970)', () => {
  jest.useFakeTimers({ now: FRIDAY_11AM }); // the real clock, pinned: Date.now() is FRIDAY_11AM
  try {
    const actor = createActor(createStrategyMachine(lt112)).start();
    actor.send({ type: 'MARKET_OPEN' });
    actor.send({ type: 'TIME_WINDOW_START' });
    const entry = { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' } as const; // 115 DTE from FRIDAY_11AM
    expect(actor.getSnapshot().can(entry)).toBe(true);
    actor.send(entry);
    expect(actor.getSnapshot().value).toBe('PENDING_ENTRY');
    actor.stop();
  } finally {
    jest.useRealTimers();
  }
});

test("a delay longer than one Node timer (25 days) is exact on the package's realClock given to createActor", () => {
  // XState's default clock is Node's setTimeout, which fires a delay above 2^31-1 ms after 1 ms;
  // docs/lifecycle.md tells bare users to give `realClock`, which chains Node timers.
  jest.useFakeTimers({ now: FRIDAY_11AM });
  try {
    const DAY = 24 * 60 * MINUTE;
    const machine = createStrategyMachine({ ...lt112, errorRecoveryMs: 25 * DAY });
    const actor = createActor(machine, { clock: realClock, input: { createdAt: FRIDAY_11AM } }).start();
    actor.send({ type: 'MARKET_OPEN', at: Date.now() });
    actor.send({ type: 'SYSTEM_ERROR', at: Date.now() });
    jest.advanceTimersByTime(25 * DAY - 1);
    expect(actor.getSnapshot().value).toBe('ERROR');
    jest.advanceTimersByTime(1);
    expect(actor.getSnapshot().value).toBe('READY');
    expect(actor.getSnapshot().context.lastRecord).toMatchObject({ trigger: 'lifecycle.deadline', at: FRIDAY_11AM + 25 * DAY });
    actor.stop();
  } finally {
    jest.useRealTimers();
  }
});
