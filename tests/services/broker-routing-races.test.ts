/**
 * Races between the broker and the strategies, found by an integrator's scripted broker. Before:
 * - an entry acknowledged after the strategy left PENDING_ENTRY stayed working, uncancelled, and
 *   its fill was refused (the broker held a position the strategy did not know of);
 * - a late acknowledgement of a superseded entry moved the strategy on while the newer order also
 *   worked (two entries filled, one known);
 * - an entry's fill racing its cancel during an emergency exit was applied as an exit fill;
 * - an exit fill racing its cancel after the stuck deadline was refused, and the recovery from
 *   ERROR let a second exit go out for a position the broker had closed;
 * - an entry order went out after a halt set at the instant the strategy reached PENDING_ENTRY;
 * - an entry filled after a restart opened a position with no expiry (no 21-DTE exit).
 * Now a late or superseded acknowledgement cancels its order, a fill of an order the strategy no
 * longer waits on holds it in ERROR for an operator (position mismatch, no auto-recovery), the
 * routing checks the trading state before placing an entry, and a restart's fill takes its expiry
 * from the entry record.
 */
import { join } from 'node:path';
import type { BrokerAdapter, ExecutionReport, OrderRequest } from '../../services/broker/broker';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { startTradingDay, type TradingDay } from '../../services/day/tradingDay';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';

