/**
 * A strategy whose DTE monitor cannot start (here: a position expiring after the calendar's last
 * year, so its 21-DTE open cannot be looked up) is still driven: the failure is reported and the
 * start's catch-up still brings it to the present. Before, the monitor's throw ended its enrolment
 * half-way: no catch-up, and a position held since yesterday stayed in POSITION_OPEN all day.
 */
import { DateTime } from 'luxon';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { CalendarRangeError } from '../../services/market/marketCalendar';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

test('a position whose exit the DTE monitor cannot work out is reported, and still gets the missed MARKET_OPEN', () => {
  const clock = createSimulatedClock(ny('2028-10-19T10:30'));
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'lt' });
  const setup: StrategyEvent[] = [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2029-02-16' },
    { type: 'ORDER_SUBMITTED' },
    // 21 DTE falls on 2029-01-26, past the calendar (2025-2028).
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2029-02-16' },
  ];
  for (const event of setup) expect(system.send('lt', event)).toMatchObject({ accepted: true });

  // The service comes back the next morning, after the open it missed.
  clock.set(ny('2028-10-20T11:00'));
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, onError: (e) => errors.push(e) });
  clock.set(ny('2028-10-20T11:01'));

  expect(errors).toEqual([expect.any(CalendarRangeError)]);
  const last = system.get('lt').getAuditTrail().at(-1)!;
  expect(last).toMatchObject({ trigger: 'MARKET_OPEN', accepted: true, currentState: 'MANAGING' });
  expect(last.data.catchUp).toBe('missed while the service was down: the market opened Fri 2028-10-20 09:30 ET');
  expect(day.scheduledExit('lt')).toBeNull();
  day.stop();
  system.stop();
});
