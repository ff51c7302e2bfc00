/**
 * JSON text in the store that no longer parses (a byte flipped inside a row, a hand edit) is
 * damage, reported as StoreCorruptError naming the file, the strategy and the value (its
 * snapshot or params column, an audit record): not a StoreUnavailableError carrying the parser's
 * message (which says to retry, and names nothing), nor a SyntaxError out of a later read.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { holdZeroDte } from '../support/restartHarness';
import { runSql, tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
const PAGE = 4096;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('sl-stored-json-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const newStore = () => new SqliteStore(file, { checkEveryMs: 0 });
const open = () => openStrategySystem({ store: newStore(), variants, clock: createSimulatedClock(FRIDAY_11AM) });
const run = (sql: string, ...args: unknown[]) => runSql(file, sql, ...args);
const storedSeq = (id: string) => {
  const db = new Database(file, { readonly: true });
  const { seq } = db.prepare('SELECT seq FROM strategies WHERE strategy_id = ?').get(id) as { seq: number };
  db.close();
  return seq;
};

/** A closed store: `z` holding 2 contracts, `lt` moved through a few events. */
async function store(): Promise<void> {
  const system = await open();
  await holdZeroDte(system, 'z', { expiry: '2026-01-02', quantity: 2 });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  await system.send('lt', { type: 'TIME_WINDOW_START' });
  await system.close();
}

async function refusal(): Promise<StoreCorruptError> {
  const error = await open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error).toMatchObject({ path: file });
  return error as StoreCorruptError;
}

test("a byte flipped inside the strategies page (in z's snapshot text) is refused naming the strategy and the column", async () => {
  await store();
  const db = new Database(file, { readonly: true });
  const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = 'strategies' AND pagetype = 'leaf'").all() as Array<{ pageno: number }>;
  db.close();
  const bytes = readFileSync(file);
  const hits = pages
    .map(({ pageno }) => (pageno - 1) * PAGE)
    .map((start) => ({ start, at: bytes.subarray(start, start + PAGE).indexOf('"position":{"quantity"') }))
    .filter((hit) => hit.at >= 0);
  expect(hits).toHaveLength(1);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from('#'), 0, 1, hits[0].start + hits[0].at);
  closeSync(fd);
  // SQLite sees nothing wrong: no checksum covers a cell's bytes.
  expect((await refusal()).detail).toMatch(/^strategy "z": its snapshot column is not JSON \(/);
});

test('params that are not JSON are refused naming the strategy and the column', async () => {
  await store();
  run("UPDATE strategies SET params = '{bad' WHERE strategy_id = 'lt'");
  expect((await refusal()).detail).toMatch(/^strategy "lt": its params column is not JSON \(/);
});

test('an audit record that is not JSON: the strategy is reported when its window is read, and a send moves nothing', async () => {
  await store();
  run("UPDATE audit_records SET record = '{bad' WHERE strategy_id = 'lt' AND seq = 1");
  const system = await open();
  const seq = storedSeq('lt');
  expect(() => system.get('lt').getAuditTrail()).toThrow(StoreCorruptError);
  await expect(system.send('lt', { type: 'TIME_WINDOW_END' })).rejects.toMatchObject({
    constructor: StoreCorruptError,
    path: file,
    detail: expect.stringMatching(/^strategy "lt": a record of its restored audit window \(to seq \d+\) is not JSON/),
  });
  await system.close();
  expect(storedSeq('lt')).toBe(seq);
  // Read from the store: a page, the whole trail.
  const direct = newStore();
  await direct.open();
  await expect(direct.readAuditTrail('lt')).rejects.toMatchObject({
    constructor: StoreCorruptError,
    detail: expect.stringMatching(/^strategy "lt": its audit record 1 is not JSON/),
  });
  await expect(direct.loadAll()).rejects.toMatchObject({
    constructor: StoreCorruptError,
    detail: expect.stringMatching(/^strategy "lt": its audit record 1 is not JSON/),
  });
  await direct.close();
});
