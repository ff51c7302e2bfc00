/**
 * Restore loads few records (issue 15, restore flat in history): each strategy comes back with
 * its newest `restoreWindow` records (default 32, at most `auditWindow`), whatever its history;
 * pages are whole, read from the store; the in-memory window fills up again to `auditWindow`.
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { DEFAULT_AUDIT_WINDOW, openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { DEFAULT_RESTORE_WINDOW } from '../../services/runtime/restoreStrategies';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { LoadOptions } from '../../services/store/types';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { tempDir } from './helpers';

const ROUND: StrategyEvent[] = [
  { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'round', operator: 'test' },
  { type: 'ORDER_FILLED', quantity: 1 },
  { type: 'RESUME' },
];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** MARKET_OPEN then `count - 1` round events: `count` records. */
async function fill(system: PersistentStrategySystem, id: string, count: number, from = 1): Promise<void> {
  if (from === 1) await system.send(id, { type: 'MARKET_OPEN' });
  for (let i = Math.max(from, 2); i <= count; i++) await system.send(id, ROUND[i % 3]);
}

/** A SQLite store that remembers the windows its loads asked for. */
function counting(file: string) {
  const store = new SqliteStore(file, { synchronous: 'NORMAL' });
  const windows: Array<number | undefined> = [];
  const loadAll = store.loadAll.bind(store);
  store.loadAll = (options?: LoadOptions) => {
    windows.push(options?.window);
    return loadAll(options);
  };
  return { store, windows };
}

test('a restored strategy holds its newest restoreWindow records; pages stay whole; the window refills to auditWindow', async () => {
  const { dir, cleanup } = tempDir('sl-restore-window-');
  try {
    const file = join(dir, 'r.db');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const a = await openStrategySystem({ store: new SqliteStore(file, { synchronous: 'NORMAL' }), variants: [lt112], clock });
    await a.add(lt112, { id: 'lt' });
    await fill(a, 'lt', 250);
    expect(
      a
        .get('lt')
        .getAuditTrail()
        .map((r) => r.seq),
    ).toEqual(range(251 - DEFAULT_AUDIT_WINDOW, 250));
    await a.close();

    clock.increment(MINUTE);
    const second = counting(file);
    const b = await openStrategySystem({ store: second.store, variants: [lt112], clock });
    expect(second.windows).toEqual([DEFAULT_RESTORE_WINDOW]);
    expect(
      b
        .get('lt')
        .getAuditTrail()
        .map((r) => r.seq),
    ).toEqual(range(251 - DEFAULT_RESTORE_WINDOW, 250));
    // Every page is whole: what memory does not hold comes from the store.
    const page = await b.readAuditTrail('lt', { before: 230, limit: 100 });
    expect(page.records.map((r) => r.seq)).toEqual(range(130, 229));
    expect(page.next).toBe(130);
    // New records fill the window up to auditWindow again.
    await fill(b, 'lt', 250 + DEFAULT_AUDIT_WINDOW, 251);
    const held = b
      .get('lt')
      .getAuditTrail()
      .map((r) => r.seq);
    expect(held).toEqual(range(251, 250 + DEFAULT_AUDIT_WINDOW));
    await b.close();

    // restoreWindow is configurable and never above auditWindow.
    const third = counting(file);
    const c = await openStrategySystem({ store: third.store, variants: [lt112], clock, auditWindow: 10, restoreWindow: 50 });
    expect(third.windows).toEqual([10]);
    expect(c.get('lt').getAuditTrail()).toHaveLength(10);
    await c.close();
    const fourth = counting(file);
    const d = await openStrategySystem({ store: fourth.store, variants: [lt112], clock, restoreWindow: 5 });
    expect(fourth.windows).toEqual([5]);
    expect(
      d
        .get('lt')
        .getAuditTrail()
        .map((r) => r.seq),
    ).toEqual(range(246 + DEFAULT_AUDIT_WINDOW, 250 + DEFAULT_AUDIT_WINDOW));
    await d.close();
  } finally {
    cleanup();
  }
}, 120_000);
