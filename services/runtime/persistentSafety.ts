import type { Actor } from 'xstate';
import { InvalidOptionsError } from '../../machines/errors.js';
import type { TradingState } from '../../guards/portfolio.js';
import type { coordinatorMachine, TradingStateChange } from '../../machines/coordinator.js';
import type { Clock } from '../market/clock.js';
import type { KillSwitchDeliver, KillSwitchOptions } from './killSwitch.js';
import { createKillSwitchPart } from './killSwitchPart.js';
import type { KillSwitchEnd, KillSwitchRun } from './killSwitchPartTypes.js';
import { haltedSince, KILL_SWITCH_REASON_PREFIX, withInterruptedKillSwitch } from '../store/killSwitchSteps.js';
import type { StoredSystemState, SystemStore } from '../store/types.js';
import { checkOperator, checkReason, killSwitchText } from './operatorText.js';
import { checkTradingStateName } from './portfolioGate.js';
import type { MaybePromise } from './settle.js';
import type { StrategyHandle } from './strategyActor.js';
import { createWriteQueues, then } from './writeQueue.js';

export type { KillSwitchEnd, KillSwitchRun } from './killSwitchPartTypes.js';

/** What a system's safety state needs from the system around it. */
export interface SafetyDeps {
  store: SystemStore;
  coordinator: Actor<typeof coordinatorMachine>;
  clock: Clock;
  /** The strategies this instance holds now. */
  handles: () => StrategyHandle[];
  /** Delivers the kill switch's own exits, written like any transition, past the trading state. */
  deliver: KillSwitchDeliver;
  killSwitch?: KillSwitchOptions;
  report: (error: unknown, where: string) => void;
  /**
   * Settles once every strategy write queued so far has settled: the kill switch reads the
   * strategies after it, so a fill already on its way is in the state it classifies.
   */
  settled?: () => MaybePromise<void>;
  /** Told once when each kill switch run ends, whatever started it (see {@link KillSwitchEnd}). */
  onKillSwitchEnd?: (end: KillSwitchEnd) => void;
}

/**
 * The trading state and kill switch of a system, kept in its store: one implementation for the
 * in-memory system (over its synchronous `MemoryStore`, answering at once) and the persistent one.
 */
export interface PersistentSafety {
  /** Loads the stored trading state into the coordinator: call before any strategy starts. */
  restore(): Promise<StoredSystemState>;
  /**
   * Reloads the trading state and kill switch another instance may have changed (joining an
   * active kill switch); failures are reported, not thrown.
   */
  refresh(): Promise<void>;
  /** Flattens the strategies claimed since while a kill switch is active; failures are reported. */
  adopt(): Promise<void>;
  /** Calls `listener` with every trading state change from now on, this instance's or another's. */
  subscribeTradingState(listener: (change: TradingStateChange) => void): () => void;
  /**
   * Written first, then the coordinator's (an `operator` left out is stored as `system` and not
   * named in the coordinator's history). @throws {InvalidOptionsError} at once, before anything is
   * written, when `state` is not ACTIVE, REDUCING or HALTED, when `reason` or `operator` is not text that can be stored (see operatorText.ts), or
   * when HALTED's `reason` starts with `kill switch: ` (the kill switch's own mark: a restart would
   * carry it on as an interrupted kill switch).
   * @throws {StoreUnavailableError} when the write fails: the trading state did not change, except when
   * a PostgreSQL connection dropped after the server received the COMMIT (then it may have: the
   * next refresh reads the stored state; setting the same state again is safe, one more change kept).
   */
  setTradingState(state: TradingState, reason: string, operator?: string): MaybePromise<TradingStateChange>;
  /**
   * HALTED and the run's first step are stored before this answers; never refused for its text,
   * which is made storable (see operatorText.ts). A process killed between the two writes leaves
   * HALTED with no run: the next open (and every instance following the store) starts the run
   * from it (see interruptedKillSwitchStart). @throws {StoreUnavailableError}
   */
  startKillSwitch(reason: string, operator: string): MaybePromise<KillSwitchRun>;
  /**
   * Takes part in a stored kill switch that has not finished and was not overruled (this
   * instance's own after a restart, or another's), or one whose start was interrupted after its
   * HALTED was stored: undefined when there is none. Its exits start
   * after the caller's current turn. Until it is called, {@link PersistentSafety.refresh} only
   * reloads the trading state.
   */
  resume(stored: StoredSystemState): KillSwitchRun | undefined;
  /** Stops every run (their progress stays stored) and waits for the steps being written. */
  close(): Promise<void>;
}

/**
 * Builds the store-backed trading state and kill switch of a system.
 *
 * @example
 * ```ts
 * const safety = createPersistentSafety({ store, coordinator, clock, handles: core.handles, deliver: core.deliver, report });
 * const run = await safety.startKillSwitch('risk desk', 'kill-switch'); // a KillSwitchRun at once over a MemoryStore
 * ```
 */
