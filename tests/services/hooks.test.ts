/** User hooks: order, abort on throw, error counting up to ERROR, isolation. */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { HookArgs, StrategyHooks } from '../../machines/definition';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { lt112 } from '../../machines/variants';
import { MINUTE, drive, start } from '../support/fixtures';

describe('hooks', () => {
  test("run in the seed's order: onExit(from), onTransition, onEnter(to), with the record to be written", () => {
    const calls: string[] = [];
    const seen: HookArgs[] = [];
    const hooks: StrategyHooks = {
      onExit: { INITIALIZING: () => calls.push('exit INITIALIZING') },
      onTransition: (args) => {
        calls.push(`transition ${args.record.previousState}->${args.record.currentState}`);
        seen.push(args);
      },
      onEnter: { READY: () => calls.push('enter READY') },
    };
    const { strategy } = start({ ...lt112, hooks });
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    expect(calls).toEqual(['exit INITIALIZING', 'transition INITIALIZING->READY', 'enter READY']);
    expect(seen[0].strategyId).toBe('lt112-1');
    expect(seen[0].record).toEqual(strategy.getAuditTrail()[0]);
  });

  test('a rejected trigger runs no hook', () => {
    const onTransition = jest.fn();
    const { strategy } = start({ ...lt112, hooks: { onTransition } });
    strategy.trigger({ type: 'ORDER_FILLED', quantity: 1 });
    expect(onTransition).not.toHaveBeenCalled();
  });

  test('a hook that throws aborts the transition: the state stays, the failure is audited and counted', () => {
    const { strategy } = start({
      ...lt112,
      hooks: {
        onEnter: {
          READY: () => {
            throw new Error('broker session not ready');
          },
        },
      },
    });
    const result = strategy.trigger({ type: 'MARKET_OPEN' });
    expect(result).toMatchObject({ accepted: false, code: 'HOOK_FAILED', from: 'INITIALIZING', to: 'INITIALIZING' });
    expect(result.reason).toBe('MARKET_OPEN aborted: hook onEnter(READY) threw: broker session not ready; error 1 of 3');
    expect(strategy.state).toBe('INITIALIZING');
    expect(strategy.getSnapshot().context.errorCount).toBe(1);
    expect(strategy.getAuditTrail()).toHaveLength(1);
    expect(strategy.getAuditTrail()[0]).toMatchObject({
      accepted: false,
      trigger: 'lifecycle.hookFailed',
      data: { hook: 'onEnter(READY)', trigger: 'MARKET_OPEN' },
    });
  });

  test('three failures force ERROR, each one audited, and the actor still answers', () => {
    let failing = true;
    const { strategy, clock } = start({
      ...lt112,
      hooks: {
        onExit: {
          READY: () => {
            if (failing) throw new Error('risk check down');
          },
        },
      },
    });
    drive(strategy, [{ type: 'MARKET_OPEN' }]);
    const results = [1, 2, 3].map(() => strategy.trigger({ type: 'TIME_WINDOW_START' }));
    expect(results.map((r) => r.to)).toEqual(['READY', 'READY', 'ERROR']);
    expect(results[2].reason).toContain('error 3 of 3: forced into ERROR');
    expect(strategy.state).toBe('ERROR');
    expect(strategy.getAuditTrail().filter((r) => r.code === 'HOOK_FAILED')).toHaveLength(3);
    expect(strategy.getSnapshot().context.lastError?.reason).toBe('hook onExit(READY) threw: risk check down');
    // Still answering: a rejection with a reason, then recovery on its deadline.
    expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: false, code: 'NO_EDGE', from: 'ERROR' });
    failing = false;
    clock.increment(30 * MINUTE);
    expect(strategy.state).toBe('READY');
    expect(strategy.getSnapshot().context.errorCount).toBe(0);
    expect(strategy.actorRef.getSnapshot().status).toBe('active');
  });

  test('a failing hook in one strategy leaves a neighbour untouched', () => {
    const bad = start({
      ...lt112,
      id: 'badHooks',
      hooks: {
        onTransition: () => {
          throw new Error('boom');
        },
      },
    });
    const good = start(lt112, { clock: bad.clock });
    for (let i = 0; i < 3; i++) bad.strategy.trigger({ type: 'MARKET_OPEN' });
    drive(good.strategy, [{ type: 'MARKET_OPEN' }]);
    expect(bad.strategy.state).toBe('ERROR');
    expect(good.strategy.state).toBe('READY');
    expect(good.strategy.getSnapshot().context.errorCount).toBe(0);
  });

  test('hooks of a deadline-driven transition run after it; a failure is audited but the safety move stands', () => {
    const { strategy, clock } = start({
      ...lt112,
      hooks: {
        onEnter: {
          ERROR: () => {
            throw new Error('pager down');
          },
        },
      },
    });
    drive(strategy, [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
      { type: 'ORDER_SUBMITTED' },
    ]);
    clock.increment(5 * MINUTE);
    expect(strategy.state).toBe('ERROR');
    const last = strategy.getAuditTrail().at(-1)!;
    expect(last).toMatchObject({ code: 'HOOK_FAILED', previousState: 'ERROR', currentState: 'ERROR' });
    expect(strategy.getSnapshot().context.errorCount).toBe(1);
  });

  test('a listener that throws does not break the strategy', () => {
    const errors: unknown[] = [];
    const { strategy } = start(lt112, { onListenerError: (e) => errors.push(e) });
    strategy.subscribe(() => {
      throw new Error('listener bug');
    });
    expect(strategy.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(errors).toHaveLength(1);
  });
});

