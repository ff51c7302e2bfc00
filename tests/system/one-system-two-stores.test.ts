/**
 * One system implementation over two stores: `createStrategySystem()` runs the persistent system's
 * code over a synchronous MemoryStore. The same scenario (sends, a halt, a kill switch with a
 * rejected exit, a strategy given up on) gives the same states, audit codes, trading state history
 * and kill switch report over the memory store and over SQLite, and the memory store is written
 * ahead of every transition exactly as a database is.
 */
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { MemoryStore } from '../../services/store/memoryStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyWrite } from '../../services/store/types';
import { tempDir } from '../persistence/helpers';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';

const toPosition = managing(VARIANTS[1].entry, 2);

/** Lets queued store writes land (a no-op for the memory store, whose writes are made at once). */
const settleWrites = async (system: object) => {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    if ('flush' in system && typeof system.flush === 'function') await (system.flush as () => Promise<void>)();
  }
};

async function runScenario(kind: 'memory' | 'sqlite') {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const { dir, cleanup } = tempDir();
  const memory = new MemoryStore();
  const sqlite = new SqliteStore(join(dir, 's.db'));
  const killSwitch = { maxRetries: 1, backoffMs: 1000 };
  const system =
    kind === 'memory'
      ? createStrategySystem({ clock, killSwitch, store: memory })
      : await openStrategySystem({ store: sqlite, variants: [lt112], clock, killSwitch });
  for (const id of ['fills', 'never', 'flat']) await system.add(lt112, { id });
  for (const e of toPosition) {
    await system.send('fills', e);
    await system.send('never', e);
  }
  const codes: string[] = [];
  codes.push((await system.send('flat', { type: 'ORDER_FILLED', quantity: 1 })).code ?? 'accepted'); // no edge
  codes.push((await system.send('flat', { type: 'MARKET_OPEN' })).code ?? 'accepted');
  // A broker on the simulated clock: 'fills' is rejected once and then filled, 'never' always rejected.
  const answers: Record<string, Array<'reject' | 'fill'>> = { fills: ['reject', 'fill'], never: [] };
  exitBroker(system, clock, (id) => answers[id]?.shift() ?? 'reject');

  const done = system.killSwitch('risk desk');
  for (let step = 0; step < 40; step++) {
    await settleWrites(system);
    clock.increment(100);
  }
  const report = await done;
  await settleWrites(system);
  codes.push((await system.send('flat', { type: 'TIME_WINDOW_START' })).code ?? 'accepted');
  codes.push((await system.send('flat', VARIANTS[1].entry)).code ?? 'accepted'); // HALTED
  const stored = kind === 'memory' ? memory.loadSystemState() : await sqlite.loadSystemState();
  const outcome = {
    codes,
    report,
    states: Object.fromEntries(system.ids().map((id) => [id, system.get(id).state])),
    trails: Object.fromEntries(
      system.ids().map((id) => [
        id,
        system
          .get(id)
          .getAuditTrail()
          .map((r) => [r.seq, r.trigger, r.previousState, r.currentState, r.accepted, r.code ?? '']),
      ]),
    ),
    history: system.tradingStateHistory().map(({ from, to, reason }) => ({ from, to, reason })),
    storedRun: stored.killSwitch && {
      ...stored.killSwitch,
      at: 0,
      finishedAt: stored.killSwitch.finishedAt !== null,
      instanceId: undefined,
    },
    storedHistory: stored.tradingStateHistory.map(({ from, to, operator }) => ({ from, to, operator })),
    // When: a timer the kill switch sets after a database commit is reached at the harness's next
    // clock step, so instants are compared within the memory run (the backoff) rather than across.
    exitsAt: system
      .get('fills')
      .getAuditTrail()
      .filter((r) => r.currentState === 'EXITING')
      .map((r) => r.at - FRIDAY_11AM),
    memoryStore: system.ids().map((id) => memory.get(id)),
    lastSeqs: system.ids().map((id) => system.get(id).getSnapshot().context.lastRecord?.seq ?? 0),
  };
  if ('close' in system) await system.close();
  else system.stop();
  cleanup();
  return outcome;
}