export function createPersistentSafety(deps: SafetyDeps): PersistentSafety {
  const { store, coordinator, clock } = deps;
  const synchronous = store.synchronous === true;
  /**
   * Trading state changes and kill switch steps are written one at a time, in order. A
   * synchronous store's writes are whole the moment they are made, so there each runs at once.
   */
  const queue = createWriteQueues(synchronous);
  const inOrder = <T>(task: () => MaybePromise<T>): MaybePromise<T> => (synchronous ? task() : queue.run('safety', task));
  const listeners = new Set<(change: TradingStateChange) => void>();
  /** How many changes of the history have been told to listeners. */
  let published = 0;
  const publish = () => {
    const changes = coordinator.getSnapshot().context.changes;
    const fresh = changes.slice(Math.min(published, changes.length));
    published = changes.length;
    for (const change of fresh) for (const listener of listeners) listener(change);
  };
  const restoreHistory = (state: StoredSystemState) => {
    coordinator.send({ type: 'system.restoreTradingState', changes: state.tradingStateHistory });
    publish();
  };
  let following = false;
  const part = createKillSwitchPart({
    store,
    clock,
    instanceId: store.instanceId,
    handles: deps.handles,
    deliver: deps.deliver,
    killSwitch: deps.killSwitch,
    synchronous,
    tradingStateChanges: () => coordinator.getSnapshot().context.changes.length,
    haltedSince: (count) => haltedSince(coordinator.getSnapshot().context.changes, count),
    inOrder,
    report: deps.report,
    ...(deps.onKillSwitchEnd ? { onEnd: deps.onKillSwitchEnd } : {}),
  });

  const writeTradingState = (state: TradingState, reason: string, operator?: string): MaybePromise<TradingStateChange> => {
    const saved = store.saveTradingState({ to: state, reason, operator: operator ?? 'system', at: clock.now() });
    return then(saved, (change) => {
      // A `from` other than ours means another instance changed it meanwhile: take the whole history.
      if (change.from !== coordinator.getSnapshot().context.tradingState)
        return then(store.loadSystemState(), (stored) => {
          restoreHistory(stored);
          return change;
        });
      const { to, at } = change;
      coordinator.send({ type: 'system.setTradingState', tradingState: to, reason, at, ...(operator !== undefined ? { operator } : {}) });
      publish();
      return change;
    });
  };

  return {
    async restore() {
      const state = await store.loadSystemState();
      coordinator.send({ type: 'system.restoreTradingState', changes: state.tradingStateHistory });
      published = state.tradingStateHistory.length; // what was true before the open is no news
      return state;
    },
    refresh: () =>
      Promise.resolve(
        inOrder(async () => {
          const state = await store.loadSystemState();
          restoreHistory(state);
          // A kill switch whose start was interrupted (HALTED stored, its process killed before the
          // run's first step) is carried on like a stored one: by every instance, for what it holds.
          if (following) await part.follow(withInterruptedKillSwitch(state));
        }),
      ).catch((error: unknown) => deps.report(error, '(trading state)')),
    adopt: () => (following ? part.adopt().catch((error: unknown) => deps.report(error, '(kill switch)')) : Promise.resolve()),
    subscribeTradingState(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    setTradingState: (state, reason, operator) => {
      // Refused before anything is queued or written: a bad state or text is the caller's, not a store outage.
      checkTradingStateName(state, 'setTradingState');
      checkReason('setTradingState', reason);
      checkOperator('setTradingState', operator);
      // That text marks the kill switch's own HALTED: a restart would take it for an interrupted one and flatten everything.
      if (state === 'HALTED' && reason.startsWith(KILL_SWITCH_REASON_PREFIX))
        throw new InvalidOptionsError(
          'setTradingState',
          'reason',
          `must not start with "${KILL_SWITCH_REASON_PREFIX}" for HALTED: that marks a kill switch, which flattens every position (use startKillSwitch)`,
        );
      return inOrder(() => writeTradingState(state, reason, operator));
    },
    startKillSwitch: (givenReason, givenOperator) => {
      // Never refused for its text: made storable (see killSwitchText).
      const { reason, operator } = killSwitchText(givenReason, givenOperator);
      return inOrder(() =>
        then(writeTradingState('HALTED', `${KILL_SWITCH_REASON_PREFIX}${reason}`, operator), (halted) =>
          // HALTED refuses new orders from here; the writes already on their way land first.
          then(deps.settled?.(), () => {
            following = true;
            return part.start({
              reason,
              operator,
              // The HALTED's time, as an instance that finds the HALTED before this step derives the
              // run (interruptedKillSwitchStart): one kill switch, one run, whoever starts it.
              startedAt: halted.at,
              tradingStateChanges: coordinator.getSnapshot().context.changes.length,
            });
          }),
        ),
      );
    },
    resume(restored) {
      following = true;
      // HALTED by a kill switch with no run stored for it (killed between the two writes): its run starts now.
      const stored = withInterruptedKillSwitch(restored);
      const run = stored.killSwitch;
      if (!run || run.finishedAt !== null || !haltedSince(stored.tradingStateHistory, run.tradingStateChanges)) return undefined;
      // Exits start once the open has returned, so the caller's subscribers (its broker) see them.
      const joined = new Promise((next) => setImmediate(next)).then(() => inOrder(() => part.follow(stored)));
      const { reason, flattened, alreadyFlat, failed } = run;
      const done = joined.then((followed) => followed?.done ?? { reason, flattened, alreadyFlat, failed });
      done.catch(() => undefined); // a caller that never waits must not see an unhandled rejection
      return { done };
    },
    async close() {
      await part.close();
      await queue.flush();
    },
  };
}
