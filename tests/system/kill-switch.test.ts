/** The kill switch: HALTED, flatten every position, retry rejected exits with backoff on the clock. */
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { KillSwitchInterruptedError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { killSwitch } from '../../services/runtime/killSwitch';
import type { StrategyHandle } from '../../services/runtime/strategyActor';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { KillSwitchProgress } from '../../services/store/types';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';

/** A broker on the simulated clock: answers each exit order 100 ms later from a script per strategy. */
function broker(
  system: ReturnType<typeof createStrategySystem>,
  clock: ReturnType<typeof createSimulatedClock>,
  answers: Record<string, Array<'reject' | 'fill'>>,
) {
  const orders: Record<string, number> = {};
  system.subscribe(({ strategyId, record }) => {
    if (!record.accepted || record.currentState !== 'EXITING') return;
    orders[strategyId] = (orders[strategyId] ?? 0) + 1;
    const answer = answers[strategyId]?.shift() ?? 'reject';
    clock.setTimeout(() => {
      const open = system.get(strategyId).getSnapshot().context.position?.quantity ?? 0;
      system.send(
        strategyId,
        answer === 'fill' ? { type: 'ORDER_FILLED', quantity: open } : { type: 'ORDER_REJECTED', reason: 'no liquidity' },
      );
    }, 100);
  });
  return orders;
}

test('exits rejected twice before filling: flattened; flat strategies reported; a strategy that never fills ends in ERROR', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock, killSwitch: { maxRetries: 3, backoffMs: 1000 } });
  for (const id of ['twice', 'never', 'flat']) system.add(lt112, { id });
  for (const e of toPosition) {
    system.send('twice', e);
    system.send('never', e);
  }
  system.send('flat', { type: 'MARKET_OPEN' });
  const orders = broker(system, clock, { twice: ['reject', 'reject', 'fill'], never: [] });

  const done = system.killSwitch('risk desk: flatten all');
  expect(system.tradingState).toBe('HALTED');
  // Backoff 1 s, 2 s, 4 s between attempts: after the first reject at +0.1 s the retry is at +1.1 s, ...
  clock.increment(1100);
  expect(orders).toEqual({ twice: 2, never: 2 });
  clock.increment(60_000);
  const result = await done;

  expect(result.flattened).toEqual(['twice']);
  expect(result.alreadyFlat).toEqual(['flat']);
  expect(result.failed).toEqual([{ strategyId: 'never', reason: 'kill switch: exit rejected 4 times, last: no liquidity' }]);
  expect(orders).toEqual({ twice: 3, never: 4 });
  expect(system.get('twice').state).toBe('CLOSED');
  expect(system.get('never').state).toBe('ERROR');
  expect(system.get('never').getSnapshot().context.position?.quantity).toBe(2);

  // Retries were spaced by the backoff on the system clock.
  const exits = system
    .get('twice')
    .getAuditTrail()
    .filter((r) => r.currentState === 'EXITING')
    .map((r) => r.at - FRIDAY_11AM);
  expect(exits).toEqual([0, 1100, 3200]);
  // While HALTED, nobody else may place an exit order.
  expect(system.send('never', { type: 'RESET' })).toMatchObject({ accepted: true, to: 'MANAGING' });
  expect(system.send('never', { type: 'EMERGENCY_EXIT' })).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  expect(system.tradingStateHistory().at(-1)).toMatchObject({ to: 'HALTED', reason: 'kill switch: risk desk: flatten all' });
});

test('a strategy the kill switch gave up on stays in ERROR for an operator: no auto-recovery to MANAGING 30 minutes later', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock, killSwitch: { maxRetries: 1, backoffMs: 1000 } });
  system.add(lt112, { id: 'never' });
  for (const e of toPosition) system.send('never', e);
  broker(system, clock, { never: [] });
  const done = system.killSwitch('risk desk');
  clock.increment(5_000);
  expect((await done).failed).toEqual([{ strategyId: 'never', reason: 'kill switch: exit rejected 2 times, last: no liquidity' }]);
  expect(system.get('never').state).toBe('ERROR');
  expect(system.get('never').getSnapshot().context.deadline).toBeNull();
  // Before, the recovery delay armed by that SYSTEM_ERROR put the position back in MANAGING.
  clock.increment(31 * 60_000);
  expect(system.get('never').state).toBe('ERROR');
  expect(system.get('never').getSnapshot().context.position?.quantity).toBe(2);
  expect(system.send('never', { type: 'RESET' })).toMatchObject({ accepted: true, to: 'MANAGING' });
});

