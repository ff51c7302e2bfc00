/**
 * `status --check-integrity`: the whole-file check the service's open no longer runs (it checks
 * only the tables a restore reads whole). A damaged audit page passes `status` and fails the check.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { run, tempDir } from './cli';

let dir: string;
let cleanup: () => void;
let file: string;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'strategy-lifecycle.db');
  const system = await openStrategySystem({
    store: new SqliteStore(file, { synchronous: 'NORMAL', checkEveryMs: 0 }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  // Enough history for many audit pages: the oldest is read by nothing but a full check.
  for (let i = 0; i < 200; i++) await system.send('lt', { type: i % 2 === 0 ? 'TIME_WINDOW_START' : 'TIME_WINDOW_END' });
  await system.close();
});
afterAll(() => cleanup());

test('an intact database: the summary says the whole file passed', () => {
  const text = run(['status', '--db', file, '--check-integrity']);
  expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
  expect(text.stdout.split('\n')[1]).toBe('Integrity: ok (SQLite quick_check of the whole file)');
  const json = run(['status', '--db', file, '--json', '--check-integrity']);
  expect(JSON.parse(json.stdout)).toMatchObject({ totalStrategies: 1, integrity: 'ok' });
  // Without the flag nothing is claimed.
  expect(JSON.parse(run(['status', '--db', file, '--json']).stdout)).not.toHaveProperty('integrity');
});

test('a damaged old audit page: status still reads, --check-integrity fails naming the file', () => {
  const db = new Database(file, { readonly: true });
  const [oldest] = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'audit_records' AND pagetype = 'leaf' ORDER BY path LIMIT 1")
    .all() as Array<{ pageno: number }>;
  db.close();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, (oldest.pageno - 1) * 4096);
  closeSync(fd);
  expect(run(['status', '--db', file]).code).toBe(0);
  const checked = run(['status', '--db', file, '--check-integrity']);
  expect(checked.code).toBe(1);
  expect(checked.stdout).toBe('');
  expect(checked.stderr).toContain(`strategy-lifecycle: status: database file ${file} is corrupt (`);
});
