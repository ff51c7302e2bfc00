/**
 * A stored snapshot whose state does not fit its position is refused at restore with a
 * SnapshotRestoreError naming both. Before, it restored as it was: a position in READY was never
 * exited (READY's edges never lead to an exit, and the 21-DTE rule only runs in MANAGING), and a
 * flat strategy in MANAGING refused every exit fill and could only leave by an operator's override.
 */
import { join } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { SnapshotRestoreError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor, type PersistedStrategy } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';
import { tempDir } from '../persistence/helpers';
import { editStoredSnapshot } from '../support/tamper';

type Context = Record<string, unknown>;

/** The persisted snapshot of an LT112 strategy after `events`, with `edit` applied to a copy of its context. */
function saved(events: Parameters<typeof managing>[0][], edit: (context: Context) => void): PersistedStrategy {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'victim' });
  for (const event of events) expect(system.send('victim', event)).toMatchObject({ accepted: true });
  const copy = JSON.parse(JSON.stringify(system.get('victim').getPersistedSnapshot())) as PersistedStrategy;
  edit((copy.snapshot as unknown as { context: Context }).context);
  return copy;
}

const CASES = [
  {
    name: 'READY holding 2 contracts',
    events: [{ type: 'MARKET_OPEN' }] as const,
    edit: (c: Context) => (c.position = { quantity: 2, openedAt: FRIDAY_11AM }),
    message: 'READY is a flat state but the snapshot holds 2 contracts',
  },
  {
    name: 'MANAGING with no position',
    events: managing(VARIANTS[1].entry),
    edit: (c: Context) => (c.position = null),
    message: 'MANAGING holds a position but the snapshot has none',
  },
];

test.each(CASES.map((c) => [c.name, c] as const))(
  'in memory, %s: add() and createStrategyActor refuse it, naming state and position',
  (_n, c) => {
    const snapshot = saved([...c.events], c.edit);
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    system.add(lt112, { id: 'neighbour' });
    expect(() => system.add(lt112, { id: 'victim', snapshot })).toThrow(SnapshotRestoreError);
    expect(() => system.add(lt112, { id: 'victim', snapshot })).toThrow(`the snapshot does not fit the chart: ${c.message}`);
    expect(system.has('victim')).toBe(false);
    expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(() => createStrategyActor(createStrategyMachine(lt112), { snapshot })).toThrow(c.message);
  },
);

test('the same snapshots untouched restore and run: MANAGING exits on its exit fill, READY analyses', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'holding', snapshot: saved(managing(VARIANTS[1].entry), () => undefined) });
  system.add(lt112, { id: 'flat', snapshot: saved([{ type: 'MARKET_OPEN' }], () => undefined) });
  expect(system.send('holding', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
  expect(system.send('flat', { type: 'TIME_WINDOW_START', window: 'entry' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
});

test('SQLite: a MANAGING row edited to hold no position is refused at the open, naming the strategy; the file is unchanged', async () => {
  const { dir, cleanup } = tempDir('sl-posstate-');
  const file = join(dir, 's.db');
  try {
    const first = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
    await first.add(lt112, { id: 'victim' });
    for (const event of toPosition) expect(await first.send('victim', event)).toMatchObject({ accepted: true });
    expect(first.get('victim').state).toBe('MANAGING');
    await first.close();
    let position: unknown;
    editStoredSnapshot(file, 'victim', (snapshot) => {
      position = snapshot.context.position;
      snapshot.context.position = null;
    });

    const opening = openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
    await expect(opening).rejects.toThrow(SnapshotRestoreError);
    await expect(opening).rejects.toThrow(/"victim".*MANAGING holds a position but the snapshot has none/s);

    // Repaired (the position put back), it opens and exits.
    editStoredSnapshot(file, 'victim', (snapshot) => {
      expect(snapshot.context.position).toBeNull();
      snapshot.context.position = position;
    });
    const repaired = await openStrategySystem({
      store: new SqliteStore(file),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    expect(await repaired.send('victim', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
    await repaired.close();
  } finally {
    cleanup();
  }
});
