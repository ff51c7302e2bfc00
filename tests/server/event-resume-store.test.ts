/**
 * `Last-Event-ID` resumes from the store: a transition's id carries the audit feed's durable
 * cursor, so a client reconnecting after a restart of the service (SQLite, PostgreSQL) or to
 * another instance of a shared store gets exactly the transitions it missed, read page by page,
 * then live ones with no gap or repeat at the seam; an unknown cursor or too long a gap gets `reset`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulatedClock } from '../../services/market/clock';
import { PostgresStore } from '../../services/store/postgresStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import { startService, type RunningService, type ServiceOptions } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { freshDatabase } from '../persistence/pg';
import { FRIDAY_11AM } from '../support/fixtures';
import { openStream, transitionsOf } from './sse';

const TOKEN = 'r'.repeat(40);
let running: RunningService[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const service of running) await service.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  running = [];
  dirs = [];
});

async function start(options: Partial<ServiceOptions> = {}): Promise<RunningService> {
  const service = await startService({
    port: 0,
    logger: false,
    token: TOKEN,
    clock: createSimulatedClock(FRIDAY_11AM),
    market: false,
    ...options,
  });
  running.push(service);
  return service;
}
async function stop(service: RunningService): Promise<void> {
  running = running.filter((s) => s !== service);
  await service.close();
}
const newDataDir = () => {
  const { dir } = tempDir('sl-resume-store-');
  dirs.push(dir);
  return dir;
};
const call = (service: RunningService, method: string, path: string, body?: unknown) =>
  fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.status);
/** `n` more bells for `id`: each one is recorded (accepted, 200, or refused, 409) and is one transition of the stream. */
async function bells(service: RunningService, id: string, n: number) {
  for (let i = 0; i < n; i++)
    expect([200, 409]).toContain(await call(service, 'POST', `/strategies/${id}/events`, { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' }));
}
const seqs = (id: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${id}#${from + i}`);

test('ids carry the store cursor; after a restart on the same SQLite file the client gets exactly the transitions it missed, then live ones', async () => {
  const dataDir = newDataDir();
  let service = await start({ dataDir });
  expect(await call(service, 'POST', '/strategies', { id: 'a', variant: 'lt112' })).toBe(201);
  const first = await openStream(service.url);
  expect(first.events[0]).toMatchObject({ event: 'connected', data: { replayed: 0 } });
  expect(first.events[0].id).toMatch(/^[0-9a-f]{8}-1\/\d+$/);
  await bells(service, 'a', 2);
  await first.until(() => transitionsOf(first.events).length === 2);
  expect(transitionsOf(first.events)).toEqual(seqs('a', 1, 2));
  const [one, two] = first.events.filter((e) => e.event === 'transition').map((e) => Number(e.id.split('/')[1]));
  expect(two).toBeGreaterThan(one);
  const seen = first.lastId();
  first.close();
  await bells(service, 'a', 3); // missed: seq 3..5
  await stop(service);
  service = await start({ dataDir });
  await call(service, 'POST', '/strategies/a/events', { type: 'ORDER_FILLED', quantity: 1 }); // missed too, refused: seq 6
  const again = await openStream(service.url, { 'Last-Event-ID': seen });
  expect(transitionsOf(again.events)).toEqual(seqs('a', 3, 6));
  expect(again.events.at(-1)).toMatchObject({ event: 'connected', data: { replayed: 4, earlierStart: true } });
  expect(again.events[3].data).toMatchObject({
    strategyId: 'a',
    record: { trigger: 'ORDER_FILLED', accepted: false },
    strategy: { id: 'a' },
  });
  await bells(service, 'a', 1);
  await again.until(() => transitionsOf(again.events).length === 5);
  expect(transitionsOf(again.events)).toEqual(seqs('a', 3, 7));
  // Resuming from the last id of the new start sends nothing twice.
  const third = await openStream(service.url, {}, `?lastEventId=${encodeURIComponent(again.lastId())}`);
  expect(third.events.map((e) => e.event)).toEqual(['connected']);
  expect(third.events[0].data).toMatchObject({ replayed: 0 });
  again.close();
  third.close();
});

/**
 * The real SQLite store, whose catch-up reads (those that count what was missed) wait while
 * `held` is set: SQLite answers at once, so only this lets live events come in mid catch-up.
 */
function heldStore(path: string) {
  const sqlite = new SqliteStore(path);
  const gate: { held?: Promise<void>; release?: () => void } = {};
  const hold = () => {
    gate.held = new Promise<void>((resolve) => (gate.release = resolve));
  };
  const store = new Proxy(sqlite, {
    get(target, key) {
      if (key === 'readAuditAfter') {
        return async (after: string | undefined, options: { limit: number; countUpTo?: number }) => {
          if (options.countUpTo !== undefined) await gate.held;
          return target.readAuditAfter(after, options);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, hold, release: () => gate.release!() };
}

test('within one start: missed transitions come from the store page by page, memory events after them, and live events at the seam neither lost nor repeated', async () => {
  const dataDir = newDataDir();
  const held = heldStore(join(dataDir, 'strategy-lifecycle.db'));
  const service = await start({ dataDir, store: held.store, stream: { feedPage: 2 } });
  await call(service, 'POST', '/strategies', { id: 'a', variant: 'lt112' });
  const first = await openStream(service.url);
  const seen = first.lastId();
  first.close();
  await bells(service, 'a', 5);
  await call(service, 'POST', '/system/trading-state', { state: 'REDUCING', reason: 'drawdown' });
  await call(service, 'POST', '/strategies', { id: 'b', variant: 'strangle' });
  const again = await openStream(service.url, { 'Last-Event-ID': seen });
  expect(again.events.map((e) => e.event)).toEqual([
    'transition',
    'transition',
    'transition',
    'transition',
    'transition',
    'system',
    'strategyAdded',
    'connected',
  ]);
  expect(transitionsOf(again.events)).toEqual(seqs('a', 1, 5));
  expect(again.events.at(-1)!.data).toMatchObject({ replayed: 7 });
  expect(again.events.at(-1)!.data).not.toHaveProperty('earlierStart');
  again.close();
  // A long gap: while its catch-up waits, more transitions and a memory event go out live.
  await bells(service, 'a', 30);
  held.hold();
  const during = await openStream(service.url, { 'Last-Event-ID': seen }, '', false);
  await bells(service, 'a', 10);
  await call(service, 'POST', '/system/trading-state', { state: 'ACTIVE', reason: 'recovered' });
  expect(during.events).toEqual([]);
  held.release();
  await during.until(() => transitionsOf(during.events).length >= 45);
  await bells(service, 'a', 2);
  await during.until(() => transitionsOf(during.events).length === 47);
  // Every transition exactly once, in order; the memory events each once; connected once (it repeats the current id)./
  expect(transitionsOf(during.events)).toEqual(seqs('a', 1, 47));
  expect(during.events.filter((e) => e.event === 'system').map((e) => (e.data.change as { to: string }).to)).toEqual([
    'REDUCING',
    'ACTIVE',
  ]);
  expect(during.events.filter((e) => e.event === 'connected')).toHaveLength(1);
  const ids = during.events.filter((e) => e.event !== 'connected').map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  during.close();
});

test('a catch-up that falls behind the live events by more than maxResume is disconnected, not left to grow', async () => {
  const dataDir = newDataDir();
  const held = heldStore(join(dataDir, 'strategy-lifecycle.db'));
  const service = await start({ dataDir, store: held.store, stream: { maxResume: 3, feedPage: 2 } });
  await call(service, 'POST', '/strategies', { id: 'a', variant: 'lt112' });
  const first = await openStream(service.url);
  const seen = first.lastId();
  first.close();
  held.hold();
  const slow = await openStream(service.url, { 'Last-Event-ID': seen }, '', false);
  await bells(service, 'a', 4);
  expect(service.app.eventStream.slowDisconnected).toBe(0);
  await bells(service, 'a', 2); // the sixth held live event is one too many (3 + a page of 2)
  await slow.until(() => service.app.eventStream.slowDisconnected === 1);
  held.release();
  expect(slow.events).toEqual([]);
  slow.close();
});

test('an unknown cursor, a malformed id or a gap longer than maxResume gets one reset, whose id resumes', async () => {
  const service = await start({ dataDir: newDataDir(), stream: { maxResume: 3 } });
  await call(service, 'POST', '/strategies', { id: 'a', variant: 'lt112' });
  const first = await openStream(service.url);
  const seen = first.lastId();
  first.close();
  await bells(service, 'a', 4);
  const tooMany = await openStream(service.url, { 'Last-Event-ID': seen });
  expect(tooMany.events.map((e) => e.event)).toEqual(['reset']);
  expect(tooMany.events[0].data.reason).toContain('more than 3 transitions were missed');
  const run = seen.split('-')[0];
  for (const id of [`${run}-0/99999999`, 'nonsense', `${run}-0`]) {
    const stranger = await openStream(service.url, { 'Last-Event-ID': id });
    expect(stranger.events.map((e) => e.event)).toEqual(['reset']);
    stranger.close();
  }
  const after = await openStream(service.url, { 'Last-Event-ID': tooMany.lastId() });
  expect(after.events.map((e) => e.event)).toEqual(['connected']);
  await bells(service, 'a', 1);
  await after.until(() => transitionsOf(after.events).length === 1);
  expect(transitionsOf(after.events)).toEqual(['a#5']);
  tooMany.close();
  after.close();
});

test('PostgreSQL: a client resumes on another instance of the shared store, after the first one stopped, with exactly what it missed', async () => {
  const url = await freshDatabase('resume');
  let service = await start({ dataDir: newDataDir(), store: new PostgresStore({ connectionString: url, instanceId: 'one' }) });
  expect(await call(service, 'POST', '/strategies', { id: 'p', variant: 'lt112' })).toBe(201);
  const first = await openStream(service.url);
  await bells(service, 'p', 2);
  await first.until(() => transitionsOf(first.events).length === 2);
  expect(first.lastId()).toMatch(/^[0-9a-f]{8}-1\/\d+\.\d+$/);
  const seen = first.lastId();
  first.close();
  await bells(service, 'p', 3);
  await stop(service);
  service = await start({ dataDir: newDataDir(), store: new PostgresStore({ connectionString: url, instanceId: 'two' }) });
  const again = await openStream(service.url, { 'Last-Event-ID': seen });
  // The feed is commit-safe: it reads below the oldest transaction still open anywhere in the
  // cluster, so while another database's transaction is open (the suite runs in parallel), the
  // newest of what was missed comes a feed read later, live, instead of in the replay. Either way
  // the client gets exactly what it missed, once each and in order.
  await again.until(() => transitionsOf(again.events).length >= 3);
  expect(transitionsOf(again.events)).toEqual(seqs('p', 3, 5));
  expect(again.events.find((e) => e.event === 'connected')).toMatchObject({ data: { earlierStart: true } });
  await bells(service, 'p', 2);
  await again.until(() => transitionsOf(again.events).length === 5);
  expect(transitionsOf(again.events)).toEqual(seqs('p', 3, 7));
  again.close();
});
