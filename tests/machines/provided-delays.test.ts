/**
 * `machine.provide({ delays })` replaces a named delay everywhere it shows: the timer, the
 * deadline in the context (what the dashboard and `/strategies` show as the next event), the
 * record's "auto-recovery at" and "stuck for", and the delayed record's time. Before, only the
 * timer changed and the records promised the definition's 5 and 30 minutes.
 */
import { createActor, SimulatedClock } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, MINUTE, VARIANTS, drive } from '../support/fixtures';
import { toMarketIso } from '../../services/market/time';

const machine = () => createStrategyMachine(lt112).provide({ delays: { stuckPendingEntry: MINUTE, errorRecovery: 2 * MINUTE } });

test('the runtime: deadlines, messages and times follow the provided delays', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(machine(), { id: 'lt', clock });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry]);
  expect(strategy.getSnapshot().context.deadline).toEqual({ kind: 'STUCK', state: 'PENDING_ENTRY', at: FRIDAY_11AM + MINUTE });
  clock.increment(MINUTE);
  expect(strategy.state).toBe('ERROR');
  const stuck = strategy.getAuditTrail().at(-1)!;
  expect(stuck).toMatchObject({ at: FRIDAY_11AM + MINUTE, currentState: 'ERROR' });
  expect(stuck.message).toBe(
    `PENDING_ENTRY -> ERROR: stuck in PENDING_ENTRY for 1m0s; auto-recovery at ${toMarketIso(FRIDAY_11AM + 3 * MINUTE)}`,
  );
  expect(strategy.getSnapshot().context.deadline).toMatchObject({ kind: 'ERROR_RECOVERY', at: FRIDAY_11AM + 3 * MINUTE });
  clock.increment(2 * MINUTE);
  expect(strategy.state).toBe('READY');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'lifecycle.deadline', at: FRIDAY_11AM + 3 * MINUTE });
});

test('a bare XState actor on its own clock: the delayed records are dated when they fell due, not in the future', () => {
  const clock = new SimulatedClock();
  clock.set(FRIDAY_11AM);
  const actor = createActor(machine(), { clock, input: { createdAt: FRIDAY_11AM } }).start();
  for (const event of [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry] as const)
    actor.send({ ...event, at: clock.now() });
  clock.increment(MINUTE);
  expect(actor.getSnapshot().value).toBe('ERROR');
  expect(actor.getSnapshot().context.lastRecord).toMatchObject({ at: FRIDAY_11AM + MINUTE });
  clock.increment(2 * MINUTE);
  expect(actor.getSnapshot().value).toBe('READY');
  expect(actor.getSnapshot().context.lastRecord).toMatchObject({ at: FRIDAY_11AM + 3 * MINUTE });
  actor.stop();
});
