/**
 * A record keeps its timestamp for as long as the trail holds it: `toMarketIso` returns one flat
 * string (about 48 bytes), not the tree of cons strings `+` builds (about 190 bytes).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { toMarketIso } from '../../services/market/time';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a timestamp kept costs under 100 bytes of heap', () => {
  const count = 20_000;
  const start = Date.parse('2026-03-02T09:30:00-05:00');
  const kept = new Array<string>(count).fill('');
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) kept[i] = toMarketIso(start + i * 7_919);
  gc();
  const perTimestamp = (process.memoryUsage().heapUsed - before) / count;
  expect(kept[1]).toBe('2026-03-02T09:30:07.919-05:00');
  expect(perTimestamp).toBeLessThan(100);
});
