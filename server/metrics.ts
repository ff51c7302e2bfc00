import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  REJECTION_CODES,
  ExpiredPositionError,
  InvalidExecutionReportError,
  OwnershipLostError,
  RefusedFillError,
  StoreCorruptError,
  StoreUnavailableError,
  UndeliveredEventError,
  UntrackedFillError,
} from '../machines/errors.js';
import { STRATEGY_STATES } from '../machines/states.js';
import type { KillSwitchEnd } from '../services/runtime/persistentSafety.js';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import type { TransitionListener, TransitionNotice } from '../services/runtime/strategyActor.js';
import type { StrategyStore } from '../services/store/types.js';
import type { StreamStats } from './stream.js';

/** The service's Prometheus metrics: a registry of its own (never prom-client's global one). */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** Seconds each store write took, by operation (`append`, `create`, `remove`) and outcome. */
  readonly storeCommit: Histogram<'operation' | 'outcome'>;
  /**
   * Counts each audit record into `strategy_lifecycle_transitions_total` or `_rejections_total`.
   * Give it to the system at its open (`openStrategySystem({ listeners: [metrics.countTransitions] })`)
   * so the records committed during the open (a deadline overdue at a restart) are counted too;
   * {@link registerMetrics} subscribes it otherwise, and counts what it heard before it knew the
   * system once it does (a strategy's variant is read from the system).
   */
  readonly countTransitions: TransitionListener;
  /**
   * Where {@link registerMetrics} tells the counters the service's variants (each variant's
   * transitions series start at 0 in every state, its rejections series in every state for every
   * code) and how to read a strategy's variant.
   */
  readonly bindVariants: (variants: readonly string[], variantOf: (strategyId: string) => string) => void;
  /**
   * Counts each kill switch run into `strategy_lifecycle_kill_switch_runs_total` by its outcome
   * when it ends, whatever started it: give it to the system at its open
   * (`openStrategySystem({ onKillSwitchEnd: metrics.countKillSwitchEnd })`), so a run started in
   * code or resumed at the open is counted as one pressed over HTTP is.
   */
  readonly countKillSwitchEnd: (end: KillSwitchEnd) => void;
  /**
   * Counts a background error of the service (a store write, the trading day) into
   * `strategy_lifecycle_errors_total` by its class, one of {@link ERROR_KINDS} or `other`: never
   * its message or ids, so the series stay few.
   */
  readonly countError: (error: unknown) => void;
}

/**
 * The error classes `strategy_lifecycle_errors_total` names (each a series from the start, as is
 * `other` for the rest): the trading day's and the store's. A subclass counts as its class here.
 */
export const ERROR_KINDS = [
  ['ExpiredPositionError', ExpiredPositionError],
  ['UntrackedFillError', UntrackedFillError],
  ['InvalidExecutionReportError', InvalidExecutionReportError],
  ['UndeliveredEventError', UndeliveredEventError],
  ['RefusedFillError', RefusedFillError],
  ['StoreUnavailableError', StoreUnavailableError],
  ['OwnershipLostError', OwnershipLostError],
  ['StoreCorruptError', StoreCorruptError],
] as const;

/** The `kind` label of an error: its class among {@link ERROR_KINDS}, else `other`. */
export function errorKind(error: unknown): string {
  for (const [kind, type] of ERROR_KINDS) if (error instanceof type) return kind;
  return 'other';
}

/** The outcomes of a kill switch run, each a series of `strategy_lifecycle_kill_switch_runs_total` from the start. */
export const KILL_SWITCH_RUN_OUTCOMES = ['flat', 'failed', 'interrupted'] as const satisfies ReadonlyArray<KillSwitchEnd['outcome']>;

/** A record heard before the variants were known: counted once they are. */
type HeardRecord = Pick<TransitionNotice, 'strategyId' | 'record'>;

/**
 * Records heard before {@link ServiceMetrics.bindVariants} that are kept to be counted (the records
 * of an open); past it the oldest are counted under the variant `unknown`, so a registry never
 * bound holds no more than this.
 */
const MAX_HEARD_UNBOUND = 10_000;

