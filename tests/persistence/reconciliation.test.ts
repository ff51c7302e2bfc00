/** On restore, every position is checked with the broker; a mismatch is held in ERROR, never ignored. */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { ReconciliationError, StoreUnavailableError } from '../../machines/errors';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';
import { tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
const toPosition = (q: number): StrategyEvent[] => [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: q, expiry: '2026-12-18' },
  { type: 'MARKET_OPEN' },
];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

test('matching, missing and extra positions', async () => {
  const file = join(dir, 'r.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  for (const id of ['matching', 'missing', 'flat-but-broker-has-one']) await first.add(lt112, { id });
  for (const e of toPosition(2)) {
    await first.send('matching', e);
    await first.send('missing', e);
  }
  await first.send('flat-but-broker-has-one', { type: 'MARKET_OPEN' });
  await first.close();

  const broker = new PaperBroker({
    clock,
    initialPositions: [
      { strategyId: 'matching', quantity: 2 },
      { strategyId: 'flat-but-broker-has-one', quantity: 1 },
      { strategyId: 'stranger', quantity: 4 },
    ],
  });
  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock, broker });
  expect(second.reconciliation).toEqual({
    checked: 3,
    mismatches: [
      { strategyId: 'flat-but-broker-has-one', expected: 0, broker: 1, held: true },
      { strategyId: 'missing', expected: 2, broker: 0, held: true },
    ],
    unknown: [{ strategyId: 'stranger', quantity: 4 }],
  });
  expect(second.get('matching').state).toBe('MANAGING');
  for (const id of ['missing', 'flat-but-broker-has-one']) {
    const s = second.get(id);
    expect(s.state).toBe('ERROR');
    expect(s.getSnapshot().context.deadline).toBeNull(); // held: no auto-recovery
  }
  expect(second.get('missing').getSnapshot().context.lastError?.reason).toBe('position mismatch: expected 2, broker has 0');
  clock.increment(2 * 60 * MINUTE);
  await second.flush();
  expect(second.get('missing').state).toBe('ERROR'); // never silently continues
  await second.close();
});

test('the paper broker fills, partially fills and rejects on the system clock', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const broker = new PaperBroker({
    clock,
    latencyMs: 200,
    script: (o) => (o.side === 'open' ? [{ kind: 'partial', quantity: 1 }, { kind: 'fill' }] : [{ kind: 'reject', reason: 'no bid' }]),
  });
  const reports: string[] = [];
  broker.onExecution((r) => reports.push(`${clock.now() - FRIDAY_11AM} ${r.kind} ${r.quantity}${r.reason ? ` ${r.reason}` : ''}`));
  broker.submit({ strategyId: 's', side: 'open', quantity: 3 });
  clock.increment(199);
  expect(reports).toEqual([]);
  clock.increment(201);
  expect(reports).toEqual(['200 partial 1', '400 fill 2']);
  expect(await broker.positions()).toEqual([{ strategyId: 's', quantity: 3 }]);
  broker.submit({ strategyId: 's', side: 'close', quantity: 3 });
  clock.increment(200);
  expect(reports.at(-1)).toBe('600 reject 0 no bid');
  expect(await broker.positions()).toEqual([{ strategyId: 's', quantity: 3 }]);
});

test('a strategy the broker lists more than once holds the sum of its entries', async () => {
  // An adapter that reports per account (or per leg) lists one strategy several times; read as
  // its last entry, [3, 0] looked flat and a strategy with 3 contracts at the broker went on as flat.
  class PerAccountBroker extends PaperBroker {
    override async positions() {
      return [
        { strategyId: 'flat', quantity: 3 },
        { strategyId: 'flat', quantity: 0 },
        { strategyId: 'two-accounts', quantity: 1 },
        { strategyId: 'two-accounts', quantity: 1 },
        { strategyId: 'stranger', quantity: 1 },
        { strategyId: 'stranger', quantity: 2 },
      ];
    }
  }
  const file = join(dir, 'r.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await first.add(lt112, { id: 'flat' });
  await first.add(lt112, { id: 'two-accounts' });
  await first.send('flat', { type: 'MARKET_OPEN' });
  for (const e of toPosition(2)) await first.send('two-accounts', e);
  await first.close();

  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock, broker: new PerAccountBroker({ clock }) });
  expect(second.reconciliation).toEqual({
    checked: 2,
    mismatches: [{ strategyId: 'flat', expected: 0, broker: 3, held: true }],
    unknown: [{ strategyId: 'stranger', quantity: 3 }],
  });
  expect(second.get('flat').state).toBe('ERROR');
  expect(second.get('flat').getSnapshot().context.lastError?.reason).toBe('position mismatch: expected 0, broker has 3');
  expect(second.get('two-accounts').state).toBe('MANAGING');
  await second.close();
});

