/**
 * Model-based tests: `@xstate/graph` explores each variant's machine over concrete sample events
 * (every public event type, several fills and overrides, both kinds of the internal deadline
 * event), and real strategy actors replay the generated paths on a simulated clock. The actor
 * must accept, reject and end exactly where the graph says. See ./graphModel.ts for the graph's
 * vertex key and how deadlines are replayed.
 */
import { STRATEGY_EVENT_TYPES } from '../../machines/events';
import { FLAT_STATES, POSITION_STATES, STRATEGY_STATES, STUCK_STATES } from '../../machines/states';
import { validateEvent } from '../../machines/validateEvent';
import { DELAY_NAMES } from '../../machines/delays';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import type { SimulatedClockHandle } from '../../services/market/clock';
import type { StrategyActor } from '../../services/runtime/strategyActor';
import { daysToExpiry } from '../../services/market/time';
import {
  MINUTE,
  OVERRIDE_TARGETS,
  SAMPLE_AT,
  buildModel,
  allEdges,
  dateAfter,
  edgeCoveringWalks,
  isDelayEvent,
  keyState,
  predict,
  replay,
  sampleEvents,
  shortestPathsToEveryVertex,
  vertices,
  type ModelPath,
  type StrategyModel,
  type VariantModel,
} from './graphModel';

const DEFAULT_STUCK = {
  PENDING_ENTRY: 5 * MINUTE,
  ENTERING: 5 * MINUTE,
  PENDING_EXIT: 10 * MINUTE,
  EXITING: 10 * MINUTE,
  PARTIAL_EXIT: 10 * MINUTE,
};

const VARIANTS: VariantModel[] = [
  {
    name: 'zeroDte',
    definition: zeroDte,
    entryExpiry: dateAfter(0),
    nearExpiry: dateAfter(0),
    stuckMs: { ...DEFAULT_STUCK, PENDING_EXIT: 5 * MINUTE, EXITING: 5 * MINUTE, PARTIAL_EXIT: 5 * MINUTE },
    recoveryMs: 30 * MINUTE,
  },
  {
    name: 'lt112',
    definition: lt112,
    entryExpiry: dateAfter(115),
    nearExpiry: dateAfter(14),
    stuckMs: DEFAULT_STUCK,
    recoveryMs: 30 * MINUTE,
  },
  {
    name: 'strangle',
    definition: strangle,
    entryExpiry: dateAfter(60),
    nearExpiry: dateAfter(14),
    stuckMs: DEFAULT_STUCK,
    recoveryMs: 30 * MINUTE,
  },
];

const models = new Map<string, StrategyModel>();
/** The graph of a variant, built once per test file. */
function modelOf(variant: VariantModel): StrategyModel {
  if (!models.has(variant.name)) models.set(variant.name, buildModel(variant));
  return models.get(variant.name)!;
}

/** Runs every path and reports all disagreements at once, naming the path and the step. */
function replayAll(model: StrategyModel, paths: ModelPath[]): string[] {
  return paths.flatMap((path) => replay(model, path));
}

