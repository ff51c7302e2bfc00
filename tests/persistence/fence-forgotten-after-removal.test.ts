/**
 * An id this instance was fenced off (another instance took the strategy over) and that the new
 * owner then removed: the next lease round here forgets the fence, in one query for every fenced
 * id, and the id answers UnknownStrategyError. Ids still stored elsewhere stay fenced.
 *
 * Before, the fence stayed until this instance took the strategy back or added one under the id:
 * a removed strategy's id answered OwnershipLostError until a restart, and in a long-running
 * service whose strategies come and go across instances the fences piled up without bound.
 * Real PostgreSQL (the test cluster), one simulated clock per instance.
 */
import { OwnershipLostError, UnknownStrategyError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { eventually, freshDatabase } from './pg';

const LEASE = 15_000;

/** The real store, noting each lease round it ran, the ids each `storedIds` asked about and its answers. */
class WatchedStore extends PostgresStore {
  rounds = 0;
  asked: string[][] = [];
  answered = 0;
  override async maintainLeases(...args: Parameters<PostgresStore['maintainLeases']>) {
    try {
      return await super.maintainLeases(...args);
    } finally {
      this.rounds++;
    }
  }
  override async storedIds(ids: readonly string[]) {
    this.asked.push([...ids].sort());
    try {
      return await super.storedIds(ids);
    } finally {
      this.answered++;
    }
  }
}

/** What `get(id)` throws, as its class name (or 'held' when it returns). */
function getOutcome(system: PersistentStrategySystem, id: string): string {
  try {
    system.get(id);
    return 'held';
  } catch (error) {
    if (error instanceof UnknownStrategyError) return 'UnknownStrategyError';
    if (error instanceof OwnershipLostError) return 'OwnershipLostError';
    throw error;
  }
}

test('a fence is forgotten once the new owner removed the strategy: the id is unknown, the other fences stay', async () => {
  const url = await freshDatabase('fence_forgotten');
  const clockA = createSimulatedClock(FRIDAY_11AM);
  const storeA = new WatchedStore({ connectionString: url, instanceId: 'a', leaseMs: LEASE });
  const a = await openStrategySystem({ store: storeA, variants: [lt112], clock: clockA, onStoreError: () => undefined });
  let b: PersistentStrategySystem | undefined;
  /**
   * Runs one lease round of a and waits (real time, bounded) until it is over: its renewal answered
   * and, when fences are left to ask about (`asksStore`), the fences' query too; what follows
   * either answer is a few promise turns.
   */
  const roundOfA = async (asksStore: boolean) => {
    const [rounds, answered] = [storeA.rounds, storeA.answered];
    clockA.increment(LEASE / 3);
    await eventually(() => storeA.rounds > rounds, "a's lease round");
    // Not failed here if it never comes: the assertions after the round name what is missing.
    if (asksStore) await eventually(() => storeA.answered > answered, "the fenced ids' query").catch(() => undefined);
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  try {
    for (const id of ['x', 'y']) {
      await a.add(lt112, { id });
      await a.send(id, { type: 'MARKET_OPEN' });
    }
    // a pauses past its lease: b, opening later, takes both over.
    b = await openStrategySystem({
      store: new PostgresStore({ connectionString: url, instanceId: 'b', leaseMs: LEASE }),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM + LEASE + 5000),
      onStoreError: () => undefined,
    });
    expect(b.ids().sort()).toEqual(['x', 'y']);
    // a's next round finds both lost: fenced.
    await roundOfA(true);
    expect([getOutcome(a, 'x'), getOutcome(a, 'y')]).toEqual(['OwnershipLostError', 'OwnershipLostError']);

    // b removes x (flat); a's next round asks about both fenced ids at once and forgets x's fence.
    await b.remove('x');
    storeA.asked = [];
    await roundOfA(true);
    expect(getOutcome(a, 'x')).toBe('UnknownStrategyError');
    await expect(a.send('x', { type: 'TIME_WINDOW_START' })).rejects.toBeInstanceOf(UnknownStrategyError);
    // y is still stored, owned by b: still fenced here.
    expect(getOutcome(a, 'y')).toBe('OwnershipLostError');
    expect(storeA.asked).toEqual([['x', 'y']]);

    // The next round asks about y alone: x's fence is gone, not kept beside it.
    storeA.asked = [];
    await roundOfA(true);
    expect(storeA.asked).toEqual([['y']]);

    // b removes y too: forgotten by the next round; after it, no fence is left to ask about.
    await b.remove('y');
    storeA.asked = [];
    await roundOfA(true);
    expect(storeA.asked).toEqual([['y']]);
    expect(getOutcome(a, 'y')).toBe('UnknownStrategyError');
    storeA.asked = [];
    await roundOfA(false);
    expect(storeA.asked).toEqual([]);
  } finally {
    await a.close();
    await b?.close();
  }
});
