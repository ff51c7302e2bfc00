/** `status`: what a database holds, from the stored snapshots, without changing it. */
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { run, tempDir } from './cli';
import { buildDatabase, digest } from './database';

let dir: string;
let cleanup: () => void;
let file: string;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'data', 'strategy-lifecycle.db');
  await buildDatabase(file);
});
afterAll(() => cleanup());

test('prints strategies per state and variant, those in ERROR with the reason, open positions', () => {
  const before = digest(file);
  const { code, stdout, stderr } = run(['status', '--data-dir', join(dir, 'data')]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const lines = stdout.split('\n');
  expect(lines[0]).toMatch(
    new RegExp(`^Database .*strategy-lifecycle\\.db: 4 strategies, last transition 2026-12-04T11:\\d\\d:00\\.000-05:00$`),
  );
  expect(stdout).toContain(
    [
      'state          zeroDte  lt112  strangle  total',
      'INITIALIZING         0      1         0      1',
      'READY                1      0         0      1',
      'POSITION_OPEN        0      1         0      1',
      'ERROR                0      0         1      1',
      'total                1      2         1      4',
    ].join('\n'),
  );
  expect(stdout).toMatch(/^In ERROR: 1\nstrategy +variant +since +errors +reason\nstrangle-spy +strangle +2026-12-04T\S+ +\d+ +\S.*$/m);
  expect(stdout).toMatch(/^strangle-spy .* stuck in ENTERING for 5m0s$/m);
  expect(stdout).toMatch(
    /^Open positions: 1\nstrategy +variant +state +quantity +expiry +underlying\nlt112-spx +lt112 +POSITION_OPEN +2 +2027-03-29 +SPX$/m,
  );
  expect(digest(file)).toBe(before);
});

test('--db names the file; --json gives the same summary as data', () => {
  const { code, stdout } = run(['status', '--db', file, '--json']);
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({
    database: file,
    totalStrategies: 4,
    countByState: { INITIALIZING: 1, READY: 1, POSITION_OPEN: 1, ERROR: 1 },
    countByVariant: { lt112: 2, strangle: 1, zeroDte: 1 },
    errors: [
      {
        strategyId: 'strangle-spy',
        variant: 'strangle',
        since: expect.stringMatching(/^2026-12-04T/),
        reason: expect.stringContaining('ENTERING'),
        errorCount: expect.any(Number),
      },
    ],
    openPositions: [
      { strategyId: 'lt112-spx', variant: 'lt112', state: 'POSITION_OPEN', quantity: 2, expiry: '2027-03-29', underlying: 'SPX' },
    ],
    lastActivity: expect.stringMatching(/^2026-12-04T11:/),
    tradingState: { state: 'ACTIVE', since: null, reason: null, operator: null },
    killSwitch: null,
  });
});

/**
 * A database in `dir` whose strategy `held` manages 2 contracts when a kill switch ("end of day", by
 * ops-anna) starts; `meanwhile` runs before the system closes. The exit order never fills: the
 * run is stored unfinished.
 */
async function unfinishedKillSwitch(dir: string, meanwhile?: (system: PersistentStrategySystem) => Promise<unknown>) {
  const db = join(dir, 'ks.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(db), variants: [lt112], clock });
  await system.add(lt112, { id: 'held' });
  for (const event of managing(VARIANTS[1].entry, 2)) await system.send('held', event);
  const run_ = await system.startKillSwitch('end of day', 'ops-anna');
  await meanwhile?.(system);
  await system.close();
  await run_.done.catch(() => undefined);
  return { db, clock };
}

test('the trading state and an unfinished kill switch are shown: what the service will carry on', async () => {
  const other = tempDir();
  try {
    const { db, clock } = await unfinishedKillSwitch(other.dir);

    const { code, stdout } = run(['status', '--db', db]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Trading state: HALTED since 2026-12-04T11:00:00\.000-05:00 \(kill switch: end of day, by ops-anna\)$/m);
    expect(stdout).toMatch(
      /^Kill switch: "end of day" by ops-anna, started 2026-12-04T11:00:00\.000-05:00, NOT FINISHED: 1 pending \(held\), 0 flattened, 0 failed; the service carries it on when it starts$/m,
    );
    const json = JSON.parse(run(['status', '--db', db, '--json']).stdout) as { tradingState: unknown; killSwitch: unknown };
    expect(json.tradingState).toMatchObject({ state: 'HALTED', operator: 'ops-anna' });
    expect(json.killSwitch).toMatchObject({ reason: 'end of day', finishedAt: null, overruled: false, pending: ['held'] });

    // A later trading state change overrules it: a restart will not carry it on, and status says so.
    const reopened = await openStrategySystem({ store: new SqliteStore(db), variants: [lt112], clock });
    await reopened.setTradingState('ACTIVE', 'false alarm', 'ops-bob');
    await reopened.close();
    expect(run(['status', '--db', db]).stdout).toMatch(
      /^Kill switch: "end of day" .*NOT FINISHED: 1 pending \(held\), .*; OVERRULED by a later trading state change: the service will NOT carry it on \(flatten what is pending yourself\)$/m,
    );
  } finally {
    other.cleanup();
  }
});

test('a halt confirmed after the kill switch started (HALTED set again) does not overrule it: status says the service carries it on', async () => {
  const other = tempDir();
  try {
    // An operator confirms the halt while the exit works: the run stays in force (the service resumes it).
    const { db, clock } = await unfinishedKillSwitch(other.dir, (system) =>
      system.setTradingState('HALTED', 'confirming the halt', 'ops-bob'),
    );

    expect(run(['status', '--db', db]).stdout).toMatch(
      /^Kill switch: "end of day" .*NOT FINISHED: 1 pending \(held\), .*; the service carries it on when it starts$/m,
    );
    const json = JSON.parse(run(['status', '--db', db, '--json']).stdout) as { killSwitch: unknown };
    expect(json.killSwitch).toMatchObject({ finishedAt: null, overruled: false, pending: ['held'] });

    // And the service does carry it on: reopened, the run is resumed.
    const reopened = await openStrategySystem({ store: new SqliteStore(db), variants: [lt112], clock });
    expect(reopened.resumedKillSwitch).toBeDefined();
    await reopened.close();
    await reopened.resumedKillSwitch?.done.catch(() => undefined);
  } finally {
    other.cleanup();
  }
});

test('--data-dir defaults to ./data of the working directory', () => {
  const { code, stdout } = run(['status'], { cwd: dir });
  expect(code).toBe(0);
  expect(stdout).toMatch(/^Database data\/strategy-lifecycle\.db: 4 strategies/);
  const elsewhere = tempDir();
  try {
    expect(run(['status'], { cwd: elsewhere.dir })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'strategy-lifecycle: status: no database at data/strategy-lifecycle.db\n',
    });
  } finally {
    elsewhere.cleanup();
  }
});
