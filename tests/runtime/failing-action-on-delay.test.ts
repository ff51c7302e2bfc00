/**
 * An action given through `machine.provide()` that throws on a delayed transition (a stuck
 * deadline, ERROR's recovery). Triggers were already answered with `ACTOR_FAILED`; a delay that
 * fell due was sent to the actor outside the pipeline, so the throw failed the actor for good:
 * a strategy holding a position answered `ACTOR_STOPPED` to every later event (the broker's
 * answer, RESET, the kill switch) and only the console said why. The delay now takes the pipeline:
 * refused with `ACTOR_FAILED`, audited, and the strategy runs on from its committed state.
 */
import { assign } from 'xstate';
import { enterError } from '../../actions/errors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { resolveDefinition } from '../../machines/definition';
import type { MachineEvent } from '../../machines/events';
import { stateOf } from '../../machines/states';
import type { StrategyContext } from '../../machines/types';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, MINUTE, VARIANTS, drive, managing } from '../support/fixtures';

const entry = VARIANTS.find((v) => v.def === lt112)!.entry;

test('a provided action that throws on a stuck deadline refuses it (ACTOR_FAILED); the strategy runs on with its position', () => {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const armed = { on: true };
    const def = resolveDefinition(lt112);
    const machine = createStrategyMachine(lt112).provide({
      actions: {
        enterError: assign<StrategyContext, MachineEvent, undefined, MachineEvent, never>(({ context, event }) => {
          if (armed.on) throw new Error('pager unavailable');
          return enterError(context, event, stateOf(context), def);
        }),
      } as never,
    });
    const clock = createSimulatedClock(FRIDAY_11AM);
    const strategy = createStrategyActor(machine, { id: 'lt', clock });
    drive(strategy, [...managing(entry, 2), { type: 'MARGIN_CALL' }]);
    expect(strategy.state).toBe('PENDING_EXIT');

    clock.increment(10 * MINUTE); // the stuck deadline of PENDING_EXIT falls due; enterError throws
    expect(strategy.getSnapshot().status).toBe('active');
    expect(strategy.state).toBe('PENDING_EXIT');
    expect(strategy.getAuditTrail().at(-1)).toMatchObject({ accepted: false, code: 'ACTOR_FAILED', previousState: 'PENDING_EXIT' });
    expect(strategy.getAuditTrail().at(-1)?.reason).toContain('pager unavailable');

    // The broker answers late: the exit goes on, the position is not stranded.
    expect(strategy.trigger({ type: 'ORDER_SUBMITTED' })).toMatchObject({ accepted: true, to: 'EXITING' });
    armed.on = false;
    clock.increment(10 * MINUTE); // EXITING's own deadline, with a working action
    expect(strategy.state).toBe('ERROR');
    expect(strategy.getSnapshot().context.position?.quantity).toBe(2);
    expect(strategy.trigger({ type: 'EMERGENCY_EXIT' })).toMatchObject({ accepted: true, to: 'EXITING' });
  } finally {
    spy.mockRestore();
  }
});

test("a provided guard of ERROR's recovery that throws: the trigger into ERROR still answers, and the recovery is refused (ACTOR_FAILED) when due", () => {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const armed = { on: true };
    const machine = createStrategyMachine(lt112).provide({
      guards: {
        isRecoveryArmed: ({ context }: { context: StrategyContext }) => {
          if (armed.on) throw new Error('risk service down');
          return context.deadline?.kind === 'ERROR_RECOVERY';
        },
      },
    });
    const clock = createSimulatedClock(FRIDAY_11AM);
    const strategy = createStrategyActor(machine, { id: 'lt', clock });
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    // Before, the committed SYSTEM_ERROR threw out of trigger() (the delay's guard was asked as it committed).
    expect(strategy.trigger({ type: 'SYSTEM_ERROR', reason: 'feed down' })).toMatchObject({ accepted: true, to: 'ERROR' });

    clock.increment(30 * MINUTE);
    expect(strategy.getSnapshot().status).toBe('active');
    expect(strategy.state).toBe('ERROR');
    const refused = strategy.getAuditTrail().at(-1)!;
    expect(refused).toMatchObject({ accepted: false, code: 'ACTOR_FAILED', previousState: 'ERROR', at: FRIDAY_11AM + 30 * MINUTE });
    expect(refused.reason).toContain('risk service down');
    armed.on = false;
    expect(strategy.trigger({ type: 'RESET' })).toMatchObject({ accepted: true, to: 'READY' });
  } finally {
    spy.mockRestore();
  }
});
