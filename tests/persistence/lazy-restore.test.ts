/**
 * Restore starts actors after the open (issue 14, restore of 10k strategies under 500 ms): the
 * open checks and registers every stored strategy, starts at once only those whose state must run
 * something (a durable deadline, an invoked actor of the user's), and resolves; the others are
 * dormant until something needs them, and are woken in the background a batch per turn of the
 * event loop. Actor creation is observed through XState inspection (`@xstate.actor`).
 */
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromCallback, type AnyActorRef, type EventObject, type InspectionEvent } from 'xstate';
import type { StrategyActorInput } from '../../machines/actors';
import { SnapshotRestoreError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { createSimulatedClock, type SimulatedClockHandle as SimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentSystemOptions } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, MINUTE } from '../support/fixtures';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-lazy-restore-')));
afterEach(() => cleanup());

/** Opens `file` and records which strategy actors XState creates (not the coordinator, not invoked children). */
async function openWatched(file: string, clock: SimulatedClock, extra: Partial<PersistentSystemOptions> = {}) {
  const created: string[] = [];
  const errors: unknown[] = [];
  const system = await openStrategySystem({
    store: new SqliteStore(file, { synchronous: 'NORMAL' }),
    variants: [lt112],
    clock,
    onStoreError: (error) => errors.push(error),
    inspect: (e: InspectionEvent) => {
      if (e.type !== '@xstate.actor') return;
      const ref = e.actorRef as AnyActorRef;
      if (ref.id.startsWith('s-')) created.push(ref.id);
    },
    ...extra,
  });
  return { system, created, errors };
}

/** Stores strategies `s-0 ... s-<n-1>`, each moved by `events`, as copies of one real strategy's rows. */
async function seed(file: string, clock: SimulatedClock, n: number, events: StrategyEvent[]): Promise<void> {
  const system = await openStrategySystem({ store: new SqliteStore(file, { synchronous: 'NORMAL' }), variants: [lt112], clock });
  await system.add(lt112, { id: 's-0' });
  for (const event of events) expect((await system.send('s-0', event)).accepted).toBe(true);
  await system.close();
  const db = new Database(file);
  db.transaction(() => {
    const row = db.prepare("SELECT * FROM strategies WHERE strategy_id = 's-0'").get() as Record<string, string | number>;
    const records = db.prepare("SELECT * FROM audit_records WHERE strategy_id = 's-0'").all() as Array<Record<string, string | number>>;
    const addRow = db.prepare(
      'INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const addRecord = db.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)');
    for (let i = 1; i < n; i++) {
      const id = `s-${i}`;
      const snapshot = String(row.snapshot).replaceAll('"s-0"', JSON.stringify(id));
      addRow.run(id, row.variant, row.params, snapshot, row.seq, row.state, row.created_at, row.updated_at);
      for (const r of records) addRecord.run(id, r.seq, r.at, String(r.record).replaceAll('"s-0"', JSON.stringify(id)));
    }
  })();
  db.close();
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('the open resolves with dormant strategies; counts and the summary answer without waking them', async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 3, [{ type: 'MARKET_OPEN' }]);
  const { system, created } = await openWatched(file, clock);
  expect(created).toEqual([]);
  expect(system.ids()).toEqual(['s-0', 's-1', 's-2']);
  expect(system.has('s-1')).toBe(true);
  expect(system.summary()).toMatchObject({ totalStrategies: 3, countByState: { READY: 3 }, countByVariant: { lt112: 3 } });
  expect(created).toEqual([]);
  await system.whenLive();
  expect([...created].sort()).toEqual(['s-0', 's-1', 's-2']);
  await system.close();
});

