/**
 * Timers that fire late by the wall clock: a process suspended (a laptop lid, a paused VM, a
 * stalled event loop) or a clock stepped forward. Node's timers count monotonic time, so after a
 * suspend they fire when the process wakes, long after their instant. Before, the market clock then
 * rang the stale bell (Monday's MARKET_CLOSE in the middle of Tuesday's session) and armed the
 * next bell from it, so Tuesday's MARKET_OPEN was never sent; the DTE monitor sent its exit after
 * the close. Now a late bell rings only the latest bell that has passed (what holds now), and an
 * exit whose timer fires outside the session waits for the next open.
 */
import type { StrategyEvent } from '../../machines/events';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import type { Clock } from '../../services/market/clock';
import { startDteMonitor } from '../../services/market/dteMonitor';
import { startMarketClock } from '../../services/market/marketClock';
import { createStrategyActor } from '../../services/runtime/strategyActor';

/** A clock whose timers fire only when told to, whatever the time says: late, as after a suspend. */
function lateClock(start: string) {
  let now = Date.parse(start);
  let timers: Array<{ fn: () => void; due: number; off: boolean }> = [];
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const timer = { fn: fn, due: now + Math.max(0, ms), off: false };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      if (handle) (handle as { off: boolean }).off = true;
    },
  };
  return {
    clock,
    /** Sets the wall time without running anything: the process was asleep. */
    sleepUntil: (iso: string) => void (now = Date.parse(iso)),
    /** Fires every live timer that is due by now (late ones included), as a waking process does. */
    wake: () => {
      const due = timers.filter((t) => !t.off && t.due <= now);
      timers = timers.filter((t) => !due.includes(t));
      for (const t of due) t.fn();
    },
  };
}

test("a bell timer that fires the next morning rings today's MARKET_OPEN, not yesterday's MARKET_CLOSE, and arms today's close", () => {
  const { clock, sleepUntil, wake } = lateClock('2026-11-30T15:00:00-05:00'); // Monday 15:00
  const rung: Array<{ type: string; session: string; at: number }> = [];
  const bells = startMarketClock({
    clock,
    target: (event, session) => rung.push({ type: event.type, session: session.date, at: clock.now() }),
  });
  expect(bells.next).toMatchObject({ type: 'MARKET_CLOSE', at: Date.parse('2026-11-30T16:00:00-05:00') });

  sleepUntil('2026-12-01T10:00:00-05:00'); // asleep through Monday's close and Tuesday's open
  wake();
  expect(rung).toEqual([{ type: 'MARKET_OPEN', session: '2026-12-01', at: Date.parse('2026-12-01T10:00:00-05:00') }]);
  expect(bells.next).toMatchObject({ type: 'MARKET_CLOSE', at: Date.parse('2026-12-01T16:00:00-05:00') });
  bells.stop();
});

test('a bell timer that fires a little late, before the next bell, still rings its own bell', () => {
  const { clock, sleepUntil, wake } = lateClock('2026-11-30T09:00:00-05:00');
  const rung: string[] = [];
  const bells = startMarketClock({ clock, target: (event, session) => rung.push(`${event.type} ${session.date}`) });
  sleepUntil('2026-11-30T09:42:00-05:00');
  wake();
  expect(rung).toEqual(['MARKET_OPEN 2026-11-30']);
  expect(bells.next).toMatchObject({ type: 'MARKET_CLOSE' });
  bells.stop();
});

test('a defensive exit whose timer fires after the close is sent at the next open, never after hours', () => {
  const { clock, sleepUntil, wake } = lateClock('2026-11-25T10:30:00-05:00');
  const strategy = createStrategyActor(createStrategyMachine(lt112), { id: 'lt', clock });
  const events: StrategyEvent[] = [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-19' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-18' },
  ];
  for (const event of events) expect(strategy.trigger(event).accepted).toBe(true);
  sleepUntil('2026-11-26T09:00:00-05:00');
  expect(strategy.trigger({ type: 'MARKET_OPEN' }).to).toBe('MANAGING');
  const sent: Array<{ event: StrategyEvent; at: number }> = [];
  const monitor = startDteMonitor({ strategy, clock, send: (event) => sent.push({ event, at: clock.now() }) });
  expect(monitor.dueAt).toBe(Date.parse('2026-11-27T09:30:00-05:00')); // the 21-DTE day's open

  sleepUntil('2026-11-27T17:00:00-05:00'); // asleep through the whole (early-close) session
  wake();
  expect(sent).toEqual([]);
  expect(monitor.dueAt).toBe(Date.parse('2026-11-30T09:30:00-05:00')); // Monday's open

  sleepUntil('2026-11-30T09:30:00-05:00');
  wake();
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ event: { type: 'DEFENSIVE_EXIT_DTE' }, at: Date.parse('2026-11-30T09:30:00-05:00') });
  monitor.stop();
  strategy.stop();
});
