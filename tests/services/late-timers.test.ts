/**
 * Timers that fire late by the wall clock: a process suspended (a laptop lid, a paused VM, a
 * stalled event loop) or a clock stepped forward. Node's timers count monotonic time, so after a
 * suspend they fire when the process wakes, long after their instant. Before, the market clock then
 * rang the one bell it was armed for and armed the next from the wake, so every later bell that
 * had passed was lost (Tuesday's MARKET_OPEN after Monday's late MARKET_CLOSE); the DTE monitor
 * sent its exit after the close. Now a late timer rings every bell that passed, in order (the
 * market clock and the windows only the latest of each kind), and an exit whose timer fires
 * outside the session waits for the next open.
 */
import type { StrategyEvent } from '../../machines/events';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import type { Clock } from '../../services/market/clock';
import { startDteMonitor } from '../../services/market/dteMonitor';
import { startMarketClock } from '../../services/market/marketClock';
import { parseEventCalendar, startEventCalendar } from '../../services/market/eventCalendar';
import { startTimeWindows, TIME_WINDOWS } from '../../services/market/timeWindows';
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

test("a bell timer that fires the next morning rings yesterday's MARKET_CLOSE, then today's MARKET_OPEN, and arms today's close", () => {
  const { clock, sleepUntil, wake } = lateClock('2026-11-30T15:00:00-05:00'); // Monday 15:00
  const rung: Array<{ type: string; session: string; at: number }> = [];
  const bells = startMarketClock({
    clock,
    target: (event, session) => rung.push({ type: event.type, session: session.date, at: clock.now() }),
  });
  expect(bells.next).toMatchObject({ type: 'MARKET_CLOSE', at: Date.parse('2026-11-30T16:00:00-05:00') });

  sleepUntil('2026-12-01T10:00:00-05:00'); // asleep through Monday's close and Tuesday's open
  wake();
  const woke = Date.parse('2026-12-01T10:00:00-05:00');
  expect(rung).toEqual([
    { type: 'MARKET_CLOSE', session: '2026-11-30', at: woke },
    { type: 'MARKET_OPEN', session: '2026-12-01', at: woke },
  ]);
  expect(bells.next).toMatchObject({ type: 'MARKET_CLOSE', at: Date.parse('2026-12-01T16:00:00-05:00') });
  bells.stop();
});

test('asleep for days: only the latest close and the latest open, in order; a strategy left ANALYZING ends READY', () => {
  const { clock, sleepUntil, wake } = lateClock('2026-11-30T14:00:00-05:00');
  const strategy = createStrategyActor(createStrategyMachine(lt112), { id: 'lt', clock });
  strategy.trigger({ type: 'MARKET_OPEN' });
  strategy.trigger({ type: 'TIME_WINDOW_START', window: 'entry' });
  expect(strategy.state).toBe('ANALYZING');
  const rung: string[] = [];
  const bells = startMarketClock({
    clock,
    target: (event, session) => {
      rung.push(`${event.type} ${session.date}`);
      strategy.trigger(event);
    },
  });
  sleepUntil('2026-12-03T10:30:00-05:00'); // Wednesday: two closes and two opens passed
  wake();
  expect(rung).toEqual(['MARKET_CLOSE 2026-12-02', 'MARKET_OPEN 2026-12-03']);
  expect(strategy.state).toBe('READY');
  bells.stop();
  strategy.stop();
});

test("late window bells: each window's latest boundary is rung, in order (both ENDs of a 0DTE afternoon)", () => {
  const { clock, sleepUntil, wake } = lateClock('2026-12-04T14:00:00-05:00');
  const rung: string[] = [];
  const windows = startTimeWindows({ clock, windows: TIME_WINDOWS.zeroDte, target: (event) => rung.push(`${event.type} ${event.window}`) });
  sleepUntil('2026-12-04T15:50:00-05:00');
  wake();
  expect(rung).toEqual(['TIME_WINDOW_END entry', 'TIME_WINDOW_END manage']);
  windows.stop();
});

test('late calendar notices: every notice that passed is sent if its event is not over (FOMC on its day included)', () => {
  const { clock, sleepUntil, wake } = lateClock('2026-12-07T09:00:00-05:00');
  const calendar = parseEventCalendar(
    ['type,symbol,date', 'FOMC,,2026-12-09', 'EARNINGS,AAPL,2026-12-10', 'FOMC,,2026-12-04'].join('\n'),
    'csv',
  );
  const sent: string[] = [];
  const notices = startEventCalendar({ clock, calendar, target: (event) => sent.push(`${event.type} ${event.date}`) });
  sleepUntil('2026-12-09T10:00:00-05:00'); // FOMC day: both notices (Tue, Wed 09:35) passed while asleep
  wake();
  expect(sent).toEqual(['FOMC_MEETING 2026-12-09', 'EARNINGS_APPROACHING 2026-12-10']);
  notices.stop();
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
