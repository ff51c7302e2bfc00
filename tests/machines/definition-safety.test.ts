/**
 * A variant's definition cannot take over the lifecycle's safety edges or break its position
 * rules: such a definition is refused at once with an InvalidDefinitionError naming the setting,
 * instead of misbehaving later (a kill switch that never flattens, a position in CLOSED).
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import { InvalidDefinitionError } from '../../machines/errors';
import { lt112, strangle } from '../../machines/variants';
import { toMarketIso } from '../../services/market/time';
import { drive, FRIDAY_11AM, managing, MINUTE, start, VARIANTS } from '../support/fixtures';

const adjusting = strangle.substates!.ADJUSTING!;

test.each<[string, Partial<StrategyDefinition>, string]>([
  [
    'an extra edge for EMERGENCY_EXIT',
    { extraEdges: [{ from: ['ADJUSTING'], on: ['EMERGENCY_EXIT'], to: null, why: 'keep adjusting' }] },
    'extraEdges[0].on EMERGENCY_EXIT edges are fixed by the lifecycle (every state that holds a position can be flattened)',
  ],
  [
    'a substate edge for EMERGENCY_EXIT',
    {
      substates: {
        ADJUSTING: {
          ...adjusting,
          states: [...adjusting.states, 'HEDGING'],
          edges: [{ from: 'ROLLING', on: ['EMERGENCY_EXIT'], to: 'HEDGING', why: 'hedge' }],
        },
      },
    },
    'substates.ADJUSTING.edges ROLLING -> HEDGING: EMERGENCY_EXIT edges are fixed by the lifecycle',
  ],
  [
    'a substate edge for SYSTEM_ERROR',
    { substates: { ADJUSTING: { ...adjusting, edges: [{ from: 'ROLLING', on: ['SYSTEM_ERROR'], to: 'AWAITING_FILL', why: 'x' }] } } },
    'SYSTEM_ERROR edges are fixed by the lifecycle (every state goes to ERROR)',
  ],
  [
    'a substate edge for an unknown event',
    {
      substates: {
        ADJUSTING: { ...adjusting, edges: [{ from: 'ROLLING', on: ['xstate.after.nope'], to: 'AWAITING_FILL', why: 'x' }] },
      },
    },
    'substates.ADJUSTING.edges ROLLING -> AWAITING_FILL: "xstate.after.nope" is not an event type',
  ],
  ...['B.C', '', '#x'].map((name): [string, Partial<StrategyDefinition>, string] => [
    `a substate named "${name}"`,
    { substates: { ADJUSTING: { initial: 'ROLLING', states: ['ROLLING', name], edges: [] } } },
    `substates.ADJUSTING.states "${name}" must start with a letter`,
  ]),
  [
    'a substate named twice',
    { substates: { ADJUSTING: { initial: 'ROLLING', states: ['ROLLING', 'ROLLING'], edges: [] } } },
    'substates.ADJUSTING.states names a substate twice',
  ],
  [
    'a substate edge that takes a fill (it cannot apply it)',
    {
      substates: {
        ENTERING: {
          initial: 'WORKING',
          states: ['WORKING', 'ACKED'],
          edges: [{ from: 'WORKING', on: ['ORDER_FILLED'], to: 'ACKED', why: 'x' }],
        },
      },
    },
    "substates.ENTERING.edges WORKING -> ACKED: a fill changes the position, which a substate edge cannot apply: leave ORDER_FILLED to the state's own edges",
  ],
  [
    'an unguarded edge from a state that may hold a position to one that cannot',
    { extraEdges: [{ from: ['MANAGING'], on: ['MARKET_CLOSE'], to: 'CLOSED', why: 'done for the day' }] },
    'extraEdges[0] CLOSED cannot hold a position but MANAGING may: guard the edge with isFlat',
  ],
  [
    'an unguarded edge from a state that may be flat to one that needs a position (a flat strategy in MANAGING)',
    { extraEdges: [{ from: ['READY'], on: ['TIME_WINDOW_START'], to: 'MANAGING', why: 'skip the analysis' }] },
    'extraEdges[0] MANAGING needs a position but READY may be flat: guard the edge with hasOpenPosition',
  ],
  [
    'an unguarded edge out of ENTERING (flat until a fill) to POSITION_OPEN on an event that is no fill',
    { extraEdges: [{ from: ['ENTERING'], on: ['TIME_WINDOW_END'], to: 'POSITION_OPEN', why: 'the window closed' }] },
    'extraEdges[0] POSITION_OPEN needs a position but ENTERING may be flat: guard the edge with hasOpenPosition',
  ],
  [
    'a fill edge that does not apply the fill',
    { extraEdges: [{ from: ['ENTERING'], on: ['ORDER_FILLED'], to: 'MANAGING', why: 'straight to managing' }] },
    'extraEdges[0] a fill changes the position: the edge must apply it',
  ],
  [
    'an edge out of TERMINATED',
    { extraEdges: [{ from: ['TERMINATED'], on: ['RESET'], to: 'READY', why: 'again' }] },
    'extraEdges[0] TERMINATED is terminal: no edge leaves it',
  ],
])('refused: %s', (_label, change, message) => {
  const definition = { ...(change.substates ? strangle : lt112), id: 'custom', ...change };
  expect(() => createStrategyMachine(definition)).toThrow(InvalidDefinitionError);
  expect(() => createStrategyMachine(definition)).toThrow(message);
});

test('the same edges, made safe, are accepted: a flat-only close guarded by isFlat, a fill that applies itself', () => {
  expect(() =>
    createStrategyMachine({
      ...lt112,
      id: 'custom',
      extraEdges: [
        { from: ['MANAGING'], on: ['MARKET_CLOSE'], to: 'CLOSED', guard: 'isFlat', why: 'nothing left to manage' },
        { from: ['ENTERING'], on: ['ORDER_FILLED'], to: 'MANAGING', actions: ['applyEntryFill'], why: 'straight to managing' },
        { from: ['ENTERING'], on: ['TIME_WINDOW_END'], to: 'POSITION_OPEN', guard: 'hasOpenPosition', why: 'partly filled: keep it' },
      ],
    }),
  ).not.toThrow();
});

test('an extra edge into ERROR arms the recovery as SYSTEM_ERROR does, and the strategy recovers 30 minutes later', () => {
  const definition: StrategyDefinition = {
    ...lt112,
    id: 'custom',
    extraEdges: [{ from: ['MANAGING'], on: ['MARGIN_CALL'], to: 'ERROR', why: 'margin calls need a look' }],
  };
  const { strategy, clock } = start(definition);
  drive(strategy, managing(VARIANTS[1].entry));
  const result = strategy.trigger({ type: 'MARGIN_CALL' });
  expect(result).toMatchObject({ accepted: true, to: 'ERROR' });
  const { context } = strategy.getSnapshot();
  expect(context.lastError).toEqual({ reason: 'MARGIN_CALL in MANAGING', at: FRIDAY_11AM });
  expect(context.deadline).toEqual({ kind: 'ERROR_RECOVERY', state: 'ERROR', at: FRIDAY_11AM + 30 * MINUTE });
  expect(strategy.getAuditTrail().at(-1)?.message).toBe(
    `MANAGING -> ERROR: MARGIN_CALL in MANAGING; auto-recovery at ${toMarketIso(FRIDAY_11AM + 30 * MINUTE)}`,
  );
  clock.increment(30 * MINUTE);
  expect(strategy.state).not.toBe('ERROR');
  strategy.stop();
});
