/**
 * `--simulate` and `--event-calendar` need the market driver; the refusal names where the driver
 * was turned off. Before, a config file's `"enabled": false` or STRATEGY_LIFECYCLE_MARKET=off was
 * reported as "drop --no-market", a flag the operator never passed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../bin/cli/args';
import { resolveServe } from '../../bin/cli/serveSettings';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sl-market-off-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const simulate = { simulate: true, from: '2026-11-23' } as const;

test('the flag --no-market is named when it was passed', () => {
  expect(() => resolveServe({ ...simulate, 'no-market': true }, {}, dir)).toThrow(
    new UsageError('--simulate needs the market driver: drop --no-market'),
  );
});

test('a config file turning the driver off is named, with the file', () => {
  writeFileSync(join(dir, 'off.json'), JSON.stringify({ market: { enabled: false } }));
  expect(() => resolveServe({ ...simulate, config: 'off.json' }, {}, dir)).toThrow(
    new UsageError('--simulate needs the market driver: market.enabled is false in off.json'),
  );
  expect(() => resolveServe({ 'event-calendar': 'events.json', config: 'off.json' }, {}, dir)).toThrow(
    new UsageError('--event-calendar needs the market driver: market.enabled is false in off.json'),
  );
});

test('STRATEGY_LIFECYCLE_MARKET=off is named', () => {
  expect(() => resolveServe(simulate, { STRATEGY_LIFECYCLE_MARKET: 'off' }, dir)).toThrow(
    new UsageError('--simulate needs the market driver: STRATEGY_LIFECYCLE_MARKET=off turns it off'),
  );
});
