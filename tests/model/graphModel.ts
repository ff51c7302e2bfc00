/**
 * Model-based testing support: builds the state graph of a strategy machine with
 * `@xstate/graph` over a fixed set of concrete sample events, turns graph paths into expected
 * steps, and replays them through a real strategy actor on a simulated clock.
 *
 * The graph is an abstraction of the machine: a vertex is the serialized key below, not the
 * whole snapshot (the audit counters, `lastRecord`, `enteredAt` and the time-in-state totals
 * grow with every event, so the whole context would never repeat). The key keeps exactly the
 * parts of the context that a guard or a timer reads, and each of them takes a bounded number of
 * values here, so two snapshots with the same key answer every sample event the same way:
 * - the state value (top-level state and substate);
 * - the open quantity (hasOpenPosition, isFlat, exit-fill guards, override legality);
 * - the position's expiry (the 21-DTE guard);
 * - the kind of the armed deadline (isRecoveryDeadline, isStuckDeadline, which timer runs);
 * - the auto-recoveries used today (the circuit breaker decides whether ERROR arms recovery).
 */
import { getAdjacencyMap, getShortestPaths, serializeEvent } from '@xstate/graph';
import { DateTime } from 'luxon';
import { createStrategyMachine, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import type { MachineEvent, StrategyEvent } from '../../machines/events';
import { topLevelState, type StrategyState } from '../../machines/states';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { createStrategyActor, type StrategyActor } from '../../services/runtime/strategyActor';
import { activeNodes, refusalOf, rejectionEvent } from '../../services/runtime/rejection';
import { DELAY_NAMES, afterDelayOf, deadlineKindOf } from '../../machines/delays';
import type { AfterEvent } from '../../machines/events';
import { MARKET_ZONE, formatDuration } from '../../services/market/time';

export const MINUTE = 60_000;

/**
 * The one instant every sample event carries: Friday 2026-12-04 11:00 New York, inside the
 * zeroDte entry window (10:30-14:30 ET, Fridays only).
 */
export const SAMPLE_AT = Date.parse('2026-12-04T11:00:00-05:00');

/**
 * Entry fills in ENTERING are only offered while the position stays at or below this size. Two
 * is enough for every exit path: a partial exit of one leaves one, which a fill of one closes.
 */
export const MAX_MODEL_QUANTITY = 2;

/** The zeroDte entry window, the tightest time-reading guard: [10:30, 14:30) New York. */
const WINDOW_START = Date.parse('2026-12-04T10:30:00-05:00');
const WINDOW_END = Date.parse('2026-12-04T14:30:00-05:00');

/** How far the replay clock may move (accepted deadlines) before guards could see another time. */
export const TIME_BUDGET_MS = WINDOW_END - SAMPLE_AT;

/**
 * Once an auto-recovery has been used, only these events are explored: enough to use up the
 * remaining recoveries and open the circuit breaker, without copying the whole graph per count.
 */
const AFTER_RECOVERY_TYPES: readonly string[] = ['SYSTEM_ERROR', 'RESET'];

/** True for XState's delayed event of one of the lifecycle's `after` delays. */
export function isDelayEvent(event: { type: string }): event is AfterEvent {
  return afterDelayOf(event.type) !== undefined;
}

/** ISO date `days` calendar days after the sample instant, New York time. */
export function dateAfter(days: number): string {
  return DateTime.fromMillis(SAMPLE_AT, { zone: MARKET_ZONE }).plus({ days }).toISODate()!;
}

/** A variant under test and the concrete data its sample events use. */
export interface VariantModel {
  name: string;
  definition: StrategyDefinition;
  /** Expiry of ENTRY_CONDITIONS_MET and of the main fill: inside the variant's DTE band. */
  entryExpiry: string;
  /** Expiry of the one-contract fill: at or below 21 DTE where the variant has the DTE rule. */
  nearExpiry: string;
  /** Stuck-state deadlines the spec (and the variant's docs) promise, ms. */
  stuckMs: Record<'PENDING_ENTRY' | 'ENTERING' | 'PENDING_EXIT' | 'EXITING' | 'PARTIAL_EXIT', number>;
  /** The ERROR auto-recovery delay, ms. */
  recoveryMs: number;
}

type Deadline = AfterEvent;

/**
 * MANUAL_OVERRIDE targets sampled: legal only flat (READY, TERMINATED), legal only with a position
 * (MANAGING, ADJUSTING, which only an override reaches in the variants that do not adjust, and
 * EXITING, a stuck state whose deadline an override re-arms), legal for both (ERROR, SUSPENDED).
 */
export const OVERRIDE_TARGETS: readonly StrategyState[] = ['READY', 'TERMINATED', 'MANAGING', 'ADJUSTING', 'EXITING', 'ERROR', 'SUSPENDED'];

/**
 * One concrete event per public type (several for fills and overrides) plus the two kinds of
 * the internal deadline event, all stamped with {@link SAMPLE_AT}: guards read `at` as now.
 */
export function sampleEvents(v: VariantModel): MachineEvent[] {
  const at = SAMPLE_AT;
  const events: MachineEvent[] = [
    { type: 'MARKET_OPEN', at },
    { type: 'MARKET_CLOSE', at },
    { type: 'TIME_WINDOW_START', window: 'entry', at },
    { type: 'TIME_WINDOW_END', window: 'entry', at },
    { type: 'ENTRY_CONDITIONS_MET', vix: 20, expiry: v.entryExpiry, underlying: 'SPX', at },
    { type: 'ENTRY_CONDITIONS_FAILED', reason: 'skew too flat', at },
    { type: 'ORDER_SUBMITTED', orderId: 'ord-1', at },
    { type: 'ORDER_FILLED', quantity: 2, expiry: v.entryExpiry, price: 1.25, at },
    { type: 'ORDER_FILLED', quantity: 1, expiry: v.nearExpiry, at },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, expiry: v.entryExpiry, at },
    { type: 'ORDER_REJECTED', reason: 'no liquidity', at },
    { type: 'VIX_SPIKE', vix: 38, at },
    { type: 'MARGIN_CALL', reason: 'maintenance', at },
    { type: 'RISK_LIMIT_EXCEEDED', reason: 'delta', at },
    { type: 'CORRELATION_LIMIT', reason: 'us-equity-index', at },
    { type: 'DEFENSIVE_EXIT_DTE', dte: 21, at },
    { type: 'EARNINGS_APPROACHING', symbol: 'AAPL', date: dateAfter(3), at },
    { type: 'FOMC_MEETING', date: dateAfter(5), at },
    ...OVERRIDE_TARGETS.map((target): MachineEvent => ({ type: 'MANUAL_OVERRIDE', target, reason: 'desk', operator: 'ops', at })),
    { type: 'SYSTEM_ERROR', reason: 'feed down', at },
    { type: 'EMERGENCY_EXIT', reason: 'kill switch', at },
    { type: 'RESET', reason: 'fixed', at },
    { type: 'RESUME', at },
    { type: 'TERMINATE', reason: 'retired', at },
    // XState's delayed event of every named delay (`xstate.after.<delay>.<machine>.<state>`).
    ...Object.entries(DELAY_NAMES).map(([delay, state]): MachineEvent => ({
      type: `xstate.after.${delay}.${v.definition.id}.${state}`,
      dueAt: at,
      at,
    })),
  ];
  return events;
}

