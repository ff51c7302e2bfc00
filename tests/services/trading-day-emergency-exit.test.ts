/**
 * EMERGENCY_EXIT (and the kill switch, which sends it) moves a strategy straight to EXITING, the
 * state that means "exit order working". The service's driver places that order: without it the
 * strategy waited in EXITING for its stuck deadline with nothing at the broker. SQLite in a temp
 * dir, the simulated clock, the paper broker: no mocks.
 */
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { PaperBroker, type OrderRequest } from '../../services/broker/broker';
import { needsExitOrder } from '../../services/runtime/routing/orderIntent';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { stepClock } from '../../services/simulation/simulatedTime';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const toManaging: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-03-29' },
  { type: 'MARKET_OPEN' },
];

/** A system of strategy `lt` in MANAGING holding 2 contracts, then driven by the trading day over a paper broker that logs its orders. */
async function driven(dir: string) {
  const file = join(dir, 'day.db');
  const setup = await openStrategySystem({
    store: new SqliteStore(file),
    variants: [zeroDte, lt112, strangle],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await setup.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const event of toManaging) expect(await setup.send('lt', event)).toMatchObject({ accepted: true });
  await setup.close();

  const clock = createSimulatedClock(FRIDAY_11AM + 60_000);
  const orders: OrderRequest[] = [];
  // The broker holds what the strategy holds: the open's reconciliation finds them in agreement.
  const paper = new PaperBroker({ clock, initialPositions: [{ strategyId: 'lt', quantity: 2 }] });
  const broker = Object.assign(Object.create(paper) as PaperBroker, {
    submit: (order: OrderRequest) => (orders.push(order), paper.submit(order)),
  });
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [zeroDte, lt112, strangle], clock, broker });
  const day = driveDay(system, clock, broker);
  const until = (ms: number) => stepClock(clock, clock.now() + ms, () => system.flush(), 50);
  return { system, day, orders, until, file };
}

/** The service's trading day over `system`: any failure of its own fails the test. */
const driveDay = (system: PersistentStrategySystem, clock: SimulatedClockHandle, broker: PaperBroker) =>
  startTradingDay({
    target: system,
    clock,
    broker,
    onError: (e) => {
      throw e;
    },
  });

/** The triggers a strategy refused (its trail's rejection records). */
const refused = (system: PersistentStrategySystem, id: string) =>
  system
    .get(id)
    .getAuditTrail()
    .filter((r) => !r.accepted)
    .map((r) => r.trigger);

test('needsExitOrder: EXITING reached from a state with no exit order placed', () => {
  expect(needsExitOrder({ previousState: 'MANAGING', currentState: 'EXITING' })).toBe(true);
  expect(needsExitOrder({ previousState: 'ERROR', currentState: 'EXITING' })).toBe(true);
  expect(needsExitOrder({ previousState: 'PENDING_EXIT', currentState: 'EXITING' })).toBe(false);
  expect(needsExitOrder({ previousState: 'PARTIAL_EXIT', currentState: 'EXITING' })).toBe(false);
  expect(needsExitOrder({ previousState: 'MANAGING', currentState: 'PENDING_EXIT' })).toBe(false);
});

type System = Awaited<ReturnType<typeof driven>>['system'];
const exits: Array<[string, (system: System) => Promise<unknown>]> = [
  ['EMERGENCY_EXIT', (system) => system.send('lt', { type: 'EMERGENCY_EXIT', reason: 'desk' })],
  ['the kill switch', (system) => system.startKillSwitch('desk')],
];

