/**
 * The files beside a SQLite store's database, tampered with while it runs or before it starts:
 * - the write-ahead log deleted: SQLite kept appending to a file nothing on disk named, and a
 *   crash lost every acknowledged commit since (a kill switch's HALT included). Now the next commit
 *   (before it writes) or check finds it: what was committed is copied into the database file, the
 *   refused write is not among it, nothing more is acknowledged, every write is refused;
 * - the writer lock deleted: a second process could open the database and write beside this one.
 *   Now the check finds it and this store stops writing;
 * - a database file that cannot be written (immutable) opened as usual and refused every write
 *   after. Now the open fails, naming the file.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { setImmutable, tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-side-')));
afterEach(() => cleanup());

test('the write-ahead log deleted while open: nothing more is acknowledged, and what was acknowledged is in the database file', async () => {
  const file = join(dir, 's.db');
  const store = new SqliteStore(file, { checkEveryMs: 0 });
  const system = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  await system.add(lt112, { id: 'a' });
  await system.send('a', { type: 'MARKET_OPEN', eventId: 'acknowledged-1' });
  await system.send('a', { type: 'TIME_WINDOW_START', window: 'entry', eventId: 'acknowledged-2' });

  rmSync(`${file}-wal`);
  rmSync(`${file}-shm`, { force: true });
  const refused = await system.send('a', { type: 'TIME_WINDOW_END', window: 'entry', eventId: 'after' }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(StoreUnavailableError);
  expect((refused as Error).message).toMatch(/write-ahead log .*s\.db-wal was deleted or replaced while open/);
  await expect(system.send('a', { type: 'TIME_WINDOW_END', window: 'entry' })).rejects.toThrow(/write-ahead log/);

  // What a crash now would leave: the database file alone holds every acknowledged record.
  const raw = new Database(file, { readonly: true, fileMustExist: true });
  const ids = (
    raw.prepare("SELECT json_extract(record, '$.eventId') AS id FROM audit_records WHERE strategy_id = 'a' ORDER BY seq").all() as Array<{
      id: string | null;
    }>
  ).map((r) => r.id);
  raw.close();
  expect(ids).toEqual(['acknowledged-1', 'acknowledged-2']);
  await system.close().catch(() => undefined);
});

test.each([{ groupCommit: false as const }, {}])(
  'with %p, a write refused because the write-ahead log was deleted is not in the database file: a restart finds the strategy where the caller was told it stayed',
  async (grouping) => {
    const file = join(dir, 's.db');
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0, ...grouping }), variants: [lt112], clock });
    await system.add(lt112, { id: 'a' });
    await system.send('a', { type: 'MARKET_OPEN', eventId: 'acknowledged' });
    rmSync(`${file}-wal`);
    rmSync(`${file}-shm`, { force: true });
    // StoreUnavailableError says the transition was not applied: the same call may be retried.
    await expect(system.send('a', { type: 'TIME_WINDOW_START', window: 'entry', eventId: 'refused' })).rejects.toThrow(
      /write-ahead log .*was deleted or replaced while open/,
    );
    expect(system.get('a').state).toBe('READY');
    await system.close().catch(() => undefined);

    // Before, the refused commit went into the deleted log and the checkpoint copied it into the
    // database file: after a restart the strategy was in ANALYZING, the refused event applied.
    const reopened = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [lt112], clock });
    try {
      expect(reopened.get('a').state).toBe('READY');
      expect(
        reopened
          .get('a')
          .getAuditTrail()
          .map((r) => r.eventId),
      ).toEqual(['acknowledged']);
      // The retry the error invites is applied once.
      expect(await reopened.send('a', { type: 'TIME_WINDOW_START', window: 'entry', eventId: 'refused' })).toMatchObject({
        accepted: true,
        to: 'ANALYZING',
      });
    } finally {
      await reopened.close();
    }
  },
);

test('the writer lock deleted while open: the check refuses every write from then on', async () => {
  const file = join(dir, 's.db');
  const store = new SqliteStore(file, { checkEveryMs: 0 });
  const system = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
  await system.add(lt112, { id: 'a' });
  rmSync(`${file}.lock`);
  expect(() => store.checkFile()).toThrow(/writer lock .*s\.db\.lock was deleted or replaced while open/);
  await expect(system.send('a', { type: 'MARKET_OPEN' })).rejects.toThrow(StoreUnavailableError);
  expect(system.get('a').state).toBe('INITIALIZING');
  await system.close().catch(() => undefined);
});

test('a database file that cannot be written is refused at open, naming it', async () => {
  const file = join(dir, 's.db');
  const first = new SqliteStore(file);
  await first.open();
  await first.close();
  setImmutable([file], true);
  try {
    const second = new SqliteStore(file);
    await expect(second.open()).rejects.toThrow(/database file .*s\.db cannot be written/);
  } finally {
    setImmutable([file], false);
  }
});

test.each([{ groupCommit: false as const }, {}])(
  'with %p, a commit that fails (an immutable log) makes checkWritable fail until a write goes through',
  async (grouping) => {
    const file = join(dir, 's.db');
    const store = new SqliteStore(file, { checkEveryMs: 0, ...grouping });
    const system = await openStrategySystem({ store, variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
    try {
      await system.add(lt112, { id: 'a' });
      await expect(store.checkWritable()).resolves.toBeUndefined();
      setImmutable([`${file}-wal`], true);
      try {
        await expect(system.send('a', { type: 'MARKET_OPEN' })).rejects.toThrow(StoreUnavailableError);
        // Before, without group commit, the failure was not kept: the service's /ready said ready.
        await expect(store.checkWritable()).rejects.toThrow(StoreUnavailableError);
      } finally {
        setImmutable([`${file}-wal`], false);
      }
      await expect(store.checkWritable()).resolves.toBeUndefined();
      expect(await system.send('a', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    } finally {
      await system.close().catch(() => undefined);
    }
  },
);
