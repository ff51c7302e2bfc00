/**
 * An action or guard given through `machine.provide()` that throws, on one event. XState fails
 * the actor that ran it; before, the strategy then stayed stopped for good (`ACTOR_STOPPED` to
 * every later event, the kill switch included, with its position open) and only the console said
 * why. The runtime now treats the throw like a failing hook: the event is refused with
 * `ACTOR_FAILED` naming the error, audited, the strategy goes back to its last committed state
 * on a fresh actor and takes the next event as before.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { brokenExitFill } from '../support/brokenActions';
import { FRIDAY_11AM, VARIANTS, drive, managing } from '../support/fixtures';

const entry = VARIANTS.find((v) => v.def === lt112)!.entry;

function quietConsole(): { errors: unknown[][]; restore: () => void } {
  const errors: unknown[][] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
  return { errors, restore: () => spy.mockRestore() };
}

test('a throwing action refuses its event with ACTOR_FAILED; the strategy stays where it was and runs on', () => {
  const { machine, state } = brokenExitFill();
  const quiet = quietConsole();
  try {
    const strategy = createStrategyActor(machine, { id: 'broken', clock: createSimulatedClock(FRIDAY_11AM) });
    drive(strategy, [...managing(entry, 3), { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }]);
    expect(strategy.state).toBe('EXITING');
    const before = strategy.getAuditTrail().length;
    const result = strategy.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'fill-1' });
    expect(result).toMatchObject({ accepted: false, code: 'ACTOR_FAILED', from: 'EXITING', to: 'EXITING' });
    expect(result.reason).toContain('exit book unavailable');
    expect(strategy.getSnapshot().status).toBe('active');
    expect(strategy.state).toBe('EXITING');
    expect(strategy.getSnapshot().context.position?.quantity).toBe(3);
    const trail = strategy.getAuditTrail();
    expect(trail).toHaveLength(before + 1);
    expect(trail.at(-1)).toMatchObject({ trigger: 'ORDER_PARTIALLY_FILLED', accepted: false, code: 'ACTOR_FAILED' });
    // The refused fill's id was not applied: once the action works, the same fill is taken.
    state.armed = false;
    expect(strategy.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: 'fill-1' })).toMatchObject({
      accepted: true,
      to: 'PARTIAL_EXIT',
    });
    expect(strategy.trigger({ type: 'ORDER_FILLED', quantity: 2 })).toMatchObject({ accepted: true, to: 'CLOSED' });
  } finally {
    quiet.restore();
  }
});

test('in a system the failed strategy can still be flattened by the kill switch, and its neighbour never noticed', async () => {
  const { machine } = brokenExitFill();
  const quiet = quietConsole();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    system.add(machine, { id: 'broken' });
    system.add(lt112, { id: 'neighbour' });
    for (const event of managing(entry, 3)) {
      expect(system.send('broken', event).accepted).toBe(true);
      expect(system.send('neighbour', event).accepted).toBe(true);
    }
    expect(system.send('broken', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
    expect(system.send('broken', { type: 'ORDER_SUBMITTED' })).toMatchObject({ accepted: true, to: 'EXITING' });
    expect(system.send('broken', { type: 'ORDER_FILLED', quantity: 3 })).toMatchObject({ accepted: false, code: 'ACTOR_FAILED' });
    expect(system.get('broken').getSnapshot().status).toBe('active');
    expect(system.actorRef.getSnapshot().status).toBe('active');
    // Not stopped: a safety event still reaches it (EXITING takes the operator's override).
    expect(
      system.send('broken', { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason: 'exit fills fail', operator: 'ops', hold: true }),
    ).toMatchObject({ accepted: true, to: 'ERROR' });
    expect(system.send('neighbour', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
  } finally {
    quiet.restore();
  }
});

test('a guard that throws refuses the event the same way', () => {
  const machine = createStrategyMachine(lt112).provide({
    guards: {
      isExitFillComplete: () => {
        throw new Error('guard blew up');
      },
    },
  });
  const quiet = quietConsole();
  try {
    const strategy = createStrategyActor(machine, { id: 'guarded', clock: createSimulatedClock(FRIDAY_11AM) });
    drive(strategy, [...managing(entry, 3), { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }]);
    const result = strategy.trigger({ type: 'ORDER_FILLED', quantity: 3 });
    expect(result).toMatchObject({ accepted: false, code: 'ACTOR_FAILED', to: 'EXITING' });
    expect(result.reason).toContain('guard blew up');
    expect(strategy.getSnapshot().status).toBe('active');
    expect(strategy.trigger({ type: 'EMERGENCY_EXIT', reason: 'test' }).code).not.toBe('ACTOR_STOPPED');
  } finally {
    quiet.restore();
  }
});

test('can() and explain() never throw for a throwing guard: they answer as trigger() would', () => {
  const machine = createStrategyMachine(lt112).provide({
    guards: {
      isExitFillComplete: () => {
        throw new Error('guard blew up');
      },
    },
  });
  const quiet = quietConsole();
  try {
    const strategy = createStrategyActor(machine, { id: 'asked', clock: createSimulatedClock(FRIDAY_11AM) });
    drive(strategy, [...managing(entry, 3), { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }]);
    const fill = { type: 'ORDER_FILLED', quantity: 3 } as const;
    expect(strategy.can(fill)).toBe(false);
    const explained = strategy.explain(fill);
    expect(explained).toMatchObject({ code: 'ACTOR_FAILED', reason: expect.stringContaining('guard blew up') });
    expect(strategy.trigger(fill)).toMatchObject({ accepted: false, code: explained?.code });
    expect(strategy.can({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1 })).toBe(true);
  } finally {
    quiet.restore();
  }
});