test.each(exits)('%s from MANAGING places the exit order and the position closes at the broker', async (_name, exit) => {
  const { dir, cleanup } = tempDir('sl-exit-');
  const { system, day, orders, until, file } = await driven(dir);
  try {
    await exit(system);
    expect(system.get('lt').state).toBe('EXITING');
    await until(1000);
    expect(orders).toEqual([expect.objectContaining({ strategyId: 'lt', side: 'close', quantity: 2 })]);
    expect(system.get('lt').state).toBe('CLOSED');
    expect(system.get('lt').getSnapshot().context.position?.quantity ?? 0).toBe(0);
    // No ORDER_SUBMITTED was sent into EXITING (it has no such step): nothing refused in the trail.
    expect(refused(system, 'lt')).toEqual([]);
    if (_name === 'the kill switch') {
      day.stop();
      await system.close(); // right after the fill: the outcome is stored, not lost to the close
      const store = new SqliteStore(file);
      await store.open();
      const parts = (await store.loadSystemState()).killSwitchParts;
      await store.close();
      expect(parts.flatMap((p) => p.flattened)).toEqual(['lt']);
    }
  } finally {
    day.stop();
    await system.close();
    cleanup();
  }
});

test('an entry order left working by the stuck deadline (ENTERING -> ERROR) is cancelled: its late fill never lands', async () => {
  const { dir, cleanup } = tempDir('sl-stale-');
  const clock = createSimulatedClock(FRIDAY_11AM);
  // The broker would fill the entry only after 10 minutes: past ENTERING's 5-minute deadline.
  const paper = new PaperBroker({
    clock,
    script: (order) => (order.side === 'open' ? [{ kind: 'fill', afterMs: 10 * 60_000 }] : [{ kind: 'fill' }]),
  });
  const cancels: string[] = [];
  const broker = Object.assign(Object.create(paper) as PaperBroker, {
    cancel: (orderId: string) => (cancels.push(orderId), paper.cancel(orderId)),
  });
  const system = await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock, broker });
  const day = driveDay(system, clock, broker);
  try {
    await system.add(lt112, { id: 'b', params: { underlying: 'SPX' } });
    for (const event of [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry] as StrategyEvent[])
      await system.send('b', event);
    await stepClock(clock, clock.now() + 1000, () => system.flush(), 50);
    expect(system.get('b').state).toBe('ENTERING'); // the order is working at the broker
    await stepClock(clock, clock.now() + 5 * 60_000, () => system.flush(), 1000);
    expect(system.get('b').state).toBe('ERROR');
    expect(cancels).toHaveLength(1);
    await stepClock(clock, clock.now() + 10 * 60_000, () => system.flush(), 1000);
    expect(await paper.positions()).toEqual([]);
    expect(system.get('b').getSnapshot().context.position?.quantity ?? 0).toBe(0);
    // Nothing arrived that the strategy had to refuse: no late fill, no "cancelled" answer.
    expect(refused(system, 'b')).toEqual([]);
  } finally {
    day.stop();
    await system.close();
    cleanup();
  }
});

test('a restart brings a new paper broker: its order ids never repeat the last session, so the exit fill is applied, not refused as a duplicate', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'restart.db');
    const variants = [zeroDte, lt112, strangle];
    // Session 1: the entry is placed, acknowledged and filled through the first broker.
    const clock = createSimulatedClock(FRIDAY_11AM);
    const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
    await first.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    const day1 = driveDay(first, clock, new PaperBroker({ clock }));
    for (const event of toManaging.slice(0, 3)) await first.send('lt', event);
    await stepClock(clock, clock.now() + 60_000, () => first.flush(), 50);
    expect(first.get('lt').state).toBe('POSITION_OPEN');
    const entryIds = first
      .get('lt')
      .getAuditTrail()
      .flatMap((r) => (r.eventId ? [r.eventId] : []));
    expect(entryIds).toHaveLength(2); // the acknowledgement and the fill, by the broker's ids
    const held = [{ strategyId: 'lt', quantity: first.get('lt').getSnapshot().context.position?.quantity ?? 0 }];
    expect(held[0].quantity).toBeGreaterThan(0);
    day1.stop();
    await first.close();

    // Session 2: a new broker over the same store (it holds what the strategy holds).
    const system = await openStrategySystem({
      store: new SqliteStore(file),
      variants,
      clock,
      broker: new PaperBroker({ clock, initialPositions: held }),
    });
    const broker = new PaperBroker({ clock, initialPositions: held });
    const day2 = driveDay(system, clock, broker);
    expect(await system.send('lt', { type: 'EMERGENCY_EXIT', reason: 'desk' })).toMatchObject({ accepted: true, to: 'EXITING' });
    await stepClock(clock, clock.now() + 60_000, () => system.flush(), 50);
    expect(refused(system, 'lt')).toEqual([]);
    expect(system.get('lt').state).toBe('CLOSED');
    expect(await broker.positions()).toEqual([]);
    day2.stop();
    await system.close();
  } finally {
    cleanup();
  }
});

