/**
 * The market's callback actors (marketClock, timeWindows, eventCalendar) invoked without a clock in
 * their input run on the clock the actor system was created with (`createActor(parent, { clock })`,
 * as docs/market-time.md shows): on a simulated clock the parent gets its bells in simulated time.
 * Before, they fell back on the real clock and a simulated parent never heard a bell.
 */
import { createActor, setup, SimulatedClock, type EventObject } from 'xstate';
import type { Clock } from '../../services/market/clock';
import { createSimulatedClock } from '../../services/market/clock';
import { parseEventCalendar, eventCalendar } from '../../services/market/eventCalendar';
import { marketClock } from '../../services/market/marketClock';
import { timeWindows, TIME_WINDOWS } from '../../services/market/timeWindows';

const HOUR = 3_600_000;

function parentHearing(clock: Clock) {
  const heard: string[] = [];
  const calendar = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-11-30'].join('\n'), 'csv');
  const parent = setup({ actors: { marketClock, timeWindows, eventCalendar } }).createMachine({
    invoke: [
      { src: 'marketClock' },
      { src: 'timeWindows', input: { windows: TIME_WINDOWS.lt112 } },
      { src: 'eventCalendar', input: { calendar } },
    ],
    on: { '*': { actions: ({ event }: { event: EventObject }) => void heard.push(event.type) } },
  });
  const actor = createActor(parent, { clock }).start();
  return { heard, stop: () => actor.stop() };
}

test('on our simulated clock: the bells, the windows and the notices come back in simulated time', () => {
  const clock = createSimulatedClock('2026-11-25T09:00:00-05:00'); // Wednesday before Thanksgiving
  const { heard, stop } = parentHearing(clock);
  clock.increment(8 * HOUR); // 17:00: the day's open, window and close
  expect(heard).toEqual(expect.arrayContaining(['MARKET_OPEN', 'TIME_WINDOW_START', 'TIME_WINDOW_END', 'MARKET_CLOSE']));
  expect(heard).not.toContain('FOMC_MEETING');
  clock.increment(48 * HOUR); // Friday 17:00: the notice of Monday's FOMC (one trading day before)
  expect(heard).toContain('FOMC_MEETING');
  stop();
});

test("on XState's SimulatedClock with a start time set: the same", () => {
  const clock = new SimulatedClock();
  clock.set(Date.parse('2026-11-25T09:00:00-05:00'));
  const { heard, stop } = parentHearing(clock);
  clock.increment(8 * HOUR);
  expect(heard).toEqual(expect.arrayContaining(['MARKET_OPEN', 'MARKET_CLOSE']));
  stop();
});
