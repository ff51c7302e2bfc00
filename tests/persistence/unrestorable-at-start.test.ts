/**
 * A stored strategy that cannot be started (a variant this process does not run, a snapshot that
 * does not fit the chart). On PostgreSQL the open goes on: it is reported and released for an
 * instance that runs its variant. On SQLite one process owns the file, and starting without it
 * would hide it: the open is refused with an error naming the strategy and its variant.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { SnapshotRestoreError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';
import { freshDatabase } from './pg';

const clock = () => createSimulatedClock(FRIDAY_11AM);
/** A snapshot whose state the chart does not have. */
const BAD_STATE = 'NO_SUCH_STATE';

test('PostgreSQL: an unknown variant and a bad snapshot are reported and released; the other strategies start', async () => {
  const url = await freshDatabase('unrestorable');
  const first = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'old' }),
    variants: [zeroDte, lt112, strangle],
    clock: clock(),
  });
  await first.add(strangle, { id: 'strangle-1' });
  await first.add(lt112, { id: 'broken' });
  await first.add(lt112, { id: 'fine' });
  await first.close();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(`UPDATE strategies SET snapshot = jsonb_set(snapshot, '{value}', '"${BAD_STATE}"') WHERE strategy_id = 'broken'`);

  const errors: Array<[unknown, string]> = [];
  const system = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'new' }),
    variants: [zeroDte, lt112],
    clock: clock(),
    onStoreError: (e, id) => errors.push([e, id]),
  });
  expect(system.ids()).toEqual(['fine']);
  expect(errors.map(([e, id]) => [id, e instanceof SnapshotRestoreError])).toEqual([
    ['broken', true],
    ['strangle-1', true],
  ]);
  expect(String(errors[0][0])).toMatch(/stored strategy "broken" of variant "lt112" cannot be restored/);
  expect(String(errors[1][0])).toMatch(/stored strategy "strangle-1" is of variant "strangle"/);
  // The refused snapshot was never started: its neighbours and the system run on.
  await expect(system.send('fine', { type: 'MARKET_OPEN' })).resolves.toMatchObject({ accepted: true, to: 'READY' });
  // Released: free for an instance that runs the variant (or after a repair) to claim at once.
  const owners = async () =>
    (await db.query<{ strategy_id: string; owner: string | null }>('SELECT strategy_id, owner FROM strategies ORDER BY strategy_id')).rows;
  // In the background: the open does not wait for it.
  for (const until = Date.now() + 5000; (await owners()).some((r) => r.strategy_id !== 'fine' && r.owner !== null) && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 20));
  expect(await owners()).toEqual([
    { strategy_id: 'broken', owner: null },
    { strategy_id: 'fine', owner: 'new' },
    { strategy_id: 'strangle-1', owner: null },
  ]);
  await db.end();
  await system.close();

  const other = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'other' }),
    variants: [zeroDte, lt112, strangle],
    clock: clock(),
    onStoreError: () => undefined,
  });
  expect(other.ids()).toEqual(['fine', 'strangle-1']);
  await other.close();
});

describe('SQLite refuses to open without a stored strategy', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('sl-unrestorable-')));
  afterEach(() => cleanup());

  test.each([
    [
      'an unknown variant',
      'strangle-1',
      /stored strategy "strangle-1" is of variant "strangle", which is not among the variants given \(zeroDte, lt112\)/,
    ],
    ['a bad snapshot', 'broken', /stored strategy "broken" of variant "lt112" cannot be restored: /],
  ])('%s: SnapshotRestoreError naming the strategy and its variant, and the file is left closed', async (_what, id, message) => {
    const file = join(dir, 'strategies.db');
    const first = await openStrategySystem({ store: new SqliteStore(file), variants: [zeroDte, lt112, strangle], clock: clock() });
    await first.add(id === 'broken' ? lt112 : strangle, { id });
    await first.close();
    if (id === 'broken') {
      const db = new Database(file);
      db.prepare(`UPDATE strategies SET snapshot = json_set(snapshot, '$.value', ?) WHERE strategy_id = ?`).run(BAD_STATE, id);
      db.close();
    }
    const opening = openStrategySystem({ store: new SqliteStore(file), variants: [zeroDte, lt112], clock: clock() });
    await expect(opening).rejects.toThrow(SnapshotRestoreError);
    await expect(opening).rejects.toThrow(message);
    // Closed on the way out: the same file opens again, the strategy still in it.
    const again = new SqliteStore(file);
    await again.open();
    expect((await again.loadAll()).map((s) => [s.strategyId, s.variant])).toEqual([[id, id === 'broken' ? 'lt112' : 'strangle']]);
    await again.close();
  });
});
