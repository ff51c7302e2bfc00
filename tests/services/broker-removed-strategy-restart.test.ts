/**
 * A strategy removed while its entry order is still alive at the broker (EMERGENCY_EXIT from
 * ENTERING, the entry's cancel lost with the process that sent it), added again under the same id,
 * then the service restarts. The reopened routing knows nothing of the removal: the old order,
 * found again through the broker's `openOrders()`, was taken for the new strategy's. Its fill put
 * the new strategy (which placed nothing) into ERROR as a "position mismatch", and its cancel's
 * reject answered the new strategy's own entry, moving it from PENDING_ENTRY back to READY while
 * its order... was never placed. Now every order carries the `incarnation` of the strategy that
 * placed it (a random id given at its add, kept in its stored context); the reopened routing
 * treats an order of another incarnation as an orphan: cancelled, its fill told as an
 * UntrackedFillError and delivered to no strategy. A real SQLite file, the paper broker (the
 * broker outlives the service's process), one simulated clock: no mocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UntrackedFillError } from '../../index';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { PaperBroker, type OrderRequest, type PaperBrokerOptions } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { settled } from '../support/scriptedBroker';

/**
 * The paper broker, with a switch that loses cancels on their way (the process sending them died);
 * the others reach it 5 s after they are sent (a real broker's round trip: a fill may come first).
 */
class LossyCancelBroker extends PaperBroker {
  orders: Array<OrderRequest & { orderId: string }> = [];
  loseCancels = false;
  constructor(private readonly opts: PaperBrokerOptions) {
    super(opts);
  }
  private get clock() {
    return this.opts.clock;
  }
  override submit(order: OrderRequest): { orderId: string } {
    const answer = super.submit(order);
    this.orders.push({ ...order, orderId: answer.orderId });
    return answer;
  }
  /** Off: `openOrders()` lists nothing (a broker that cannot list its book); the reports still name the incarnation. */
  listsOrders = true;
  override openOrders(): Promise<Array<OrderRequest & { orderId: string }>> {
    return this.listsOrders ? super.openOrders() : Promise.resolve([]);
  }
  override cancel(orderId: string): Promise<void> {
    if (this.loseCancels) return Promise.resolve();
    return new Promise<void>((resolve) => this.clock.setTimeout(() => resolve(), 5000)).then(() => super.cancel(orderId));
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'removed-restart-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ENTRY: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START', window: 'entry' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' },
];

async function feed(system: PersistentStrategySystem, events: StrategyEvent[]): Promise<void> {
  for (const event of events) {
    const result = await system.send('s', event);
    if (!result.accepted) throw new Error(`${event.type} refused in ${result.from}: ${result.reason}`);
  }
}

/**
 * Monday 10:00 ET: `s` (2 contracts) places its entry, the entry fills 1 s after it was placed;
 * the operator's emergency exit sends it back to READY, its cancel is lost; it is removed, added
 * again (1 contract), and the new one is driven as far as `newEvents` take it with no broker
 * connected (the service went down right after). Then the service starts again on the same file.
 */
async function restartAfterRemoval(newEvents: StrategyEvent[], listsOrders = true) {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const broker = new LossyCancelBroker({ clock, session: 'restart', script: () => [{ kind: 'fill', afterMs: 1000 }] });
  const file = join(dir, 'day.db');
  const first = await openStrategySystem({ store: new SqliteStore(file), variants: [zeroDte, lt112, strangle], clock });
  await first.add(strangle, { id: 's', params: { quantity: 2 } });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: first, clock, broker, onError: (e) => errors.push(e) });
  await feed(first, ENTRY);
  clock.increment(0);
  await settled();
  await first.flush();
  expect(first.get('s').state).toBe('ENTERING');
  expect(broker.orders).toHaveLength(1);
  broker.loseCancels = true;
  expect((await first.send('s', { type: 'EMERGENCY_EXIT', reason: 'operator' })).to).toBe('READY');
  clock.increment(0);
  await settled();
  await first.remove('s');
  day.stop(); // the broker connection is gone: what follows reaches no broker
  await first.add(strangle, { id: 's', params: { quantity: 1 } });
  await feed(first, newEvents);
  await first.flush();
  await first.close();
  broker.loseCancels = false;
  broker.listsOrders = listsOrders;

  const second = await openStrategySystem({ store: new SqliteStore(file), variants: [zeroDte, lt112, strangle], clock });
  const again = startTradingDay({ target: second, clock, broker, onError: (e) => errors.push(e) });
  clock.increment(0);
  await settled();
  await second.flush();
  return { clock, broker, errors, second, again, oldOrder: broker.orders[0] };
}

