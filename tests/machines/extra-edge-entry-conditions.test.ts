/**
 * `docs/variants.md` lets an extra edge be guarded by `areEntryConditionsMet` ("all of them": the
 * variant's entry guards), and the definition check accepts it. A variant with entry guards has
 * no guard of that name in its `setup()`, though: before, every event such an edge was tried for
 * failed the actor (`Guard 'areEntryConditionsMet' is not implemented`), refused as ACTOR_FAILED
 * through the runtime and stopping a bare XState actor for good.
 */
import { createActor } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';

/** lt112, plus an entry signal taken straight from READY when all of lt112's entry guards pass. */
const direct: StrategyDefinition = {
  ...lt112,
  id: 'lt112-direct',
  extraEdges: [
    {
      from: ['READY'],
      on: ['ENTRY_CONDITIONS_MET'],
      to: 'PENDING_ENTRY',
      guard: 'areEntryConditionsMet',
      why: 'entry signal outside the window',
    },
    {
      from: ['SUSPENDED'],
      on: ['ENTRY_CONDITIONS_MET'],
      to: 'PENDING_ENTRY',
      guard: ['isFlat', 'areEntryConditionsMet'],
      why: 'a flat suspended strategy may enter',
    },
  ],
};
const NOW = '2026-12-01T09:30:00-05:00';
// 115 days before expiry (lt112's band is 112-120 DTE), VIX inside 12-40.
const good = { type: 'ENTRY_CONDITIONS_MET', vix: 20, expiry: '2027-03-26' } as const;
const highVix = { type: 'ENTRY_CONDITIONS_MET', vix: 55, expiry: '2027-03-26' } as const;

test('through the runtime: the edge is taken when every entry guard passes, and refused naming the one that fails', () => {
  const strategy = createStrategyActor(createStrategyMachine(direct), { id: 'd1', clock: createSimulatedClock(NOW) });
  strategy.trigger({ type: 'MARKET_OPEN' });
  expect(strategy.explain(highVix)).toEqual({ code: 'GUARD_FAILED', reason: expect.stringContaining('isVixInRange: VIX 55') });
  expect(strategy.trigger(highVix)).toMatchObject({ accepted: false, code: 'GUARD_FAILED', to: 'READY' });
  expect(strategy.can(good)).toBe(true);
  expect(strategy.trigger(good)).toMatchObject({ accepted: true, from: 'READY', to: 'PENDING_ENTRY' });
  strategy.stop();
});

test('an array guard naming areEntryConditionsMet with another guard takes both', () => {
  const strategy = createStrategyActor(createStrategyMachine(direct), { id: 'd2', clock: createSimulatedClock(NOW) });
  strategy.trigger({ type: 'MARKET_OPEN' });
  strategy.trigger({ type: 'FOMC_MEETING', date: '2026-12-09' });
  expect(strategy.state).toBe('SUSPENDED');
  expect(strategy.trigger(highVix)).toMatchObject({ accepted: false, code: 'GUARD_FAILED', to: 'SUSPENDED' });
  expect(strategy.trigger(good)).toMatchObject({ accepted: true, from: 'SUSPENDED', to: 'PENDING_ENTRY' });
  strategy.stop();
});

test('a bare XState actor takes the edge and keeps running', () => {
  const actor = createActor(createStrategyMachine(direct)).start();
  actor.send({ type: 'MARKET_OPEN', at: Date.parse(NOW) });
  expect(actor.getSnapshot().can({ ...highVix, at: Date.parse(NOW) })).toBe(false);
  actor.send({ ...highVix, at: Date.parse(NOW) });
  expect(actor.getSnapshot()).toMatchObject({ status: 'active', value: 'READY' });
  actor.send({ ...good, at: Date.parse(NOW) });
  expect(actor.getSnapshot()).toMatchObject({ status: 'active', value: 'PENDING_ENTRY' });
  actor.stop();
});