test('a send, a get and a broadcast to dormant strategies wake them and answer exactly as live ones do', async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 3, [{ type: 'MARKET_OPEN' }]);
  copyFileSync(file, join(dir, 'b.db'));
  const run = async (name: string, wakeFirst: boolean) => {
    const { system, created } = await openWatched(join(dir, name), createSimulatedClock(FRIDAY_11AM + MINUTE));
    if (wakeFirst) await system.whenLive();
    const sent = await system.send('s-0', { type: 'TIME_WINDOW_START' });
    const createdAfterSend = [...created];
    const state = system.get('s-1').state;
    const createdAfterGet = [...created];
    const broadcast = await system.broadcast({ type: 'TIME_WINDOW_START' });
    const trails = system.ids().map((id) => system.get(id).getAuditTrail());
    await system.close();
    return { sent, createdAfterSend, state, createdAfterGet, broadcast, trails };
  };
  const dormant = await run('a.db', false);
  const live = await run('b.db', true);
  // Woken by what needed them, one at a time.
  expect(dormant.createdAfterSend).toEqual(['s-0']);
  expect(dormant.createdAfterGet).toEqual(['s-0', 's-1']);
  // The same answers, records and trails as strategies that were live before the events came.
  expect(dormant.sent).toMatchObject({ accepted: true, from: 'READY', to: 'ANALYZING' });
  expect(dormant.sent).toEqual(live.sent);
  expect(dormant.state).toBe('READY');
  expect(dormant.broadcast).toEqual(live.broadcast);
  expect(dormant.broadcast['s-2']).toMatchObject({ accepted: true, to: 'ANALYZING' });
  expect(dormant.trails).toEqual(live.trails);
});

test('the background wake yields to the event loop between batches and ends with every strategy live', async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 600, [{ type: 'MARKET_OPEN' }]);
  const { system, created, errors } = await openWatched(file, clock);
  expect(created).toHaveLength(0);
  // A timer of the real event loop: it runs between batches, seeing some strategies live and some not.
  const seenByTimers: number[] = [];
  let done = false;
  const tick = () => {
    seenByTimers.push(created.length);
    if (!done) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await system.whenLive();
  done = true;
  expect(created).toHaveLength(600);
  expect(new Set(created).size).toBe(600);
  expect(seenByTimers.some((n) => n > 0 && n < 600)).toBe(true);
  expect(errors).toEqual([]);
  expect(await system.send('s-599', { type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
  await system.close();
});

test('a strategy whose deadline passed while down starts at the open and fires it as before; its neighbour stays dormant', async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 2, [{ type: 'MARKET_OPEN' }]);
  const first = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock });
  await first.send('s-0', { type: 'SYSTEM_ERROR' });
  await first.close();

  const { system, created } = await openWatched(file, createSimulatedClock(FRIDAY_11AM + 3 * 60 * MINUTE));
  expect(created).toEqual(['s-0']);
  const order: string[] = [];
  system.subscribe(({ strategyId, record }) => order.push(`${strategyId}:${record.previousState}->${record.currentState}`));
  await system.flush();
  expect(order).toEqual(['s-0:ERROR->READY']);
  expect(created).toEqual(['s-0']);
  await system.close();
});

test("a user's invoked actor runs right after the open, its strategy started there", async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 2, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }]);
  const started: string[] = [];
  const entryAnalyzer = fromCallback<EventObject, StrategyActorInput>(({ input }) => void started.push(input.strategyId));
  const variant = { ...lt112, actors: { entryAnalyzer } };
  const { system, created } = await openWatched(file, clock, { variants: [variant] });
  expect([...started].sort()).toEqual(['s-0', 's-1']);
  expect([...created].sort()).toEqual(['s-0', 's-1']);
  await system.close();
  // The default no-op analyzer runs nothing: the same strategies in ANALYZING stay dormant.
  const plain = await openWatched(file, clock);
  expect(plain.created).toEqual([]);
  await plain.system.close();
});

