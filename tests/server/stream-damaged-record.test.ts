/**
 * One damaged record in the store's audit feed (JSON that no longer parses on SQLite, a record of
 * the wrong shape on PostgreSQL's jsonb) does not stop the live stream: every client gets a
 * `damaged` event naming the record (strategy, seq, cursor, what is wrong) in its place and the
 * transitions after it, live and on resume; a client resuming after that event does not get it
 * again; the service logs the damaged record once, however often it is read.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulatedClock } from '../../services/market/clock';
import { PostgresStore } from '../../services/store/postgresStore';
import { startService, type RunningService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { freshDatabase, sql } from '../persistence/pg';
import { FRIDAY_11AM } from '../support/fixtures';
import { openStream, transitionsOf, type Received } from './sse';

const TOKEN = 'd'.repeat(40);
let service: RunningService | undefined;
let dir: string | undefined;
afterEach(async () => {
  await service?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  service = undefined;
  dir = undefined;
});

const bell = (id: string, type = 'MARKET_OPEN') =>
  fetch(`${service!.url}/strategies/${id}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type }),
  }).then((r) => expect([200, 409]).toContain(r.status));
const create = (id: string) =>
  fetch(`${service!.url}/strategies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, variant: 'lt112' }),
  }).then((r) => expect(r.status).toBe(201));
/** What a client was told, in order: `a#1` for a transition, `!b#1` for a damaged record. */
const told = (events: Received[]) =>
  events
    .filter((e) => e.event === 'transition' || e.event === 'damaged')
    .map((e) =>
      e.event === 'damaged'
        ? `!${e.data.strategyId as string}#${e.data.seq as number}`
        : `${e.data.strategyId as string}#${(e.data.record as { seq: number }).seq}`,
    );

/** Where the service keeps its strategies, and how b's first record gets damaged in the very commit that writes it (a trigger, through a connection of its own). */
interface Backend {
  store?: PostgresStore;
  damage: () => Promise<void>;
}

describe.each([
  [
    'SQLite: a record that is not JSON',
    async (dataDir: string): Promise<Backend> => ({
      damage: async () => {
        const db = new Database(join(dataDir, 'strategy-lifecycle.db'));
        db.exec(`CREATE TRIGGER damage AFTER INSERT ON audit_records WHEN NEW.strategy_id = 'b' AND NEW.seq = 1
                 BEGIN UPDATE audit_records SET record = '{bad' WHERE feed_id = NEW.feed_id; END`);
        db.close();
      },
    }),
    /^audit_records row feed_id \d+ \(strategy "b", seq 1\): its record column is not JSON \(/,
  ],
  [
    'PostgreSQL: a record of the wrong shape',
    async (): Promise<Backend> => {
      const url = await freshDatabase('damaged_feed');
      return {
        store: new PostgresStore({ connectionString: url }),
        damage: async () => {
          await sql(
            url,
            `CREATE FUNCTION damage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
               UPDATE audit_records SET record = '42'::jsonb WHERE feed_id = NEW.feed_id; RETURN NULL; END $$`,
          );
          await sql(
            url,
            `CREATE TRIGGER damage AFTER INSERT ON audit_records FOR EACH ROW
               WHEN (NEW.strategy_id = 'b' AND NEW.seq = 1) EXECUTE FUNCTION damage()`,
          );
        },
      };
    },
    /^audit_records row feed_id \d+ \(strategy "b", seq 1\): its record column is not a transition record: it is not an object$/,
  ],
] as const)('%s', (_name, backend, detail) => {
  test('clients are told the record is damaged and go on past it, live and on resume; the service logs it once', async () => {
    ({ dir } = tempDir('sl-damaged-feed-'));
    const lines: Array<Record<string, unknown>> = [];
    const logger = { level: 'warn', stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
    const { store, damage } = await backend(dir);
    service = await startService({
      port: 0,
      token: TOKEN,
      clock: createSimulatedClock(FRIDAY_11AM),
      market: false,
      logger,
      dataDir: dir,
      ...(store ? { store } : {}),
    });
    await damage();
    await create('a');
    await create('b');
    const live = await openStream(service.url);
    await bell('a');
    await live.until(() => told(live.events).length === 1);
    await bell('b'); // b#1: damaged as it is written
    await bell('a', 'MARKET_CLOSE');
    await live.until(() => told(live.events).length === 3);
    expect(told(live.events)).toEqual(['a#1', '!b#1', 'a#2']);
    const damaged = live.events.find((e) => e.event === 'damaged')!;
    expect(damaged.data).toEqual({
      strategyId: 'b',
      seq: 1,
      cursor: damaged.id.split('/')[1],
      error: { code: 'STORE_CORRUPT', message: expect.stringMatching(detail) },
    });
    // Live events go on after it.
    await bell('b', 'MARKET_CLOSE');
    await live.until(() => told(live.events).length === 4);
    expect(told(live.events)).toEqual(['a#1', '!b#1', 'a#2', 'b#2']);

    // A client resuming from before the damaged record is told of it, and gets what follows.
    const firstId = live.events.find((e) => e.event === 'transition')!.id;
    const before = await openStream(service.url, { 'Last-Event-ID': firstId });
    expect(told(before.events)).toEqual(['!b#1', 'a#2', 'b#2']);
    expect(before.events.at(-1)).toMatchObject({ event: 'connected', data: { replayed: 3 } });
    // One resuming after the damaged event does not get it again.
    const after = await openStream(service.url, { 'Last-Event-ID': damaged.id });
    expect(told(after.events)).toEqual(['a#2', 'b#2']);
    expect(transitionsOf(after.events)).toEqual(['a#2', 'b#2']);
    live.close();
    before.close();
    after.close();

    const logged = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('damaged'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ strategyId: 'b', seq: 1, err: { type: 'StoreCorruptError' } });
  });
});
