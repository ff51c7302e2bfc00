/**
 * What an instance's part of a kill switch is given (its store, clock, strategies, ordering of
 * safety writes) and gives back (the part's methods, the run it follows, how a run ended). The
 * part itself is `killSwitchPart.ts`.
 */
import type { KillSwitchInterruptedError } from '../../machines/errors.js';
import type { Clock } from '../market/clock.js';
import type { KillSwitchDeliver, KillSwitchOptions, KillSwitchResult } from './killSwitch.js';
import type { KillSwitchProgress, StoredSystemState, SystemStore } from '../store/types.js';
import type { MaybePromise } from './settle.js';
import type { StrategyHandle } from './strategyActor.js';

/** A kill switch this instance takes part in: `done` follows the whole run, every instance's part. */
export interface KillSwitchRun {
  /**
   * Resolves when no strategy of any instance is left holding a position (except those given up
   * on), with what became of each; rejects with KillSwitchInterruptedError if the system closed first.
   */
  done: Promise<KillSwitchResult>;
}

/**
 * How a run this instance took part in ended, whatever started it (`startKillSwitch`, a run
 * resumed at an open, another instance's run joined): `flat` when every strategy was flattened or
 * already flat, `failed` when any could not be, `interrupted` when the system closed first.
 */
export type KillSwitchEnd =
  { outcome: 'flat' | 'failed'; result: KillSwitchResult } | { outcome: 'interrupted'; error: KillSwitchInterruptedError };

/** What identifies a run and what it is for. */
export type KillSwitchStart = Pick<KillSwitchProgress, 'reason' | 'operator' | 'startedAt' | 'tradingStateChanges'>;

/** What this instance's part of a kill switch needs from the system around it. */
export interface KillSwitchPartDeps {
  store: SystemStore;
  /**
   * The store answers at once (the in-memory system): `start` answers at once too, its exits
   * already delivered, and the run's checks follow without being waited for.
   */
  synchronous?: boolean;
  clock: Clock;
  /** The name this instance records its steps under (multi-instance stores); undefined alone. */
  instanceId: string | undefined;
  /** The strategies this instance holds now. */
  handles(): StrategyHandle[];
  /** Delivers the kill switch's own exits, written like any transition, past the trading state. */
  deliver: KillSwitchDeliver;
  killSwitch?: KillSwitchOptions;
  /** How many trading state changes this instance knows (a run is known by the count it started at). */
  tradingStateChanges(): number;
  /**
   * Whether every trading state change after the first `count` is to HALTED: a run that started at
   * `count` is still in force (an operator confirming the halt does not overrule it; ACTIVE or
   * REDUCING does).
   */
  haltedSince(count: number): boolean;
  /** Runs `task` after every earlier safety write: steps are written one at a time, in order. */
  inOrder<T>(task: () => MaybePromise<T>): MaybePromise<T>;
  report(error: unknown, where: string): void;
  /** Told once when each run's `done` settles (see {@link KillSwitchEnd}). */
  onEnd?: (end: KillSwitchEnd) => void;
}

/**
 * This instance's part of the stored kill switch. Unless stated otherwise each method is called
 * inside `inOrder` (the caller's sequence of safety writes).
 */
export interface KillSwitchPart {
  /**
   * Starts a run here (HALTED is stored): its first step is written before this resolves; a step
   * the store refuses is reported and stored with the next one, and the exits start all the same.
   */
  start(run: KillSwitchStart): MaybePromise<KillSwitchRun>;
  /**
   * Follows the stored state: joins a run started on any instance while it is active (not
   * finished, not overruled by a later trading state change), flattening what this instance
   * holds, and notices when the whole run is complete. Returns the run followed (maybe finished
   * now), or undefined when there is none to follow.
   */
  follow(state: StoredSystemState): Promise<KillSwitchRun | undefined>;
  /** Outside `inOrder`: flattens what this instance claimed since (a lease round's takeovers). */
  adopt(): Promise<void>;
  /**
   * Stops every exit loop; runs not finished reject with KillSwitchInterruptedError (their steps
   * stay stored). Resolves once the outcomes already known are stored (the step waiting for its
   * turn of the event loop), so a close right after a fill does not lose it.
   */
  close(): Promise<void>;
}
