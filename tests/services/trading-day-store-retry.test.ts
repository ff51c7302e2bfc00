/**
 * The trading day when a write fails at its moment, and when a strategy becomes ready at the very
 * instant a window opens:
 * - a bell (or any send of the day) the store refuses (a full disk, a lost connection) is worked
 *   out again after a backoff (1 s, doubling, at most 60 s) and sent with its reason once the
 *   store takes writes. Before, the bell was lost for the day: both strategies sat out the session.
 * - an ERROR recovering exactly at an entry window's start (SYSTEM_ERROR at 09:30:00, recovery
 *   30 minutes later at 10:00:00, when the window's bell rang while it was still in ERROR) gets the
 *   window's start. Before, it stayed READY all day; one second later, it was caught up.
 */
import { DateTime } from 'luxon';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { startTradingDay } from '../../services/day/tradingDay';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FlakyMemoryStore } from '../support/flakyStore';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

test('a bell the store refused is sent again once it takes writes, with the reason; the day goes on', () => {
  const store = new FlakyMemoryStore();
  const clock = createSimulatedClock(ny('2026-11-23T09:00:00'));
  const system = createStrategySystem({ store, clock });
  system.add(lt112, { id: 'a' });
  system.add(lt112, { id: 'b' });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, onError: (e) => errors.push(e) });
  store.full = true;
  clock.set(ny('2026-11-23T09:30:00'));
  expect(store.refused).toBe(2);
  expect(errors).toHaveLength(2);
  expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
  expect(system.get('a').state).toBe('INITIALIZING');
  // Still full at the first retry (09:30:01): the next waits 2 s.
  clock.set(ny('2026-11-23T09:30:01'));
  expect(store.refused).toBe(4);
  store.full = false;
  clock.set(ny('2026-11-23T09:30:02'));
  expect(system.get('a').state).toBe('INITIALIZING');
  clock.set(ny('2026-11-23T09:30:03'));
  for (const id of ['a', 'b']) {
    expect(system.get(id).state).toBe('READY');
    expect(system.get(id).getAuditTrail().at(-1)).toMatchObject({
      trigger: 'MARKET_OPEN',
      at: ny('2026-11-23T09:30:03'),
      data: { catchUp: 'sent again: the store refused the write when it was due: the market opened Mon 2026-11-23 09:30 ET' },
    });
  }
  // The rest of the day is ordinary: the entry window's bell at 10:00.
  clock.set(ny('2026-11-23T10:00:00'));
  expect(system.get('a').state).toBe('ANALYZING');
  expect(system.get('a').getAuditTrail().at(-1)?.data.catchUp).toBeUndefined();
  day.stop();
  system.stop();
});

test('a strategy whose ERROR recovers at the instant its entry window opens gets the window', () => {
  const clock = createSimulatedClock(ny('2026-12-01T09:00:00'));
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'e' });
  const day = startTradingDay({
    target: system,
    clock,
    onError: (e) => {
      throw e;
    },
  });
  clock.set(ny('2026-12-01T09:30:00'));
  expect(system.send('e', { type: 'SYSTEM_ERROR', reason: 'feed hiccup' })).toMatchObject({ accepted: true, to: 'ERROR' });
  clock.set(ny('2026-12-01T10:00:00'));
  const trail = system.get('e').getAuditTrail();
  expect(trail.slice(-2)).toMatchObject([
    { previousState: 'ERROR', currentState: 'READY', at: ny('2026-12-01T10:00:00') },
    { trigger: 'TIME_WINDOW_START', previousState: 'READY', currentState: 'ANALYZING', at: ny('2026-12-01T10:00:00') },
  ]);
  // Sent once: the bell skipped it (in ERROR), and nothing sends it a second time.
  expect(trail.filter((r) => r.trigger === 'TIME_WINDOW_START')).toHaveLength(1);
  day.stop();
  system.stop();
});
