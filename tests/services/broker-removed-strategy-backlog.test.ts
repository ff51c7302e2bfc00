/**
 * Reports already waiting in the broker routing's retry queue when their strategy is removed: a
 * fill the store refused (the strategy still ENTERING), sent again after a backoff. Before, the
 * removal left the queue alone and the retry went to whatever held the id by then: a strategy added
 * again under it got the old entry's ORDER_FILLED, refused it (INITIALIZING has no edge for it)
 * and was held in ERROR for a "position mismatch" with an order it never placed; a queued
 * ORDER_REJECTED reached it too. Now `removed(id)` empties the id's queue: a fill in it is told as
 * an UntrackedFillError, anything else (a reject, an acknowledgement) is dropped, and none of
 * them reaches a strategy; a fill whose send was on its way at the removal and then failed is told
 * so too, never retried. In-memory system over a real memory store that refuses writes while
 * told to, simulated clock, the paper broker: no mocks.
 */
import { StoreUnavailableError, UntrackedFillError } from '../../index';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle } from '../../machines/variants';
import { PaperBroker, type PaperScript } from '../../services/broker/broker';
import { startBrokerRouting } from '../../services/runtime/routing/brokerRouting';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { FlakyMemoryStore } from '../support/flakyStore';
import { sendEntry } from '../support/scriptedBroker';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * A strangle of 2 ENTERING on Monday 10:00 ET whose entry order's first report (`step`, 1 s after
 * it was placed) the store refuses: it waits in the routing's retry queue. Then the store is back,
 * the operator's emergency exit (READY), the removal and a strategy added again under the id.
 */
async function removedWithQueuedReport(step: PaperScript[number]) {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const store = new FlakyMemoryStore();
  const system = createStrategySystem({ clock, store });
  const old = system.add(strangle, { id: 's', params: { quantity: 2 } });
  const broker = new PaperBroker({ clock, session: 'queued', latencyMs: 1000, script: () => [step] });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  sendEntry(system);
  clock.increment(0);
  await flush();
  expect(old.state).toBe('ENTERING');
  store.full = true;
  clock.increment(1000); // the report: its write refused, it waits for a retry 1 s later
  await flush();
  expect(store.refused).toBe(1);
  expect(old.state).toBe('ENTERING');
  store.full = false;
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'operator' }).to).toBe('READY');
  clock.increment(0);
  await flush();
  system.remove('s');
  const again = system.add(strangle, { id: 's', params: { quantity: 2 } });
  clock.increment(1000); // the retry's moment
  await flush();
  clock.increment(10 * 60_000); // and every later one
  await flush();
  day.stop();
  system.stop();
  const orders = again.getAuditTrail().filter((r) => r.trigger.startsWith('ORDER_'));
  return { state: again.state, orders, errors, broker };
}

test('a fill waiting in the retry queue when its strategy is removed is told as untracked, never delivered to the one added again', async () => {
  const { state, orders, errors, broker } = await removedWithQueuedReport({ kind: 'fill' });
  expect({ state, orders, errors }).toEqual({
    state: 'INITIALIZING',
    orders: [],
    errors: [expect.any(UntrackedFillError)],
  });
  const error = errors[0] as UntrackedFillError;
  expect({ strategyId: error.strategyId, orderId: error.orderId, quantity: error.quantity, side: error.side }).toEqual({
    strategyId: 's',
    orderId: 'paper-queued-1',
    quantity: 2,
    side: 'open',
  });
  expect(await broker.positions()).toEqual([{ strategyId: 's', quantity: 2 }]);
});

test('a reject waiting in the retry queue when its strategy is removed is dropped: nothing delivered, nothing told', async () => {
  const { state, orders, errors } = await removedWithQueuedReport({ kind: 'reject', reason: 'no liquidity' });
  expect({ state, orders, errors }).toEqual({ state: 'INITIALIZING', orders: [], errors: [] });
});

test('a fill whose send is on its way at the removal, and fails, is told as untracked and never sent again', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const e of [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry] as StrategyEvent[])
    expect(system.send('lt', e).accepted).toBe(true);
  const errors: unknown[] = [];
  const sent: string[] = [];
  const routing = startBrokerRouting({
    broker: new PaperBroker({ clock, session: 'in-flight', latencyMs: 100 }),
    clock,
    onError: (e) => errors.push(e),
    target: {
      get: (id) => system.get(id),
      has: (id) => system.has(id),
      // A store that answers a fill's write 500 ms later, with a failure (an asynchronous store).
      send: (id, event) => {
        sent.push(event.type);
        if (event.type !== 'ORDER_FILLED') return system.send(id, event);
        return new Promise((_resolve, reject) =>
          clock.setTimeout(() => reject(new StoreUnavailableError('sqlite', 'connection lost')), 500),
        );
      },
    },
  });
  routing.submitFor(system.get('lt'));
  clock.increment(200); // the fill's send is on its way
  await flush();
  expect(sent).toEqual(['ORDER_SUBMITTED', 'ORDER_FILLED']);
  routing.removed('lt');
  clock.increment(60_000);
  await flush();
  routing.stop();
  system.stop();
  expect({ sent, errors }).toEqual({ sent: ['ORDER_SUBMITTED', 'ORDER_FILLED'], errors: [expect.any(UntrackedFillError)] });
  expect((errors[0] as UntrackedFillError).quantity).toBe(1);
});