test('the memory store and SQLite give the same states, audit trails, trading state history and kill switch report', async () => {
  const memory = await runScenario('memory');
  const sqlite = await runScenario('sqlite');
  expect(memory.codes).toEqual(['NO_EDGE', 'accepted', 'accepted', 'TRADING_HALTED']);
  expect(memory.report).toEqual({
    reason: 'risk desk',
    flattened: ['fills'],
    alreadyFlat: ['flat'],
    failed: [{ strategyId: 'never', reason: 'kill switch: exit rejected 2 times, last: no liquidity' }],
  });
  expect(memory.states).toEqual({ fills: 'CLOSED', never: 'ERROR', flat: 'ANALYZING' });
  expect(memory.exitsAt).toEqual([0, 1100]); // rejected at +0.1 s, retried after the 1 s backoff
  expect(sqlite.exitsAt).toEqual(memory.exitsAt);
  // The kill switch's steps are kept by the memory store as by SQLite: the same finished run.
  expect(memory.storedRun).toMatchObject({ pending: [], flattened: ['fills'], alreadyFlat: ['flat'] });
  expect(memory.storedRun?.finishedAt).toBe(true);
  expect(memory.storedHistory).toEqual([{ from: 'ACTIVE', to: 'HALTED', operator: 'kill-switch' }]);

  expect(sqlite.codes).toEqual(memory.codes);
  expect(sqlite.report).toEqual(memory.report);
  expect(sqlite.states).toEqual(memory.states);
  expect(sqlite.trails).toEqual(memory.trails);
  expect(sqlite.history).toEqual(memory.history);
  expect(sqlite.storedRun).toEqual(memory.storedRun);
  expect(sqlite.storedHistory).toEqual(memory.storedHistory);

  // Every transition of the in-memory system was written to its store before the strategy moved.
  expect(memory.memoryStore.map((s) => s?.seq)).toEqual(memory.lastSeqs);
  expect(memory.memoryStore.map((s) => s?.state)).toEqual(Object.values(memory.states));
});

test('a write the memory store refuses rolls the in-memory strategy back, as a failed database write does', () => {
  let failNext = false;
  class FlakyMemoryStore extends MemoryStore {
    override append(write: StrategyWrite): void {
      if (failNext) {
        failNext = false;
        throw new StoreUnavailableError(this.name, 'disk full');
      }
      super.append(write);
    }
  }
  const store = new FlakyMemoryStore();
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), store });
  const strategy = system.add(lt112, { id: 'lt' });
  const before = strategy.state;
  const seen: string[] = [];
  system.subscribe(({ record }) => seen.push(record.currentState));
  failNext = true;
  expect(() => system.send('lt', { type: 'MARKET_OPEN' })).toThrow(StoreUnavailableError);
  expect(strategy.state).toBe(before);
  expect(strategy.getAuditTrail()).toEqual([]);
  expect(seen).toEqual([]);
  expect(system.send('lt', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  expect(store.get('lt')).toMatchObject({ seq: 1, state: 'READY', written: 1 });
});

test('a trading state the memory store holds refuses an entry the gate let through, audited as TRADING_HALTED', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const store = new MemoryStore();
  const system = createStrategySystem({ clock, store });
  system.add(lt112, { id: 'lt' });
  system.send('lt', { type: 'MARKET_OPEN' });
  system.send('lt', { type: 'TIME_WINDOW_START' });
  // Changed in the store behind the system's back, as another instance changes a shared store.
  store.saveTradingState({ to: 'HALTED', reason: 'elsewhere', operator: 'other', at: clock.now() });
  expect(system.tradingState).toBe('ACTIVE');
  expect(system.send('lt', VARIANTS[1].entry)).toMatchObject({ accepted: false, code: 'TRADING_HALTED', to: 'ANALYZING' });
  expect(system.get('lt').getAuditTrail().at(-1)).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  expect(store.get('lt')?.seq).toBe(system.get('lt').getSnapshot().context.lastRecord?.seq);
});
