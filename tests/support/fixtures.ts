import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import type { StrategyState } from '../../machines/states';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { createStrategyActor, type StrategyActor, type StrategyActorOptions } from '../../services/runtime/strategyActor';
import { createStrategySystem, type StrategySystem } from '../../services/runtime/strategySystem';

/** Friday 2026-12-04, 11:00 New York: inside every variant's entry rules. */
export const FRIDAY_11AM = Date.parse('2026-12-04T11:00:00-05:00');
/** Expiry 14 calendar days after FRIDAY_11AM: inside the 21-DTE rule. */
export const NEAR_EXPIRY = '2026-12-18';
export const MINUTE = 60_000;

/** Per variant, an ENTRY_CONDITIONS_MET that passes its entry guards at FRIDAY_11AM. */
export const VARIANTS: Array<{ def: StrategyDefinition; entry: StrategyEvent }> = [
  { def: zeroDte, entry: { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' } },
  { def: lt112, entry: { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' } }, // 115 DTE
  { def: strangle, entry: { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-02-02' } }, // 60 DTE
];

/** A started strategy on a simulated clock at FRIDAY_11AM. */
export function start(
  def: StrategyDefinition,
  options: StrategyActorOptions = {},
): { strategy: StrategyActor; clock: SimulatedClockHandle } {
  const clock = (options.clock as SimulatedClockHandle | undefined) ?? createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(createStrategyMachine(def), { id: `${def.id}-1`, ...options, clock });
  return { strategy, clock };
}

/** Sends events and fails loudly if one is rejected: it builds the situation a test starts from. */
export function drive(strategy: StrategyActor, events: StrategyEvent[]): void {
  for (const event of events) {
    const result = strategy.trigger(event);
    if (!result.accepted) throw new Error(`setup step ${event.type} rejected in ${result.from}: ${result.reason}`);
  }
}

/** A situation: a state, and whether a position is held there. */
export interface Situation {
  state: StrategyState;
  holds: boolean;
  /** Events from INITIALIZING that reach it, given the variant's passing entry event. */
  path: (entry: StrategyEvent) => StrategyEvent[];
}

/** From INITIALIZING to POSITION_OPEN (the entry filled): `quantity` contracts expiring on {@link NEAR_EXPIRY}. */
export const open = (entry: StrategyEvent, quantity = 3): StrategyEvent[] => [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity, expiry: NEAR_EXPIRY },
];
/** From INITIALIZING to MANAGING with `quantity` contracts (default 3), given the variant's passing entry event. */
export const managing = (entry: StrategyEvent, quantity = 3): StrategyEvent[] => [...open(entry, quantity), { type: 'MARKET_OPEN' }];
const exiting = (entry: StrategyEvent): StrategyEvent[] => [...managing(entry), { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }];
const override = (target: StrategyState): StrategyEvent => ({ type: 'MANUAL_OVERRIDE', target, reason: 'test setup', operator: 'tests' });

/** Every state, flat and (where a position can be held) with a position of 3 contracts. */
export const SITUATIONS: Situation[] = [
  { state: 'INITIALIZING', holds: false, path: () => [] },
  { state: 'READY', holds: false, path: () => [{ type: 'MARKET_OPEN' }] },
  { state: 'ANALYZING', holds: false, path: () => [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }] },
  { state: 'PENDING_ENTRY', holds: false, path: (e) => [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, e] },
  {
    state: 'ENTERING',
    holds: false,
    path: (e) => [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, e, { type: 'ORDER_SUBMITTED' }],
  },
  {
    state: 'ENTERING',
    holds: true,
    path: (e) => [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      e,
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, expiry: NEAR_EXPIRY },
    ],
  },
  { state: 'POSITION_OPEN', holds: true, path: open },
  { state: 'MANAGING', holds: true, path: managing },
  { state: 'ADJUSTING', holds: true, path: (e) => [...managing(e), override('ADJUSTING')] },
  { state: 'PENDING_EXIT', holds: true, path: (e) => [...managing(e), { type: 'MARGIN_CALL' }] },
  { state: 'EXITING', holds: true, path: exiting },
  { state: 'PARTIAL_EXIT', holds: true, path: (e) => [...exiting(e), { type: 'ORDER_PARTIALLY_FILLED', quantity: 1 }] },
  { state: 'CLOSED', holds: false, path: (e) => [...exiting(e), { type: 'ORDER_FILLED', quantity: 3 }] },
  { state: 'ERROR', holds: false, path: () => [{ type: 'MARKET_OPEN' }, { type: 'SYSTEM_ERROR', reason: 'test' }] },
  { state: 'ERROR', holds: true, path: (e) => [...managing(e), { type: 'SYSTEM_ERROR', reason: 'test' }] },
  { state: 'SUSPENDED', holds: false, path: () => [{ type: 'MARKET_OPEN' }, { type: 'FOMC_MEETING' }] },
  { state: 'SUSPENDED', holds: true, path: (e) => [...managing(e), override('SUSPENDED')] },
  { state: 'TERMINATED', holds: false, path: () => [{ type: 'MARKET_OPEN' }, { type: 'TERMINATE' }] },
];

/** A promise's outcome as it comes: `settled` is pending, resolved or rejected (with the error's name). */
export function outcomeOf(promise: Promise<unknown>): { settled: 'pending' | 'resolved' | 'rejected'; error?: string } {
  const state: { settled: 'pending' | 'resolved' | 'rejected'; error?: string } = { settled: 'pending' };
  promise.then(
    () => void (state.settled = 'resolved'),
    (e: unknown) => void ((state.settled = 'rejected'), (state.error = (e as Error)?.name)),
  );
  return state;
}

/** An in-memory system with `maxOpenPositions: 1` and two lt112 strategies, `a` and `b`, both at ANALYZING. */
export function twoAnalyzing(): StrategySystem {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), limits: { maxOpenPositions: 1 } });
  for (const id of ['a', 'b']) {
    system.add(lt112, { id });
    system.send(id, { type: 'MARKET_OPEN' });
    system.send(id, { type: 'TIME_WINDOW_START' });
  }
  return system;
}
