/**
 * Restored slots held as undecided until the store's older records decide them: a failed read
 * leaves only that strategy held (the others are decided), a move more than 2,000 records back is
 * still found, and a close right after the open stops the decisions without reporting errors.
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { AuditTrailQuery } from '../../services/store/types';
import { tempDir } from './helpers';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('slot-decide-')));
afterEach(() => cleanup());

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `idle` strategies suspended from ANALYZING (they never held a slot), `refusals` refused events each since; 'other' at ANALYZING. */
async function seed(path: string, idle: string[], refusals: number, limits: { maxOpenPositions: number }) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  for (const id of [...idle, 'other']) {
    await first.add(lt112, { id });
    for (const e of toAnalyzing) await first.send(id, e);
  }
  for (const id of idle) {
    expect(await first.send(id, { type: 'FOMC_MEETING', date: '2026-12-09' })).toMatchObject({ accepted: true, to: 'SUSPENDED' });
    for (let i = 0; i < refusals; i++)
      expect((await first.send(id, { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' })).accepted).toBe(false);
  }
  expect(first.summary().portfolio.slotsUsed).toBe(0);
  await first.close();
  return clock;
}

test('one failed read of the store does not leave the OTHER undecided slots held for good', async () => {
  const path = join(dir, 's.db');
  const limits = { maxOpenPositions: 2 };
  const clock = await seed(path, ['idle1', 'idle2'], 60, limits);

  // The store fails the first trail read after the open (a transient error, e.g. a dropped connection).
  let failed: string | undefined;
  class FlakyStore extends SqliteStore {
    override async readAuditTrail(id: string, query?: AuditTrailQuery) {
      if (failed === undefined) {
        failed = id;
        throw new Error('transient read failure');
      }
      return super.readAuditTrail(id, query);
    }
  }
  const errors: string[] = [];
  const second = await openStrategySystem({
    store: new FlakyStore(path),
    variants: [lt112],
    clock,
    limits,
    onStoreError: (error, id) => errors.push(`${id}: ${(error as Error).message}`),
  });
  try {
    for (let i = 0; i < 50; i++) await tick();
    // Reported under the strategy whose read failed.
    expect(errors).toEqual([`${failed}: transient read failure`]);
    // The failed one may stay held (the safe side); the other one's read would have succeeded: it holds no slot.
    expect(second.summary().portfolio.slotsUsed).toBe(1);
    expect((await second.send('other', VARIANTS[1].entry)).accepted).toBe(true);
  } finally {
    await second.close();
  }
});

test('a suspended strategy with more than 2000 refused records since its move is decided (not held for good)', async () => {
  const path = join(dir, 's.db');
  const limits = { maxOpenPositions: 1 };
  const clock = await seed(path, ['idle'], 2050, limits);
  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  try {
    for (let i = 0; i < 100 && second.summary().portfolio.slotsUsed > 0; i++) await tick();
    expect(second.summary().portfolio.slotsUsed).toBe(0);
    expect((await second.send('other', VARIANTS[1].entry)).accepted).toBe(true);
  } finally {
    await second.close();
  }
}, 60_000);

test('close() right after the open: the background slot decision reports no error after the close', async () => {
  const path = join(dir, 's.db');
  const limits = { maxOpenPositions: 1 };
  const clock = await seed(path, ['idle'], 60, limits);
  // A store with some latency on reads (as PostgreSQL has).
  class SlowStore extends SqliteStore {
    override async readAuditTrail(id: string, query?: AuditTrailQuery) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return super.readAuditTrail(id, query);
    }
  }
  const errors: string[] = [];
  const second = await openStrategySystem({
    store: new SlowStore(path),
    variants: [lt112],
    clock,
    limits,
    onStoreError: (error, id) => errors.push(`${id}: ${(error as Error).name}: ${(error as Error).message}`),
  });
  await second.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(errors).toEqual([]);
});