function openQuantity(s: StrategySnapshot): number {
  return s.context.position?.quantity ?? 0;
}

/** The graph vertex of a snapshot (see the header), e.g. `MANAGING q2 exp 2027-02-02 dl - rec 0`. */
export function modelKey(s: StrategySnapshot): string {
  const value =
    typeof s.value === 'string'
      ? s.value
      : Object.entries(s.value)
          .map(([k, sub]) => `${k}.${typeof sub === 'string' ? sub : JSON.stringify(sub)}`)
          .join(',');
  const c = s.context;
  return `${value} q${openQuantity(s)} exp ${c.position?.expiry ?? '-'} dl ${c.deadline?.kind ?? '-'} rec ${c.autoRecoveries.count}`;
}

/** The top-level state named by a key. */
export function keyState(key: string): StrategyState {
  return topLevelState(key.split(' ')[0].split('.')[0]);
}

/** One step of a path as the graph predicts it. */
export interface ModelStep {
  event: MachineEvent;
  fromKey: string;
  toKey: string;
  /** Whether the machine accepts the event there (the audit record the edge writes). */
  accepted: boolean;
  from: StrategyState;
  to: StrategyState;
  code?: string;
}

export interface ModelPath {
  /** Why this path exists, e.g. `shortest path to MANAGING q2 ...`. */
  name: string;
  steps: ModelStep[];
  finalKey: string;
}

