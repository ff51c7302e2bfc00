/**
 * A VM suspended past its leases and resumed: its timers run on waking, a durable deadline among
 * them, while the lease round that would tell it the strategy is gone is still in flight. The
 * instance that took the strategy over fired the overdue deadline already; the resumed one's write
 * of the same deadline is refused by the fencing token in its transaction, and it lets go of its
 * copy: one recovery stored, made by the new owner. Two instances on their own simulated clocks
 * (a paused instance is one whose clock stands still), the real test cluster underneath.
 */
import { OwnershipLostError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { eventually, freshDatabase, sql } from './pg';

const variants = [zeroDte, lt112, strangle];
const LEASE = 15_000;

test('a resumed instance whose lease was taken over cannot store the deadline the new owner already fired', async () => {
  const url = await freshDatabase('resumed_deadline');
  const errorsA: unknown[] = [];
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const a = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE }),
    variants,
    clock: clockA,
    onStoreError: (e) => errorsA.push(e),
  });
  await a.add(lt112, { id: 'lt' });
  await a.send('lt', { type: 'MARKET_OPEN' });
  await a.send('lt', { type: 'SYSTEM_ERROR', reason: 'feed down' });
  const due = a.get('lt').getSnapshot().context.deadline?.at;
  expect(due).toBe(FRIDAY_11AM + 30 * MINUTE);

  // a is suspended at 11:00; b, 31 minutes later, takes 'lt' over at its start and fires the overdue recovery.
  const b = await openStrategySystem({
    store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }),
    variants,
    clock: createSimulatedClock(FRIDAY_11AM + 31 * MINUTE),
  });
  await eventually(() => b.has('lt') && b.get('lt').state === 'READY', "b's recovery of lt");

  // a resumes: its lease round (due 11:00:05) starts, and before it answers the recovery (due 11:30) fires.
  clockA.set(FRIDAY_11AM + 31 * MINUTE);
  await eventually(() => !a.ids().includes('lt'), 'a letting go of lt');
  await a.flush();
  expect(() => a.get('lt')).toThrow(OwnershipLostError);
  // It did try: the deadline's write was refused in its transaction, not skipped.
  expect(errorsA.map(String)).toEqual([expect.stringMatching(/instance a does not own it: write refused: it is owned by b now/)]);

  const triggers = await sql<{ trigger: string }>(
    url,
    "SELECT record::jsonb->>'trigger' AS trigger FROM audit_records WHERE strategy_id = 'lt' ORDER BY seq",
  );
  expect(triggers.map((r) => r.trigger)).toEqual(['MARKET_OPEN', 'SYSTEM_ERROR', 'lifecycle.deadline']);
  const [row] = await sql<{ owner: string; state: string }>(
    url,
    "SELECT owner, snapshot::jsonb->>'value' AS state FROM strategies WHERE strategy_id = 'lt'",
  );
  expect(row).toEqual({ owner: 'b', state: 'READY' });
  await a.close();
  await b.close();
});
