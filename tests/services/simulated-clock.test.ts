/** The simulated clock: timers fire at their own instants, in order, even when armed by a timer. */
import { createSimulatedClock } from '../../services/market/clock';

test('a timer armed by a firing timer fires at its own instant within the same advance', () => {
  const clock = createSimulatedClock(0);
  const fired: Array<[string, number]> = [];
  clock.setTimeout(() => {
    fired.push(['a', clock.now()]);
    clock.setTimeout(() => fired.push(['b', clock.now()]), 30);
  }, 10);
  clock.setTimeout(() => fired.push(['c', clock.now()]), 20);
  clock.increment(100);
  expect(fired).toEqual([
    ['a', 10],
    ['c', 20],
    ['b', 40],
  ]);
  expect(clock.now()).toBe(100);
});

test('a callback that throws is reported after the advance, and the clock keeps working', () => {
  const clock = createSimulatedClock(0);
  const fired: number[] = [];
  clock.setTimeout(() => {
    throw new Error('timer bug');
  }, 10);
  clock.setTimeout(() => fired.push(clock.now()), 20);
  expect(() => clock.increment(50)).toThrow('timer bug');
  expect(fired).toEqual([20]);
  clock.setTimeout(() => fired.push(clock.now()), 10);
  clock.increment(10);
  expect(fired).toEqual([20, 60]);
});

test('a start that is not a time is a RangeError', () => {
  expect(() => createSimulatedClock('yesterday')).toThrow(RangeError);
});
