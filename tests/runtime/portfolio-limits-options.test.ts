/**
 * `limits` is checked like the systems' other options: a maxOpenPositions or a maxPerGroup entry
 * that is not a whole number >= 0, or a `limits` / `maxPerGroup` that is not an object, is refused
 * by name with InvalidOptionsError before any strategy is made. Before, NaN or "two" turned the
 * limit off without a word (every entry passed), and -1 or null refused every entry with
 * "0 of -1 open positions are taken"; a misspelt limit or a Map limited nothing. 0 keeps its meaning: no new entry (overall or in that group).
 */
import { join } from 'node:path';
import { InvalidOptionsError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const BAD: Array<[string, unknown, string]> = [
  ['maxOpenPositions NaN', { maxOpenPositions: NaN }, 'limits.maxOpenPositions'],
  ['maxOpenPositions -1', { maxOpenPositions: -1 }, 'limits.maxOpenPositions'],
  ['maxOpenPositions "2"', { maxOpenPositions: '2' }, 'limits.maxOpenPositions'],
  ['maxOpenPositions null', { maxOpenPositions: null }, 'limits.maxOpenPositions'],
  ['maxOpenPositions 1.5', { maxOpenPositions: 1.5 }, 'limits.maxOpenPositions'],
  ['maxOpenPositions Infinity', { maxOpenPositions: Infinity }, 'limits.maxOpenPositions'],
  ['maxPerGroup value "two"', { maxPerGroup: { 'us-equity-index': 'two' } }, 'limits.maxPerGroup.us-equity-index'],
  ['maxPerGroup value NaN', { maxPerGroup: { 'us-equity-index': NaN } }, 'limits.maxPerGroup.us-equity-index'],
  ['maxPerGroup value -1', { maxPerGroup: { 'us-equity-index': -1 } }, 'limits.maxPerGroup.us-equity-index'],
  ['maxPerGroup a number', { maxPerGroup: 3 }, 'limits.maxPerGroup'],
  ['maxPerGroup an array', { maxPerGroup: [3] }, 'limits.maxPerGroup'],
  ['limits a string', 'x', 'limits'],
  ['limits null', null, 'limits'],
  // Read as no limit at all before: every entry passed.
  ['a misspelt maxOpenPositions', { maxOpenPosition: 2 }, 'limits.maxOpenPosition'],
  ['an unknown limit beside a known one', { maxOpenPositions: 2, maxPerGroups: { 'us-equity-index': 1 } }, 'limits.maxPerGroups'],
  ['maxPerGroup a Map', { maxPerGroup: new Map([['us-equity-index', 1]]) }, 'limits.maxPerGroup'],
  ['limits a Map', new Map([['maxOpenPositions', 1]]), 'limits'],
];

test.each(BAD)('createStrategySystem refuses limits with %s, naming the option', (_name, limits, option) => {
  const make = () => createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), limits: limits as never });
  expect(make).toThrow(InvalidOptionsError);
  expect(make).toThrow(expect.objectContaining({ component: 'createStrategySystem', option }));
});

test('openStrategySystem refuses limits.maxOpenPositions NaN before opening the store', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await expect(
      openStrategySystem({ store: new SqliteStore(join(dir, 'x.db')), variants: [lt112], limits: { maxOpenPositions: NaN } }),
    ).rejects.toThrow(expect.objectContaining({ component: 'openStrategySystem', option: 'limits.maxOpenPositions' }));
  } finally {
    cleanup();
  }
});

test('whole numbers from 0 are accepted; 0 refuses every new entry', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock, limits: { maxOpenPositions: 5, maxPerGroup: { 'us-equity-index': 0 } } });
  try {
    system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    system.send('lt', { type: 'MARKET_OPEN' });
    system.send('lt', { type: 'TIME_WINDOW_START' });
    const result = system.send('lt', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' });
    expect(result).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
    expect(system.get('lt').state).toBe('ANALYZING');
  } finally {
    system.stop();
  }
});
