/**
 * `machine.provide()` replaces every name of the machine's setup: for each guard, action, delay
 * and actor listed in `machine.implementations`, a counting replacement is provided and a short
 * scenario proves XState called it. A name with no scenario fails (a new name must be proved
 * replaceable), and so does a name the chart stops referencing (an inlined implementation).
 */
import { createActor, fromCallback, SimulatedClock, type AnyActorLogic } from 'xstate';
import { createStrategyMachine, type StrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import type { MachineEvent, StrategyEvent } from '../../machines/events';
import type { StrategyState } from '../../machines/states';
import { lt112 } from '../../machines/variants';
import { FRIDAY_11AM, MINUTE, SITUATIONS, VARIANTS } from '../support/fixtures';

type Kind = 'guards' | 'actions' | 'delays' | 'actors';
/** Where a name is used: a situation (state, position held?), then events, then time passing. */
interface Scenario {
  from: [StrategyState, boolean];
  then?: MachineEvent[];
  advanceMs?: number;
}

const override = (target: StrategyState): StrategyEvent => ({ type: 'MANUAL_OVERRIDE', target, reason: 'test', operator: 'tests' });
const hookFailed: MachineEvent = { type: 'lifecycle.hookFailed', hook: 'onTransition', trigger: 'MARKET_OPEN', message: 'boom' };

/** The base names of every variant. Entry guards (the variant's own) are added per definition. */
const SCENARIOS: Record<Kind, Record<string, Scenario>> = {
  guards: {
    hasOpenPosition: { from: ['MANAGING', true], then: [{ type: 'EMERGENCY_EXIT' }] },
    isFlat: { from: ['ANALYZING', false], then: [{ type: 'EMERGENCY_EXIT' }] },
    isExitFillComplete: { from: ['EXITING', true], then: [{ type: 'ORDER_FILLED', quantity: 3 }] },
    isExitFillPartial: { from: ['EXITING', true], then: [{ type: 'ORDER_PARTIALLY_FILLED', quantity: 1 }] },
    isRecoveryArmed: { from: ['ERROR', false], advanceMs: 30 * MINUTE },
    isOverrideTargetLegal: { from: ['READY', false], then: [override('SUSPENDED')] },
    canAdjust: { from: ['MANAGING', true], then: [{ type: 'RISK_LIMIT_EXCEEDED' }] },
    isDteAtOrBelowDefensive: { from: ['MANAGING', true], then: [{ type: 'DEFENSIVE_EXIT_DTE' }] },
    isErrorLimitReached: { from: ['READY', false], then: [hookFailed] },
    areEntryConditionsMet: { from: ['ANALYZING', false], then: ['entry' as never] },
  },
  actions: {
    applyEntryFill: { from: ['ENTERING', false], then: [{ type: 'ORDER_FILLED', quantity: 1 }] },
    applyExitFill: { from: ['EXITING', true], then: [{ type: 'ORDER_FILLED', quantity: 3 }] },
    applyAdjustmentFill: { from: ['ADJUSTING', true], then: [{ type: 'ORDER_REJECTED' }] },
    countError: { from: ['READY', false], then: [hookFailed] },
    countAutoRecovery: { from: ['ERROR', false], advanceMs: 30 * MINUTE },
    clearDeadline: { from: ['ERROR', false], then: [{ type: 'RESET' }] },
    resetErrors: { from: ['ERROR', false], then: [{ type: 'RESET' }] },
    enterError: { from: ['READY', false], then: [{ type: 'SYSTEM_ERROR' }] },
    armStuckDeadline: { from: ['PENDING_ENTRY', false] },
    recordTransition: { from: ['INITIALIZING', false], then: [{ type: 'MARKET_OPEN' }] },
    recordAnnouncement: { from: ['INITIALIZING', false], then: [{ type: 'MARKET_OPEN' }] },
    recordHookFailure: { from: ['READY', false], then: [hookFailed] },
    recordRejection: {
      from: ['READY', false],
      then: [{ type: 'lifecycle.rejected', trigger: 'ORDER_FILLED', reason: 'test', code: 'NO_EDGE' }],
    },
    emitRequest: { from: ['READY', false], then: [{ type: 'lifecycle.request', event: { type: 'TERMINATE' } }] },
    reportActorFailure: {
      from: ['MANAGING', true],
      then: [{ type: 'xstate.error.actor.positionMonitor', error: new Error('feed down') } as unknown as MachineEvent],
    },
  },
  delays: {
    errorRecovery: { from: ['ERROR', false] },
    stuckPendingEntry: { from: ['PENDING_ENTRY', false] },
    stuckEntering: { from: ['ENTERING', false] },
    stuckPendingExit: { from: ['PENDING_EXIT', true] },
    stuckExiting: { from: ['EXITING', true] },
    stuckPartialExit: { from: ['PARTIAL_EXIT', true] },
  },
  actors: {
    positionMonitor: { from: ['MANAGING', true] },
    entryAnalyzer: { from: ['ANALYZING', false] },
    errorAlert: { from: ['ERROR', false] },
  },
};

/** A variant without entry guards keeps `areEntryConditionsMet` in its chart. */
const plain: StrategyDefinition = { ...lt112, id: 'plain', name: 'No entry rules', entryGuards: [] };
const DEFINITIONS = [...VARIANTS, { def: plain, entry: VARIANTS[1].entry }];

/** A replacement that counts its calls and otherwise does what the original did (where it can). */
function counting(kind: Kind, original: unknown, calls: { n: number }): unknown {
  if (kind === 'actors')
    return fromCallback(() => {
      calls.n++;
    });
  // An action replacement: the action's effect is lost; only its call counts.
  if (kind === 'actions')
    return () => {
      calls.n++;
    };
  return (...args: unknown[]) => {
    calls.n++;
    return typeof original === 'function' ? original(...args) : original;
  };
}

/** Runs a scenario on a bare actor of `machine`, on XState's simulated clock. */
function run(machine: StrategyMachine, entry: StrategyEvent, scenario: Scenario): void {
  const clock = new SimulatedClock();
  clock.set(FRIDAY_11AM);
  const actor = createActor(machine, { clock, input: { createdAt: FRIDAY_11AM } }).start();
  const [state, holds] = scenario.from;
  const situation = SITUATIONS.find((s) => s.state === state && s.holds === holds)!;
  for (const event of [...situation.path(entry), ...(scenario.then ?? [])]) {
    actor.send({ ...((event as unknown) === 'entry' ? entry : event), at: clock.now() });
  }
  if (scenario.advanceMs) clock.increment(scenario.advanceMs);
  actor.stop();
}

describe.each(DEFINITIONS.map((d) => [d.def.id, d] as const))('%s', (_id, { def, entry }) => {
  const machine = createStrategyMachine(def);
  const entryGuards = (def.entryGuards ?? []).map((g) => g.name);
  const cases: Array<[Kind, string]> = (['guards', 'actions', 'delays', 'actors'] as Kind[]).flatMap((kind) =>
    Object.keys(machine.implementations[kind] as Record<string, unknown>).map((name): [Kind, string] => [kind, name]),
  );

  test('its setup names every kind, the variant entry guards included', () => {
    for (const kind of ['guards', 'actions', 'delays', 'actors'] as Kind[]) expect(cases.some(([k]) => k === kind)).toBe(true);
    for (const name of entryGuards) expect(cases).toContainEqual(['guards', name]);
  });

  test.each(cases)('provide({ %s: { %s } }) is the implementation XState uses', (kind, name) => {
    const scenario =
      SCENARIOS[kind][name] ?? (kind === 'guards' && entryGuards.includes(name) ? SCENARIOS.guards.areEntryConditionsMet : undefined);
    if (!scenario) throw new Error(`no scenario proves that ${kind}.${name} can be provided: add one to SCENARIOS`);
    const calls = { n: 0 };
    const original = (machine.implementations[kind] as Record<string, unknown>)[name];
    const provided = machine.provide({ [kind]: { [name]: counting(kind, original, calls) } }) as StrategyMachine;
    run(provided, entry, scenario);
    expect(calls.n).toBeGreaterThan(0);
  });
});

test('a name the chart no longer references is caught: the replacement is never called', () => {
  const machine = createStrategyMachine(lt112);
  const calls = { n: 0 };
  // lt112 names its entry guards on the edge, so a provided `areEntryConditionsMet` would be dead.
  // Our machine's provide() refuses the name (provide-checked.test.ts); XState's own (the class
  // method) keeps it, which is the case this harness must still catch.
  const xstateProvide = Object.getPrototypeOf(machine).provide as StrategyMachine['provide'];
  const provided = xstateProvide.call(machine, {
    guards: { areEntryConditionsMet: counting('guards', () => true, calls) },
  } as never) as StrategyMachine;
  run(provided, VARIANTS[1].entry, SCENARIOS.guards.areEntryConditionsMet);
  expect(calls.n).toBe(0);
  expect(Object.keys(machine.implementations.guards)).not.toContain('areEntryConditionsMet');
});

test('every actor default is replaceable without touching the others', () => {
  const machine = createStrategyMachine(lt112);
  const actors = machine.implementations.actors as Record<string, AnyActorLogic>;
  expect(Object.keys(actors).sort()).toEqual(['entryAnalyzer', 'errorAlert', 'positionMonitor']);
});