/** One edge of the adjacency map: the event and the snapshot it leads to. */
export interface GraphEdge {
  event: MachineEvent;
  state: StrategySnapshot;
}

export interface StrategyModel {
  variant: VariantModel;
  machine: StrategyMachine;
  initialKey: string;
  /** The adjacency map of `getAdjacencyMap`: vertex key -> serialized event -> edge. */
  adjacency: Map<string, Map<string, GraphEdge>>;
  /** The shortest path (event list) to every vertex, from `getShortestPaths`. */
  shortestPaths: Map<string, MachineEvent[]>;
  /** A snapshot of every vertex. */
  sources: Map<string, StrategySnapshot>;
}

/** The step an edge predicts: its audit record, or none (a delayed event whose guard fails). */
function stepOf(model: StrategyModel, fromKey: string, edge: GraphEdge): ModelStep {
  const before = model.sources.get(fromKey)?.context.lastRecord?.seq ?? 0;
  const record = edge.state.context.lastRecord!;
  const toKey = modelKey(edge.state);
  if (!record || record.seq === before) {
    const state = keyState(fromKey);
    return { event: edge.event, fromKey, toKey, accepted: false, from: state, to: state, code: 'NO_RECORD' };
  }
  const step: ModelStep = {
    event: edge.event,
    fromKey,
    toKey,
    accepted: record.accepted,
    from: record.previousState,
    to: record.currentState,
  };
  if (record.code !== undefined) step.code = record.code;
  return step;
}

/**
 * Builds the graph of a variant: the adjacency map over the sample events, and the shortest
 * path to each vertex. The traversal is bounded: entry fills stop at {@link MAX_MODEL_QUANTITY}
 * contracts, after the first auto-recovery only the error events are explored, every other part
 * of the key is bounded by the machine itself, and `limit` turns an unbounded graph into a
 * failure instead of a hang.
 */
