/**
 * A write whose answer is lost: the connection drops after PostgreSQL committed it, so the caller
 * gets StoreUnavailableError while the store moved on. The next write then conflicts on seq
 * although this instance still owns the strategy. Before, that conflict counted as lost
 * ownership: the copy was fenced and, with no other instance, nobody ever claimed it again (its
 * position unmanaged, a kill switch never done). Now the copy is reloaded from the store by the
 * next lease round, and a repeated event is refused as a duplicate by its eventId.
 */
import { OwnershipLostError, StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { PostgresStore } from '../../services/store/postgresStore';
import type { StrategyWrite } from '../../services/store/types';
import { FRIDAY_11AM, open, VARIANTS } from '../support/fixtures';
import { freshDatabase } from './pg';

const LEASE = 15_000;

/** The real store, whose next append commits and then loses its answer, as a dropped connection does. */
class AnswerLostStore extends PostgresStore {
  loseNext = false;
  override async append(write: StrategyWrite): Promise<void> {
    await super.append(write);
    if (this.loseNext) {
      this.loseNext = false;
      throw new StoreUnavailableError(this.name, 'Connection terminated unexpectedly');
    }
  }
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a committed write whose answer was lost: the copy is reloaded from the store, not abandoned, and the repeated event is a duplicate', async () => {
  const url = await freshDatabase('lost_answer');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new AnswerLostStore({ connectionString: url, instanceId: 'solo', leaseMs: LEASE });
  const system = await openStrategySystem({ store, variants: [lt112], clock });
  try {
    await system.add(lt112, { id: 'a' });
    for (const e of open(VARIANTS[1].entry, 2)) await system.send('a', e);

    const nextDay: StrategyEvent = { type: 'MARKET_OPEN', eventId: 'open-2026-12-07' };
    store.loseNext = true;
    await expect(system.send('a', nextDay)).rejects.toThrow(StoreUnavailableError);
    expect(system.get('a').state).toBe('POSITION_OPEN'); // rolled back here; the store has MANAGING

    // The caller repeats it: the store is ahead of this copy, which is let go of to be reloaded.
    await expect(system.send('a', nextDay)).rejects.toThrow(OwnershipLostError);
    await expect(system.send('a', nextDay)).rejects.toThrow(/reloaded from the store by the next lease round/);

    // A lease round claims it back and restores it from the store: the next one, or the one after
    // when the round due now began before the copy was let go of (its answers are real-time I/O).
    for (let round = 0; round < 2 && !system.has('a'); round++) {
      clock.increment(LEASE / 3);
      await until(() => system.has('a'), 2000).catch(() => undefined);
    }
    await until(() => system.has('a'));
    expect(system.get('a').state).toBe('MANAGING');
    expect(system.get('a').getSnapshot().context.position?.quantity).toBe(2);
    expect(await system.send('a', nextDay)).toMatchObject({ accepted: false, code: 'DUPLICATE_EVENT' });
    expect(await system.send('a', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
    expect((await verifyStore(store, [lt112])).differences).toEqual([]);
  } finally {
    await system.close();
  }
});
