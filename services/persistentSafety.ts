import type { Actor } from 'xstate';
import { payloadOf } from '../actions/audit.js';
import type { TradingState } from '../guards/portfolio.js';
import type { coordinatorMachine, TradingStateChange } from '../machines/coordinator.js';
import { KillSwitchInterruptedError, type TradingStateRefusal } from '../machines/errors.js';
import type { Clock } from './clock.js';
import { killSwitch, type KillSwitchDeliver, type KillSwitchOptions, type KillSwitchOutcome, type KillSwitchResult } from './killSwitch.js';
import type { KillSwitchProgress, StoredSystemState, StrategyStore } from './store/types.js';
import type { PreparedTrigger, StrategyHandle } from './strategyActor.js';
import { checkTradingStateName } from './strategySystem.js';

/** A kill switch that has been started: HALTED and its first step are stored; `done` follows the flattening. */
export interface KillSwitchRun {
  /** Resolves with what became of each strategy; rejects with KillSwitchInterruptedError if the system closed first. */
  done: Promise<KillSwitchResult>;
}

/** What the persistent system's safety state needs from the system around it. */
export interface SafetyDeps {
  store: StrategyStore;
  coordinator: Actor<typeof coordinatorMachine>;
  clock: Clock;
  /** The strategies this instance holds now. */
  handles: () => StrategyHandle[];
  /** Delivers the kill switch's own exits, written like any transition, past the trading state. */
  deliver: KillSwitchDeliver;
  killSwitch?: KillSwitchOptions;
  report: (error: unknown, where: string) => void;
}

/** The trading state and kill switch of a persistent system, kept in its store. */
export interface PersistentSafety {
  /** Loads the stored trading state into the coordinator: call before any strategy starts. */
  restore(): Promise<StoredSystemState>;
  /** Reloads the trading state another instance may have changed; failures are reported, not thrown. */
  refresh(): Promise<void>;
  /** @throws {StoreUnavailableError} when the write fails: the trading state did not change. */
  setTradingState(state: TradingState, reason: string, operator: string): Promise<TradingStateChange>;
  /** HALTED and the run's first step are stored before this resolves. @throws {StoreUnavailableError} */
  startKillSwitch(reason: string, operator: string): Promise<KillSwitchRun>;
  /** Carries on a stored kill switch that had not finished and was not overruled; undefined when there is none. */
  resume(stored: StoredSystemState): KillSwitchRun | undefined;
  /** Stops every run (their progress stays stored) and waits for the steps being written. */
  close(): Promise<void>;
}

const openQuantity = (handle: StrategyHandle) => handle.getSnapshot().context.position?.quantity ?? 0;

/**
 * The trigger the store refused, turned into the rejection the in-memory gate would have written:
 * audited in the strategy's trail with TRADING_HALTED or TRADING_REDUCING; the strategy stays put.
 */
export function refusedAs(prepared: Extract<PreparedTrigger, { kind: 'event' }>, refusal: TradingStateRefusal): PreparedTrigger {
  const { event } = prepared;
  return {
    kind: 'event',
    seqBefore: prepared.seqBefore,
    hooksAfter: false,
    event: { type: 'lifecycle.rejected', trigger: event.type, reason: refusal.reason, code: refusal.code, data: payloadOf(event), at: event.at, ...(event.eventId !== undefined ? { eventId: event.eventId } : {}) },
  };
}

