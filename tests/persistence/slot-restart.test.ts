/**
 * A restart does not change which entries the portfolio limit admits: a flat strategy in ERROR or
 * SUSPENDED that came from PENDING_ENTRY keeps the slot it held (before, the restore dropped it and
 * another entry took it), also when it refused enough events since that the record it came from
 * is older than the restore window (the slot is kept when the trail in memory cannot decide).
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';

const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];
const limits = { maxOpenPositions: 1 };

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-slot-restart-')));
afterEach(() => cleanup());

test('SQLite: a restart does not change which entries the portfolio limit admits', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  await first.add(lt112, { id: 'stuck' });
  await first.add(lt112, { id: 'other' });
  for (const e of [...toAnalyzing, VARIANTS[1].entry]) await first.send('stuck', e);
  for (const e of toAnalyzing) await first.send('other', e);
  clock.increment(6 * MINUTE); // the 5-minute stuck deadline of PENDING_ENTRY
  await first.flush();
  expect(first.get('stuck').state).toBe('ERROR');
  const before = first.summary().portfolio;
  // While running: the stuck strategy's slot is still taken; the other entry is refused.
  const probe = first.get('other');
  expect(before.slotsUsed).toBe(1);
  expect(probe.state).toBe('ANALYZING');
  await first.close();

  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  try {
    expect(second.get('stuck').state).toBe('ERROR');
    // Same stored states: the same slots should be taken.
    const slotsAfterRestart = second.summary().portfolio.slotsUsed;
    const result = await second.send('other', VARIANTS[1].entry);
    expect({ slotsAfterRestart, accepted: result.accepted, to: result.to, code: result.accepted ? undefined : result.code }).toEqual({
      slotsAfterRestart: 1,
      accepted: false,
      to: 'ANALYZING',
      code: 'CORRELATION_LIMIT',
    });
  } finally {
    await second.close();
  }
});

test('SQLite (reference): without the restart, the entry is refused', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  await first.add(lt112, { id: 'stuck' });
  await first.add(lt112, { id: 'other' });
  for (const e of [...toAnalyzing, VARIANTS[1].entry]) await first.send('stuck', e);
  for (const e of toAnalyzing) await first.send('other', e);
  clock.increment(6 * MINUTE);
  await first.flush();
  expect(first.get('stuck').state).toBe('ERROR');
  expect(await first.send('other', VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
  await first.close();
});

test('SQLite: the slot of a strategy suspended from PENDING_ENTRY survives a restart', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  await first.add(lt112, { id: 'suspended' });
  await first.add(lt112, { id: 'other' });
  for (const e of [...toAnalyzing, VARIANTS[1].entry]) await first.send('suspended', e);
  for (const e of toAnalyzing) await first.send('other', e);
  await first.suspendAll('FOMC');
  expect(first.get('suspended').state).toBe('SUSPENDED');
  expect(first.summary().portfolio.slotsUsed).toBe(1);
  await first.close();

  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  try {
    expect(second.get('suspended').state).toBe('SUSPENDED');
    expect(second.summary().portfolio.slotsUsed).toBe(1);
  } finally {
    await second.close();
  }
});

test('SQLite: the slot of an ERROR strategy from PENDING_ENTRY survives a restart after it refused 40 events', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  await first.add(lt112, { id: 'stuck' });
  await first.add(lt112, { id: 'other' });
  for (const e of [...toAnalyzing, VARIANTS[1].entry]) await first.send('stuck', e);
  for (const e of toAnalyzing) await first.send('other', e);
  clock.increment(6 * MINUTE); // PENDING_ENTRY's stuck deadline: ERROR, its order may still be working
  await first.flush();
  expect(first.get('stuck').state).toBe('ERROR');
  // Bells it has no edge for while in ERROR: each refused and audited.
  for (let i = 0; i < 40; i++) {
    const r = await first.send('stuck', { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' });
    expect(r.accepted).toBe(false);
  }
  expect(first.get('stuck').state).toBe('ERROR');
  expect(first.summary().portfolio.slotsUsed).toBe(1);
  expect(await first.send('other', VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
  await first.close();

  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  try {
    expect(second.get('stuck').state).toBe('ERROR');
    const slotsAfterRestart = second.summary().portfolio.slotsUsed;
    const result = await second.send('other', VARIANTS[1].entry);
    expect({ slotsAfterRestart, accepted: result.accepted, code: result.accepted ? undefined : result.code }).toEqual({
      slotsAfterRestart: 1,
      accepted: false,
      code: 'CORRELATION_LIMIT',
    });
  } finally {
    await second.close();
  }
});
