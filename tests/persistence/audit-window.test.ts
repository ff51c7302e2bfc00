/**
 * The bounded in-memory trail over a store (issue 15): a strategy keeps its newest `auditWindow`
 * records, restore loads only those (one query), older pages come from the store, every record
 * exactly once and in order, on SQLite and PostgreSQL; replay pages through the store.
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import type { TransitionRecord } from '../../machines/types';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { AuditTrailQuery, LoadOptions, StrategyStore } from '../../services/store/types';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { tempDir } from './helpers';
import { freshDatabase } from './pg';

const variants = [zeroDte, lt112, strangle];
const WINDOW = 20;

/** Three records a round (suspend, a refused fill, resume): accepted and rejected records alike. */
const ROUND: StrategyEvent[] = [
  { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'round', operator: 'test' },
  { type: 'ORDER_FILLED', quantity: 1 },
  { type: 'RESUME' },
];

/** A store that counts what it hands out: records loaded with the strategies, pages read. */
function counted<S extends StrategyStore>(store: S) {
  const counts = { loadedRecords: 0, loads: 0, pages: 0, windows: [] as Array<number | undefined> };
  const proxy = new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (key === 'loadAll') {
        return async (options?: LoadOptions) => {
          const stored = await target.loadAll(options);
          counts.loads++;
          counts.windows.push(options?.window);
          counts.loadedRecords += stored.reduce((sum, s) => sum + s.auditTrail.length, 0);
          return stored;
        };
      }
      if (key === 'readAuditTrail') {
        return (id: string, query?: AuditTrailQuery) => {
          counts.pages++;
          return target.readAuditTrail(id, query);
        };
      }
      return value.bind(target);
    },
  });
  return { store: proxy, counts };
}

/** Sends `rounds` rounds to `id` after MARKET_OPEN: 1 + 3 × rounds records. */
async function fill(system: PersistentStrategySystem, id: string, rounds: number): Promise<number> {
  await system.send(id, { type: 'MARKET_OPEN' });
  for (let i = 0; i < rounds; i++) for (const event of ROUND) await system.send(id, event);
  return 1 + ROUND.length * rounds;
}