/**
 * Node's default metrics, collected once per process. prom-client's `collectDefaultMetrics` starts
 * process-wide collectors (an event-loop delay histogram, a GC observer) that cannot be stopped and
 * that keep the registry they fill reachable: collected once into this registry of their own, they
 * hold no service's registry, and a process that makes many services (tests, several systems)
 * starts them once. Their values are the process's anyway.
 */
let processDefaults: Registry | undefined;

function defaultMetrics(): Registry {
  if (!processDefaults) {
    processDefaults = new Registry();
    collectDefaultMetrics({ register: processDefaults });
  }
  return processDefaults;
}

/**
 * A registry with Node's default metrics (event-loop lag from `monitorEventLoopDelay`, memory,
 * GC, handles; shared by every registry of the process, see {@link defaultMetrics}), the
 * store's commit latency and the transition counters (fed by `countTransitions`). The other
 * strategy metrics are added by {@link registerMetrics}, which knows the system. Nothing process-wide refers to the registry: dropped, it is collected.
 *
 * @example
 * ```ts
 * const metrics = createMetrics();
 * const store = timedStore(new SqliteStore(path), metrics);
 * const system = await openStrategySystem({ store, variants, listeners: [metrics.countTransitions] });
 * ```
 */
export function createMetrics(): ServiceMetrics {
  // A registry of the process's default metrics and nothing else yet (the metrics are shared, the registry is new).
  const registry = Registry.merge([defaultMetrics()]);
  const storeCommit = new Histogram({
    name: 'strategy_lifecycle_store_commit_seconds',
    help: 'Time a store write took to commit (write-ahead: a transition waits for it), by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'strategy_lifecycle_transitions_total',
    help: 'Accepted triggers, by variant and the state entered',
    labelNames: ['variant', 'state'] as const,
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'strategy_lifecycle_rejections_total',
    help: 'Refused triggers, by variant, the state that refused and the code',
    labelNames: ['variant', 'state', 'code'] as const,
    registers: [registry],
  });
  const killSwitchRuns = new Counter({
    name: 'strategy_lifecycle_kill_switch_runs_total',
    help: 'Kill switch runs this instance took part in, by outcome when each ended (flat, failed, interrupted)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of KILL_SWITCH_RUN_OUTCOMES) killSwitchRuns.inc({ outcome }, 0);
  const countKillSwitchEnd = (end: KillSwitchEnd) => killSwitchRuns.inc({ outcome: end.outcome });
  const errors = new Counter({
    name: 'strategy_lifecycle_errors_total',
    help: "The service's background errors (store writes, the trading day), by error class (or other)",
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const [kind] of ERROR_KINDS) errors.inc({ kind }, 0);
  errors.inc({ kind: 'other' }, 0);
  const countError = (error: unknown) => errors.inc({ kind: errorKind(error) });
  const count = ({ record }: HeardRecord, variant: string) => {
    if (record.accepted) transitions.inc({ variant, state: record.currentState });
    else rejections.inc({ variant, state: record.previousState, code: record.code ?? 'REJECTED' });
  };
  let variantOf: ((strategyId: string) => string) | undefined;
  let heard: HeardRecord[] = [];
  const countTransitions: TransitionListener = (notice) => {
    if (variantOf) return count(notice, variantOf(notice.strategyId));
    if (heard.length === MAX_HEARD_UNBOUND) count(heard.shift() as HeardRecord, 'unknown');
    heard.push({ strategyId: notice.strategyId, record: notice.record });
  };
  const bindVariants = (variants: readonly string[], lookup: (strategyId: string) => string) => {
    // Every series at 0 from the first scrape: a series first seen at 1 is no increase to
    // Prometheus' increase() and rate(), and the first strategy to enter ERROR would go unseen.
    // Rejections likewise, for every code in every state: the first TRADING_HALTED of a variant counts.
    for (const variant of variants)
      for (const state of STRATEGY_STATES) {
        transitions.inc({ variant, state }, 0);
        for (const code of REJECTION_CODES) rejections.inc({ variant, state, code }, 0);
      }
    variantOf = lookup;
    for (const notice of heard) count(notice, lookup(notice.strategyId));
    heard = [];
  };
  return { registry, storeCommit, countTransitions, bindVariants, countKillSwitchEnd, countError };
}

const TIMED: ReadonlySet<string | symbol> = new Set(['append', 'create', 'remove']);

/**
 * The same store, its `append`, `create` and `remove` timed into `metrics.storeCommit` (real
 * elapsed time: latency is a property of the disk or the network, not of the strategy's clock).
 * Every other member is the store's own, so the system cannot tell the difference.
 *
 * @example
 * ```ts
 * const system = await openStrategySystem({ store: timedStore(new SqliteStore(path), metrics), variants });
 * ```
 */
export function timedStore<S extends StrategyStore>(store: S, metrics: ServiceMetrics): S {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (!TIMED.has(key)) return value.bind(target) as unknown;
      return async (...args: unknown[]) => {
        const started = performance.now();
        let outcome = 'error';
        try {
          const result: unknown = await value.apply(target, args);
          outcome = 'ok';
          return result;
        } finally {
          metrics.storeCommit.observe({ operation: String(key), outcome }, (performance.now() - started) / 1000);
        }
      };
    },
  });
}

