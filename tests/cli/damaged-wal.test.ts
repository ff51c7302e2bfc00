/**
 * A write-ahead log cut short, as `serve` and `status` meet it (real processes): both refuse it
 * naming the log, with the advice that keeps the files; neither reads it as another store's
 * database ("replaced", "not a strategy-lifecycle database"), and neither changes a file.
 */
import { copyFileSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { run, tempDir } from './cli';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

test('serve and status refuse a log cut short, naming it, and leave every file as found', async () => {
  const running = join(dir, 'running.db');
  const system = await openStrategySystem({
    store: new SqliteStore(running, { checkEveryMs: 0 }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  // The files as a crash leaves them, the log then cut by a bad copy.
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const file = join(dataDir, 'strategy-lifecycle.db');
  for (const suffix of ['', '-wal', '-shm', '.id']) copyFileSync(running + suffix, file + suffix);
  await system.close();
  truncateSync(`${file}-wal`, 10);
  const before = ['', '-wal', '.id'].map((suffix) => readFileSync(file + suffix));

  for (const [command, args] of [
    ['serve', ['--data-dir', dataDir, '--port', '0', '--init']],
    ['status', ['--data-dir', dataDir]],
  ] as const) {
    const result = run([command, ...args]);
    expect([command, result.code]).toEqual([command, 1]);
    expect(result.stderr).toContain(
      `strategy-lifecycle: ${command}: database file ${file} is corrupt (its write-ahead log ${file}-wal is damaged: it is 10 bytes, shorter than its 32-byte header)`,
    );
    expect(result.stderr).toContain('Do not start with --init and do not delete the log or the marker');
  }
  ['', '-wal', '.id'].forEach((suffix, i) => expect(readFileSync(file + suffix).equals(before[i])).toBe(true));
});
