/**
 * PostgreSQL: a strategy claimed by a lease round (not at the open) whose restored trail cannot
 * decide its slot is decided from the store too, as one claimed at the open is (it stayed held).
 */
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { freshDatabase } from './pg';

const LEASE = 15_000;
const limits = { maxOpenPositions: 1 };
const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];

async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A dead instance's strategy 'idle', suspended from ANALYZING (never held a slot), 60 refusals since. */
async function deadInstanceWithIdle(url: string) {
  const store = new PostgresStore({
    connectionString: url,
    instanceId: 'dead',
    leaseMs: LEASE,
    clock: createSimulatedClock(FRIDAY_11AM - 20_000),
  });
  const c = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM - 20_000), limits });
  await c.add(lt112, { id: 'idle' });
  for (const e of toAnalyzing) await c.send('idle', e);
  expect(await c.send('idle', { type: 'FOMC_MEETING', date: '2026-12-09' })).toMatchObject({ accepted: true, to: 'SUSPENDED' });
  for (let i = 0; i < 60; i++) expect((await c.send('idle', { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' })).accepted).toBe(false);
  expect(c.summary().portfolio.slotsUsed).toBe(0);
  await store.abandon();
  return c;
}

test('control: claimed at the open, the store decides the slot (none held)', async () => {
  const url = await freshDatabase('slot_decide_open');
  const c = await deadInstanceWithIdle(url);
  const clock = createSimulatedClock(FRIDAY_11AM);
  const b = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }),
    variants: [lt112],
    clock,
    limits,
  });
  try {
    expect(b.has('idle')).toBe(true);
    await until(() => b.summary().portfolio.slotsUsed === 0);
  } finally {
    await b.close();
    await c.close().catch(() => undefined);
  }
});

test('claimed by a lease round after the open, the undecided slot is decided too (not held for good)', async () => {
  const url = await freshDatabase('slot_decide_round');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const b = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }),
    variants: [lt112],
    clock,
    limits,
  });
  const c = await deadInstanceWithIdle(url);
  try {
    await b.add(lt112, { id: 'other' });
    for (const e of toAnalyzing) await b.send('other', e);
    clock.increment(LEASE / 3); // b's lease round claims the dead instance's strategy
    await until(() => b.has('idle'));
    expect(b.get('idle').state).toBe('SUSPENDED');
    // Give any background decision ample (real) time.
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.summary().portfolio.slotsUsed).toBe(0);
    expect(await b.send('other', VARIANTS[1].entry)).toMatchObject({ accepted: true });
  } finally {
    await b.close();
    await c.close().catch(() => undefined);
  }
});
