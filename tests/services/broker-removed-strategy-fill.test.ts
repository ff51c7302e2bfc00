/**
 * A strategy removed while an order of its own is still alive at the broker: an entry cancelled
 * after EMERGENCY_EXIT from ENTERING (nothing filled, so the strategy is flat and may be removed),
 * whose cancel loses the race with a fill. Before, the late fill went to whatever strategy held the
 * id by then: one added again under it was put into ERROR ("position mismatch") for an order it
 * never placed, and the real problem (contracts filled at the broker that no strategy tracks) was
 * not named; with the id left empty the fill waited four minutes as "not held here". Now the
 * routing learns of the removal from the system: the fill is never delivered, and `onError` gets an
 * UntrackedFillError naming the strategy, the order and the contracts. In-memory system, simulated
 * clock, the paper broker with a cancel that takes time to reach it: no mocks.
 */
import { UntrackedFillError } from '../../index';
import { strangle } from '../../machines/variants';
import { PaperBroker, type OrderRequest, type PaperBrokerOptions } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { sendEntry } from '../support/scriptedBroker';

/** The paper broker, its cancels reaching it `cancelMs` after they are sent (a real broker's round trip). */
class SlowCancelBroker extends PaperBroker {
  orders: Array<OrderRequest & { orderId: string }> = [];
  constructor(
    private readonly opts: PaperBrokerOptions,
    private readonly cancelMs: number,
    /** When set, the acknowledgement reaches the routing this long after the order went out (its fill may come first). */
    private readonly ackMs?: number,
  ) {
    super(opts);
  }
  override submit(order: OrderRequest): { orderId: string } & Promise<{ orderId: string }> {
    const answer = super.submit(order);
    this.orders.push({ ...order, orderId: answer.orderId });
    const { ackMs } = this;
    if (ackMs === undefined) return answer as { orderId: string } & Promise<{ orderId: string }>;
    return new Promise<{ orderId: string }>((resolve) => this.opts.clock.setTimeout(() => resolve(answer), ackMs)) as {
      orderId: string;
    } & Promise<{ orderId: string }>;
  }
  override cancel(orderId: string): Promise<void> {
    return new Promise<void>((resolve) => this.opts.clock.setTimeout(() => resolve(), this.cancelMs)).then(() => super.cancel(orderId));
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A strangle of 2 in ENTERING on Monday 10:00 ET, its entry filling 1 s after it was placed, a cancel taking 5 s. */
async function entering() {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  const old = system.add(strangle, { id: 's', params: { quantity: 2 } });
  const broker = new SlowCancelBroker({ clock, session: 'removed', latencyMs: 1000 }, 5000);
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  sendEntry(system);
  clock.increment(0);
  await flush();
  clock.increment(0);
  await flush();
  expect(old.state).toBe('ENTERING');
  expect(broker.orders).toHaveLength(1);
  // The operator's emergency exit: nothing filled, READY; the entry's cancel is on its way.
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'operator' }).to).toBe('READY');
  clock.increment(0);
  await flush();
  system.remove('s');
  return { clock, system, broker, errors, day, orderId: broker.orders[0].orderId };
}

test('the late fill of a removed strategy’s entry never reaches the strategy added again under its id', async () => {
  const { clock, system, broker, errors, day, orderId } = await entering();
  const again = system.add(strangle, { id: 's', params: { quantity: 2 } });
  clock.increment(1000); // the fill beats the cancel
  await flush();
  expect({ state: again.state, errors }).toEqual({ state: 'INITIALIZING', errors: [expect.any(UntrackedFillError)] });
  expect(again.getAuditTrail().filter((r) => r.accepted)).toEqual([]);
  expect(await broker.positions()).toEqual([{ strategyId: 's', quantity: 2 }]);
  expect(errors).toEqual([expect.any(UntrackedFillError)]);
  const error = errors[0] as UntrackedFillError;
  expect({ strategyId: error.strategyId, orderId: error.orderId, quantity: error.quantity }).toEqual({
    strategyId: 's',
    orderId,
    quantity: 2,
  });
  expect(error.message).toMatch(/2 contracts are at the broker with no strategy tracking them/);
  clock.increment(10_000);
  await flush();
  expect(again.state).toBe('INITIALIZING');
  day.stop();
  system.stop();
});

test('the late fill of a removed strategy’s entry is told at once as untracked, not retried as "not held here"', async () => {
  const { clock, system, errors, day, orderId } = await entering();
  clock.increment(1000);
  await flush();
  expect(errors).toEqual([expect.any(UntrackedFillError)]);
  expect((errors[0] as UntrackedFillError).orderId).toBe(orderId);
  clock.increment(10 * 60_000); // no retries left behind to tell it again under another name
  await flush();
  expect(errors).toHaveLength(1);
  day.stop();
  system.stop();
});

test('an entry acknowledged after its strategy was removed, its fill first: cancelled, and the fill reaches no strategy', async () => {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  system.add(strangle, { id: 's', params: { quantity: 2 } });
  const broker = new SlowCancelBroker({ clock, session: 'late-ack', latencyMs: 1000 }, 5000, 2000);
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  sendEntry(system);
  clock.increment(0);
  await flush();
  expect(broker.orders).toHaveLength(1); // placed, not acknowledged yet
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'operator' }).to).toBe('READY');
  clock.increment(0);
  await flush();
  system.remove('s');
  const again = system.add(strangle, { id: 's', params: { quantity: 2 } });
  clock.increment(1000); // the fill, held for the acknowledgement
  await flush();
  clock.increment(1000); // the acknowledgement: the order is cancelled, its fill told as untracked
  await flush();
  expect({ state: again.state, errors }).toEqual({ state: 'INITIALIZING', errors: [expect.any(UntrackedFillError)] });
  expect((errors[0] as UntrackedFillError).orderId).toBe(broker.orders[0].orderId);
  day.stop();
  system.stop();
});
