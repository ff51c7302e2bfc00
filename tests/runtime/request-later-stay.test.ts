/**
 * A request an invoked actor made in one stay of a state is not applied in a later stay of it:
 * the actor that vouched for it was stopped when the state was left. The held path (after a
 * failed write, held-request-stale.test.ts) checked this; the ordinary path delivered the request
 * on the next microtask, or, in a persistent system, after the writes queued before it, whatever
 * had happened meanwhile: an entry on conditions nobody vouched for any more. A move that keeps
 * the asker running (a substate of the state that invokes it) leaves its request standing. An
 * EMERGENCY_EXIT outlives its stay while a position is held: emergency-exit-outlives-stay.test.ts.
 */
import { join } from 'node:path';
import { fromCallback, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { drive, FRIDAY_11AM, managing, VARIANTS } from '../support/fixtures';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const entry = VARIANTS[1].entry;

/** An analyzer that asks for an entry when the test says so (`asks[i]()` for the i-th started). */
function analyzer() {
  const asks: Array<() => void> = [];
  const logic = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
    asks.push(() => sendBack(lifecycleRequest(entry)));
  });
  return { asks, logic };
}

test("createStrategyActor: a stopped analyzer's ENTRY_CONDITIONS_MET is not applied in a later ANALYZING", async () => {
  const { asks, logic } = analyzer();
  const strategy = createStrategyActor(createStrategyMachine(lt112).provide({ actors: { entryAnalyzer: logic } }), {
    id: 'lt',
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  strategy.trigger({ type: 'MARKET_OPEN' });
  strategy.trigger({ type: 'TIME_WINDOW_START' });
  asks[0](); // the first analyzer vouches for an entry...
  expect(strategy.trigger({ type: 'TIME_WINDOW_END' })).toMatchObject({ accepted: true, to: 'READY' }); // ...and is stopped
  expect(strategy.trigger({ type: 'TIME_WINDOW_START' })).toMatchObject({ accepted: true, to: 'ANALYZING' }); // a fresh one asks nothing
  expect(asks).toHaveLength(2);
  await settle();
  expect(strategy.state).toBe('ANALYZING');
  // The fresh analyzer's own request still goes through.
  asks[1]();
  await settle();
  expect(strategy.state).toBe('PENDING_ENTRY');
  strategy.stop();
});

test('in-memory system: the same', async () => {
  const { asks, logic } = analyzer();
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add({ ...lt112, actors: { entryAnalyzer: logic } }, { id: 'lt' });
  system.send('lt', { type: 'MARKET_OPEN' });
  system.send('lt', { type: 'TIME_WINDOW_START' });
  asks[0]();
  system.send('lt', { type: 'TIME_WINDOW_END' });
  system.send('lt', { type: 'TIME_WINDOW_START' });
  await settle();
  expect(system.get('lt').state).toBe('ANALYZING');
  asks[1]();
  await settle();
  expect(system.get('lt').state).toBe('PENDING_ENTRY');
  system.stop();
});

test('persistent system: a request queued behind writes that end its stay is dropped, nothing written', async () => {
  const { dir, cleanup } = tempDir('sl-request-stay-');
  const { asks, logic } = analyzer();
  const variant = { ...lt112, actors: { entryAnalyzer: logic } };
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 }),
    variants: [variant],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  try {
    await system.add(variant, { id: 'lt' });
    await system.send('lt', { type: 'MARKET_OPEN' });
    await system.send('lt', { type: 'TIME_WINDOW_START' });
    // The analyzer asks; in the same turn the window ends and a new one starts: both writes are queued before the request.
    asks[0]();
    const moves = [system.send('lt', { type: 'TIME_WINDOW_END' }), system.send('lt', { type: 'TIME_WINDOW_START' })];
    expect(await Promise.all(moves)).toMatchObject([
      { accepted: true, to: 'READY' },
      { accepted: true, to: 'ANALYZING' },
    ]);
    for (let i = 0; i < 5; i++) await settle();
    expect(system.get('lt').state).toBe('ANALYZING');
    const stored = await system.store.readAuditTrail('lt');
    expect(stored.map((r) => r.trigger)).toEqual(['MARKET_OPEN', 'TIME_WINDOW_START', 'TIME_WINDOW_END', 'TIME_WINDOW_START']);
    // The new analyzer's request is written and applied.
    asks.at(-1)!();
    for (let i = 0; i < 20 && system.get('lt').state !== 'PENDING_ENTRY'; i++) await settle();
    expect(system.get('lt').state).toBe('PENDING_ENTRY');
  } finally {
    await system.close();
    cleanup();
  }
});

test("a monitor's request made in ADJUSTING.ROLLING still stands in ADJUSTING.AWAITING_FILL: the monitor runs on", async () => {
  const asks: Array<() => void> = [];
  const monitor = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
    asks.push(() => sendBack(lifecycleRequest({ type: 'EMERGENCY_EXIT', reason: 'monitor: gap down' })));
  });
  const strategy = createStrategyActor(createStrategyMachine(strangle).provide({ actors: { positionMonitor: monitor } }), {
    id: 'st',
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  drive(strategy, [...managing(VARIANTS[2].entry), { type: 'VIX_SPIKE' }]);
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'ROLLING' });
  asks.at(-1)!(); // the ADJUSTING monitor asks for an emergency exit...
  expect(strategy.trigger({ type: 'ORDER_SUBMITTED' })).toMatchObject({ accepted: true }); // ...as the roll order goes out
  expect(strategy.getSnapshot().value).toEqual({ ADJUSTING: 'AWAITING_FILL' });
  await settle();
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'EMERGENCY_EXIT', accepted: true });
  strategy.stop();
});
