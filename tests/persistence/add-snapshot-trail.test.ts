/**
 * A strategy added with a snapshot whose trail does not start at seq 1 (what getPersistedSnapshot()
 * exports when the history is longer than the exporter's trail window: an in-memory auditLimit, a
 * persistent system's restore window) takes its sends: its trail is its first write. A complete
 * trail longer than the receiving system's auditWindow is written whole. (A check against gaps in
 * the stored trail refused every send of such a strategy, its exits included.)
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

/** A complete trail (1..6), added to a persistent system whose auditWindow (3) is below it: the window's constructor keeps only 4..6 although the store holds none. */
test('a complete trail (1..6) into a persistent system with auditWindow 3: sends are accepted', async () => {
  const mem = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  mem.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const event of managing(VARIANTS[1].entry, 2)) expect((mem.send('lt', event) as { accepted: boolean }).accepted).toBe(true);
  const saved = mem.get('lt').getPersistedSnapshot();
  mem.stop();
  expect(saved.auditTrail?.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  const { dir, cleanup } = tempDir('add-snapshot-full-');
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db')),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
    auditWindow: 3,
  });
  try {
    await system.add(lt112, { id: 'lt', snapshot: saved } as never); // not in the persistent add's type: a JavaScript caller's import
    const outcomes: string[] = [];
    for (const event of [VIX, BACK, EXIT]) {
      outcomes.push(
        await system.send('lt', event).then(
          (r) => `accepted=${r.accepted}`,
          (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
        ),
      );
    }
    expect(outcomes).toEqual(['accepted=true', 'accepted=true', 'accepted=true']);
    // The whole trail it came with is stored, then what followed.
    expect((await system.readAuditTrail('lt', { before: 1000, limit: 100 })).records.map((r) => r.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  } finally {
    await system.close();
    cleanup();
  }
});

describe.each(sources)('add with a snapshot exported by %s', (_name, source) => {
  test('into a persistent system (SQLite): sends are accepted', async () => {
    const saved = await source();
    expect(saved.auditTrail?.[0]?.seq).toBeGreaterThan(1);
    const { dir, cleanup } = tempDir('add-snapshot-');
    const system = await openStrategySystem({
      store: new SqliteStore(join(dir, 's.db')),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    try {
      await system.add(lt112, { id: 'lt', snapshot: saved } as never); // not in the persistent add's type: a JavaScript caller's import
      const outcomes: string[] = [];
      for (const event of [VIX, BACK, EXIT]) {
        outcomes.push(
          await system.send('lt', event).then(
            (r) => `accepted=${r.accepted}`,
            (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
          ),
        );
      }
      expect(outcomes).toEqual(['accepted=true', 'accepted=true', 'accepted=true']);
    } finally {
      await system.close();
      cleanup();
    }
  });

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