/** Builds the store-backed trading state and kill switch of a persistent system. */
export function createPersistentSafety(deps: SafetyDeps): PersistentSafety {
  const { store, coordinator, clock } = deps;
  const abort = new AbortController();
  /** Trading state changes and kill switch steps are written one at a time, in order. */
  let chain: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(task: () => Promise<T>): Promise<T> => {
    const run = chain.then(task, task);
    chain = run.catch(() => undefined);
    return run;
  };
  const restoreHistory = (state: StoredSystemState) => coordinator.send({ type: 'system.restoreTradingState', changes: state.tradingStateHistory });

  const writeTradingState = async (state: TradingState, reason: string, operator: string): Promise<TradingStateChange> => {
    checkTradingStateName(state);
    const change = await store.saveTradingState({ to: state, reason, operator, at: clock.now() });
    // A `from` other than ours means another instance changed it meanwhile: take the whole history.
    if (change.from !== coordinator.getSnapshot().context.tradingState) restoreHistory(await store.loadSystemState());
    else coordinator.send({ type: 'system.recordTradingState', change });
    return change;
  };

  /** Runs the kill switch over `handles`, storing a step per outcome and the result at the end. */
  const run = (progress: KillSwitchProgress, handles: StrategyHandle[]): KillSwitchRun => {
    const save = () => {
      const step = { ...progress, pending: [...progress.pending], flattened: [...progress.flattened], alreadyFlat: [...progress.alreadyFlat], failed: [...progress.failed], at: clock.now() };
      return inOrder(() => store.saveKillSwitch(step)).catch((error: unknown) => deps.report(error, '(kill switch)'));
    };
    const onOutcome = (outcome: KillSwitchOutcome) => {
      progress.pending = progress.pending.filter((id) => id !== outcome.strategyId);
      if (outcome.flat) progress.flattened.push(outcome.strategyId);
      else if ('reason' in outcome) progress.failed.push({ strategyId: outcome.strategyId, reason: outcome.reason });
      return save();
    };
    const done = killSwitch(handles, progress.reason, clock, deps.killSwitch, deps.deliver, { onOutcome, signal: abort.signal }).then(async () => {
      progress.finishedAt = clock.now();
      await save();
      const { flattened, alreadyFlat, failed, reason } = progress;
      return { reason, flattened, alreadyFlat, failed };
    });
    // A close interrupts a run on purpose: its progress stays stored for the next open.
    done.catch((error: unknown) => {
      if (!(error instanceof KillSwitchInterruptedError)) deps.report(error, '(kill switch)');
    });
    return { done };
  };

  return {
    async restore() {
      const state = await store.loadSystemState();
      restoreHistory(state);
      return state;
    },
    refresh: () =>
      inOrder(async () => restoreHistory(await store.loadSystemState())).catch((error: unknown) => deps.report(error, '(trading state)')),
    setTradingState: (state, reason, operator) => inOrder(() => writeTradingState(state, reason, operator)),
    startKillSwitch: (reason, operator) =>
      inOrder(async () => {
        await writeTradingState('HALTED', `kill switch: ${reason}`, operator);
        const handles = deps.handles();
        const startedAt = clock.now();
        const holding = handles.filter((h) => openQuantity(h) > 0);
        const progress: KillSwitchProgress = {
          reason, operator, startedAt, at: startedAt, pending: holding.map((h) => h.id), flattened: [], failed: [],
          alreadyFlat: handles.filter((h) => openQuantity(h) === 0).map((h) => h.id), finishedAt: null,
          tradingStateChanges: coordinator.getSnapshot().context.changes.length,
        };
        await store.saveKillSwitch(progress);
        return () => run(progress, holding);
      }).then((start) => start()),
    resume({ killSwitch: stored, tradingStateHistory }) {
      if (!stored || stored.finishedAt !== null) return undefined;
      // A trading state set after the kill switch (ACTIVE again, say) overrules it: no flattening
      // of positions opened since.
      if (tradingStateHistory.length !== stored.tradingStateChanges) return undefined;
      const failed = new Set(stored.failed.map((f) => f.strategyId));
      // Whatever this instance holds that still has a position and was not given up on is flattened again.
      const held = new Map(deps.handles().map((h) => [h.id, h]));
      const handles = [...held.values()].filter((h) => openQuantity(h) > 0 && !failed.has(h.id));
      const again = new Set(handles.map((h) => h.id));
      // A pending strategy whose exit filled before the restart is flat now: it counts as flattened.
      const flatNow = stored.pending.filter((id) => held.has(id) && !again.has(id) && !failed.has(id));
      const progress: KillSwitchProgress = { ...stored, pending: [...again], flattened: [...stored.flattened.filter((id) => !again.has(id)), ...flatNow] };
      return run(progress, handles);
    },
    async close() {
      abort.abort();
      await chain;
    },
  };
}
