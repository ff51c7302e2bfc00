/**
 * The integrity check at open is scoped: SQLite's `quick_check` runs over the tables a restore
 * reads whole (strategies, identity, trading state), not over the audit trail, so the open does
 * not grow with history. A damaged audit page is still found: by the full check on request
 * (`checkIntegrity({ full: true })`) and as StoreCorruptError when it is read.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
const PAGE = 4096;
/** Transitions written for the strategy `lt`: its audit trail spans many pages. */
const SENT = 240;

let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('sl-integrity-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const newStore = () => new SqliteStore(file, { synchronous: 'NORMAL', checkEveryMs: 0 });
const open = (store = newStore()) => openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });

/** A closed store holding `lt` (MARKET_OPEN, then SENT entry-window events) and `other`. */
async function storeWithHistory(): Promise<number> {
  const system = await open();
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.add(lt112, { id: 'other', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  for (let i = 0; i < SENT; i++) await system.send('lt', { type: i % 2 === 0 ? 'TIME_WINDOW_START' : 'TIME_WINDOW_END' });
  const seq = system.get('lt').getSnapshot().context.lastRecord!.seq;
  await system.close();
  return seq;
}

/** The leaf pages of a table (or index), leftmost first, with their cell counts (SQLite's dbstat). */
function leafPages(name: string): Array<{ pageno: number; ncell: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT pageno, ncell FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path").all(name) as Array<{
      pageno: number;
      ncell: number;
    }>;
  } finally {
    db.close();
  }
}

/** Overwrites one page of the closed database with bytes that are no b-tree page. */
function damagePage(pageno: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(PAGE, 0x5a), 0, PAGE, (pageno - 1) * PAGE);
  closeSync(fd);
}

test('a damaged audit page outside the restore window: the open succeeds, the full check and a read of that page report StoreCorruptError', async () => {
  const lastSeq = await storeWithHistory();
  // The leftmost leaf of audit_records holds the oldest rows: lt's first records, far older than
  // the restore window (its newest 32), so a restore never reads that page.
  const [oldest] = leafPages('audit_records');
  expect(lastSeq).toBeGreaterThan(oldest.ncell + 100);
  damagePage(oldest.pageno);

  const store = newStore();
  const system = await open(store);
  expect(system.ids().sort()).toEqual(['lt', 'other']);
  expect(system.get('lt').getSnapshot().context.lastRecord!.seq).toBe(lastSeq);
  // The scoped check (what the open ran) passes; the whole-file check finds the page.
  await expect(store.checkIntegrity()).resolves.toBeUndefined();
  const full = await store.checkIntegrity({ full: true }).catch((e: unknown) => e);
  expect(full).toBeInstanceOf(StoreCorruptError);
  expect(full).toMatchObject({ path: file });
  expect((full as Error).message).toContain(`database file ${file} is corrupt`);
  // The newest pages read fine; the damaged one is reported when read, never as missing records.
  await expect(system.readAuditTrail('lt', { limit: 50 })).resolves.toMatchObject({ next: lastSeq - 49 });
  await expect(system.readAuditTrail('lt', { before: 5 })).rejects.toThrow(StoreCorruptError);
  // The system runs on.
  await expect(system.send('other', { type: 'MARKET_OPEN' })).resolves.toMatchObject({ accepted: true, to: 'READY' });
  await system.close();
});

test('a damaged strategies page is refused at open by the scoped check, naming the table', async () => {
  await storeWithHistory();
  const [page] = leafPages('strategies');
  damagePage(page.pageno);
  const error = await open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error).toMatchObject({ path: file });
  expect((error as StoreCorruptError).detail).toMatch(/^strategies: /);
  // Refused before anything was written: the file opens read-only as it was (still damaged).
  const db = new Database(file, { readonly: true });
  expect(() => db.prepare('SELECT * FROM strategies').all()).toThrow(/malformed|corrupt/i);
  db.close();
});

test('a damaged audit page inside the restore window fails the open with StoreCorruptError, and the file is left closed', async () => {
  await storeWithHistory();
  const pages = leafPages('audit_records');
  // The rightmost leaf holds the newest records: the restore window reads it.
  damagePage(pages[pages.length - 1].pageno);
  await expect(open()).rejects.toThrow(StoreCorruptError);
  // Closed on the way out: another connection can take the write lock at once.
  const db = new Database(file);
  expect(() => db.exec('BEGIN IMMEDIATE; ROLLBACK')).not.toThrow();
  db.close();
});
