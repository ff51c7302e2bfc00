/**
 * A strategy added with a snapshot whose trail does not start at seq 1 (what getPersistedSnapshot()
 * exports when the history is longer than the exporter's trail window: an in-memory auditLimit, a
 * persistent system's restore window) takes its sends in an in-memory system (a check against gaps
 * in the stored trail refused every one, its exits included). A persistent system refuses such an
 * add with a clear error (not in its type; JavaScript callers could pass it, and the strategy's
 * trail and next writes then did not fit its store).
 */
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import type { PersistedStrategy } from '../../services/runtime/strategyActor';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { tempDir } from './helpers';

// The way out of the 2-contract position: MANAGING -> PENDING_EXIT -> EXITING -> flat.
const VIX = { type: 'VIX_SPIKE', vix: 41 } as never;
const BACK = { type: 'ORDER_SUBMITTED' } as never;
const EXIT = { type: 'ORDER_FILLED', quantity: 2 } as never;

/** From an in-memory system whose auditLimit (3) is below the history (6 records). */
function fromInMemory(): PersistedStrategy {
  const mem = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), auditLimit: 3 });
  mem.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const event of managing(VARIANTS[1].entry, 2)) expect((mem.send('lt', event) as { accepted: boolean }).accepted).toBe(true);
  const saved = mem.get('lt').getPersistedSnapshot(); // MANAGING, seq 6, trail 4..6
  mem.stop();
  return saved;
}

/** From a persistent system reopened with its default windows, the history longer than restoreWindow (32). */
async function fromPersistent(): Promise<PersistedStrategy> {
  const { dir, cleanup } = tempDir('add-snapshot-src-');
  const file = join(dir, 'src.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  try {
    const a = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock });
    await a.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    for (const event of managing(VARIANTS[1].entry, 2)) expect((await a.send('lt', event)).accepted).toBe(true);
    for (let i = 0; i < 20; i++) {
      await a.send('lt', { type: 'MARKET_CLOSE' } as never);
      await a.send('lt', { type: 'MARKET_OPEN' } as never);
    }
    await a.close();
    const b = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock });
    const saved = b.get('lt').getPersistedSnapshot();
    await b.close();
    return saved;
  } finally {
    cleanup();
  }
}

const sources: Array<[string, () => PersistedStrategy | Promise<PersistedStrategy>]> = [
  ['an in-memory system with auditLimit 3', fromInMemory],
  ['a persistent system after a restart (default windows)', fromPersistent],
];

test('a persistent system refuses add with a snapshot, naming the option; nothing is stored', async () => {
  const saved = fromInMemory();
  const { dir, cleanup } = tempDir('add-snapshot-full-');
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db')),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  try {
    await expect(system.add(lt112, { id: 'lt', snapshot: saved } as never)).rejects.toMatchObject({
      name: 'InvalidOptionsError',
      option: 'snapshot',
    });
    expect(system.has('lt')).toBe(false);
    expect(system.ids()).toEqual([]);
  } finally {
    await system.close();
    cleanup();
  }
});

describe.each(sources)('add with a snapshot exported by %s', (_name, source) => {
  test('into an in-memory system: sends are accepted', async () => {
    const saved = await source();
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    try {
      system.add(lt112, { id: 'lt', snapshot: saved });
      const outcomes: string[] = [];
      for (const event of [VIX, BACK, EXIT]) {
        try {
          outcomes.push(`accepted=${(system.send('lt', event) as { accepted: boolean }).accepted}`);
        } catch (e) {
          outcomes.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      expect(outcomes).toEqual(['accepted=true', 'accepted=true', 'accepted=true']);
    } finally {
      system.stop();
    }
  });
});
