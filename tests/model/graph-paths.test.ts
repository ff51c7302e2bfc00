/**
 * Model-based tests: `@xstate/graph` explores each variant's machine over concrete sample events
 * (every public event type, several fills and overrides, both kinds of the internal deadline
 * event), and real strategy actors replay the generated paths on a simulated clock. The actor
 * must accept, reject and end exactly where the graph says. See ./graphModel.ts for the graph's
 * vertex key and how deadlines are replayed.
 */
import { STRATEGY_EVENT_TYPES } from '../../machines/events';
import { STRATEGY_STATES } from '../../machines/states';
import { validateEvent } from '../../machines/validateEvent';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { daysToExpiry } from '../../services/time';
import {
  MINUTE,
  OVERRIDE_TARGETS,
  SAMPLE_AT,
  buildModel,
  dateAfter,
  everyEdgePaths,
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

const DEFAULT_STUCK = { PENDING_ENTRY: 5 * MINUTE, ENTERING: 5 * MINUTE, PENDING_EXIT: 10 * MINUTE, EXITING: 10 * MINUTE, PARTIAL_EXIT: 10 * MINUTE };

const VARIANTS: VariantModel[] = [
  {
    name: 'zeroDte',
    definition: zeroDte,
    entryExpiry: dateAfter(0),
    nearExpiry: dateAfter(0),
    stuckMs: { ...DEFAULT_STUCK, PENDING_EXIT: 5 * MINUTE, EXITING: 5 * MINUTE, PARTIAL_EXIT: 5 * MINUTE },
    recoveryMs: 30 * MINUTE,
  },
  { name: 'lt112', definition: lt112, entryExpiry: dateAfter(115), nearExpiry: dateAfter(14), stuckMs: DEFAULT_STUCK, recoveryMs: 30 * MINUTE },
  { name: 'strangle', definition: strangle, entryExpiry: dateAfter(60), nearExpiry: dateAfter(14), stuckMs: DEFAULT_STUCK, recoveryMs: 30 * MINUTE },
];

/** Runs every path and reports all disagreements at once, naming the path and the step. */
function replayAll(model: StrategyModel, paths: ModelPath[]): string[] {
  return paths.flatMap((path) => replay(model, path));
}

describe.each(VARIANTS)('$name lifecycle model (@xstate/graph)', (variant) => {
  let model: StrategyModel;
  beforeAll(() => {
    model = buildModel(variant);
  });

  test('sample events cover all 23 public event types, are valid payloads and carry the sample time', () => {
    const samples = sampleEvents(variant);
    const publicTypes = new Set(samples.map((e) => e.type).filter((t) => !t.startsWith('lifecycle.')));
    expect([...publicTypes].sort()).toEqual([...STRATEGY_EVENT_TYPES].sort());
    for (const event of samples) {
      expect(event.at).toBe(SAMPLE_AT);
      if (!event.type.startsWith('lifecycle.')) expect(validateEvent(event)).toMatchObject({ ok: true });
    }
    expect(samples.filter((e) => e.type === 'lifecycle.deadline').map((e) => (e as { kind: string }).kind).sort()).toEqual(['ERROR_RECOVERY', 'STUCK']);
    expect(samples.filter((e) => e.type === 'MANUAL_OVERRIDE')).toHaveLength(OVERRIDE_TARGETS.length);
  });

  test('the entry candidate passes the variant\'s entry guards at the sample time', () => {
    const dte = daysToExpiry(variant.entryExpiry, SAMPLE_AT);
    const toPendingEntry = predict(model, 'entry', sampleEvents(variant).filter((e) =>
      ['MARKET_OPEN', 'TIME_WINDOW_START', 'ENTRY_CONDITIONS_MET'].includes(e.type)));
    expect({ dte, final: keyState(toPendingEntry.finalKey), accepted: toPendingEntry.steps.map((s) => s.accepted) })
      .toEqual({ dte: { zeroDte: 0, lt112: 115, strangle: 60 }[variant.name], final: 'PENDING_ENTRY', accepted: [true, true, true] });
  });

  test('the generated paths reach all 15 top-level states from INITIALIZING', () => {
    const reached = new Set(shortestPathsToEveryVertex(model).map((p) => keyState(p.finalKey)));
    expect([...reached].sort()).toEqual([...STRATEGY_STATES].sort());
    // Every vertex of the adjacency map has a shortest path: the graph is the reachable part.
    expect(model.shortestPaths.size).toBe(vertices(model).length);
  });

  test('the graph stays bounded: open quantity at most 3, auto-recoveries at most 3 per day', () => {
    for (const key of vertices(model)) {
      const [, q, , , , , , rec] = key.split(' ');
      expect(Number(q.slice(1))).toBeLessThanOrEqual(3);
      expect(Number(rec)).toBeLessThanOrEqual(3);
    }
  });

  test('an actor replaying the shortest path to every modelled vertex ends in that state, substate and position', () => {
    const paths = shortestPathsToEveryVertex(model);
    expect(paths.length).toBeGreaterThanOrEqual(50);
    for (const path of paths) expect(path.finalKey).toBe(path.name.replace('shortest path to ', ''));
    expect(replayAll(model, paths)).toEqual([]);
  });

  test('an actor replaying every modelled edge (shortest path plus one sample event) accepts, rejects and moves as the graph predicts', () => {
    const paths = everyEdgePaths(model);
    // Self-loops and rejections are edges too: the graph must predict both kinds.
    const last = paths.map((p) => p.steps[p.steps.length - 1]);
    expect(last.some((s) => !s.accepted)).toBe(true);
    expect(last.some((s) => s.accepted && s.fromKey === s.toKey)).toBe(true);
    expect(replayAll(model, paths)).toEqual([]);
  });
});

describe('variant-specific edges the graph must contain', () => {
  const models = new Map(VARIANTS.map((v) => [v.name, buildModel(v)]));
  const edgesOf = (name: string) =>
    everyEdgePaths(models.get(name)!).map((p) => p.steps[p.steps.length - 1]).filter((s) => s.accepted);
  const has = (name: string, from: string, type: string, to: string) =>
    edgesOf(name).some((s) => s.from === from && s.event.type === type && s.to === to);

  test('only strangle adjusts: its risk events lead to ADJUSTING.ROLLING, and a submitted roll to AWAITING_FILL', () => {
    expect(has('strangle', 'MANAGING', 'RISK_LIMIT_EXCEEDED', 'ADJUSTING')).toBe(true);
    expect(vertices(models.get('strangle')!).some((k) => k.startsWith('ADJUSTING.AWAITING_FILL'))).toBe(true);
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
