/**
 * The per-trigger shortcuts of the runtime answer exactly what the long way answers: a refusal
 * worked out after a send that took no transition, the memoised delayed transitions of each
 * machine, the delayed-event names, the event-type check, the event a listener receives and the
 * event-id window.
 */
import { createActor } from 'xstate';
import { createStrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine';
import { afterDelayOf, DELAY_NAMES, type DelayName } from '../../machines/delays';
import { isStrategyEventType, STRATEGY_EVENT_TYPES, type StrategyEvent } from '../../machines/events';
import { STRATEGY_STATES } from '../../machines/states';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { pendingDelay } from '../../services/runtime/durableDelays';
import { refusalOf } from '../../services/runtime/rejection';
import { createStrategyActor, type TransitionNotice } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, MINUTE, VARIANTS, drive, start } from '../support/fixtures';

const at = FRIDAY_11AM;
const entry = VARIANTS[1].entry;

test('a refusal read after a send that took no transition is the one refusalOf gives from scratch', () => {
  const machine = createStrategyMachine(lt112);
  const context = createActor(machine, { input: { createdAt: at } }).getSnapshot().context;
  let refused = 0;
  for (const state of STRATEGY_STATES) {
    for (const position of [null, { quantity: 2, openedAt: at, expiry: '2027-03-19' }]) {
      const snapshot = machine.resolveState({ value: state, context: { ...context, position } }) as unknown as StrategySnapshot;
      for (const type of STRATEGY_EVENT_TYPES) {
        const event = { type, at, quantity: 1, target: 'READY', reason: 'r', operator: 'o' } as never;
        const full = refusalOf(machine, snapshot, event);
        if (full === null) continue;
        refused++;
        expect([state, type, refusalOf(machine, snapshot, event, true)]).toEqual([state, type, full]);
      }
    }
  }
  expect(refused).toBeGreaterThan(300);
});

test('the delayed transition a state waits for follows each machine, provided delays included, and keeps the deadline armed on entry', () => {
  const machine = createStrategyMachine(lt112);
  const quicker = machine.provide({ delays: { stuckPendingEntry: 1234 } });
  const toPendingEntry: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry];
  const { strategy } = start(lt112);
  drive(strategy, toPendingEntry);
  const quick = createStrategyActor(quicker, { id: 'quick', clock: createSimulatedClock(FRIDAY_11AM) });
  drive(quick, toPendingEntry);
  const snapshot = strategy.getSnapshot();
  const quickSnapshot = quick.getSnapshot();
  const type = 'xstate.after.stuckPendingEntry.lt112.PENDING_ENTRY';
  // Asked alternately: each machine keeps its own memo of the state's delays.
  for (let i = 0; i < 2; i++) {
    expect(pendingDelay(machine, snapshot)).toEqual({ type, dueAt: snapshot.context.enteredAt + 5 * MINUTE });
    expect(pendingDelay(quicker as never, quickSnapshot)).toEqual({ type, dueAt: quickSnapshot.context.enteredAt + 1234 });
  }
  // The instant armed on entry (in the context, announced by the audit) holds whatever machine asks later.
  expect(pendingDelay(quicker as never, snapshot)).toEqual({ type, dueAt: snapshot.context.deadline?.at });
  drive(strategy, [{ type: 'ORDER_SUBMITTED' }, { type: 'ORDER_FILLED', quantity: 1 }]);
  expect(pendingDelay(machine, strategy.getSnapshot())).toBeNull();
  strategy.stop();
  quick.stop();
});

test('afterDelayOf names every delayed event of the lifecycle and nothing else', () => {
  for (const name of Object.keys(DELAY_NAMES) as DelayName[]) {
    expect(afterDelayOf(`xstate.after.${name}.lt112.${DELAY_NAMES[name]}`)).toBe(name);
  }
  for (const type of ['xstate.after.unknownDelay.lt112.ERROR', 'xstate.after.', 'MARKET_OPEN', 'lifecycle.rejected', 'xstate.init']) {
    expect(afterDelayOf(type)).toBeUndefined();
  }
});

test('isStrategyEventType accepts the public event types only', () => {
  for (const type of STRATEGY_EVENT_TYPES) expect(isStrategyEventType(type)).toBe(true);
  for (const type of ['constructor', 'toString', 'lifecycle.rejected', 'market_open', '', 42, undefined, null]) {
    expect(isStrategyEventType(type)).toBe(false);
  }
});

test('a listener receives the event as the payload followed by its type', () => {
  const notices: TransitionNotice[] = [];
  const { strategy } = start(lt112, { listeners: [(notice) => notices.push(notice)] });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START', window: 'entry' }]);
  strategy.trigger({ type: 'ORDER_FILLED', quantity: 2, price: 1.5, eventId: 'fill-1' });
  expect(notices.map((n) => n.event)).toEqual([
    { type: 'MARKET_OPEN' },
    { window: 'entry', type: 'TIME_WINDOW_START' },
    { quantity: 2, price: 1.5, type: 'ORDER_FILLED' },
  ]);
  expect(notices.map((n) => Object.keys(n.event))).toEqual([['type'], ['window', 'type'], ['quantity', 'price', 'type']]);
  expect(notices.map((n) => n.record)).toEqual(strategy.getAuditTrail());
  strategy.stop();
});

test('the event-id window keeps the newest ids as it fills, slides, and shrinks to a smaller window after a restore', () => {
  const def = { ...lt112, id: 'window5', eventIdWindow: 5 };
  const { strategy, clock } = start(def);
  const ids: string[] = [];
  const types = ['TIME_WINDOW_START', 'TIME_WINDOW_END'] as const;
  strategy.trigger({ type: 'MARKET_OPEN', eventId: 'id-0' });
  ids.push('id-0');
  for (let i = 1; i < 12; i++) {
    expect(strategy.trigger({ type: types[(i - 1) % 2], eventId: `id-${i}` })).toMatchObject({ accepted: true });
    ids.push(`id-${i}`);
    expect(strategy.getSnapshot().context.recentEventIds).toEqual(ids.slice(-5));
  }
  const saved = JSON.parse(JSON.stringify(strategy.getPersistedSnapshot()));
  const smaller = createStrategyActor(createStrategyMachine({ ...def, eventIdWindow: 3 }), {
    clock: createSimulatedClock(clock.now()),
    snapshot: saved,
  });
  expect(smaller.trigger({ type: 'TIME_WINDOW_END', eventId: 'id-12' })).toMatchObject({ accepted: true });
  expect(smaller.getSnapshot().context.recentEventIds).toEqual(['id-10', 'id-11', 'id-12']);
  expect(smaller.trigger({ type: 'TIME_WINDOW_START', eventId: 'id-9' })).toMatchObject({ accepted: true });
  expect(smaller.getSnapshot().context.recentEventIds).toEqual(['id-11', 'id-12', 'id-9']);
});