/** The real SQLite store, refusing every write while `down` (as a full disk or a lost volume would). */
class FlakyStore extends SqliteStore {
  down = false;
  override append(write: Parameters<SqliteStore['append']>[0]) {
    if (this.down) return Promise.reject(new StoreUnavailableError(this.name, 'disk I/O error'));
    return super.append(write);
  }
}

test("the broker's answers that arrive while the store is down are delivered, in order, once it is back: the entry is not left hanging", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const store = new FlakyStore(join(dir, 'flaky.db'));
    const system = await openStrategySystem({ store, variants: [zeroDte, lt112, strangle], clock });
    await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    const errors: unknown[] = [];
    const day = startTradingDay({
      target: system,
      clock,
      broker: new PaperBroker({ clock, latencyMs: 100 }),
      onError: (e) => errors.push(e),
    });
    for (const event of toManaging.slice(0, 3)) await system.send('lt', event); // the entry order goes out
    expect(system.get('lt').state).toBe('PENDING_ENTRY');
    store.down = true;
    await stepClock(clock, clock.now() + 500, () => system.flush(), 50); // the ack and the fill arrive now
    expect(system.get('lt').state).toBe('PENDING_ENTRY');
    store.down = false;
    await stepClock(clock, clock.now() + 5_000, () => system.flush(), 100);
    expect(system.get('lt').state).toBe('POSITION_OPEN');
    expect(
      system
        .get('lt')
        .getAuditTrail()
        .filter((r) => r.trigger.startsWith('ORDER_'))
        .map((r) => [r.trigger, r.accepted]),
    ).toEqual([
      ['ORDER_SUBMITTED', true],
      ['ORDER_FILLED', true],
    ]);
    expect(errors).toEqual([]);
    day.stop();
    await system.close();
  } finally {
    cleanup();
  }
});

test('a fill that arrives at the start of a 15-minute store outage is delivered once the store is back, not dropped after 4 minutes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const store = new FlakyStore(join(dir, 'flaky.db'));
    const system = await openStrategySystem({ store, variants: [zeroDte, lt112, strangle], clock });
    await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    const errors: unknown[] = [];
    const broker = new PaperBroker({ clock, latencyMs: 100 });
    const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
    for (const event of toManaging.slice(0, 3)) await system.send('lt', event); // the entry order goes out
    store.down = true;
    await stepClock(clock, clock.now() + 15 * 60_000, () => system.flush(), 1000); // the ack and the fill wait
    // Before, the fill was dropped after about 4 minutes: the broker held the position, the strategy none.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e instanceof StoreUnavailableError)).toBe(true);
    expect(String(errors.find((e) => String(e).includes('still waits')))).toContain('from the broker still waits for the store');
    store.down = false;
    await stepClock(clock, clock.now() + 60_000, () => system.flush(), 1000);
    const trail = system
      .get('lt')
      .getAuditTrail()
      .filter((r) => r.trigger.startsWith('ORDER_'));
    expect(trail.map((r) => [r.trigger, r.accepted])).toEqual([
      ['ORDER_SUBMITTED', true],
      ['ORDER_FILLED', true],
    ]);
    expect(system.get('lt').getSnapshot().context.position?.quantity).toBe(
      (await broker.positions()).find((p) => p.strategyId === 'lt')?.quantity,
    );
    day.stop();
    await system.close();
  } finally {
    cleanup();
  }
});