/**
 * Registers the strategy metrics and serves `GET /metrics` (Prometheus text format):
 * transitions and rejections by variant and state (`metrics.countTransitions`, subscribed here
 * unless the system was opened with it; the transitions of each of `variants` in every state,
 * and its rejections in every state for every code, start at 0), strategies
 * per variant and state (each of `variants` in every state, 0 when empty) and the trading state
 * (read on each scrape), the live stream's clients.
 *
 * @returns a function that stops counting (called when the app closes).
 */
export function registerMetrics(
  app: FastifyInstance,
  system: PersistentStrategySystem,
  metrics: ServiceMetrics,
  stream: StreamStats,
  variants: readonly string[],
): () => void {
  const { registry } = metrics;
  metrics.bindVariants(variants, (id) => {
    try {
      return system.has(id) ? system.peek(id).snapshot.context.variant : 'removed';
    } catch {
      return 'elsewhere'; // owned by another instance now
    }
  });
  // Already subscribed when given to the system at its open: the system's listeners are a set, so it is told once.
  const unsubscribe = system.subscribe(metrics.countTransitions);

  new Gauge({
    name: 'strategy_lifecycle_strategies',
    help: 'Strategies this instance holds, by variant and state',
    labelNames: ['variant', 'state'] as const,
    registers: [registry],
    collect() {
      // Every variant's series in every state, 0 when empty: a series that vanished when its state
      // emptied was a gap on a dashboard and set off `absent()` alerts. reset() drops what is left
      // of a variant no longer served.
      this.reset();
      for (const variant of variants) for (const state of STRATEGY_STATES) this.set({ variant, state }, 0);
      for (const id of system.ids()) {
        try {
          // Committed state only: a scrape never wakes a dormant strategy.
          const strategy = system.peek(id);
          this.inc({ variant: strategy.snapshot.context.variant, state: strategy.state });
        } catch {
          // taken over by another instance since ids() was read: not ours to count
        }
      }
    },
  });
  new Gauge({
    name: 'strategy_lifecycle_trading_state',
    help: 'The trading state: 1 for the current one, 0 for the others',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      for (const state of ['ACTIVE', 'REDUCING', 'HALTED'] as const) this.set({ state }, system.tradingState === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'strategy_lifecycle_sse_clients',
    help: 'Clients reading the live stream GET /events',
    registers: [registry],
    collect() {
      this.set(stream.clients);
    },
  });
  // The stream keeps running totals: each scrape adds what happened since the last one.
  const seen = { slow: 0, refused: 0 };
  new Counter({
    name: 'strategy_lifecycle_sse_slow_disconnected_total',
    help: 'Stream clients disconnected because they did not read',
    registers: [registry],
    collect() {
      this.inc(stream.slowDisconnected - seen.slow);
      seen.slow = stream.slowDisconnected;
    },
  });
  new Counter({
    name: 'strategy_lifecycle_sse_refused_total',
    help: 'Streams refused because the client limit was reached',
    registers: [registry],
    collect() {
      this.inc(stream.refused - seen.refused);
      seen.refused = stream.refused;
    },
  });

  app.get(
    '/metrics',
    { schema: { tags: ['service'], summary: 'Prometheus metrics (text exposition format)', hide: false } },
    async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  );
  return unsubscribe;
}