export function buildModel(variant: VariantModel): StrategyModel {
  const machine = createStrategyMachine(variant.definition);
  const samples = sampleEvents(variant);
  const eventsAt = (snapshot: StrategySnapshot): MachineEvent[] =>
    samples.filter((e) => {
      // A delayed event exists only in the state whose `after` defines it.
      if (isDelayEvent(e)) return activeNodes(machine, snapshot).some((n) => n.after.some((a) => a.eventType === e.type));
      if (snapshot.context.autoRecoveries.count > 0 && !AFTER_RECOVERY_TYPES.includes(e.type)) return false;
      const entering = topLevelState(snapshot.value) === 'ENTERING';
      const isFill = e.type === 'ORDER_FILLED' || e.type === 'ORDER_PARTIALLY_FILLED';
      return !(entering && isFill && openQuantity(snapshot) + e.quantity > MAX_MODEL_QUANTITY);
    });
  const options = {
    events: eventsAt,
    serializeState: (s: StrategySnapshot) => modelKey(s),
    input: { strategyId: `${variant.name}-model`, createdAt: SAMPLE_AT },
    limit: 50_000,
  };
  // The machine's typings are generated per variant (`any` actions/guards); @xstate/graph only
  // needs it as actor logic with these snapshots and events.
  // The graph sees what the runtime does: a refused public event is audited as the runtime
  // audits it (the machine itself has no catch-all); a delayed event whose guard fails does nothing.
  const runtime = {
    // The machine's own fields (config, root, id) are what @xstate/graph reads; its methods are bound below.
    // eslint-disable-next-line @typescript-eslint/no-misused-spread
    ...machine,
    getInitialSnapshot: machine.getInitialSnapshot.bind(machine),
    getPersistedSnapshot: machine.getPersistedSnapshot.bind(machine),
    restoreSnapshot: machine.restoreSnapshot?.bind(machine),
    transition: (snapshot: StrategySnapshot, event: MachineEvent, scope: unknown) => {
      const refusal = refusalOf(machine, snapshot, event);
      if (!refusal) return machine.transition(snapshot, event, scope as never);
      if (isDelayEvent(event)) return snapshot;
      return machine.transition(snapshot, rejectionEvent(event, refusal, event.at ?? SAMPLE_AT), scope as never);
    },
  };
  const logic = runtime as unknown as Parameters<typeof getAdjacencyMap<StrategySnapshot, MachineEvent, unknown>>[0];
  const adjacency = new Map<string, Map<string, GraphEdge>>();
  const sources = new Map<string, StrategySnapshot>();
  for (const [key, vertex] of Object.entries(getAdjacencyMap(logic, options))) {
    adjacency.set(key, new Map(Object.entries(vertex.transitions as Record<string, GraphEdge>)));
    sources.set(key, vertex.state as StrategySnapshot);
  }
  const shortestPaths = new Map<string, MachineEvent[]>();
  for (const path of getShortestPaths(logic, options)) {
    // v3 paths start with a synthetic `xstate.init` step; the others name the event taken.
    const events = path.steps.slice(1).map((step) => step.event);
    shortestPaths.set(modelKey(path.state), events);
  }
  const initial = [...shortestPaths].find(([, events]) => events.length === 0);
  if (!initial) throw new Error(`${variant.name}: the graph has no initial vertex`);
  const initialKey = initial[0];
  return { variant, machine, initialKey, adjacency, shortestPaths, sources };
}

/** Follows `events` through the adjacency map from the initial vertex: what the graph predicts. */
export function predict(model: StrategyModel, name: string, events: readonly MachineEvent[]): ModelPath {
  let key = model.initialKey;
  const steps: ModelStep[] = [];
  for (const event of events) {
    const edge = model.adjacency.get(key)?.get(serializeEvent(event));
    if (!edge) throw new Error(`${name}: the graph has no edge ${event.type} from ${key}`);
    const step = stepOf(model, key, edge);
    steps.push(step);
    key = step.toKey;
  }
  return { name, steps, finalKey: key };
}

/** Every vertex of the graph. */
export function vertices(model: StrategyModel): string[] {
  return [...model.adjacency.keys()];
}

/** The shortest path to every vertex, in the graph's order. */
export function shortestPathsToEveryVertex(model: StrategyModel): ModelPath[] {
  return [...model.shortestPaths].map(([key, events]) => predict(model, `shortest path to ${key}`, events));
}

/** Every edge of the graph (rejections and self-loops included), as a one-step prediction. */
export function allEdges(model: StrategyModel): ModelStep[] {
  return [...model.adjacency].flatMap(([key, vertex]) => [...vertex.values()].map((edge) => stepOf(model, key, edge)));
}

export function describeEvent(event: MachineEvent): string {
  if (event.type === 'MANUAL_OVERRIDE') return `MANUAL_OVERRIDE(${event.target})`;
  if (isDelayEvent(event)) return `after(${afterDelayOf(event.type)})`;
  if (event.type === 'ORDER_FILLED' || event.type === 'ORDER_PARTIALLY_FILLED') return `${event.type}(${event.quantity} @${event.expiry})`;
  return event.type;
}

/**
 * True when every time-reading guard answers at `now` as it does at {@link SAMPLE_AT}: inside
 * 10:30-14:30 ET of the sample day (the zeroDte entry window), hence also the same New York date
 * (DTE bands, the 21-DTE rule, the weekday, the circuit breaker's trading day). The replay's clock only moves when a
 * deadline falls due, so this holds for the short paths replayed here; it is checked, not
 * assumed.
 */
export function guardsSeeSampleTime(now: number): boolean {
  return now >= WINDOW_START && now < WINDOW_END;
}