describe('listeners receive each transition with the event that caused it', () => {
  test('accepted and rejected records, with the triggering event and its payload', () => {
    const { strategy } = start(lt112);
    const notices: Array<{ type: string; accepted: boolean }> = [];
    const unsubscribe = strategy.subscribe(({ record, event, strategyId }) => {
      expect(strategyId).toBe('lt112-1');
      notices.push({ type: event.type, accepted: record.accepted });
    });
    strategy.trigger({ type: 'MARKET_OPEN' });
    strategy.trigger({ type: 'ORDER_FILLED', quantity: 2 });
    unsubscribe();
    strategy.trigger({ type: 'TIME_WINDOW_START' });
    expect(notices).toEqual([
      { type: 'MARKET_OPEN', accepted: true },
      { type: 'ORDER_FILLED', accepted: false },
    ]);
  });
});

describe('safety triggers are never blocked by a hook', () => {
  test.each([
    [
      'EMERGENCY_EXIT',
      {
        onExit: {
          MANAGING: () => {
            throw new Error('monitor stop failed');
          },
        },
      },
      'EXITING',
      'onExit(MANAGING)',
    ],
    [
      'SYSTEM_ERROR',
      {
        onEnter: {
          ERROR: () => {
            throw new Error('pager down');
          },
        },
      },
      'ERROR',
      'onEnter(ERROR)',
    ],
  ] as const)('%s commits even when its hook throws; the failure is audited after it', (type, hooks, to, hook) => {
    const { strategy } = start({ ...lt112, hooks });
    drive(strategy, [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1 },
      { type: 'MARKET_OPEN' },
    ]);
    const result = strategy.trigger({ type });
    expect(result).toMatchObject({ accepted: true, from: 'MANAGING', to });
    expect(strategy.state).toBe(to);
    const failure = strategy.getAuditTrail().at(-1)!;
    expect(failure).toMatchObject({ code: 'HOOK_FAILED', previousState: to, currentState: to });
    expect(failure.reason).toContain(`hook ${hook} threw after ${type} (the transition stands)`);
    expect(strategy.getSnapshot().context.errorCount).toBe(1);
  });

  test('after-the-fact hooks see the context the transition started from', () => {
    const seen: string[] = [];
    const { strategy } = start({
      ...lt112,
      hooks: { onEnter: { ERROR: ({ context, record }) => seen.push(`${record.previousState}:${context.lastError?.reason ?? 'none'}`) } },
    });
    drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'x' }]);
    expect(seen).toEqual(['READY:none']);
  });
});

test('re-entering a state runs its exit and entry hooks even within the same millisecond', () => {
  const calls: string[] = [];
  const { strategy } = start({
    ...lt112,
    hooks: { onExit: { ENTERING: () => calls.push('exit') }, onEnter: { ENTERING: () => calls.push('enter') } },
  });
  drive(strategy, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
    { type: 'ORDER_SUBMITTED' },
  ]);
  expect(calls).toEqual(['enter']);
  const result = strategy.trigger({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1 });
  expect(result.record.reentered).toBe(true);
  expect(calls).toEqual(['enter', 'exit', 'enter']);
});

test('machine.provide() keeps the definition: hooks still run and abort', () => {
  const machine = createStrategyMachine({
    ...lt112,
    hooks: {
      onEnter: {
        READY: () => {
          throw new Error('no');
        },
      },
    },
  }).provide({});
  const strategy = createStrategyActor(machine, { id: 'provided' });
  expect(strategy.trigger({ type: 'MARKET_OPEN' })).toMatchObject({ accepted: false, code: 'HOOK_FAILED' });
});
