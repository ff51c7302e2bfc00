/**
 * The transition counters of `GET /metrics` count what is committed while the service opens: a
 * deadline overdue at a restart (a stuck order's, an ERROR's recovery) fires during the open.
 * Before, the counters subscribed only once the app was built, so such a transition was in the
 * audit trail and in the store's commit count but never in `strategy_lifecycle_transitions_total`
 * (an alert on strategies entering ERROR missed every one that did so at a restart).
 */
import { createSimulatedClock } from '../../services/market/clock';
import { startService, type RunningService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const TOKEN = 'o'.repeat(40);

const post = (service: RunningService, path: string, body: unknown) =>
  fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  }).then((r) => r.json());

/** The `strategy_lifecycle_` samples of a scrape, `name{labels}` -> value. */
async function samples(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(strategy_lifecycle_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) found.set(match[1], Number(match[2]));
  }
  return found;
}

test('a deadline overdue at a restart fires during the open: its transition is counted like any other', async () => {
  const tmp = tempDir('sl-metrics-open-');
  const options = { dataDir: tmp.dir, port: 0, logger: false as const, token: TOKEN, market: false as const };
  try {
    const first = await startService({ ...options, clock: createSimulatedClock(FRIDAY_11AM) });
    await post(first, '/strategies', { id: 'lt', variant: 'lt112', params: { underlying: 'SPX' } });
    await post(first, '/strategies/lt/events', { type: 'MARKET_OPEN' });
    expect(await post(first, '/strategies/lt/events', { type: 'SYSTEM_ERROR', reason: 'broker feed lost' })).toMatchObject({
      result: { accepted: true, to: 'ERROR' },
    });
    await first.close();

    // Back 31 minutes later: the 30-minute ERROR recovery is overdue and fires at the open.
    const second = await startService({ ...options, clock: createSimulatedClock(FRIDAY_11AM + 31 * 60_000) });
    try {
      await second.system.flush();
      const trail = await second.system.readAuditTrail('lt', { limit: 10 });
      const recovered = trail.records.filter((r) => r.previousState === 'ERROR' && r.currentState === 'READY');
      expect(recovered).toHaveLength(1);
      const after = await samples(second);
      expect(after.get('strategy_lifecycle_store_commit_seconds_count{operation="append",outcome="ok"}')).toBe(1);
      expect(after.get('strategy_lifecycle_transitions_total{variant="lt112",state="READY"}')).toBe(1);
      // Counted once: the app's own subscription does not count it again.
      await post(second, '/strategies/lt/events', { type: 'TIME_WINDOW_START' });
      const later = await samples(second);
      expect(later.get('strategy_lifecycle_transitions_total{variant="lt112",state="READY"}')).toBe(1);
      expect(later.get('strategy_lifecycle_transitions_total{variant="lt112",state="ANALYZING"}')).toBe(1);
    } finally {
      await second.close();
    }
  } finally {
    tmp.cleanup();
  }
});
