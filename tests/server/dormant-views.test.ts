/**
 * The service's read-only views never wake a dormant strategy (issue 15: one `GET /strategies` or
 * one metrics scrape right after a restart must not start every actor in one turn of the event
 * loop). The list, a strategy's view and statistics without its trail page, the metrics gauges
 * and the live stream's views read the committed state (`system.peek`), and show exactly what a
 * live strategy in the same state shows; a trigger and a trail page still wake their strategy.
 * Actor creation is observed through XState inspection (`@xstate.actor`), as in
 * tests/persistence/lazy-restore.test.ts.
 */
import { copyFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UnknownStrategyError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle } from '../../machines/variants';
import { buildApp } from '../../server/app';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { actorsCreated, openParked } from '../support/dormant';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { openStream } from './sse';

const TOKEN = 'd'.repeat(40);
const variants = [lt112, strangle];
/** Every write commits at once (no group commit waiting for turns of the event loop). */
const storeAt = (file: string) => new SqliteStore(file, { groupCommit: false });

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-dormant-views-')));
afterEach(() => {
  jest.useRealTimers();
  cleanup();
});

/** Four stored strategies of two variants in four states, one holding a position. */
const SEED: Array<{ id: string; def: typeof lt112; events: StrategyEvent[] }> = [
  { id: 'lt-ready', def: lt112, events: [{ type: 'MARKET_OPEN' }] },
  {
    id: 'lt-held',
    def: lt112,
    events: [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-03-29' },
      { type: 'MARKET_OPEN' },
    ],
  },
  { id: 'st-analyzing', def: strangle, events: [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }] },
  { id: 'st-new', def: strangle, events: [] },
];

async function seed(file: string): Promise<void> {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: storeAt(file), variants, clock });
  for (const { id, def, events } of SEED) {
    await system.add(def, { id, params: { underlying: 'SPX' } });
    for (const event of events) {
      clock.increment(MINUTE);
      expect((await system.send(id, event)).accepted).toBe(true);
    }
  }
  await system.close();
}

/**
 * `strategy_lifecycle_strategies` samples of a scrape with a strategy in their state, sorted (every
 * other variant and state is a series at 0: metrics-strategies-zero.test.ts).
 */
const strategyGauge = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('strategy_lifecycle_strategies{') && !line.endsWith('} 0'))
    .sort();

/**
 * Opens `file` (dormant strategies, or all live with `live`), serves it and reads every view; then
 * a trigger and a trail page. `created` after each step: the strategy actors XState made so far.
 */
