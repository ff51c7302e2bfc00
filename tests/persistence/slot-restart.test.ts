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
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from './helpers';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';

const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];
const limits = { maxOpenPositions: 1 };

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-slot-restart-')));
afterEach(() => cleanup());

/** Two strategies at ANALYZING, one slot: `held` takes it and is brought to `how` (ERROR by its stuck deadline, or SUSPENDED). */
async function oneSlotTaken(how: 'ERROR' | 'SUSPENDED', refusalsAfter = 0) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  await first.add(lt112, { id: 'held' });
  await first.add(lt112, { id: 'other' });
  for (const e of [...toAnalyzing, VARIANTS[1].entry]) await first.send('held', e);
  for (const e of toAnalyzing) await first.send('other', e);
  if (how === 'ERROR') {
    clock.increment(6 * MINUTE); // the 5-minute stuck deadline of PENDING_ENTRY
    await first.flush();
  } else await first.suspendAll('FOMC');
  expect(first.get('held').state).toBe(how);
  // Bells it has no edge for: each refused and audited (the deciding record leaves the restore window).
  for (let i = 0; i < refusalsAfter; i++)
    expect((await first.send('held', { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' })).accepted).toBe(false);
  expect(first.summary().portfolio.slotsUsed).toBe(1);
  const reopen = async () => {
    await first.close();
    return openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  };
  return { first, reopen };
}

/** What the limit answers the other strategy's entry. */
async function entryOfOther(system: Awaited<ReturnType<typeof openStrategySystem>>) {
  const slots = system.summary().portfolio.slotsUsed;
  const result = await system.send('other', VARIANTS[1].entry);
  return { slots, accepted: result.accepted, code: result.accepted ? undefined : result.code };
}
const REFUSED = { slots: 1, accepted: false, code: 'CORRELATION_LIMIT' };

test('reference, no restart: the ERROR strategy keeps its slot and the other entry is refused', async () => {
  const { first } = await oneSlotTaken('ERROR');
  expect(await entryOfOther(first)).toEqual(REFUSED);
  await first.close();
});

test.each([
  ['ERROR', 0],
  ['SUSPENDED', 0],
  ['ERROR', 40],
] as const)('after a restart, a strategy in %s from PENDING_ENTRY (%i refusals since) still holds its slot', async (how, refusals) => {
  const { reopen } = await oneSlotTaken(how, refusals);
  const second = await reopen();
  try {
    expect(second.get('held').state).toBe(how);
    // (suspendAll suspended the other strategy too: only the slot count tells there.)
    if (how === 'SUSPENDED') expect(second.summary().portfolio.slotsUsed).toBe(1);
    else expect(await entryOfOther(second)).toEqual(REFUSED);
  } finally {
    await second.close();
  }
});

test('after a restart, a strategy suspended from ANALYZING long ago holds no slot once the store has decided', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  await first.add(lt112, { id: 'idle' });
  await first.add(lt112, { id: 'other' });
  for (const e of toAnalyzing) for (const id of ['idle', 'other']) await first.send(id, e);
  expect(await first.send('idle', { type: 'FOMC_MEETING', date: '2026-12-09' })).toMatchObject({ accepted: true, to: 'SUSPENDED' });
  for (let i = 0; i < 60; i++) expect((await first.send('idle', { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' })).accepted).toBe(false);
  expect(first.summary().portfolio.slotsUsed).toBe(0);
  await first.close();

  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  try {
    // Held at the open (the restore window does not reach the move into SUSPENDED), then the store decides.
    for (let i = 0; i < 20 && second.summary().portfolio.slotsUsed > 0; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(await entryOfOther(second)).toEqual({ slots: 0, accepted: true, code: undefined });
  } finally {
    await second.close();
  }
});

test('in memory, a snapshot added without its trail keeps the slot it came with (a strategy suspended from PENDING_ENTRY)', () => {
  const source = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), limits });
  source.add(lt112, { id: 'lt' });
  for (const e of [...toAnalyzing, VARIANTS[1].entry]) source.send('lt', e);
  expect(source.send('lt', { type: 'FOMC_MEETING', date: '2026-12-09' })).toMatchObject({ accepted: true, to: 'SUSPENDED' });
  const { auditTrail: _dropped, ...withoutTrail } = source.get('lt').getPersistedSnapshot();
  source.stop();
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), limits });
  system.add(lt112, { id: 'lt', snapshot: withoutTrail });
  system.add(lt112, { id: 'other' });
  for (const e of toAnalyzing) system.send('other', e);
  expect(system.send('other', VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
  system.stop();
});
