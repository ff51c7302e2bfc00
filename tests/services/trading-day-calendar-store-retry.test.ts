/**
 * The event calendar's suspensions when the store refuses a write at the instant they are due (a
 * full disk, a lost connection), as the trading day's other sends are retried after a backoff:
 * - a notice (FOMC Wed 2026-06-17, noticed Tue 06-16 09:35 ET) the store refused is delivered
 *   again, with the reason, once the store takes writes. Before, it was lost: the strategy was
 *   never suspended and opened its entry window on the FOMC day.
 * - the RESUME at the first open after the event the store refused is sent again the same way.
 *   Before, the date it resumes after was dropped with the send: the strategy stayed SUSPENDED
 *   until an operator resumed it.
 */
import { DateTime } from 'luxon';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { parseEventCalendar } from '../../services/market/eventCalendar';
import { MARKET_ZONE } from '../../services/market/time';
import { startTradingDay } from '../../services/day/tradingDay';
import { createStrategySystem, type StrategySystem } from '../../services/runtime/strategySystem';
import { FlakyMemoryStore } from '../support/flakyStore';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const calendar = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17'].join('\n'), 'csv');
/** Strategy a's accepted moves from `since` (New York time) on: trigger, timestamp, state reached. */
const movesSince = (system: StrategySystem, since: string) =>
  system
    .get('a')
    .getAuditTrail()
    .filter((r) => r.at >= ny(since) && r.accepted && r.previousState !== r.currentState)
    .map((r) => [r.trigger, r.timestamp, r.currentState]);

function fomcWeek() {
  const store = new FlakyMemoryStore();
  const clock = createSimulatedClock(ny('2026-06-16T09:00:00'));
  const system = createStrategySystem({ store, clock });
  system.add(lt112, { id: 'a' });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, eventCalendar: calendar, onError: (e) => errors.push(e) });
  const stop = () => {
    day.stop();
    system.stop();
  };
  return { store, clock, system, errors, stop };
}

test('a calendar notice the store refused is delivered again once it takes writes: the strategy sits out the FOMC day', () => {
  const { store, clock, system, errors, stop } = fomcWeek();
  clock.set(ny('2026-06-16T09:34:00'));
  expect(system.get('a').state).toBe('READY');
  store.full = true;
  clock.set(ny('2026-06-16T09:35:00'));
  expect(errors).toHaveLength(1);
  store.full = false;
  clock.set(ny('2026-06-16T09:35:01'));
  expect(system.get('a').state).toBe('SUSPENDED');
  expect(system.get('a').getAuditTrail().at(-1)).toMatchObject({
    trigger: 'FOMC_MEETING',
    data: { date: '2026-06-17', catchUp: 'sent again: the store refused the write when it was due: the FOMC 2026-06-17 notice' },
  });
  // Suspended over the decision day, resumed at the first open after it.
  clock.set(ny('2026-06-18T10:00:00'));
  expect(movesSince(system, '2026-06-16T09:35:00')).toEqual([
    ['FOMC_MEETING', '2026-06-16T09:35:01.000-04:00', 'SUSPENDED'],
    ['RESUME', '2026-06-18T09:30:00.000-04:00', 'READY'],
    ['TIME_WINDOW_START', '2026-06-18T10:00:00.000-04:00', 'ANALYZING'],
  ]);
  stop();
});

test('the RESUME at the first open after the event, refused by the store, is sent again once it takes writes', () => {
  const { store, clock, system, errors, stop } = fomcWeek();
  clock.set(ny('2026-06-18T09:29:00'));
  expect(system.get('a').state).toBe('SUSPENDED');
  store.full = true;
  clock.set(ny('2026-06-18T09:30:00'));
  expect(errors.length).toBeGreaterThan(0);
  expect(system.get('a').state).toBe('SUSPENDED');
  store.full = false;
  clock.set(ny('2026-06-18T10:00:00'));
  expect(movesSince(system, '2026-06-18T09:30:00')).toEqual([
    ['RESUME', '2026-06-18T09:30:01.000-04:00', 'READY'],
    ['TIME_WINDOW_START', '2026-06-18T10:00:00.000-04:00', 'ANALYZING'],
  ]);
  expect(
    system
      .get('a')
      .getAuditTrail()
      .find((r) => r.trigger === 'RESUME')?.data.catchUp,
  ).toBe(
    'sent again: the store refused the write when it was due: the market opened Thu 2026-06-18 09:30 ET, the first open after the 2026-06-17 event that suspended it',
  );
  stop();
});