/**
 * Replays a path through `createStrategyActor` on a simulated clock set to the sample instant
 * and returns every disagreement with the graph (empty when the actor behaves as predicted).
 *
 * Public events go through `trigger()`, which stamps `at` with the clock's now: the sample
 * instant, since the clock only moves for deadlines.
 *
 * `lifecycle.deadline` cannot be triggered. In the graph it stands for "the deadline armed in
 * this state falls due" when the machine accepts it, and for a stale or misdirected deadline
 * notification when it rejects it. So:
 * - an accepted deadline step advances the clock by the delay the spec promises for the state
 *   (ERROR 30 min, stuck states 5/10 min, zeroDte exits 5 min): 1 ms earlier nothing may fire,
 *   at the delay the actor's own timer must fire the transition the graph predicts;
 * - a rejected deadline step (wrong kind, nothing armed, no deadline edge in the state) is sent
 *   to `actorRef` directly, stamped with the clock's now, as a late timer callback would be;
 *   it must be rejected and audited without moving.
 * The clock therefore moves only on accepted deadlines; {@link guardsSeeSampleTime} is checked
 * before every step, so time-reading guards see what they saw in the graph. `afterwards` may
 * check more on the actor at the end of the path.
 */
export function replay(
  model: StrategyModel,
  path: ModelPath,
  afterwards?: (strategy: StrategyActor, clock: SimulatedClockHandle) => string[],
): string[] {
  const problems: string[] = [];
  const clock = createSimulatedClock(SAMPLE_AT);
  const strategy = createStrategyActor(model.machine, { id: `${model.variant.name}-replay`, clock });
  const actual = () => modelKey(strategy.getSnapshot());
  const fail = (i: number, step: ModelStep, what: string) =>
    problems.push(`${model.variant.name}: ${path.name}: step ${i + 1} ${describeEvent(step.event)} from ${step.fromKey}: ${what}`);
  try {
    if (actual() !== model.initialKey) problems.push(`${path.name}: starts in ${actual()}, graph starts in ${model.initialKey}`);
    for (const [i, step] of path.steps.entries()) {
      if (!guardsSeeSampleTime(clock.now())) {
        fail(
          i,
          step,
          `the replay clock (${new Date(clock.now()).toISOString()}) left the model's time: the path is too long to replay faithfully`,
        );
        break;
      }
      const trailBefore = strategy.getAuditTrail().length;
      let accepted: boolean;
      let from: StrategyState;
      let to: StrategyState;
      let code: string | undefined;
      if (isDelayEvent(step.event)) {
        if (step.code === 'NO_RECORD') {
          // Its guard fails (ERROR with the circuit breaker open): the runtime arms nothing.
          if (strategy.getAuditTrail().length !== trailBefore || actual() !== step.toKey)
            fail(i, step, 'a delay whose guard fails changed the strategy');
          continue;
        }
        if (step.accepted) {
          const delay = deadlineDelay(model.variant, step.from, step.event);
          if (delay === undefined) {
            fail(i, step, `the graph accepts ${step.event.type} in ${step.from}, which the spec gives no deadline`);
            break;
          }
          clock.increment(delay - 1);
          if (strategy.getAuditTrail().length !== trailBefore || actual() !== step.fromKey) {
            fail(i, step, `a deadline fired before ${delay} ms (now ${actual()})`);
            break;
          }
          clock.increment(1);
        } else {
          const { at: _at, ...stale } = step.event;
          strategy.actorRef.send({ ...stale, at: clock.now() });
        }
        const trail = strategy.getAuditTrail();
        if (trail.length !== trailBefore + 1) {
          fail(i, step, `expected exactly one audit record, got ${trail.length - trailBefore}`);
          break;
        }
        const record = trail[trail.length - 1];
        ({ accepted, previousState: from, currentState: to, code } = record);
        // The spec's audit wording for a stuck state: "stuck in ENTERING for 5m0s".
        const delay = deadlineDelay(model.variant, step.from, step.event);
        if (
          step.accepted &&
          deadlineKindOf(afterDelayOf(step.event.type)!) === 'STUCK' &&
          delay !== undefined &&
          !record.message.includes(`stuck in ${step.from} for ${formatDuration(delay)}`)
        ) {
          fail(i, step, `the stuck record does not say how long: "${record.message}"`);
        }
      } else {
        const { at: _at, ...event } = step.event as StrategyEvent;
        const result = strategy.trigger(event);
        ({ accepted, from, to, code } = result);
        if (strategy.getAuditTrail().length !== trailBefore + 1) fail(i, step, 'trigger() did not write exactly one audit record');
      }
      if (accepted !== step.accepted || from !== step.from || to !== step.to || code !== step.code) {
        fail(
          i,
          step,
          `graph: ${step.accepted ? 'accepted' : `rejected (${step.code})`} ${step.from} -> ${step.to}; actor: ${accepted ? 'accepted' : `rejected (${code})`} ${from} -> ${to}`,
        );
      }
      if (actual() !== step.toKey) {
        fail(i, step, `graph ends in ${step.toKey}, actor in ${actual()}`);
        break;
      }
    }
    if (afterwards && problems.length === 0)
      problems.push(...afterwards(strategy, clock).map((p) => `${model.variant.name}: ${path.name}: ${p}`));
  } finally {
    strategy.stop();
  }
  return problems;
}