test.each([
  ['a state the chart does not have', `json_set(snapshot, '$.value', 'NO_SUCH_STATE')`],
  ['no children record', `json_remove(snapshot, '$.children')`],
])('a stored snapshot with %s is refused at the open with SnapshotRestoreError', async (_what, change) => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 3, [{ type: 'MARKET_OPEN' }]);
  const db = new Database(file);
  expect(db.prepare(`UPDATE strategies SET snapshot = ${change} WHERE strategy_id = 's-1'`).run().changes).toBe(1);
  db.close();
  const opening = openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock });
  await expect(opening).rejects.toThrow(SnapshotRestoreError);
  await expect(openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock })).rejects.toThrow(
    /stored strategy "s-1" of variant "lt112" cannot be restored: the snapshot does not fit the chart: /,
  );
});

test('close() during the background wake stops it cleanly: nothing starts afterwards, and the store reopens', async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 600, [{ type: 'MARKET_OPEN' }]);
  const { system, created, errors } = await openWatched(file, clock);
  await turn();
  await system.close();
  await system.whenLive();
  const atClose = created.length;
  expect(atClose).toBeLessThan(600);
  for (let i = 0; i < 5; i++) await turn();
  expect(created).toHaveLength(atClose);
  expect(errors).toEqual([]);
  const again = await openWatched(file, clock);
  expect(again.system.ids()).toHaveLength(600);
  await again.system.whenLive();
  expect(again.created).toHaveLength(600);
  await again.system.close();
});

/** Seeds `n` strategies past MARKET_OPEN and TIME_WINDOW_START; loads them whole, then with `window`. */
async function loadWindowed(n: number, window: number) {
  const file = join(dir, 'a.db');
  await seed(file, createSimulatedClock(FRIDAY_11AM), n, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }]);
  const store = new SqliteStore(file);
  await store.open();
  const whole = await store.loadAll({ claim: false });
  const windowed = await store.loadAll({ claim: false, window });
  await store.close();
  return { whole, windowed };
}

test("SQLite's windowed load hands each window over as read (parsed on first use): the same records, also through JSON", async () => {
  const { whole, windowed } = await loadWindowed(2, 1);
  expect(windowed.map((s) => s.auditTrail)).toEqual(whole.map((s) => s.auditTrail.slice(-1)));
  expect(windowed[1].auditTrail).toBe(windowed[1].auditTrail);
  const expected = whole.map((s) => ({ ...s, auditTrail: s.auditTrail.slice(-1) }));
  expect(JSON.parse(JSON.stringify(windowed))).toEqual(JSON.parse(JSON.stringify(expected)));
  // It reads as a plain stored strategy: a spread, a structured clone and deep equality keep the trail.
  expect(windowed.map((s) => ({ ...s }))).toEqual(expected);
  expect(structuredClone(windowed)).toEqual(expected);
  expect(Object.keys(windowed[0]).sort()).toEqual(Object.keys(expected[0]).sort());
  expect(windowed).toEqual(expected);
});

test('a windowed stored strategy spread before its trail is read still carries the trail', async () => {
  const [windowed] = (await loadWindowed(1, 2)).windowed;
  const copy = { ...windowed };
  expect(copy.auditTrail.map((r) => r.currentState)).toEqual(['READY', 'ANALYZING']);
  windowed.auditTrail = [];
  expect(windowed.auditTrail).toEqual([]);
  expect(copy.auditTrail).toHaveLength(2);
});

test('the broker reconciliation at the open reads dormant strategies without waking them; a mismatch wakes its strategy and holds it', async () => {
  const file = join(dir, 'a.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  await seed(file, clock, 3, [{ type: 'MARKET_OPEN' }]);
  const broker = new PaperBroker({ clock, initialPositions: [{ strategyId: 's-1', quantity: 1 }] });
  const { system, created } = await openWatched(file, clock, { broker });
  expect(system.reconciliation).toEqual({
    checked: 3,
    mismatches: [{ strategyId: 's-1', expected: 0, broker: 1, held: true }],
    unknown: [],
  });
  expect(created).toEqual(['s-1']);
  expect(system.get('s-1').state).toBe('ERROR');
  expect(system.get('s-0').state).toBe('READY');
  await system.close();
});
