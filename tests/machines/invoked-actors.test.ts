/**
 * Invoked actors (issue 14, item 10): MANAGING and ADJUSTING run `positionMonitor`, ANALYZING runs
 * `entryAnalyzer`, ERROR runs `errorAlert`. XState starts them with their state, stops them when it
 * is left and starts them again on restore; what they ask for takes the caller's path.
 */
import { createActor, fromCallback, type AnyActorLogic, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import { InvalidDefinitionError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor, type PersistedStrategy } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, NEAR_EXPIRY, VARIANTS, drive } from '../support/fixtures';

const at = FRIDAY_11AM;
const lt112Entry = VARIANTS[1].entry;
const strangleEntry = VARIANTS[2].entry;
const toManaging = (entry: StrategyEvent): StrategyEvent[] => [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: NEAR_EXPIRY },
  { type: 'MARKET_OPEN' },
];
/** Lets queued microtasks (the routed requests) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A callback actor that logs its life and keeps its `sendBack` for the test to use. */
function probe() {
  const log: string[] = [];
  const inputs: StrategyActorInput[] = [];
  let sendBack: ((event: EventObject) => void) | undefined;
  const logic = fromCallback<EventObject, StrategyActorInput>(({ input, sendBack: send }) => {
    log.push(`start ${input.state}`);
    inputs.push(input);
    sendBack = send;
    return () => log.push(`stop ${input.state}`);
  });
  return { logic, log, inputs, ask: (event: StrategyEvent) => sendBack!(lifecycleRequest(event)) };
}

test('positionMonitor starts when MANAGING is entered, with the strategy, its params and its position, and stops when it is left', () => {
  const monitor = probe();
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor: monitor.logic } });
  const strategy = createStrategyActor(machine, { id: 'lt-1', params: { underlying: 'SPX' }, clock: createSimulatedClock(at) });
  drive(strategy, toManaging(lt112Entry).slice(0, -1));
  expect(monitor.log).toEqual([]);
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  expect(monitor.log).toEqual(['start MANAGING']);
  expect(monitor.inputs[0]).toMatchObject({
    strategyId: 'lt-1',
    variant: 'lt112',
    state: 'MANAGING',
    params: { underlying: 'SPX' },
    position: { quantity: 2 },
  });
  drive(strategy, [{ type: 'MARGIN_CALL' }]);
  expect(monitor.log).toEqual(['start MANAGING', 'stop MANAGING']);
  strategy.stop();
});

test('positionMonitor runs in ADJUSTING too (strangle), restarted with the state it serves', () => {
  const monitor = probe();
  const machine = createStrategyMachine(strangle).provide({ actors: { positionMonitor: monitor.logic } });
  const s = createStrategyActor(machine, { id: 'st-1', clock: createSimulatedClock(at) });
  drive(s, [...toManaging(strangleEntry), { type: 'RISK_LIMIT_EXCEEDED' }]);
  expect(s.getSnapshot().value).toEqual({ ADJUSTING: 'ROLLING' });
  drive(s, [{ type: 'ORDER_SUBMITTED' }]); // a substate move inside ADJUSTING keeps the monitor
  drive(s, [{ type: 'ORDER_FILLED', quantity: 1 }]);
  expect(monitor.log).toEqual(['start MANAGING', 'stop MANAGING', 'start ADJUSTING', 'stop ADJUSTING', 'start MANAGING']);
  s.stop();
  expect(monitor.log.at(-1)).toBe('stop MANAGING');
});

test('entryAnalyzer runs in ANALYZING and errorAlert in ERROR, with the error it alerts on', () => {
  const analyzer = probe();
  const alert = probe();
  const machine = createStrategyMachine(lt112).provide({ actors: { entryAnalyzer: analyzer.logic, errorAlert: alert.logic } });
  const strategy = createStrategyActor(machine, { id: 'lt-2', clock: createSimulatedClock(at) });
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }]);
  expect(analyzer.log).toEqual(['start ANALYZING']);
  drive(strategy, [{ type: 'TIME_WINDOW_END' }, { type: 'SYSTEM_ERROR', reason: 'feed lost' }]);
  expect(analyzer.log).toEqual(['start ANALYZING', 'stop ANALYZING']);
  expect(alert.log).toEqual(['start ERROR']);
  expect(alert.inputs[0].lastError).toMatchObject({ reason: expect.stringContaining('feed lost') });
  drive(strategy, [{ type: 'RESET' }]);
  expect(alert.log).toEqual(['start ERROR', 'stop ERROR']);
  strategy.stop();
});

test('in the machine, a request moves nothing and writes no record: it is only emitted', () => {
  const actor = createActor(createStrategyMachine(lt112), { input: { createdAt: at } }).start();
  actor.send({ type: 'MARKET_OPEN', at });
  const before = actor.getSnapshot();
  const emitted: unknown[] = [];
  actor.on('request', (e) => emitted.push(e.event));
  actor.send(lifecycleRequest({ type: 'TERMINATE' }));
  expect(actor.getSnapshot().value).toBe('READY');
  expect(actor.getSnapshot().context).toEqual(before.context);
  expect(emitted).toEqual([{ type: 'TERMINATE' }]);
  actor.stop();
});

