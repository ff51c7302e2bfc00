/**
 * Two processes with one `instanceId` (a rolling deploy that starts the new process, with the id
 * fixed in its environment, before the old one has closed). The new one claims the strategies
 * under newer fencing tokens. Before, the old process's graceful close released every row owned
 * by that name, whatever its token: the new process's strategies lost their owner, every send
 * failed with OwnershipLostError and any instance could take them. Its lease rounds also extended
 * rows it no longer held. Now both check the token.
 */
import pg from 'pg';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase } from './pg';

test("the old process's close leaves the rows the new process of the same instanceId claimed since", async () => {
  const url = await freshDatabase('same_id');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const row = async () =>
    (
      await admin.query<{ owner: string | null; fencing_token: string; lease_expires_at: string }>(
        "SELECT owner, fencing_token, lease_expires_at FROM strategies WHERE strategy_id = 's'",
      )
    ).rows[0];
  const oldStore = new PostgresStore({ connectionString: url, instanceId: 'node-1' });
  const old = await openStrategySystem({ store: oldStore, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  try {
    await old.add(lt112, { id: 's' });
    await old.send('s', { type: 'MARKET_OPEN' });
    // The new process claims the row under a newer token (as its claim would, once the lease ran out).
    await admin.query("UPDATE strategies SET fencing_token = fencing_token + 1, lease_expires_at = $1 WHERE strategy_id = 's'", [
      FRIDAY_11AM + 60_000,
    ]);
    const claimed = await row();

    // The old process's lease round does not extend a lease it no longer holds...
    const { lost } = await oldStore.maintainLeases();
    expect(lost).toEqual(['s']);
    expect(await row()).toEqual(claimed);
    // ...and its close does not release it.
    await old.close();
    expect(await row()).toEqual(claimed);
    expect(claimed.owner).toBe('node-1');
  } finally {
    await old.close().catch(() => undefined);
    await admin.end();
  }
});

test('a close releases what this process holds under its own tokens', async () => {
  const url = await freshDatabase('same_id_release');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const system = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'node-1' }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await system.add(lt112, { id: 'a' });
  await system.add(lt112, { id: 'b' });
  await system.close();
  const { rows } = await admin.query<{ strategy_id: string; owner: string | null }>('SELECT strategy_id, owner FROM strategies ORDER BY 1');
  expect(rows).toEqual([
    { strategy_id: 'a', owner: null },
    { strategy_id: 'b', owner: null },
  ]);
  await admin.end();
});
