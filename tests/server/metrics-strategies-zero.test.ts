/**
 * `strategy_lifecycle_strategies` has a series for every variant and state at every scrape, at 0
 * when no strategy is in it. Before, the gauge was reset at each scrape and only the occupied
 * states were set again: a state's series vanished when its last strategy left it, so a dashboard
 * showed a gap and an `absent()` alert fired for a state that was merely empty.
 */
import { STRATEGY_STATES } from '../../machines/states';
import type { RunningService } from '../../server/service';
import { serviceFixture } from './services';

const TOKEN = 'g'.repeat(40);
const start = serviceFixture('sl-metrics-gauge-zero-', TOKEN);
const VARIANTS = ['zeroDte', 'lt112', 'strangle'];

/** The `strategy_lifecycle_strategies` samples of a scrape, `{labels}` -> value. */
async function strategies(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^strategy_lifecycle_strategies(\{[^}]*\}) (\S+)$/.exec(line);
    if (match) found.set(match[1], Number(match[2]));
  }
  return found;
}

async function post(service: RunningService, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
}

test('every variant and state has its strategies series, at 0 when empty, and keeps it once the state empties', async () => {
  const service = await start();
  const empty = await strategies(service);
  for (const variant of VARIANTS)
    for (const state of STRATEGY_STATES)
      expect([variant, state, empty.get(`{variant="${variant}",state="${state}"}`)]).toEqual([variant, state, 0]);
  expect(empty.size).toBe(VARIANTS.length * STRATEGY_STATES.length);

  await post(service, '/strategies', { id: 'lt', variant: 'lt112' });
  await post(service, '/strategies/lt/events', { type: 'SYSTEM_ERROR', reason: 'feed lost' });
  const inError = await strategies(service);
  expect(inError.get('{variant="lt112",state="ERROR"}')).toBe(1);
  expect(inError.get('{variant="lt112",state="READY"}')).toBe(0);
  expect(inError.size).toBe(VARIANTS.length * STRATEGY_STATES.length);

  const removed = await fetch(`${service.url}/strategies/lt`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(removed.status).toBeLessThan(300);
  const gone = await strategies(service);
  expect(gone.get('{variant="lt112",state="ERROR"}')).toBe(0);
  expect(gone.size).toBe(VARIANTS.length * STRATEGY_STATES.length);
});