/** Every page of `id` through the system, newest page first; the seqs as read, oldest first overall. */
async function pageThrough(system: PersistentStrategySystem, id: string, limit: number): Promise<{ seqs: number[]; pages: number }> {
  const pages: TransitionRecord[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await system.readAuditTrail(id, { ...(before !== undefined ? { before } : {}), limit });
    pages.push(page.records);
    if (page.next === null) break;
    expect(page.records).toHaveLength(limit);
    before = page.next;
  }
  return {
    seqs: pages
      .reverse()
      .flat()
      .map((r) => r.seq),
    pages: pages.length,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each([
  [
    'SQLite',
    async () => {
      const { dir, cleanup } = tempDir('sl-window-');
      const file = join(dir, 'w.db');
      return { make: () => new SqliteStore(file, { synchronous: 'NORMAL' }), cleanup };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const url = await freshDatabase('audit_window');
      return { make: () => new PostgresStore({ connectionString: url, instanceId: 'w' }), cleanup: () => {} };
    },
  ],
] as Array<[string, () => Promise<{ make: () => StrategyStore; cleanup: () => void }>]>)('%s', (_name, setup) => {
  test('a strategy holds its newest window; paging returns every record exactly once, in order; restore loads only the window', async () => {
    const { make, cleanup } = await setup();
    try {
      const clock = createSimulatedClock(FRIDAY_11AM);
      const first = counted(make());
      const a = await openStrategySystem({ store: first.store, variants, clock, auditWindow: WINDOW });
      await a.add(lt112, { id: 'lt' });
      await a.add(strangle, { id: 'short' });
      await a.add(zeroDte, { id: 'quiet' });
      const total = await fill(a, 'lt', 40);
      const short = await fill(a, 'short', 2);
      expect(total).toBe(121);
      // In memory: the newest WINDOW records, contiguous.
      expect(
        a
          .get('lt')
          .getAuditTrail()
          .map((r) => r.seq),
      ).toEqual(range(total - WINDOW + 1, total));
      expect(a.get('short').getAuditTrail()).toHaveLength(short);
      // Kept packed (storeBackedTrail): each read decodes the older records anew, equal in value.
      // A window kept as the objects written would hand out its live array, the same each read.
      const read1 = a.get('lt').getAuditTrail();
      const read2 = a.get('lt').getAuditTrail();
      expect(read2).not.toBe(read1);
      expect(read2[0]).not.toBe(read1[0]);
      expect(read2).toEqual(read1);

      // Pages of 7: every record once, oldest first when the pages are put back in order.
      const before = first.counts.pages;
      const paged = await pageThrough(a, 'lt', 7);
      expect(paged.seqs).toEqual(range(1, total));
      expect(paged.pages).toBe(Math.ceil(total / 7));
      expect(first.counts.pages - before).toBeGreaterThan(0); // older pages came from the store
      // A page inside the window is served from memory: no store read.
      const inWindow = first.counts.pages;
      expect((await a.readAuditTrail('lt', { limit: 5 })).records.map((r) => r.seq)).toEqual(range(total - 4, total));
      expect(first.counts.pages).toBe(inWindow);
      // The page that straddles the window: part memory, part store.
      expect((await a.readAuditTrail('lt', { before: total - WINDOW + 3, limit: 6 })).records.map((r) => r.seq)).toEqual(
        range(total - WINDOW - 3, total - WINDOW + 2),
      );
      expect(await a.readAuditTrail('quiet')).toEqual({ records: [], next: null });
      expect(await a.readAuditTrail('lt', { before: 1 })).toEqual({ records: [], next: null });

      // The store's own pages, forward (as replay reads) and backward, and an unknown strategy.
      const forward: number[] = [];
      for (let after = 0; ;) {
        const page = await first.store.readAuditTrail('lt', { after, limit: 50 });
        forward.push(...page.map((r) => r.seq));
        if (page.length < 50) break;
        after = page.at(-1)!.seq;
      }
      expect(forward).toEqual(range(1, total));
      expect((await first.store.readAuditTrail('lt', { before: 11, limit: 4 })).map((r) => r.seq)).toEqual([7, 8, 9, 10]);
      expect(await first.store.readAuditTrail('nobody', { limit: 3 })).toEqual([]);
      const stored = await a.readAuditTrail('lt', { limit: total });
      await a.close();

      // Restore: one load asking for the window, only the window's records come back.
      clock.increment(MINUTE);
      const second = counted(make());
      const b = await openStrategySystem({ store: second.store, variants, clock, auditWindow: WINDOW });
      expect(second.counts.windows).toEqual([WINDOW]);
      expect(second.counts.loadedRecords).toBe(WINDOW + short);
      expect(b.get('lt').getAuditTrail()).toEqual(stored.records.slice(-WINDOW));
      expect(b.get('quiet').getAuditTrail()).toEqual([]);
      expect((await pageThrough(b, 'lt', 50)).seqs).toEqual(range(1, total));
      // The window keeps sliding after a restore.
      await b.send('lt', ROUND[0]);
      expect(
        b
          .get('lt')
          .getAuditTrail()
          .map((r) => r.seq),
      ).toEqual(range(total - WINDOW + 2, total + 1));
      await b.close();

      // Replay reads the store page by page and still rebuilds every snapshot.
      const third = counted(make());
      const report = await verifyStore(third.store, variants);
      expect(report).toMatchObject({ strategies: 3, records: total + 1 + short, differences: [] });
      expect(third.counts.windows).toEqual([0]);
      expect(third.counts.loadedRecords).toBe(0);
      expect(third.counts.pages).toBeGreaterThanOrEqual(3);
    } finally {
      cleanup();
    }
  }, 60_000);
});

test('a strategy after 10,000 events holds no more than its window; replay pages through 10,000 records', async () => {
  const { dir, cleanup } = tempDir('sl-window-');
  try {
    const file = join(dir, 'long.db');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = await openStrategySystem({ store: new SqliteStore(file, { synchronous: 'NORMAL' }), variants, clock, auditWindow: 200 });
    await system.add(lt112, { id: 'lt' });
    let largest = 0;
    await system.send('lt', { type: 'MARKET_OPEN' });
    for (let i = 1; i < 10_000; i++) {
      await system.send('lt', ROUND[i % 3 === 1 ? 0 : i % 3 === 2 ? 1 : 2]);
      largest = Math.max(largest, system.get('lt').getAuditTrail().length);
    }
    expect(system.get('lt').getSnapshot().context.lastRecord?.seq).toBe(10_000);
    expect(largest).toBe(200);
    expect(system.get('lt').getAuditTrail()[0].seq).toBe(9_801);
    // The persisted snapshot carries the window, not the history.
    expect(system.get('lt').getPersistedSnapshot().auditTrail).toHaveLength(200);
    await system.close();

    const { store, counts } = counted(new SqliteStore(file));
    expect(await verifyStore(store, variants)).toEqual({ strategies: 1, records: 10_000, differences: [] });
    expect(counts.pages).toBe(11); // 1,000 a page, and the empty page that ends it
  } finally {
    cleanup();
  }
}, 120_000);