test('a TERMINATED strategy the broker holds contracts for is reported as not held (it has no way out)', async () => {
  const file = join(dir, 'r.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await first.add(lt112, { id: 'ended' });
  await first.send('ended', { type: 'MARKET_OPEN' });
  expect(await first.send('ended', { type: 'TERMINATE' })).toMatchObject({ accepted: true, to: 'TERMINATED' });
  await first.close();

  const broker = new PaperBroker({ clock, initialPositions: [{ strategyId: 'ended', quantity: 2 }] });
  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock, broker });
  expect(second.reconciliation.mismatches).toEqual([{ strategyId: 'ended', expected: 0, broker: 2, held: false }]);
  expect(second.get('ended').state).toBe('TERMINATED');
  expect(second.get('ended').getAuditTrail().at(-1)).toMatchObject({ accepted: false, trigger: 'MANUAL_OVERRIDE' });
  await second.close();
});

test('a broker that cannot answer at the open fails it with ReconciliationError, and the store is closed again', async () => {
  // Before: the raw error, with the store left open and locked, so a second open in the same
  // process was refused as "open in another process", and the leases' and strategies' timers ran on.
  const file = join(dir, 'r.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  await first.add(lt112, { id: 'lt' });
  for (const e of toPosition(2)) await first.send('lt', e);
  await first.close();

  class Unreachable extends PaperBroker {
    override async positions(): Promise<never> {
      throw new Error('connect ECONNREFUSED 127.0.0.1:4002');
    }
  }
  const failed = openStrategySystem({ store: new SqliteStore(file), variants, clock, broker: new Unreachable({ clock }) });
  await expect(failed).rejects.toThrow(ReconciliationError);
  await expect(failed).rejects.toThrow(
    'the broker reconciliation at the open failed: connect ECONNREFUSED 127.0.0.1:4002; the store was closed and no strategy runs: open again once the broker answers',
  );
  expect(clock.nextDue()).toBeNull();

  const again = await openStrategySystem({
    store: new SqliteStore(file),
    variants,
    clock,
    broker: new PaperBroker({ clock, initialPositions: [{ strategyId: 'lt', quantity: 2 }] }),
  });
  expect(again.reconciliation).toEqual({ checked: 1, mismatches: [], unknown: [] });
  expect(again.get('lt').state).toBe('MANAGING');
  await again.close();
});

test('a failed reconciliation cancels the retry of a deadline whose write the store refused, as close() does', async () => {
  // Before: the failed open closed the store but left that retry armed (and the system not marked
  // closed), so it fired after the open had failed, and armed itself again, every second.
  const file = join(dir, 'r.db');
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
  await first.add(lt112, { id: 'lt' });
  await first.send('lt', { type: 'MARKET_OPEN' });
  await first.send('lt', { type: 'SYSTEM_ERROR' }); // ERROR: its recovery falls due 30 minutes later
  await first.close();

  class DiskFull extends SqliteStore {
    override append(): Promise<void> {
      return Promise.reject(new StoreUnavailableError('sqlite', 'disk full'));
    }
  }
  class Unreachable extends PaperBroker {
    override async positions(): Promise<never> {
      throw new Error('connect ECONNREFUSED 127.0.0.1:4002');
    }
  }
  const clock = createSimulatedClock(FRIDAY_11AM + 31 * MINUTE);
  const errors: unknown[] = [];
  const failed = openStrategySystem({
    store: new DiskFull(file),
    variants,
    clock,
    broker: new Unreachable({ clock }),
    onStoreError: (error) => errors.push(error),
  });
  await expect(failed).rejects.toThrow(ReconciliationError);
  // The recovery was due as the strategy started: its write was refused once, and nothing retries it now.
  expect(errors).toEqual([expect.any(StoreUnavailableError)]);
  expect(clock.nextDue()).toBeNull();
  clock.increment(5000);
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(errors).toHaveLength(1);
});