/** The delay after which the spec says the deadline of `state` falls due. */
export function deadlineDelay(v: VariantModel, state: StrategyState, event: Deadline): number | undefined {
  if (deadlineKindOf(afterDelayOf(event.type)!) === 'ERROR_RECOVERY') return state === 'ERROR' ? v.recoveryMs : undefined;
  return (v.stuckMs as Record<string, number>)[state];
}

/** Clock time a step costs in the replay: the delay of an accepted deadline, else nothing. */
function stepCost(model: StrategyModel, step: { event: MachineEvent; accepted: boolean; from: StrategyState }): number {
  if (!isDelayEvent(step.event) || !step.accepted) return 0;
  return deadlineDelay(model.variant, step.from, step.event) ?? 0;
}

/**
 * Transition coverage with few replays: walks that together take every edge of the graph
 * (rejections and self-loops included) at least once. Each walk is the shortest path to a vertex
 * that still has untaken edges, then greedily takes untaken edges: self-loops first (they stay
 * put), then edges towards vertices with untaken edges. A walk never lets its accepted deadlines
 * move the clock past {@link TIME_BUDGET_MS}, so every step is replayed at a time the guards see
 * as the sample time.
 */
export function edgeCoveringWalks(model: StrategyModel): ModelPath[] {
  const untaken = new Map<string, string[]>();
  for (const [key, vertex] of model.adjacency) untaken.set(key, [...vertex.keys()]);
  const walks: ModelPath[] = [];
  for (const [start, prefix] of model.shortestPaths) {
    while (untaken.get(start)!.length > 0) {
      const events = [...prefix];
      let elapsed = predict(model, 'prefix', prefix).steps.reduce((sum, step) => sum + stepCost(model, step), 0);
      let key = start;
      let taken = 0;
      for (;;) {
        const todo = untaken.get(key)!;
        const candidates = todo
          .map((serial) => {
            const edge = model.adjacency.get(key)!.get(serial)!;
            const step = stepOf(model, key, edge);
            const to = step.toKey;
            const cost = stepCost(model, step);
            const rank = to === key ? 0 : untaken.get(to)!.length > 0 ? 1 : 2;
            return { serial, event: edge.event, to, cost, rank };
          })
          .filter((c) => elapsed + c.cost < TIME_BUDGET_MS)
          .sort((a, b) => a.rank - b.rank);
        const next = candidates[0];
        if (!next) break;
        todo.splice(todo.indexOf(next.serial), 1);
        events.push(next.event);
        elapsed += next.cost;
        key = next.to;
        taken += 1;
      }
      if (taken === 0) throw new Error(`${model.variant.name}: the edges of ${start} cannot be taken within the time budget`);
      walks.push(predict(model, `edge-covering walk ${walks.length + 1} (via ${start})`, events));
    }
  }
  return walks;
}
