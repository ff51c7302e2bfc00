/**
 * System-wide operations over a restored system whose strategies are still dormant (no actor yet):
 * `suspendAll` and `resumeAll` are sent as a broadcast (group commit: a few transactions, not one
 * per strategy) and read each strategy's committed state without waking it; the kill switch finds
 * the flat ones without waking them. Actor creation is observed through XState inspection
 * (`@xstate.actor`); the background wake after the open is parked by faking `setImmediate` while
 * the system opens, so only what the operation does can make an actor.
 */
import { join } from 'node:path';
import { StrategyNotFlatError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import type { BatchReport } from '../../services/store/groupCommit';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { actorsCreated, openParked } from '../support/dormant';
import { FRIDAY_11AM, MINUTE, VARIANTS, managing } from '../support/fixtures';

const FLAT = 300;
const HELD = 'held';
const variants = [lt112];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-ops-dormant-')));
afterEach(() => {
  jest.useRealTimers();
  cleanup();
});

/** FLAT strategies at READY and one in MANAGING with a position, stored in `file`. */
async function seed(file: string): Promise<void> {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants, clock });
  for (let i = 0; i < FLAT; i++) await system.add(lt112, { id: `s${i}`, params: { underlying: 'SPX' } });
  await system.broadcast({ type: 'MARKET_OPEN' });
  await system.add(lt112, { id: HELD, params: { underlying: 'SPX' } });
  for (const event of managing(VARIANTS[1].entry, 2)) {
    clock.increment(MINUTE);
    expect((await system.send(HELD, event)).accepted).toBe(true);
  }
  await system.close();
}

/** Reopens `file` with every strategy dormant; `created` lists the strategy actors XState makes from then on. */
async function reopen(file: string) {
  const batches: BatchReport[] = [];
  const { created, inspect } = actorsCreated((id) => id === HELD || /^s\d+$/.test(id));
  const system = await openParked(() =>
    openStrategySystem({
      store: new SqliteStore(file, { onBatch: (b) => batches.push(b) }),
      variants,
      clock: createSimulatedClock(FRIDAY_11AM + 60 * MINUTE),
      inspect,
    }),
  );
  expect(created).toEqual([]);
  return { system, created, batches };
}

test('suspendAll and resumeAll go out as a broadcast in a few group commits, and never wake a strategy they leave alone', async () => {
  const file = join(dir, 'ops.db');
  await seed(file);
  const { system, created, batches } = await reopen(file);

  const suspended = await system.suspendAll('FOMC');
  expect(suspended.changed).toHaveLength(FLAT);
  expect(new Set(suspended.changed.map((c) => c.strategyId))).toEqual(new Set(Array.from({ length: FLAT }, (_, i) => `s${i}`)));
  expect(new Set(suspended.changed.map((c) => c.to))).toEqual(new Set(['SUSPENDED']));
  expect(suspended.skipped).toEqual([
    { strategyId: HELD, state: 'MANAGING', reason: expect.stringContaining('MANAGING cannot be suspended') },
  ]);
  // One transaction per batch, not one per strategy.
  expect(batches.reduce((n, b) => n + b.writes, 0)).toBe(FLAT);
  expect(batches.length).toBeLessThanOrEqual(10);
  expect(created).not.toContain(HELD);

  batches.length = 0;
  const resumed = await system.resumeAll();
  expect(resumed.changed).toHaveLength(FLAT);
  expect(new Set(resumed.changed.map((c) => c.to))).toEqual(new Set(['READY']));
  expect(resumed.skipped).toEqual([]);
  expect(batches.length).toBeLessThanOrEqual(10);
  expect(created).not.toContain(HELD);
  expect(system.peek(HELD).state).toBe('MANAGING');
  await system.close();
});

test('the kill switch finds the flat strategies without waking them, and flattens the one holding a position', async () => {
  const file = join(dir, 'kill.db');
  await seed(file);
  const { system, created } = await reopen(file);

  const run = system.killSwitch('risk desk');
  // The holder's exit goes out at once; the broker's fill completes it.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await system.flush();
  expect(system.get(HELD).state).toBe('EXITING');
  await system.send(HELD, { type: 'ORDER_FILLED', quantity: 2 });
  const result = await run;
  expect(result.flattened).toEqual([HELD]);
  expect(result.alreadyFlat).toHaveLength(FLAT);
  expect(result.failed).toEqual([]);
  expect(created).toEqual([HELD]);
  await system.close();
});

test('remove checks the committed position without waking: a flat strategy goes, one holding a position is refused', async () => {
  const file = join(dir, 'remove.db');
  await seed(file);
  const { system, created } = await reopen(file);
  await system.remove('s0');
  expect(system.has('s0')).toBe(false);
  await expect(system.remove(HELD)).rejects.toBeInstanceOf(StrategyNotFlatError);
  expect(system.has(HELD)).toBe(true);
  expect(created).toEqual([]);
  await system.close();
});
