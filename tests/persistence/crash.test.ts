/**
 * Crash tests with real processes: a child runs a stream against the store and is killed with
 * SIGKILL at random points; after each kill, what the store holds equals a reference replay of
 * the same stream: no acknowledged transition lost, none applied twice.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { SqliteStore } from '../../services/store/sqliteStore';
import { T0, checkAgainstReference, referenceTrails, runAndKill, worker } from './crashHarness';
import { tempDir } from './helpers';

describe('SQLite: SIGKILL at random points', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir('sl-crash-')));
  afterAll(() => cleanup());

  test('24 kills: the store always equals a crash-free replay of what was committed', async () => {
    const file = join(dir, 'crash.db');
    const TOTAL = 900;
    const reference = referenceTrails(TOTAL);
    let seed = 20261204;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let kills = 0;
    let progress = 0;
    for (let run = 0; run < 40 && kills < 24; run++) {
      const { acked, finished } = await runAndKill(
        ['stream', 'sqlite', file, String(TOTAL)],
        5 + Math.floor(random() * 30),
        Math.floor(random() * 4),
      );
      if (!finished) kills++;
      const held = await checkAgainstReference(new SqliteStore(file), acked, reference);
      expect(held).toBeGreaterThanOrEqual(progress);
      progress = held;
      if (finished) break;
    }
    expect(kills).toBeGreaterThanOrEqual(20);
  }, 180_000);

  test('durable deadline across a real restart: ERROR at T0, new process at +10 min recovers at exactly +30 min', async () => {
    const file = join(dir, 'deadline.db');
    execFileSync(process.execPath, [worker, 'deadline', 'sqlite', file, 'enter']);
    const out = JSON.parse(execFileSync(process.execPath, [worker, 'deadline', 'sqlite', file, 'recover']).toString().trim());
    expect(out).toEqual({ states: ['ERROR', 'ERROR', 'READY'], recoveredAt: T0 + 30 * 60_000, trigger: 'lifecycle.deadline' });
  }, 60_000);
});
