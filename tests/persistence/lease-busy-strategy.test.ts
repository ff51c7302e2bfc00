/**
 * A strategy written without pause kept losing its lease to its own instance: the lease round's
 * renewal skips a row another transaction holds locked, which includes this instance's own write
 * in flight, so a busy strategy's lease could run out; when the write committed between the
 * round's renewal and its claim, the claim took the row again under a new fencing token, and the
 * writes of this same instance under the old token were refused with OwnershipLostError (the
 * crash test's worker saw "fencing token 2 is stale (now 3)"); another instance could take it
 * over the same way. Now each fenced write renews the lease of what it writes, and a claim never
 * takes a row this instance holds under its current token.
 */
import pg from 'pg';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { claimFree } from '../../services/store/postgresOwnership';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase, sql } from './pg';

const LEASE = 3000;

const leaseOf = async (url: string, id: string) =>
  (
    await sql(
      url,
      `SELECT owner, fencing_token::int AS token, lease_expires_at::float8 AS until FROM strategies WHERE strategy_id = '${id}'`,
    )
  )[0] as {
    owner: string;
    token: number;
    until: number;
  };

test('a write renews the lease of the strategy it writes, on its own and in a group commit', async () => {
  const url = await freshDatabase('lease_by_write');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE, groupCommit: false });
  const a = await openStrategySystem({ store, variants: [lt112], clock });
  const grouped = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'g', leaseMs: LEASE }),
    variants: [lt112],
    clock,
  });
  try {
    await a.add(lt112, { id: 'x' });
    await grouped.add(lt112, { id: 'y' });
    // As if every renewal had skipped the rows (each time a write held them): leases run out.
    await sql(url, "UPDATE strategies SET lease_expires_at = 0 WHERE strategy_id IN ('x', 'y')");
    clock.increment(LEASE / 6); // no round yet
    await a.send('x', { type: 'MARKET_OPEN' }); // a write on its own
    await grouped.send('y', { type: 'MARKET_OPEN' }); // a group commit's bulk write
    expect(await leaseOf(url, 'x')).toEqual({ owner: 'a', token: 1, until: clock.now() + LEASE });
    expect(await leaseOf(url, 'y')).toEqual({ owner: 'g', token: 1, until: clock.now() + LEASE });
  } finally {
    await a.close();
    await grouped.close();
  }
});

test('a claim never takes a row this instance holds under its current token, even with its lease run out', async () => {
  const url = await freshDatabase('lease_claim_own');
  const a = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  const pool = new pg.Pool({ connectionString: url });
  try {
    await a.add(lt112, { id: 'x' });
    await sql(url, "UPDATE strategies SET lease_expires_at = 0 WHERE strategy_id = 'x'");
    const now = FRIDAY_11AM + LEASE;
    // Instance a, holding 'x' under token 1: not claimed again (its renewal extends it).
    expect(await claimFree(pool, 'a', now, LEASE, false, new Map([['x', 1]]))).toEqual(new Map());
    expect(await leaseOf(url, 'x')).toMatchObject({ owner: 'a', token: 1 });
    // A stale token (a's copy was fenced meanwhile) does not protect it: claimed under a new token.
    expect(await claimFree(pool, 'a', now, LEASE, false, new Map([['x', 0]]))).toEqual(new Map([['x', 2]]));
    // Another instance takes an expired lease over as before.
    await sql(url, "UPDATE strategies SET lease_expires_at = 0 WHERE strategy_id = 'x'");
    expect(await claimFree(pool, 'b', now, LEASE, false, new Map([['x', 2]]))).toEqual(new Map([['x', 3]]));
  } finally {
    await pool.end();
    await a.close();
  }
});
