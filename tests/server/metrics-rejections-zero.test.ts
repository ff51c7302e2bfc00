/**
 * `strategy_lifecycle_rejections_total` has a series for every variant, state and rejection code
 * from the first scrape, at 0, as the transitions, kill switch runs and errors counters do. Before,
 * a series appeared with its first rejection, at 1: Prometheus' `increase()` and `rate()` see no
 * increase in a series whose first sample is already 1, so an alert such as
 * `increase(strategy_lifecycle_rejections_total{code="TRADING_HALTED"}[10m]) > 0` missed the first
 * rejection of each variant, state and code in a process's life.
 */
import type { RejectionCode } from '../../machines/errors';
import { STRATEGY_STATES } from '../../machines/states';
import type { RunningService } from '../../server/service';
import { serviceFixture } from './services';

const TOKEN = 'r'.repeat(40);
const start = serviceFixture('sl-metrics-rejections-zero-', TOKEN);

/** Every rejection code, written out: the label values the counter knows. */
const CODES = [
  'NO_EDGE',
  'GUARD_FAILED',
  'INVALID_EVENT',
  'DUPLICATE_EVENT',
  'HOOK_FAILED',
  'ACTOR_STOPPED',
  'ACTOR_FAILED',
  'REENTRANT_TRIGGER',
  'STORE_REQUIRED',
  'TRADING_HALTED',
  'TRADING_REDUCING',
  'CORRELATION_LIMIT',
] as const satisfies readonly RejectionCode[];
// A code added to RejectionCode and not here fails to compile: the test covers every one.
const everyCode: [Exclude<RejectionCode, (typeof CODES)[number]>] extends [never] ? true : false = true;
const VARIANTS = ['zeroDte', 'lt112', 'strangle'];

/** The `strategy_lifecycle_rejections_total` samples of a real scrape of /metrics, `{labels}` -> value. */
async function rejections(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^strategy_lifecycle_rejections_total(\{[^}]*\}) (\S+)$/.exec(line);
    if (match) found.set(match[1], Number(match[2]));
  }
  return found;
}

const send = (service: RunningService, path: string, body: unknown) =>
  fetch(service.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  }).then((r) => r.status);

test('every variant, state and code has its rejections series at 0 before any rejection, and only those', async () => {
  expect(everyCode).toBe(true);
  const service = await start();
  const before = await rejections(service);
  for (const variant of VARIANTS)
    for (const state of STRATEGY_STATES)
      for (const code of CODES)
        expect([variant, state, code, before.get(`{variant="${variant}",state="${state}",code="${code}"}`)]).toEqual([
          variant,
          state,
          code,
          0,
        ]);
  expect(before.size).toBe(VARIANTS.length * STRATEGY_STATES.length * CODES.length);

  expect(await send(service, '/strategies', { id: 'lt', variant: 'lt112' })).toBe(201);
  expect(await send(service, '/strategies/lt/events', { type: 'ORDER_FILLED', quantity: 1 })).toBe(409); // INITIALIZING has no edge for it
  expect(await send(service, '/strategies/lt/events', { type: 'ORDER_FILLED' })).toBe(400); // no quantity: audited as INVALID_EVENT
  const after = await rejections(service);
  expect(after.get('{variant="lt112",state="INITIALIZING",code="NO_EDGE"}')).toBe(1);
  expect(after.get('{variant="lt112",state="INITIALIZING",code="INVALID_EVENT"}')).toBe(1);
  expect(after.get('{variant="zeroDte",state="INITIALIZING",code="NO_EDGE"}')).toBe(0);
  expect(after.get('{variant="lt112",state="READY",code="NO_EDGE"}')).toBe(0);
  // Counting adds to the series that were there; it makes none.
  expect(after.size).toBe(before.size);
  expect([...after.values()].reduce((sum, n) => sum + n, 0)).toBe(2);
});
