/**
 * `strategy_lifecycle_transitions_total` has a series for every variant and state from the first
 * scrape, at 0. Before, a series appeared with its first transition, at 1: Prometheus' `increase()`
 * and `rate()` see no increase in a series whose first sample is already 1, so an alert such as
 * `increase(strategy_lifecycle_transitions_total{state="ERROR"}[10m]) > 0` missed the first
 * strategy to enter ERROR in a process's life.
 */
import { STRATEGY_STATES } from '../../machines/states';
import type { RunningService } from '../../server/service';
import { serviceFixture } from './services';

const TOKEN = 'z'.repeat(40);
const start = serviceFixture('sl-metrics-zero-', TOKEN);

/** The `strategy_lifecycle_transitions_total` samples of a scrape, `{labels}` -> value. */
async function transitions(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^strategy_lifecycle_transitions_total(\{[^}]*\}) (\S+)$/.exec(line);
    if (match) found.set(match[1], Number(match[2]));
  }
  return found;
}

test('every variant and state has its transitions series at 0 before any transition, and only those', async () => {
  const service = await start();
  const before = await transitions(service);
  for (const variant of ['zeroDte', 'lt112', 'strangle'])
    for (const state of STRATEGY_STATES)
      expect([variant, state, before.get(`{variant="${variant}",state="${state}"}`)]).toEqual([variant, state, 0]);
  expect(before.size).toBe(3 * STRATEGY_STATES.length);

  await fetch(`${service.url}/strategies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ id: 'lt', variant: 'lt112' }),
  });
  await fetch(`${service.url}/strategies/lt/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ type: 'SYSTEM_ERROR', reason: 'feed lost' }),
  });
  const after = await transitions(service);
  expect(after.get('{variant="lt112",state="ERROR"}')).toBe(1);
  expect(after.get('{variant="zeroDte",state="ERROR"}')).toBe(0);
});
