/**
 * A SQLite store knows it is the store it was: a deleted, replaced or corrupt database file is
 * refused (at open, after each commit, and by the periodic check) instead of silently becoming
 * a fresh empty store; files are owner-only whatever the umask.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError, StoreIdentityError, StoreUnavailableError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore, type SqliteStoreOptions } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];

let dir: string;
let cleanup: () => void;
let file: string;
let marker: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'data', 'strategies.db');
  marker = `${file}.id`;
});
afterEach(() => cleanup());

async function open(options: SqliteStoreOptions = {}, path = file) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new SqliteStore(path, { checkClock: clock, ...options });
  const system = await openStrategySystem({ store, variants, clock });
  return { clock, store, system };
}

/** A closed store at `path` holding `n` strategies, each moved once. */
async function storeWith(n: number, path = file): Promise<string> {
  const { system, store } = await open({}, path);
  for (let i = 0; i < n; i++) {
    await system.add(lt112, { id: `lt-${i}`, params: { underlying: 'SPX' } });
    await system.send(`lt-${i}`, { type: 'MARKET_OPEN' });
  }
  await system.close();
  return store.identity!.storeId;
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('first start', () => {
  test.each([
    ['000', 0],
    ['022', 0o022],
    ['277', 0o277],
  ])('no database and no marker: both are made, the id is in each, the files are owner-only under umask %s', async (_name, umask) => {
    const previous = process.umask(umask);
    try {
      const { store, system } = await open();
      await system.add(lt112, { id: 'lt' });
      expect(store.identity).toMatchObject({ created: 'first-start', createdAt: FRIDAY_11AM });
      expect(store.identity!.storeId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({
        storeId: store.identity!.storeId,
        createdAt: FRIDAY_11AM,
        database: 'strategies.db',
      });
      const raw = new Database(file, { readonly: true });
      expect(raw.prepare('SELECT store_id, created_at FROM store_identity').get()).toEqual({
        store_id: store.identity!.storeId,
        created_at: FRIDAY_11AM,
      });
      raw.close();
      expect(mode(join(dir, 'data'))).toBe(0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}.lock`, marker]) expect([f, mode(f)]).toEqual([f, 0o600]);
      await system.close();
    } finally {
      process.umask(previous);
    }
  });

  test('reopening the same store keeps its id and says it was not created', async () => {
    const id = await storeWith(1);
    const { store, system } = await open();
    expect(store.identity).toMatchObject({ storeId: id, created: false });
    expect(system.ids()).toEqual(['lt-0']);
    await system.close();
  });

  test('a version-1 database migrates, gets an id and a marker, and keeps its strategies', async () => {
    await storeWith(2);
    const raw = new Database(file);
    // Back to version 1: only the two tables version 1 made.
    for (const { name } of raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('strategies', 'audit_records') AND name NOT LIKE 'sqlite_%'",
      )
      .all() as Array<{ name: string }>)
      raw.exec(`DROP TABLE ${name}`);
    raw.pragma('user_version = 1');
    raw.close();
    rmSync(marker);
    const { store, system } = await open();
    expect(store.identity!.created).toBe(false);
    expect(JSON.parse(readFileSync(marker, 'utf8')).storeId).toBe(store.identity!.storeId);
    expect(system.ids()).toEqual(['lt-0', 'lt-1']);
    await system.close();
  });

  test('a lost marker beside an intact database is written again from the database', async () => {
    const id = await storeWith(1);
    rmSync(marker);
    const { store, system } = await open();
    expect(store.identity).toMatchObject({ storeId: id, created: false });
    expect(JSON.parse(readFileSync(marker, 'utf8')).storeId).toBe(id);
    await system.close();
  });

  test('create: false creates nothing: no directory, database or marker', async () => {
    const error = await new SqliteStore(file, { create: false }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain(`no database at ${file}`);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});

describe('a database file deleted or replaced while open', () => {
  test('the next send rejects with StoreUnavailableError and the strategy does not move; so do the sends after it', async () => {
    const { system } = await open();
    await system.add(lt112, { id: 'lt' });
    await system.send('lt', { type: 'MARKET_OPEN' });
    rmSync(file);
    const error = await system.send('lt', { type: 'TIME_WINDOW_START' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain(`database file ${file} was deleted or replaced while open`);
    expect(system.get('lt').state).toBe('READY');
    expect(system.get('lt').getAuditTrail()).toHaveLength(1);
    await expect(system.send('lt', { type: 'TIME_WINDOW_START' })).rejects.toThrow(/deleted or replaced while open/);
    await expect(system.add(lt112, { id: 'another' })).rejects.toThrow(StoreUnavailableError);
    expect(system.get('lt').state).toBe('READY');
    // Reads say so too (what GET /ready asks): the store is down, not ready.
    await expect(system.store.loadSystemState()).rejects.toThrow(/deleted or replaced while open/);
    await system.close();
  });

  test('a file renamed over it (another store) is caught the same way', async () => {
    const other = join(dir, 'other', 'strategies.db');
    await storeWith(1, other);
    const { system } = await open();
    await system.add(lt112, { id: 'lt' });
    renameSync(other, file);
    await expect(system.send('lt', { type: 'MARKET_OPEN' })).rejects.toThrow(/was deleted or replaced while open/);
    expect(system.get('lt').state).toBe('INITIALIZING');
    await system.close();
  });

  test('the periodic check reports it after 5 s of its clock, without any write', async () => {
    const faults: StoreUnavailableError[] = [];
    const { clock, system } = await open({ onFault: (e) => faults.push(e) });
    await system.add(lt112, { id: 'lt' });
    clock.increment(5000); // one check passes
    expect(faults).toEqual([]);
    rmSync(file);
    clock.increment(4999);
    expect(faults).toEqual([]);
    clock.increment(1);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toBeInstanceOf(StoreUnavailableError);
    expect(faults[0].message).toContain('was deleted or replaced while open');
    clock.increment(60_000); // reported once
    expect(faults).toHaveLength(1);
    await expect(system.send('lt', { type: 'MARKET_OPEN' })).rejects.toThrow(StoreUnavailableError);
    await system.close();
  });

  test('the periodic check restores a deleted marker and reports one that names another store', async () => {
    const faults: StoreUnavailableError[] = [];
    const { clock, store, system } = await open({ onFault: (e) => faults.push(e) });
    rmSync(marker);
    clock.increment(5000);
    expect(JSON.parse(readFileSync(marker, 'utf8')).storeId).toBe(store.identity!.storeId);
    const other = join(dir, 'other', 'strategies.db');
    await storeWith(0, other);
    renameSync(`${other}.id`, marker);
    clock.increment(5000);
    expect(faults.map((e) => e.message)).toEqual([expect.stringContaining(`the marker ${marker} now names store`)]);
    await system.close();
  });
});

describe('reopening after the file was deleted or replaced', () => {
  test('a deleted database is refused, says what happened and that --init makes an empty store; nothing is created', async () => {
    const id = await storeWith(5);
    rmSync(file);
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreIdentityError);
    expect(error).toMatchObject({ problem: 'deleted' });
    expect((error as Error).message).toContain(`database file ${file} is missing, but its marker ${marker} says store ${id}`);
    expect((error as Error).message).toContain('--init');
    expect(existsSync(file)).toBe(false);
    expect(JSON.parse(readFileSync(marker, 'utf8')).storeId).toBe(id);
  });

  test('create: true (--init) on a deleted database makes an empty store with a new id, and says so', async () => {
    const id = await storeWith(5);
    rmSync(file);
    const { store, system } = await open({ create: true });
    expect(store.identity!.created).toBe('init');
    expect(store.identity!.storeId).not.toBe(id);
    expect(system.ids()).toEqual([]);
    expect(JSON.parse(readFileSync(marker, 'utf8')).storeId).toBe(store.identity!.storeId);
    expect(mode(file)).toBe(0o600);
    await system.close();
  });

  test("another store's database in its place is refused, naming both ids, and nothing is written", async () => {
    const id = await storeWith(1);
    const other = join(dir, 'other', 'strategies.db');
    const otherId = await storeWith(1, other);
    renameSync(other, file);
    const bytes = readFileSync(file);
    for (const options of [{}, { create: true }]) {
      const error = await open(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreIdentityError);
      expect(error).toMatchObject({ problem: 'replaced' });
      expect((error as Error).message).toContain(`is store ${otherId}, but its marker ${marker} says store ${id}: the file was replaced`);
    }
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  test('an empty file in its place is refused as replaced', async () => {
    await storeWith(1);
    truncateSync(file, 0);
    await expect(open()).rejects.toThrow(/a database without a store id, but its marker/);
  });
});

describe('a corrupt database file', () => {
  test('overwritten bytes in a closed database: open refused with StoreCorruptError naming the file', async () => {
    await storeWith(60);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(4 * 4096);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 2 * 4096); // page 3: a b-tree page
    closeSync(fd);
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect(error).toMatchObject({ path: file });
    expect((error as Error).message).toContain(`database file ${file} is corrupt`);
  });

  test('a truncated database: refused with StoreCorruptError', async () => {
    await storeWith(60);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    await expect(open()).rejects.toThrow(StoreCorruptError);
  });

  test('a file that is not a database: refused with StoreCorruptError', async () => {
    await storeWith(1);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('definitely not SQLite'), 0, 21, 0);
    closeSync(fd);
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect((error as Error).message).toContain(file);
  });
});
