/**
 * An id this instance was fenced off (another instance took the strategy over), removed there, then
 * added again here: the new strategy is this instance's, stored with its lease. Before, the fence
 * of the old one stayed: `get`, `send` and `remove` of the new strategy answered OwnershipLostError
 * for ever (until a restart), though the store said this instance owned it.
 * Real PostgreSQL (the test cluster), one simulated clock per instance.
 */
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase, sql } from './pg';

const variants = [zeroDte, lt112, strangle];

const instance = (url: string, id: string, at: number): Promise<PersistentStrategySystem> =>
  openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: id, leaseMs: 15_000 }),
    variants,
    clock: createSimulatedClock(at),
    onStoreError: () => undefined,
  });

test('a strategy added again under an id this instance was fenced off is its own: get, send and remove work', async () => {
  const url = await freshDatabase('readd_fenced');
  const a = await instance(url, 'a', FRIDAY_11AM);
  let b: PersistentStrategySystem | undefined;
  try {
    await a.add(lt112, { id: 'lt' });
    await a.send('lt', { type: 'MARKET_OPEN' });
    b = await instance(url, 'b', FRIDAY_11AM + 20_000);
    // a is paused past its lease: b takes the strategy over, a learns it on its next write.
    expect(await b.send('lt', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true });
    await expect(a.send('lt', { type: 'TIME_WINDOW_START' })).rejects.toThrow(/does not own it/);
    // b removes it (flat); a adds a new strategy under the same id.
    await b.send('lt', { type: 'TIME_WINDOW_END' });
    await b.remove('lt');
    await a.add(strangle, { id: 'lt' });
    expect(await sql(url, "SELECT owner FROM strategies WHERE strategy_id = 'lt'")).toEqual([{ owner: 'a' }]);
    expect(a.get('lt').state).toBe('INITIALIZING');
    expect(a.peek('lt').state).toBe('INITIALIZING');
    expect(await a.send('lt', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    await a.remove('lt');
    expect(a.has('lt')).toBe(false);
    expect(await sql(url, "SELECT count(*)::int AS n FROM strategies WHERE strategy_id = 'lt'")).toEqual([{ n: 0 }]);
  } finally {
    await a.close();
    await b?.close();
  }
});
