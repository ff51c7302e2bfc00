/** The service's background store errors are said once per strategy and message a minute, with how many were left out. */
import { createRepeatFilter } from '../../server/repeatFilter';

test('the same line within the window is left out and counted; said again after it, with the count', () => {
  let now = 0;
  const said = createRepeatFilter(60_000, () => now);
  expect(said('lt', 'disk full')).toBe(0);
  for (let i = 1; i < 60; i++) {
    now = i * 1000;
    expect(said('lt', 'disk full')).toBeNull();
  }
  expect(said('zd', 'disk full')).toBe(0); // another strategy has its own line
  now = 60_000;
  expect(said('lt', 'disk full')).toBe(59);
  expect(said('lt', 'connection lost')).toBe(0); // another message is said at once
});

test('two messages alternating for one strategy are each said once a window, each with its own count', () => {
  let now = 0;
  const said = createRepeatFilter(60_000, () => now);
  const lines: Array<number | null> = [];
  for (let i = 0; i < 10; i++) {
    now = i * 1000;
    lines.push(said('lt', i % 2 ? 'connection lost' : 'disk full'));
  }
  expect(lines.filter((l) => l !== null)).toEqual([0, 0]);
  now = 61_000;
  expect(said('lt', 'disk full')).toBe(4);
  expect(said('lt', 'connection lost')).toBe(4);
});

test('keys are bounded: past maxKeys the filter starts again rather than growing', () => {
  const said = createRepeatFilter(60_000, () => 0, 3);
  for (const key of ['a', 'b', 'c', 'd']) expect(said(key, 'x')).toBe(0);
  expect(said('a', 'x')).toBe(0); // forgotten when the map was cleared for 'd'
  expect(said('d', 'x')).toBeNull();
});