async function run(file: string, live: boolean) {
  // The background wake after the open is parked (see tests/support/dormant.ts), so only what a
  // request does can make an actor. The live system wakes everything first.
  const { created, inspect } = actorsCreated((id) => SEED.some((s) => s.id === id));
  const opening = () =>
    openStrategySystem({ store: storeAt(file), variants, clock: createSimulatedClock(FRIDAY_11AM + 30 * MINUTE), inspect });
  const system = live ? await opening() : await openParked(opening);
  if (live) await system.whenLive();
  else expect(created).toEqual([]);
  const app = buildApp({ system, variants, token: TOKEN, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const read = async (url: string) => {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      return response;
    };
    const get = async (url: string) => (await read(url)).json<Record<string, unknown>>();
    const scrape = async () => strategyGauge((await read('/metrics')).body);
    const list = await get('/strategies');
    const details = await Promise.all(SEED.map(({ id }) => get(`/strategies/${id}?limit=0`)));
    const metrics = await scrape();
    const summary = await get('/summary');
    const peeked = SEED.map(({ id }) => {
      const { state, snapshot } = system.peek(id);
      return { state, snapshot: JSON.parse(JSON.stringify(snapshot)) as unknown };
    });
    const afterViews = [...created];

    // A trigger wakes its strategy and works; the live stream's view of it is the API's.
    const stream = await openStream(base);
    const sent = await app.inject({
      method: 'POST',
      url: '/strategies/lt-ready/events',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { type: 'TIME_WINDOW_START' },
    });
    await stream.until(() => stream.events.some((e) => e.event === 'transition'));
    stream.close();
    const streamed = stream.events.find((e) => e.event === 'transition')?.data;
    const afterTrigger = [...created];
    const triggeredView = await get('/strategies/lt-ready?limit=0');
    const metricsAfterTrigger = await scrape();
    const afterTriggerViews = [...created];

    // A trail page still wakes its strategy (it reads the strategy's trail), and only that one.
    const withTrail = await get('/strategies/lt-held?limit=3');
    const afterTrail = [...created];
    return {
      out: {
        list,
        details,
        metrics,
        summary,
        peeked,
        sent: sent.json<unknown>(),
        streamed,
        triggeredView,
        metricsAfterTrigger,
        withTrail,
      },
      created: { afterViews, afterTrigger, afterTriggerViews, afterTrail },
    };
  } finally {
    await app.close();
    await system.close();
  }
}

test('views, details, metrics and the stream read dormant strategies without waking them, exactly as live ones', async () => {
  const file = join(dir, 'dormant.db');
  await seed(file);
  copyFileSync(file, join(dir, 'live.db'));
  const dormant = await run(file, false);
  const live = await run(join(dir, 'live.db'), true);

  // Nothing but the trigger and the trail page made an actor.
  expect(dormant.created.afterViews).toEqual([]);
  expect(dormant.created.afterTrigger).toEqual(['lt-ready']);
  expect(dormant.created.afterTriggerViews).toEqual(['lt-ready']);
  expect(dormant.created.afterTrail).toEqual(['lt-ready', 'lt-held']);

  // The right states, counts, positions and statistics.
  const { out } = dormant;
  const states = (out.list as { strategies: Array<{ id: string; state: string; variant: string }> }).strategies.map((s) => [
    s.id,
    s.variant,
    s.state,
  ]);
  expect(states).toEqual([
    ['lt-held', 'lt112', 'MANAGING'],
    ['lt-ready', 'lt112', 'READY'],
    ['st-analyzing', 'strangle', 'ANALYZING'],
    ['st-new', 'strangle', 'INITIALIZING'],
  ]);
  expect(out.details[1]).toMatchObject({
    strategy: { id: 'lt-held', state: 'MANAGING', position: { quantity: 2, expiry: '2027-03-29' } },
    statistics: { currentState: 'MANAGING', totalTransitions: 6, openQuantity: 2 },
    audit: { total: 6, offset: 0, limit: 0, records: [], next: 7 },
  });
  expect(out.details[3]).toMatchObject({ audit: { total: 0, records: [], next: null }, statistics: { currentState: 'INITIALIZING' } });
  expect(out.metrics).toEqual([
    'strategy_lifecycle_strategies{variant="lt112",state="MANAGING"} 1',
    'strategy_lifecycle_strategies{variant="lt112",state="READY"} 1',
    'strategy_lifecycle_strategies{variant="strangle",state="ANALYZING"} 1',
    'strategy_lifecycle_strategies{variant="strangle",state="INITIALIZING"} 1',
  ]);
  expect(out.summary).toMatchObject({ totalStrategies: 4, countByVariant: { lt112: 2, strangle: 2 } });
  expect(out.sent).toMatchObject({ result: { accepted: true, from: 'READY', to: 'ANALYZING' } });
  expect(out.streamed).toEqual({
    strategyId: 'lt-ready',
    record: expect.objectContaining({ seq: 2 }),
    strategy: (out.triggeredView as { strategy: unknown }).strategy,
  });
  expect(out.metricsAfterTrigger).toContain('strategy_lifecycle_strategies{variant="lt112",state="ANALYZING"} 1');
  expect((out.withTrail as { audit: { records: Array<{ seq: number }> } }).audit.records.map((r) => r.seq)).toEqual([6, 5, 4]);

  // The same JSON, dormant or live.
  expect(dormant.out).toEqual(live.out);
});

test('peek answers an unknown id as get does', async () => {
  const file = join(dir, 'a.db');
  await seed(file);
  const system = await openStrategySystem({ store: storeAt(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
  expect(() => system.peek('nope')).toThrow(UnknownStrategyError);
  expect(() => system.get('nope')).toThrow(UnknownStrategyError);
  await system.close();
});
