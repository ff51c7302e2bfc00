/**
 * `strategy_lifecycle_kill_switch_runs_total{outcome}` counts each kill switch run when it ends,
 * whatever started it: the HTTP route, `system.killSwitch()` called in code, a run resumed at a
 * restart. Each outcome's series is there from the first scrape, at 0 (a series first seen at 1 is
 * no increase to Prometheus). Before, no metric counted kill switch runs at all.
 */
import { serviceFixture } from './services';
import type { RunningService } from '../../server/service';

const TOKEN = 'k'.repeat(40);
const start = serviceFixture('sl-metrics-kill-switch-', TOKEN);

/** The `strategy_lifecycle_kill_switch_runs_total` samples of a scrape, outcome -> value. */
async function runs(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^strategy_lifecycle_kill_switch_runs_total\{outcome="([^"]*)"\} (\S+)$/.exec(line);
    if (match) found.set(match[1], Number(match[2]));
  }
  return found;
}

test('every outcome starts at 0; a run started in code and one pressed over HTTP are each counted once when they end', async () => {
  const service = await start();
  expect(await runs(service)).toEqual(
    new Map([
      ['flat', 0],
      ['failed', 0],
      ['interrupted', 0],
    ]),
  );

  await service.system.killSwitch('drill in code');
  expect((await runs(service)).get('flat')).toBe(1);

  const pressed = await fetch(`${service.url}/system/kill-switch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ reason: 'drill over HTTP' }),
  });
  expect(pressed.status).toBe(202);
  // Nothing held: the run ends within a few turns of the event loop.
  let counted = await runs(service);
  for (let i = 0; i < 50 && counted.get('flat') !== 2; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    counted = await runs(service);
  }
  expect(counted).toEqual(
    new Map([
      ['flat', 2],
      ['failed', 0],
      ['interrupted', 0],
    ]),
  );
});
