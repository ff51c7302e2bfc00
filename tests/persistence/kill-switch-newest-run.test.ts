/**
 * Which kill switch run a store loads as the newest: the one started after the most trading state
 * changes, then the latest start, whatever the start times of older runs say. Before, both stores
 * kept only the steps of the latest `started_at`: a newer run stamped by a clock behind the older
 * run's (another instance's clock, or this one stepped back) was never loaded, and every instance
 * that had not joined it at once never flattened its positions. The PostgreSQL case with three
 * instances is tests/persistence/kill-switch-clock-skew.test.ts.
 */
import { join } from 'node:path';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { KillSwitchProgress } from '../../services/store/types';
import { tempDir } from './helpers';

const step = (run: Pick<KillSwitchProgress, 'reason' | 'startedAt' | 'tradingStateChanges'>, at: number, finishedAt: number | null) =>
  ({
    ...run,
    operator: 'ops',
    at,
    pending: finishedAt === null ? ['s'] : [],
    flattened: [],
    alreadyFlat: [],
    failed: [],
    finishedAt,
  }) as KillSwitchProgress;

test('SQLite: a newer run started at an earlier clock time is the run loaded', async () => {
  const { dir, cleanup } = tempDir('sl-ks-newest-');
  const store = new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 });
  try {
    await store.open();
    const drill = { reason: 'drill', startedAt: 2_000, tradingStateChanges: 1 };
    const panic = { reason: 'panic', startedAt: 1_000, tradingStateChanges: 3 };
    await store.saveKillSwitch(step(drill, 2_000, null));
    await store.saveKillSwitch(step(drill, 2_500, 2_500));
    await store.saveKillSwitch(step(panic, 1_000, null));
    const loaded = await store.loadSystemState();
    expect(loaded.killSwitch).toMatchObject({ reason: 'panic', finishedAt: null, pending: ['s'] });
    expect(loaded.killSwitchParts.map((p) => p.reason)).toEqual(['panic']);
    // Among runs after as many changes, the later start is the newer.
    const again = { reason: 'again', startedAt: 1_500, tradingStateChanges: 3 };
    await store.saveKillSwitch(step(again, 1_500, null));
    expect((await store.loadSystemState()).killSwitch?.reason).toBe('again');
  } finally {
    await store.close();
    cleanup();
  }
});

/** A step as a release before runs carried their trading state count wrote it: no such key. */
const legacyStep = (reason: string, startedAt: number, finishedAt: number | null) => {
  const written: Partial<KillSwitchProgress> = step({ reason, startedAt, tradingStateChanges: 0 }, startedAt, finishedAt);
  delete written.tradingStateChanges;
  return written as KillSwitchProgress;
};

test('SQLite: a step written before runs carried their count is older than any run that has one, and alone it still loads', async () => {
  const { dir, cleanup } = tempDir('sl-ks-legacy-');
  const store = new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 });
  try {
    await store.open();
    await store.saveKillSwitch(legacyStep('old release drill', 9_000, null));
    expect((await store.loadSystemState()).killSwitch).toMatchObject({ reason: 'old release drill' });
    await store.saveKillSwitch(step({ reason: 'panic', startedAt: 5_000, tradingStateChanges: 0 }, 5_000, null));
    expect((await store.loadSystemState()).killSwitch).toMatchObject({ reason: 'panic', finishedAt: null });
  } finally {
    await store.close();
    cleanup();
  }
});