test("what the monitor asks for takes the caller's path: validated, audited, deferred", async () => {
  const monitor = probe();
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor: monitor.logic } });
  const strategy = createStrategyActor(machine, { id: 'lt-3', clock: createSimulatedClock(at) });
  drive(strategy, toManaging(lt112Entry));
  const seq = strategy.getAuditTrail().length;
  monitor.ask({ type: 'ORDER_FILLED', quantity: -1 }); // malformed
  expect(strategy.getAuditTrail()).toHaveLength(seq); // deferred: nothing happened yet
  await settle();
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ accepted: false, code: 'INVALID_EVENT', currentState: 'MANAGING' });
  monitor.ask({ type: 'RISK_LIMIT_EXCEEDED', reason: 'delta over 0.30' });
  await settle();
  expect(strategy.state).toBe('PENDING_EXIT');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({
    accepted: true,
    trigger: 'RISK_LIMIT_EXCEEDED',
    previousState: 'MANAGING',
    currentState: 'PENDING_EXIT',
    data: { reason: 'delta over 0.30' },
  });
  strategy.stop();
});

test("in a system, a request is gated like system.send: HALTED refuses the analyzer's entry", async () => {
  const analyzer = probe();
  const system = createStrategySystem({ clock: createSimulatedClock(at) });
  system.add(createStrategyMachine(lt112).provide({ actors: { entryAnalyzer: analyzer.logic } }), {
    id: 'lt-4',
    params: { underlying: 'SPX' },
  });
  system.send('lt-4', { type: 'MARKET_OPEN' });
  system.send('lt-4', { type: 'TIME_WINDOW_START' });
  system.setTradingState('HALTED', 'test');
  analyzer.ask(lt112Entry);
  await settle();
  expect(system.get('lt-4').getAuditTrail().at(-1)).toMatchObject({
    accepted: false,
    code: 'TRADING_HALTED',
    trigger: 'ENTRY_CONDITIONS_MET',
  });
  system.setTradingState('ACTIVE', 'test');
  analyzer.ask(lt112Entry);
  await settle();
  expect(system.get('lt-4').state).toBe('PENDING_ENTRY');
});

test('a strategy restored in MANAGING starts its monitor again', () => {
  const monitor = probe();
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor: monitor.logic } });
  const first = createStrategyActor(machine, { id: 'lt-5', params: { underlying: 'SPX' }, clock: createSimulatedClock(at) });
  drive(first, toManaging(lt112Entry));
  const saved = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
  first.stop();
  expect(monitor.log).toEqual(['start MANAGING', 'stop MANAGING']);
  const restored = createStrategyActor(machine, { snapshot: saved, clock: createSimulatedClock(at) });
  expect(restored.state).toBe('MANAGING');
  expect(monitor.log).toEqual(['start MANAGING', 'stop MANAGING', 'start MANAGING']);
  expect(monitor.inputs[1]).toMatchObject({ strategyId: 'lt-5', state: 'MANAGING', position: { quantity: 2 } });
  restored.stop();
});

test('a MANAGING snapshot written before states invoked actors starts its monitor on restore', () => {
  const monitor = probe();
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor: monitor.logic } });
  const first = createStrategyActor(machine, { id: 'lt-6', params: { underlying: 'SPX' }, clock: createSimulatedClock(at) });
  drive(first, toManaging(lt112Entry));
  const saved = JSON.parse(JSON.stringify(first.getPersistedSnapshot())) as PersistedStrategy;
  first.stop();
  // The earlier release's snapshots have no invoked children.
  Object.assign(saved.snapshot, { children: {} });
  const restored = createStrategyActor(machine, { snapshot: saved, clock: createSimulatedClock(at) });
  expect(restored.state).toBe('MANAGING');
  expect(monitor.log).toEqual(['start MANAGING', 'stop MANAGING', 'start MANAGING']);
  expect(monitor.inputs[1]).toMatchObject({
    strategyId: 'lt-6',
    state: 'MANAGING',
    params: { underlying: 'SPX' },
    position: { quantity: 2 },
  });
  restored.stop();
  expect(monitor.log).toEqual(['start MANAGING', 'stop MANAGING', 'start MANAGING', 'stop MANAGING']);
});

test("a definition's actors are the machine's; an unknown actor name is refused", () => {
  const monitor = probe();
  const def: StrategyDefinition = { ...lt112, actors: { positionMonitor: monitor.logic } };
  const strategy = createStrategyActor(createStrategyMachine(def), { clock: createSimulatedClock(at) });
  drive(strategy, toManaging(lt112Entry));
  expect(monitor.log).toEqual(['start MANAGING']);
  strategy.stop();
  expect(() => createStrategyMachine({ ...lt112, actors: { priceFeed: monitor.logic } as Record<string, AnyActorLogic> })).toThrow(
    InvalidDefinitionError,
  );
});