/** A broker whose acknowledgements and reports the test gives by hand. */
class ScriptedBroker implements BrokerAdapter {
  orders: Array<{ id: string; order: OrderRequest }> = [];
  cancels: string[] = [];
  private listeners = new Set<(report: ExecutionReport) => void>();
  private held: Array<{ order: OrderRequest; resolve: (answer: { orderId: string }) => void }> = [];
  hold = false;
  private n = 0;
  private reports = 0;
  submit(order: OrderRequest): Promise<{ orderId: string }> {
    if (this.hold) return new Promise((resolve) => this.held.push({ order, resolve }));
    const id = `B-${++this.n}`;
    this.orders.push({ id, order });
    return Promise.resolve({ orderId: id });
  }
  /** Acknowledges the oldest held submission; returns its order id. */
  acknowledge(): string {
    const next = this.held.shift();
    if (!next) throw new Error('no submission held');
    const id = `B-${++this.n}`;
    this.orders.push({ id, order: next.order });
    next.resolve({ orderId: id });
    return id;
  }
  cancel(orderId: string): Promise<void> {
    this.cancels.push(orderId);
    return Promise.resolve();
  }
  positions() {
    return Promise.resolve([]);
  }
  onExecution(listener: (report: ExecutionReport) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  report(orderId: string, strategyId: string, kind: ExecutionReport['kind'], quantity: number): void {
    for (const listener of this.listeners) listener({ orderId, strategyId, kind, quantity, reportId: `E-${++this.reports}`, price: 1 });
  }
}

const settled = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A strangle (quantity `qty`) on a driven in-memory day, Monday 10:00 ET, with the scripted broker. */
function day(qty = 2) {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  const strategy = system.add(strangle, { id: 's', params: { quantity: qty } });
  const broker = new ScriptedBroker();
  const errors: unknown[] = [];
  const driver = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  const send = (event: StrategyEvent) => system.send('s', event);
  const toPendingEntry = async () => {
    send({ type: 'MARKET_OPEN' });
    send({ type: 'TIME_WINDOW_START', window: 'entry' });
    send({ type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
    clock.increment(0);
    await settled();
  };
  return { clock, system, strategy, broker, errors, driver, send, toPendingEntry };
}

const heldForOperator = (s: {
  state: string;
  getSnapshot(): { context: { deadline: unknown; lastError: { reason: string } | null } };
}) => ({
  state: s.state,
  recovery: s.getSnapshot().context.deadline,
  reason: s.getSnapshot().context.lastError?.reason,
});

test('an entry acknowledged after the strategy gave it up is cancelled, and its fill holds the strategy for an operator', async () => {
  const d = day();
  d.broker.hold = true;
  await d.toPendingEntry();
  d.send({ type: 'TIME_WINDOW_END', window: 'entry' });
  await settled();
  expect(d.strategy.state).toBe('READY');
  const id = d.broker.acknowledge();
  await settled();
  expect(d.broker.cancels).toEqual([id]);
  expect(d.strategy.getAuditTrail().some((r) => r.trigger === 'ORDER_SUBMITTED')).toBe(false);

  d.broker.report(id, 's', 'fill', 2); // it filled before the cancel reached the broker
  await settled();
  expect(heldForOperator(d.strategy)).toEqual({
    state: 'ERROR',
    recovery: null,
    reason: expect.stringMatching(/^position mismatch: the broker reports a fill of 2 on entry order B-1/),
  });
  d.driver.stop();
});

test("a superseded entry acknowledged late is cancelled; only the newer order is the strategy's", async () => {
  const d = day();
  d.broker.hold = true;
  await d.toPendingEntry();
  d.send({ type: 'TIME_WINDOW_END', window: 'entry' });
  d.send({ type: 'TIME_WINDOW_START', window: 'entry' });
  d.send({ type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
  d.clock.increment(0);
  await settled();
  const first = d.broker.acknowledge();
  await settled();
  expect(d.broker.cancels).toEqual([first]);
  expect(d.strategy.state).toBe('PENDING_ENTRY');
  const second = d.broker.acknowledge();
  await settled();
  expect(d.strategy.state).toBe('ENTERING');
  d.broker.report(second, 's', 'fill', 2);
  await settled();
  expect(d.strategy.getSnapshot().context.position?.quantity).toBe(2);
  expect(d.broker.cancels).toEqual([first]);
  d.driver.stop();
});

test("an entry's fill racing its cancel during a kill switch: not taken as an exit fill, the exit of the known position stays working, then the strategy is held", async () => {
  const d = day(4);
  await d.toPendingEntry();
  const entry = d.broker.orders[0].id;
  d.broker.report(entry, 's', 'partial', 2);
  await settled();
  const run = d.system.killSwitch('risk desk');
  d.clock.increment(0);
  await settled();
  expect(d.strategy.state).toBe('EXITING');
  expect(d.broker.cancels).toEqual([entry]);
  const exit = d.broker.orders[1];
  expect(exit.order).toMatchObject({ side: 'close', quantity: 2 });

  d.broker.report(entry, 's', 'fill', 2); // the rest of the entry filled before the cancel arrived
  await settled();
  expect(d.strategy.state).toBe('EXITING'); // still flattening what it knows of
  expect(d.broker.cancels).toEqual([entry]); // the exit was not cancelled
  expect(d.strategy.getAuditTrail().some((r) => r.currentState === 'PARTIAL_EXIT')).toBe(false);

  d.broker.report(exit.id, 's', 'fill', 2);
  await settled();
  await run;
  // Flat as far as it knew, then held: the broker still has the 2 the late fill opened.
  expect(heldForOperator(d.strategy)).toMatchObject({
    state: 'ERROR',
    recovery: null,
    reason: expect.stringMatching(/fill of 2 on entry order B-1/),
  });
  d.driver.stop();
});

/**
 * A persisted strangle that placed its entry and went down: `acknowledged` says whether its
 * ORDER_SUBMITTED was written before. Then a second process on the same file, driven by the same
 * broker; `test` runs against it.
 */
async function acrossARestart(
  acknowledged: boolean,
  test: (second: PersistentStrategySystem, secondDay: TradingDay, broker: ScriptedBroker, orderId: string) => Promise<void>,
): Promise<void> {
  const { dir, cleanup } = tempDir('sl-broker-restart-');
  try {
    const file = join(dir, 's.db');
    const broker = new ScriptedBroker();
    broker.hold = !acknowledged;
    const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
    const variants = [zeroDte, lt112, strangle];
    const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
    const firstDay = startTradingDay({ target: first, clock, broker, onError: () => undefined });
    await first.add(strangle, { id: 's', params: { quantity: 2 } });
    for (const event of [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START', window: 'entry' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' },
    ] as StrategyEvent[])
      await first.send('s', event);
    clock.increment(0);
    await settled();
    await first.flush();
    expect(first.get('s').state).toBe(acknowledged ? 'ENTERING' : 'PENDING_ENTRY');
    firstDay.stop(); // down
    await first.close();
    broker.hold = false;
    const orderId = acknowledged ? broker.orders[0].id : broker.acknowledge(); // the broker had it

    const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
    const secondDay = startTradingDay({ target: second, clock, broker, onError: () => undefined });
    try {
      await test(second, secondDay, broker, orderId);
    } finally {
      secondDay.stop();
      await second.close();
    }
  } finally {
    cleanup();
  }
}

test("an entry placed before a restart and acknowledged by the broker only: its fill is taken (acknowledgement first), with the entry's expiry", () =>
  acrossARestart(false, async (second, _day, broker, orderId) => {
    broker.report(orderId, 's', 'fill', 2);
    await settled();
    await second.flush();
    expect(second.get('s').state).toBe('POSITION_OPEN');
    expect(second.get('s').getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2027-01-15' });
    expect(broker.orders).toHaveLength(1);
  }));

test('an exit fill racing its cancel after the stuck deadline holds the strategy: no recovery, no second exit', async () => {
  const d = day();
  await d.toPendingEntry();
  d.broker.report('B-1', 's', 'fill', 2);
  await settled();
  d.send({ type: 'MARKET_OPEN' });
  d.send({ type: 'MARGIN_CALL' });
  d.clock.increment(0);
  await settled();
  expect(d.strategy.state).toBe('EXITING');
  while (d.strategy.state === 'EXITING') {
    d.clock.increment(60_000);
    await settled();
  }
  expect(d.strategy.state).toBe('ERROR');
  d.broker.report('B-2', 's', 'fill', 2);
  await settled();
  expect(heldForOperator(d.strategy)).toMatchObject({
    state: 'ERROR',
    recovery: null,
    reason: expect.stringMatching(/fill of 2 on exit order B-2/),
  });
  d.clock.increment(2 * 60 * 60_000); // hours: a held ERROR does not recover
  await settled();
  expect(d.strategy.state).toBe('ERROR');
  expect(d.broker.orders.filter((o) => o.order.side === 'close')).toHaveLength(1);
  d.driver.stop();
});

test('a halt at the instant the strategy reached PENDING_ENTRY: no entry order goes out, and the strategy is told', async () => {
  const d = day();
  d.send({ type: 'MARKET_OPEN' });
  d.send({ type: 'TIME_WINDOW_START', window: 'entry' });
  d.send({ type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
  d.system.setTradingState('HALTED', 'risk desk');
  d.clock.increment(0);
  await settled();
  expect(d.broker.orders).toEqual([]);
  const [refused, again] = d.strategy.getAuditTrail().slice(-2);
  expect(refused).toMatchObject({ trigger: 'ENTRY_CONDITIONS_FAILED', previousState: 'PENDING_ENTRY', currentState: 'READY' });
  expect(refused.data.reason).toMatch(/entry order was not placed: trading state is HALTED/);
  // Back in READY inside the entry window whose bell has rung (10:00): it analyses again, as a
  // strategy reaching READY a millisecond later would; an entry stays refused while HALTED.
  expect(again).toMatchObject({ trigger: 'TIME_WINDOW_START', previousState: 'READY', currentState: 'ANALYZING' });
  expect(d.strategy.state).toBe('ANALYZING');
  d.driver.stop();
});

test('an entry filled after a restart has the expiry of the entry it placed, so its 21-DTE exit is scheduled', () =>
  acrossARestart(true, async (second, secondDay, broker, orderId) => {
    broker.report(orderId, 's', 'fill', 2);
    await settled();
    await second.flush();
    expect(second.get('s').getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2027-01-15' });
    expect(secondDay.scheduledExit('s')).not.toBeNull();
  }));

test('an entry acknowledged after its strategy was removed is cancelled: no order works for no one', async () => {
  const d = day();
  d.broker.hold = true;
  await d.toPendingEntry();
  d.send({ type: 'TIME_WINDOW_END', window: 'entry' });
  await settled();
  d.system.remove('s');
  const id = d.broker.acknowledge();
  await settled();
  expect(d.broker.cancels).toEqual([id]);
  d.driver.stop();
});

test('a 0DTE whose manage window has another name still gets its same-day exit from the window bell', async () => {
  const clock = createSimulatedClock('2026-12-04T11:00:00-05:00');
  const system = createStrategySystem({ clock });
  const strategy = system.add(zeroDte, { id: 'z' });
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-04' },
  ] as StrategyEvent[])
    expect(system.send('z', event).accepted).toBe(true);
  const windows = {
    zeroDte: [
      { name: 'entry', kind: 'entry', start: '10:30', end: '14:30' },
      { name: 'exit', kind: 'manage', start: '10:30', end: '15:45' },
    ] as const,
  };
  const errors: unknown[] = [];
  // Held at the start: the monitor cannot find its exit window (reported), the window bells still ring.
  const driver = startTradingDay({ target: system, clock, windows, onError: (e) => errors.push(e) });
  clock.set(Date.parse('2026-12-04T15:46:00-05:00'));
  await settled();
  const exit = strategy.getAuditTrail().find((r) => r.trigger === 'TIME_WINDOW_END' && r.accepted);
  expect(exit && [new Date(exit.at).toISOString(), exit.currentState]).toEqual(['2026-12-04T20:45:00.000Z', 'PENDING_EXIT']);
  expect(errors.length).toBeGreaterThan(0);
  driver.stop();
});

test('a strategy removed and added again under its id: the late acknowledgement of the old entry is cancelled, not taken as the new one', async () => {
  const d = day();
  d.broker.hold = true;
  await d.toPendingEntry();
  d.send({ type: 'TIME_WINDOW_END', window: 'entry' }); // the entry is given up, its submission unanswered
  await settled();
  d.system.remove('s');
  d.driver.refresh(); // the routing forgets the removed strategy (a service whose ids come and go keeps nothing per id)
  const again = d.system.add(strangle, { id: 's', params: { quantity: 2 } });
  d.driver.refresh();
  d.send({ type: 'MARKET_OPEN' });
  d.send({ type: 'TIME_WINDOW_START', window: 'entry' });
  d.send({ type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
  d.clock.increment(0);
  await settled();
  expect(again.state).toBe('PENDING_ENTRY');
  const old = d.broker.acknowledge();
  await settled();
  expect(d.broker.cancels).toEqual([old]);
  expect(again.state).toBe('PENDING_ENTRY');
  const fresh = d.broker.acknowledge();
  await settled();
  expect(again.state).toBe('ENTERING');
  expect(again.getAuditTrail().find((r) => r.trigger === 'ORDER_SUBMITTED')?.data).toMatchObject({ orderId: fresh });
  d.driver.stop();
});