test('after a restart, the late fill of a removed strategy’s entry does not put the strategy added again under its id into ERROR', async () => {
  const { clock, broker, errors, second, again, oldOrder } = await restartAfterRemoval([]);
  clock.increment(1000); // the old entry's fill beats its cancel (sent at the restart)
  await settled();
  await second.flush();
  // The trading day moves it on (market open, entry window); nothing of the broker's reached it.
  const triggers = second
    .get('s')
    .getAuditTrail()
    .map((r) => r.trigger);
  expect(triggers.filter((t) => t.startsWith('ORDER_') || t === 'SYSTEM_ERROR')).toEqual([]);
  expect(second.get('s').state).not.toBe('ERROR');
  // The old order's fill (its cancel, sent at the restart, came too late): contracts no strategy tracks, told as such.
  expect(await broker.positions()).toEqual([{ strategyId: 's', quantity: 2 }]);
  expect(errors).toEqual([expect.any(UntrackedFillError)]);
  expect((errors[0] as UntrackedFillError).orderId).toBe(oldOrder.orderId);
  again.stop();
  await second.close();
});

test('after a restart, a removed strategy’s order is not taken for the entry of the strategy added again under its id', async () => {
  const { clock, broker, errors, second, again, oldOrder } = await restartAfterRemoval(ENTRY);
  // The new strategy waited in PENDING_ENTRY with no order placed: the restart places its own (1 contract).
  const newOrders = broker.orders.slice(1);
  expect(newOrders).toEqual([
    {
      strategyId: 's',
      side: 'open',
      quantity: 1,
      expiry: '2027-01-15',
      incarnation: second.get('s').getSnapshot().context.incarnation,
      orderId: expect.any(String),
    },
  ]);
  expect(newOrders[0].incarnation).not.toBe(oldOrder.incarnation);
  expect(second.get('s').state).toBe('ENTERING');
  clock.increment(1000); // both fills
  await settled();
  await second.flush();
  const s = second.get('s').getSnapshot().context;
  expect({ state: second.get('s').state, position: s.position?.quantity, errors: s.errorCount }).toEqual({
    state: 'POSITION_OPEN',
    position: 1,
    errors: 0,
  });
  expect(errors.filter((e) => !(e instanceof UntrackedFillError))).toEqual([]);
  again.stop();
  await second.close();
});

test('after a restart, a report naming a removed strategy’s incarnation reaches no strategy, even when the broker lists no orders', async () => {
  const { clock, broker, errors, second, again, oldOrder } = await restartAfterRemoval([], false);
  clock.increment(1000); // the old entry's fill: its order unknown to the reopened routing, its report names the old incarnation
  await settled();
  await second.flush();
  const triggers = second
    .get('s')
    .getAuditTrail()
    .map((r) => r.trigger);
  expect(triggers.filter((t) => t.startsWith('ORDER_') || t === 'SYSTEM_ERROR')).toEqual([]);
  expect(await broker.positions()).toEqual([{ strategyId: 's', quantity: 2 }]);
  expect(errors).toEqual([expect.any(UntrackedFillError)]);
  expect(errors[0]).toMatchObject({ orderId: oldOrder.orderId, quantity: 2 });
  again.stop();
  await second.close();
});
