/**
 * A page of an audit trail asked with a bound out of its domain is refused by name. Before,
 * `readAuditTrail` (the system's and the stores') read NaN, Infinity or a string as the default,
 * rounded a fraction, took a negative or 0 `limit` as 1, cut a `limit` above 1,000 to 1,000,
 * ignored an `after` on the system's pages, and answered a page that was not the one asked for.
 * Now each is an InvalidOptionsError naming the option and the value, before anything is read;
 * pages asked with good bounds are as before. Run on a SQLite file and on SQLite's `:memory:`.
 */
import { join } from 'node:path';
import { InvalidOptionsError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { MAX_AUDIT_PAGE } from '../../services/runtime/auditPages';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { AuditTrailQuery, StrategyStore } from '../../services/store/types';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

/** Three records a round (suspend, a refused fill, resume). */
const ROUND: StrategyEvent[] = [
  { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'round', operator: 'test' },
  { type: 'ORDER_FILLED', quantity: 1 },
  { type: 'RESUME' },
];
/** 1 + 3 × 5 records; the window holds 4, so older pages come from the store. */
const TOTAL = 16;
const WINDOW = 4;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A system over `store` holding strategy `lt` with {@link TOTAL} records. */
async function filled(store: StrategyStore): Promise<PersistentStrategySystem> {
  const system = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM), auditWindow: WINDOW });
  await system.add(lt112, { id: 'lt' });
  await system.send('lt', { type: 'MARKET_OPEN' });
  for (let i = 0; i < 5; i++) for (const event of ROUND) await system.send('lt', event);
  expect(system.get('lt').getAuditTrail()).toHaveLength(WINDOW);
  return system;
}

/** Bounds the system's pages refuse: [option, value, how the message shows the value]. */
const SYSTEM_BAD: Array<[string, unknown, string]> = [
  ['before', NaN, 'NaN'],
  ['before', -1, '-1'],
  ['before', 0, '0'],
  ['before', 2.5, '2.5'],
  ['before', Infinity, 'Infinity'],
  ['before', -Infinity, '-Infinity'],
  ['before', '5', '"5"'],
  ['before', null, 'null'],
  ['before', 2 ** 53, String(2 ** 53)],
  ['limit', NaN, 'NaN'],
  ['limit', 0, '0'],
  ['limit', -3, '-3'],
  ['limit', 1.5, '1.5'],
  ['limit', Infinity, 'Infinity'],
  ['limit', '10', '"10"'],
  ['limit', MAX_AUDIT_PAGE + 1, '1001'],
];

/** Bounds the stores' pages refuse. */
const STORE_BAD: Array<[string, unknown, string]> = [
  ['before', NaN, 'NaN'],
  ['before', 0, '0'],
  ['before', 10.5, '10.5'],
  ['before', Infinity, 'Infinity'],
  ['after', -1, '-1'],
  ['after', 0.5, '0.5'],
  ['after', NaN, 'NaN'],
  ['after', '0', '"0"'],
  ['limit', 0, '0'],
  ['limit', -1, '-1'],
  ['limit', 2.5, '2.5'],
  ['limit', Infinity, 'Infinity'],
  ['limit', 'all', '"all"'],
];

describe.each([
  ['a SQLite file', (dir: string) => new SqliteStore(join(dir, 'bounds.db'))],
  ['SQLite :memory:', () => new SqliteStore(':memory:')],
])('%s', (_name, make) => {
  let system: PersistentStrategySystem;
  let store: SqliteStore;
  let cleanup: () => void;
  beforeAll(async () => {
    const temp = tempDir('sl-page-bounds-');
    cleanup = temp.cleanup;
    store = make(temp.dir);
    system = await filled(store);
  });
  afterAll(async () => {
    await system.close();
    cleanup();
  });

  test.each(SYSTEM_BAD)('system.readAuditTrail refuses %s = %p by name', async (option, value, shown) => {
    const query = { before: 10, limit: 5, [option]: value } as unknown as { before: number; limit: number };
    const error = await system.readAuditTrail('lt', query).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toMatchObject({ component: 'readAuditTrail', option });
    expect((error as Error).message).toMatch(
      new RegExp(`^readAuditTrail: option ${option} must be a whole number from \\d+ to \\d+, got `),
    );
    expect((error as Error).message.endsWith(`got ${shown}`)).toBe(true);
  });

  test('system.readAuditTrail refuses an after (its pages read back in time) and a query that is not an object', async () => {
    await expect(system.readAuditTrail('lt', { after: 3 } as unknown as { limit: number })).rejects.toMatchObject({
      name: 'InvalidOptionsError',
      option: 'after',
      message: expect.stringContaining('store.readAuditTrail'),
    });
    await expect(system.readAuditTrail('lt', null as unknown as { limit: number })).rejects.toThrow(
      'readAuditTrail: option query must be an object, got null',
    );
    await expect(system.readAuditTrail('lt', [] as unknown as { limit: number })).rejects.toThrow(InvalidOptionsError);
  });

  test.each(STORE_BAD)('store.readAuditTrail refuses %s = %p by name', async (option, value, shown) => {
    const query = { [option]: value } as unknown as AuditTrailQuery;
    const error = await store.readAuditTrail('lt', query).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toMatchObject({ component: 'store.readAuditTrail', option });
    expect((error as Error).message).toContain(`store.readAuditTrail: option ${option} must be a whole number from `);
    expect((error as Error).message.endsWith(`got ${shown}`)).toBe(true);
  });

  test('good bounds page as before: every record once, from memory and the store', async () => {
    const seqs: number[][] = [];
    let page = await system.readAuditTrail('lt', { limit: 5 });
    seqs.push(page.records.map((r) => r.seq));
    while (page.next !== null) {
      page = await system.readAuditTrail('lt', { before: page.next, limit: 5 });
      seqs.push(page.records.map((r) => r.seq));
    }
    expect(seqs).toEqual([range(12, 16), range(7, 11), range(2, 6), [1]]);
    // The edges of the domain: before 1 (older than the first record), the largest limit, a safe before.
    expect(await system.readAuditTrail('lt', { before: 1 })).toEqual({ records: [], next: null });
    expect((await system.readAuditTrail('lt', { limit: MAX_AUDIT_PAGE })).records.map((r) => r.seq)).toEqual(range(1, TOTAL));
    expect((await system.readAuditTrail('lt', { before: Number.MAX_SAFE_INTEGER, limit: 1 })).records.map((r) => r.seq)).toEqual([TOTAL]);
    expect((await system.readAuditTrail('lt')).records).toHaveLength(TOTAL);
    expect(await system.readAuditTrail('lt', {})).toEqual(await system.readAuditTrail('lt', { before: undefined, limit: undefined }));

    // The store's own pages: back, forward from 0, and both bounds.
    expect((await store.readAuditTrail('lt', { before: 11, limit: 4 })).map((r) => r.seq)).toEqual([7, 8, 9, 10]);
    expect((await store.readAuditTrail('lt', { after: 0, limit: 3 })).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await store.readAuditTrail('lt', { after: 5, before: 9 })).map((r) => r.seq)).toEqual([6, 7, 8]);
    expect((await store.readAuditTrail('lt', { before: 1 })).map((r) => r.seq)).toEqual([]);
    expect(await store.readAuditTrail('lt')).toHaveLength(TOTAL);
  });
});
