/**
 * A calendar notice that falls due after a strategy was removed and added again under the same id
 * (and before the driver looked again) reaches the new strategy as the driver treats any new one:
 * held until its market open when it is still INITIALIZING, then delivered, so it sits out the
 * event. Before, the notice went out for the old member: judged by the removed strategy's state
 * (TERMINATED, not INITIALIZING), sent to the new one, which refused it; its trail then counted as
 * noticed, and the strategy traded through the FOMC day. In-memory system, simulated clock.
 */
import { DateTime } from 'luxon';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { parseEventCalendar } from '../../services/market/eventCalendar';
import { MARKET_ZONE } from '../../services/market/time';
import { startTradingDay } from '../../services/day/tradingDay';
import { createStrategySystem } from '../../services/runtime/strategySystem';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const calendar = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17'].join('\n'), 'csv');

test('a strategy re-added under a removed id just before an FOMC notice sits out the FOMC day', () => {
  const clock = createSimulatedClock(ny('2026-06-16T09:00:00'));
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'a' });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, eventCalendar: calendar, onError: (e) => errors.push(e) });
  try {
    clock.set(ny('2026-06-16T09:31:00'));
    expect(system.get('a').state).toBe('READY');
    expect(system.send('a', { type: 'TERMINATE', reason: 'replaced' })).toMatchObject({ accepted: true });
    system.remove('a');
    system.add(lt112, { id: 'a' });
    // The notice (Tue 09:35 for Wed's decision) comes before the driver's next look.
    clock.set(ny('2026-06-16T09:35:00'));
    expect(
      system
        .get('a')
        .getAuditTrail()
        .filter((r) => r.trigger === 'FOMC_MEETING' && !r.accepted),
    ).toEqual([]);
    clock.set(ny('2026-06-17T12:00:00'));
    expect(system.get('a').state).toBe('SUSPENDED');
    expect(
      system
        .get('a')
        .getAuditTrail()
        .some((r) => r.trigger === 'FOMC_MEETING' && r.accepted),
    ).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    day.stop();
    system.stop();
  }
});