describe.each(VARIANTS)('$name lifecycle model (@xstate/graph)', (variant) => {
  let model: StrategyModel;
  beforeAll(() => {
    model = modelOf(variant);
  });

  test('sample events cover all 23 public event types, are valid payloads and carry the sample time', () => {
    const samples = sampleEvents(variant);
    const publicTypes = new Set(samples.map((e) => e.type).filter((t) => !isDelayEvent({ type: t })));
    expect([...publicTypes].sort()).toEqual([...STRATEGY_EVENT_TYPES].sort());
    for (const event of samples) {
      expect(event.at).toBe(SAMPLE_AT);
      if (!isDelayEvent(event)) expect(validateEvent(event)).toMatchObject({ ok: true });
    }
    expect(
      samples
        .filter(isDelayEvent)
        .map((e) => e.type.split('.')[2])
        .sort(),
    ).toEqual(Object.keys(DELAY_NAMES).sort());
    expect(samples.filter((e) => e.type === 'MANUAL_OVERRIDE')).toHaveLength(OVERRIDE_TARGETS.length);
  });

  test("the entry candidate passes the variant's entry guards at the sample time", () => {
    const dte = daysToExpiry(variant.entryExpiry, SAMPLE_AT);
    const toPendingEntry = predict(
      model,
      'entry',
      sampleEvents(variant).filter((e) => ['MARKET_OPEN', 'TIME_WINDOW_START', 'ENTRY_CONDITIONS_MET'].includes(e.type)),
    );
    expect({ dte, final: keyState(toPendingEntry.finalKey), accepted: toPendingEntry.steps.map((s) => s.accepted) }).toEqual({
      dte: { zeroDte: 0, lt112: 115, strangle: 60 }[variant.name],
      final: 'PENDING_ENTRY',
      accepted: [true, true, true],
    });
  });

  test('the generated paths reach all 15 top-level states from INITIALIZING', () => {
    const reached = new Set(shortestPathsToEveryVertex(model).map((p) => keyState(p.finalKey)));
    expect([...reached].sort()).toEqual([...STRATEGY_STATES].sort());
    // Every vertex of the adjacency map has a shortest path: the graph is the reachable part.
    expect(model.shortestPaths.size).toBe(vertices(model).length);
  });

  test('the graph stays bounded: open quantity at most 2, auto-recoveries at most 3 per day', () => {
    for (const key of vertices(model)) {
      const [, q, , , , , , rec] = key.split(' ');
      expect(Number(q.slice(1))).toBeLessThanOrEqual(2);
      expect(Number(rec)).toBeLessThanOrEqual(3);
    }
  });

  test("no reachable vertex breaks the spec's invariants: positions only in position states, a deadline exactly in stuck states and ERROR", () => {
    const broken = vertices(model).filter((key) => {
      const state = keyState(key);
      const [, q, , , , dl, , rec] = key.split(' ');
      const held = q !== 'q0';
      if (!(held ? POSITION_STATES : FLAT_STATES).includes(state)) return true;
      if ((STUCK_STATES as readonly string[]).includes(state)) return dl !== 'STUCK';
      // The circuit breaker: with the day's 3 auto-recoveries used, ERROR arms no recovery.
      if (state === 'ERROR') return dl !== (rec === '3' ? '-' : 'ERROR_RECOVERY');
      return dl !== '-';
    });
    expect(broken).toEqual([]);
  });

  test('in the graph a rejection never moves, TERMINATED is never left, and SYSTEM_ERROR reaches ERROR from every other live state', () => {
    const edges = allEdges(model);
    expect(edges.filter((e) => !e.accepted && e.toKey !== e.fromKey)).toEqual([]);
    expect(edges.filter((e) => keyState(e.fromKey) === 'TERMINATED' && e.accepted)).toEqual([]);
    const systemErrors = edges.filter((e) => e.event.type === 'SYSTEM_ERROR' && !['ERROR', 'TERMINATED'].includes(keyState(e.fromKey)));
    expect(systemErrors.length).toBeGreaterThan(0);
    expect(systemErrors.filter((e) => !(e.accepted && keyState(e.toKey) === 'ERROR'))).toEqual([]);
    // Recovery is position-safe: a held position recovers to MANAGING, a flat strategy to READY.
    const recoveries = edges.filter((e) => isDelayEvent(e.event) && keyState(e.fromKey) === 'ERROR' && e.accepted);
    expect(recoveries.length).toBeGreaterThan(0);
    expect(recoveries.filter((e) => keyState(e.toKey) !== (e.fromKey.includes(' q0 ') ? 'READY' : 'MANAGING'))).toEqual([]);
  });

  test('an actor replaying the shortest path to every modelled vertex ends in that state, substate and position', () => {
    const paths = shortestPathsToEveryVertex(model);
    for (const path of paths) expect(path.finalKey).toBe(path.name.replace('shortest path to ', ''));
    expect(replayAll(model, paths)).toEqual([]);
  });

  test('actors replaying edge-covering walks take every modelled edge (rejections and self-loops too) as the graph predicts', () => {
    const walks = edgeCoveringWalks(model);
    const edges = allEdges(model);
    // With the shortest paths above, at least 50 replayed paths per variant.
    expect(model.shortestPaths.size + walks.length).toBeGreaterThanOrEqual(50);
    // Self-loops and rejections are edges too: the graph must predict both kinds.
    expect(edges.some((e) => !e.accepted)).toBe(true);
    expect(edges.some((e) => e.accepted && e.fromKey === e.toKey)).toBe(true);
    // The walks take every edge of the graph.
    const taken = new Set(walks.flatMap((w) => w.steps.map((s) => `${s.fromKey} ${JSON.stringify(s.event)}`)));
    expect(edges.filter((e) => !taken.has(`${e.fromKey} ${JSON.stringify(e.event)}`))).toEqual([]);
    expect(replayAll(model, walks)).toEqual([]);
  });

  test('the circuit breaker holds: after 3 auto-recoveries in a day, ERROR arms no deadline and stays ERROR however long the clock runs', () => {
    const openBreaker = allEdges(model).filter(
      (e) => keyState(e.fromKey) === 'ERROR' && e.fromKey.endsWith('dl - rec 3') && isDelayEvent(e.event),
    );
    expect(openBreaker.length).toBeGreaterThan(0);
    expect(openBreaker.filter((e) => e.accepted || e.toKey !== e.fromKey)).toEqual([]);
    const toOpenBreaker = [...model.shortestPaths].filter(([key]) => key.startsWith('ERROR') && key.endsWith('dl - rec 3'));
    expect(toOpenBreaker.length).toBeGreaterThan(0);
    const stillInError = (strategy: StrategyActor, clock: SimulatedClockHandle): string[] => {
      const records = strategy.getAuditTrail().length;
      clock.increment(2 * variant.recoveryMs);
      return strategy.state === 'ERROR' && strategy.getAuditTrail().length === records
        ? []
        : [`left ERROR or wrote a record (${strategy.state})`];
    };
    expect(toOpenBreaker.flatMap(([key, events]) => replay(model, predict(model, `breaker open at ${key}`, events), stillInError))).toEqual(
      [],
    );
  });
});

