/**
 * A delay provided with `machine.provide({ delays })` may depend on the event that entered its
 * state, as XState resolves it (with that event, on entry). The context's deadline and the audit
 * record that announces it are resolved then too. Before, the runtime's durable timer and the
 * delayed transition's time stamp resolved the delay again later with the delayed event itself, so
 * the strategy left EXITING (or recovered from ERROR) at another time than it had announced.
 */
import { createActor, SimulatedClock } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, MINUTE, VARIANTS, drive, managing } from '../support/fixtures';

const machine = createStrategyMachine(lt112).provide({
  delays: {
    stuckExiting: ({ event }: { event: { type: string } }) => (event.type === 'EMERGENCY_EXIT' ? 1 * MINUTE : 10 * MINUTE),
    errorRecovery: ({ event }: { event: { type: string } }) => (event.type === 'SYSTEM_ERROR' ? 2 * MINUTE : 30 * MINUTE),
  },
});

test('the stuck deadline of EXITING falls when it was armed with the event that entered it (an emergency exit: 1 minute)', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(machine, { id: 'lt', clock });
  drive(strategy, managing(VARIANTS[1].entry, 2));
  const entered = clock.now();
  expect(strategy.trigger({ type: 'EMERGENCY_EXIT', reason: 'risk desk' })).toMatchObject({ accepted: true, to: 'EXITING' });
  expect(strategy.getSnapshot().context.deadline).toMatchObject({ state: 'EXITING', at: entered + MINUTE });

  clock.increment(MINUTE - 1);
  expect(strategy.state).toBe('EXITING');
  clock.increment(1);
  expect(strategy.state).toBe('ERROR');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ previousState: 'EXITING', currentState: 'ERROR', at: entered + MINUTE });
  expect(strategy.getAuditTrail().at(-1)?.message).toMatch(/stuck in EXITING for 1m/);
});

test('ERROR recovers at the instant its record announced, in the runtime and in plain XState, and the recovery is stamped with it', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(machine, { id: 'lt', clock });
  strategy.trigger({ type: 'MARKET_OPEN' });
  const record = strategy.trigger({ type: 'SYSTEM_ERROR', reason: 'feed down' }).record;
  expect(record?.message).toMatch(/auto-recovery at 2026-12-04T11:02:00/);
  clock.increment(2 * MINUTE);
  expect(strategy.state).toBe('READY');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ previousState: 'ERROR', currentState: 'READY', at: FRIDAY_11AM + 2 * MINUTE });

  // Plain XState on its own simulated clock: the same instant, and the record says it.
  const xclock = new SimulatedClock();
  xclock.set(FRIDAY_11AM);
  const actor = createActor(machine, { clock: xclock, input: { createdAt: FRIDAY_11AM } }).start();
  actor.send({ type: 'MARKET_OPEN', at: FRIDAY_11AM });
  actor.send({ type: 'SYSTEM_ERROR', reason: 'feed down', at: FRIDAY_11AM });
  xclock.increment(2 * MINUTE);
  expect(actor.getSnapshot().value).toBe('READY');
  expect(actor.getSnapshot().context.lastRecord).toMatchObject({ currentState: 'READY', at: FRIDAY_11AM + 2 * MINUTE });
  actor.stop();
});

test('plain XState: each firing of the same delay is stamped with its own instant (XState raises one event object per state for every firing)', () => {
  const xclock = new SimulatedClock();
  xclock.set(FRIDAY_11AM);
  const actor = createActor(createStrategyMachine(lt112), { clock: xclock, input: { createdAt: FRIDAY_11AM } }).start();
  actor.send({ type: 'MARKET_OPEN', at: FRIDAY_11AM });
  const recoveries: number[] = [];
  actor.on('transition', ({ record }) => {
    if (record?.trigger === 'lifecycle.deadline') recoveries.push(record.at);
  });
  for (let i = 0; i < 3; i++) {
    const at = FRIDAY_11AM + i * 60 * MINUTE;
    xclock.set(at);
    actor.send({ type: 'SYSTEM_ERROR', reason: `outage ${i}`, at });
    xclock.increment(30 * MINUTE);
    expect(actor.getSnapshot().value).toBe('READY');
  }
  expect(recoveries).toEqual([0, 1, 2].map((i) => FRIDAY_11AM + i * 60 * MINUTE + 30 * MINUTE));
  actor.stop();
});