test('a strategy in ERROR with a position is flattened through EMERGENCY_EXIT (ERROR is tagged exitable), audited', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'broken' });
  for (const e of [...toPosition, { type: 'SYSTEM_ERROR', reason: 'feed' } as StrategyEvent]) system.send('broken', e);
  broker(system, clock, { broken: ['fill'] });
  const done = system.killSwitch('eod');
  clock.increment(1000);
  expect(await done).toMatchObject({ flattened: ['broken'], failed: [] });
  const exit = system
    .get('broken')
    .getAuditTrail()
    .find((r) => r.previousState === 'ERROR');
  expect(exit).toMatchObject({ trigger: 'EMERGENCY_EXIT', accepted: true, currentState: 'EXITING', data: { reason: 'kill switch: eod' } });
  expect(system.get('broken').getSnapshot().hasTag('exitable')).toBe(false); // CLOSED now
});

test('one abort listener per run, however many positions: Node warns of a leak past ten per signal; aborting still stops every loop', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  const ids = Array.from({ length: 25 }, (_, i) => `held-${i}`);
  for (const id of ids) {
    system.add(lt112, { id });
    for (const e of toPosition) system.send(id, e);
  }
  const handles = ids.map((id) => system.get(id) as StrategyHandle);
  const deliver = (handle: StrategyHandle, event: StrategyEvent) => system.send(handle.id, event);
  // Every exit is rejected: the loops wait on their backoff until the run is aborted.
  system.subscribe(({ strategyId, record }) => {
    if (record.accepted && record.currentState === 'EXITING')
      clock.setTimeout(() => void system.send(strategyId, { type: 'ORDER_REJECTED', reason: 'no liquidity' }), 100);
  });
  const controller = new AbortController();
  const run = killSwitch(handles, 'risk desk', clock, { maxRetries: 100 }, deliver, { signal: controller.signal });
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
  clock.increment(5000);
  controller.abort();
  await expect(run).rejects.toBeInstanceOf(KillSwitchInterruptedError);
  await expect(run).rejects.toMatchObject({ pending: expect.arrayContaining(ids) });
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  system.stop();
});

test('a burst of fills is stored as one step of the kill switch, not one write per position', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let steps = 0;
    class CountingStore extends SqliteStore {
      override saveKillSwitch(progress: KillSwitchProgress) {
        steps++;
        return super.saveKillSwitch(progress);
      }
    }
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = await openStrategySystem({ store: new CountingStore(join(dir, 'ks.db')), variants: [lt112], clock });
    const ids = Array.from({ length: 40 }, (_, i) => `held-${i}`);
    for (const id of ids) {
      await system.add(lt112, { id });
      for (const e of toPosition) await system.send(id, e);
    }
    // The broker fills every exit order 100 ms after it is placed: all at the same instant.
    system.subscribe(({ strategyId, record }) => {
      if (record.accepted && record.currentState === 'EXITING')
        clock.setTimeout(() => void system.send(strategyId, { type: 'ORDER_FILLED', quantity: 2 }), 100);
    });
    const done = system.killSwitch('risk desk');
    await new Promise<void>((resolve) => setImmediate(resolve));
    await system.flush();
    const before = steps;
    clock.increment(100);
    const result = await done;
    expect([...result.flattened].sort()).toEqual([...ids].sort());
    // Forty outcomes, a few steps (the burst spans the group commit's batches), then the finish.
    expect(steps - before).toBeLessThanOrEqual(5);
    const stored = (await system.store.loadSystemState()).killSwitchParts;
    expect(stored.at(-1)).toMatchObject({ pending: [], finishedAt: expect.any(Number) });
    expect(stored.at(-1)?.flattened).toHaveLength(ids.length);
    await system.close();
  } finally {
    cleanup();
  }
});

test('a strategy held in SUSPENDED or ERROR with a position is flattened too, not reported as already flat', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  for (const id of ['suspended', 'error']) {
    system.add(lt112, { id });
    for (const e of toPosition) system.send(id, e);
  }
  const hold = (target: 'SUSPENDED' | 'ERROR'): StrategyEvent => ({
    type: 'MANUAL_OVERRIDE',
    target,
    reason: 'test setup',
    operator: 'tests',
  });
  expect(system.send('suspended', hold('SUSPENDED'))).toMatchObject({ accepted: true, to: 'SUSPENDED' });
  expect(system.send('error', hold('ERROR'))).toMatchObject({ accepted: true, to: 'ERROR' });
  const orders = broker(system, clock, { suspended: ['fill'], error: ['fill'] });

  const done = system.killSwitch('risk desk: flatten all');
  clock.increment(1000);
  // Both exit orders were placed (checked before awaiting: a skipped strategy fails here at once).
  expect(orders).toEqual({ suspended: 1, error: 1 });
  const result = await done;

  expect(result.flattened.sort()).toEqual(['error', 'suspended']);
  expect(result.alreadyFlat).toEqual([]);
  for (const id of ['suspended', 'error']) expect(system.get(id).getSnapshot().context.position).toBeNull();
});