describe('variant-specific edges the graph must contain', () => {
  const edgesOf = (name: string) => allEdges(modelOf(VARIANTS.find((v) => v.name === name)!)).filter((s) => s.accepted);
  const has = (name: string, from: string, type: string, to: string) =>
    edgesOf(name).some((s) => s.from === from && s.event.type === type && s.to === to);

  test('only strangle adjusts: its risk events lead to ADJUSTING.ROLLING, and a submitted roll to AWAITING_FILL', () => {
    expect(has('strangle', 'MANAGING', 'RISK_LIMIT_EXCEEDED', 'ADJUSTING')).toBe(true);
    expect(vertices(modelOf(VARIANTS[2])).some((k) => k.startsWith('ADJUSTING.AWAITING_FILL'))).toBe(true);
    expect(has('lt112', 'MANAGING', 'RISK_LIMIT_EXCEEDED', 'PENDING_EXIT')).toBe(true);
    expect(has('zeroDte', 'MANAGING', 'RISK_LIMIT_EXCEEDED', 'PENDING_EXIT')).toBe(true);
  });

  test('the 21-DTE exit is taken only by the DTE variants, and only for a position at or below 21 DTE', () => {
    const defensive = (name: string) => edgesOf(name).filter((s) => s.event.type === 'DEFENSIVE_EXIT_DTE' && s.to === 'PENDING_EXIT');
    for (const name of ['lt112', 'strangle']) {
      expect(defensive(name).length).toBeGreaterThan(0);
      expect(defensive(name).every((s) => s.fromKey.includes(dateAfter(14)))).toBe(true);
    }
    expect(defensive('zeroDte')).toEqual([]);
  });

  test('zeroDte exits before the close: TIME_WINDOW_END and MARKET_CLOSE take a held position to PENDING_EXIT', () => {
    for (const type of ['TIME_WINDOW_END', 'MARKET_CLOSE']) {
      expect(has('zeroDte', 'MANAGING', type, 'PENDING_EXIT')).toBe(true);
      expect(has('zeroDte', 'POSITION_OPEN', type, 'PENDING_EXIT')).toBe(true);
      expect(has('lt112', 'MANAGING', type, 'PENDING_EXIT')).toBe(false);
    }
  });
});
