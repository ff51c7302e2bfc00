/**
 * The repeat filter keys its entries by strategy and message and keeps room for them (100,000,
 * the windows that are over going first): 6,000 strategies each alternating two store errors in
 * an outage are each said once a window. With room for 10,000 the map was cleared again and
 * again, and every retry line was said.
 */
import { createRepeatFilter } from '../../server/repeatFilter';

test('6 000 strategies alternating two store errors, 10 retries in a minute: each line said once', () => {
  let t = 0;
  const said = createRepeatFilter(60_000, () => t);
  let lines = 0;
  for (let round = 0; round < 10; round++, t += 1000)
    for (let i = 0; i < 6000; i++) {
      const message = round % 2 === 0 ? 'SQLITE_BUSY: database is locked' : 'SQLITE_FULL: database or disk is full';
      if (said(`s${i}`, message) !== null) lines++;
    }
  expect(lines).toBe(12_000);
});
