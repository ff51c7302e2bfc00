/**
 * Machines whose provided actions throw on demand, for tests of `ACTOR_FAILED` (an action given
 * through `machine.provide()` that throws fails the actor that ran it).
 */
import { assign } from 'xstate';
import { applyExitFill } from '../../actions/position';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { MachineEvent } from '../../machines/events';
import type { StrategyContext } from '../../machines/types';
import { lt112 } from '../../machines/variants';

/** LT112 whose `applyExitFill` throws while `state.armed` (the entry's fills use `applyEntryFill`). */
export function brokenExitFill(armed = true) {
  const state = { armed };
  const machine = createStrategyMachine(lt112).provide({
    actions: {
      applyExitFill: assign<StrategyContext, MachineEvent, undefined, MachineEvent, never>(({ context, event }) => {
        if (state.armed) throw new Error('exit book unavailable');
        return applyExitFill(context, event);
      }),
    } as never,
  });
  return { machine, state };
}
