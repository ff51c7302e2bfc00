import { KillSwitchInterruptedError } from '../../machines/errors.js';
import type { StrategyState } from '../../machines/states.js';
import { hasStateTag } from '../../machines/tags.js';
import type { Clock, TimerHandle } from '../market/clock.js';
import {
  killSwitch,
  needsKillSwitch,
  openQuantity,
  type KillSwitchDeliver,
  type KillSwitchOptions,
  type KillSwitchOutcome,
  type KillSwitchResult,
} from './killSwitch.js';
import { mergeKillSwitchParts } from '../store/killSwitchSteps.js';
import type { KillSwitchProgress, StoredSystemState, SystemStore } from '../store/types.js';
import type { MaybePromise } from './settle.js';
import type { StrategyHandle } from './strategyActor.js';
import { attempt, then } from './writeQueue.js';

/**
 * Delay (on the system's clock) before a kill switch whose closing step the store could not write
 * (a full disk, a read-only file, the database down) checks and writes it again. Without it the
 * run stayed unfinished in memory and in the store once the store was back, its `done` never settling.
 */
export const KILL_SWITCH_STEP_RETRY_MS = 1000;

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

interface Following {
  part: KillSwitchProgress;
  /** The other instances' parts of the run, as last loaded. */
  others: KillSwitchProgress[];
  /** Strategies whose exit loop this part runs. */
  inFlight: Set<string>;
  finished: boolean;
  /** The run that replaced this one while its exits were working: it waits for their outcomes too. */
  successor?: Following;
  /** A newer run (a press again, here or on another instance) replaced it: it ends with its own exits. */
  replaced?: true;
  run: KillSwitchRun;
  /** The pending retry of its check after the store refused a step (see {@link KILL_SWITCH_STEP_RETRY_MS}). */
  retry?: TimerHandle;
  resolve(result: KillSwitchResult): void;
  reject(error: KillSwitchInterruptedError): void;
}

const sameRun = (a: KillSwitchProgress, b: KillSwitchProgress) =>
  a.tradingStateChanges === b.tradingStateChanges && a.startedAt === b.startedAt;
const without = (ids: string[], id: string) => ids.filter((other) => other !== id);

/**
 * Builds this instance's part of kill switches. Each instance flattens only what it holds (it
 * alone may write those strategies) and records its own steps, so instances never overwrite each
 * other's progress; a strategy claimed from a dead instance while the run is active is flattened
 * by its new owner, and the run is complete once no part has anything pending and the store holds
 * no position outside those given up on.
 */
export function createKillSwitchPart(deps: KillSwitchPartDeps): KillSwitchPart {
  const { store, clock } = deps;
  const abort = new AbortController();
  const mine = (part: KillSwitchProgress) => part.instanceId === deps.instanceId;
  let following: Following | undefined;
  /** Every run not finished yet: a replaced one still waits for its exits. */
  const live = new Set<Following>();

  const whole = (f: Following) => mergeKillSwitchParts([...f.others, f.part]) ?? f.part; // never null: the list holds f.part
  const active = (f: Following) => !f.finished && f.replaced !== true && deps.haltedSince(f.part.tradingStateChanges);

  const save = (f: Following) => {
    const { part } = f;
    return store.saveKillSwitch({
      ...part,
      pending: [...part.pending],
      flattened: [...part.flattened],
      alreadyFlat: [...part.alreadyFlat],
      failed: [...part.failed],
      at: clock.now(),
    });
  };
  const saveOrReport = (f: Following) =>
    attempt(
      () => save(f),
      (error: unknown) => deps.report(error, '(kill switch)'),
    );

  /** Tells `onEnd`; a throw there is reported, never left unhandled in the run's promise chain. */
  const ended = (end: KillSwitchEnd) => {
    try {
      deps.onEnd?.(end);
    } catch (error) {
      deps.report(error, '(kill switch)');
    }
  };

  const begin = (part: KillSwitchProgress, others: KillSwitchProgress[]): Following => {
    let resolve!: (result: KillSwitchResult) => void;
    let reject!: (error: KillSwitchInterruptedError) => void;
    const done = new Promise<KillSwitchResult>((res, rej) => ((resolve = res), (reject = rej)));
    void done.then(
      (result) => ended({ outcome: result.failed.length > 0 ? 'failed' : 'flat', result }),
      // Handled here, so a caller that never waits sees no unhandled rejection. `reject` takes
      // nothing else (see Following): anything else would be a defect to report, not an end.
      (error: unknown) =>
        error instanceof KillSwitchInterruptedError ? ended({ outcome: 'interrupted', error }) : deps.report(error, '(kill switch)'),
    );
    const f: Following = { part, others, inFlight: new Set(), finished: false, run: { done }, resolve, reject };
    live.add(f);
    return f;
  };

  const finish = (f: Following) => {
    f.finished = true;
    live.delete(f);
    const { reason, flattened, alreadyFlat, failed } = whole(f);
    f.resolve({ reason, flattened, alreadyFlat, failed });
  };

  /**
   * Whether the strategy held a position at any time since `since` (its trail in memory): false
   * only when the trail reaches back before `since` (or to its first record) and shows none (an
   * entry that never filled, ended by its stuck deadline while the process was down, is flat and
   * never was flattened).
   */
  const heldSince = (handle: StrategyHandle, since: number): boolean => {
    // States that always hold one (not ERROR or SUSPENDED, which may be flat), or a fill.
    const holding = (state: StrategyState) => hasStateTag(state, 'holdsPosition') && !hasStateTag(state, 'flat');
    const trail = handle.getAuditTrail();
    for (let i = trail.length - 1; i >= 0; i--) {
      const record = trail[i];
      if (holding(record.currentState) || holding(record.previousState)) return true;
      if (record.accepted && (record.trigger === 'ORDER_FILLED' || record.trigger === 'ORDER_PARTIALLY_FILLED')) return true;
      // The newest record made before the run's start says the state it was in then: checked above.
      // (Records at the very instant may be either side of it: all of them are checked.)
      if (record.at < since) return false;
    }
    // The whole trail seen (it starts at seq 1): it never held one. Else it does not reach back to
    // the run's start: as before, flattened.
    return trail.length > 0 && trail[0].seq > 1;
  };

  /** Sorts what this instance holds into the part; returns the strategies to flatten now. */
  const classify = (f: Following): StrategyHandle[] => {
    const run = whole(f);
    const failed = new Set(run.failed.map((x) => x.strategyId));
    const pendingSomewhere = new Set([...run.pending, ...f.part.pending]);
    // Sets for the lookups: this runs over every strategy of the instance (10k: lists were quadratic).
    const flattened = new Set(run.flattened);
    const { part } = f;
    const pending = new Set(part.pending);
    const alreadyFlat = new Set(part.alreadyFlat);
    let flatBefore = false;
    const toFlatten: StrategyHandle[] = [];
    for (const handle of deps.handles()) {
      const id = handle.id;
      if (f.inFlight.has(id) || failed.has(id)) continue;
      if (needsKillSwitch(handle)) {
        toFlatten.push(handle);
        if (!pending.has(id)) part.pending.push(id);
        if (alreadyFlat.delete(id)) flatBefore = true;
      } else if (pendingSomewhere.has(id) && !flattened.has(id) && heldSince(handle, run.startedAt)) {
        // Its exit filled before it came here (a restart, a takeover): it counts as flattened.
        part.flattened.push(id);
      } else if (!flattened.has(id) && !alreadyFlat.has(id)) {
        part.alreadyFlat.push(id);
        alreadyFlat.add(id);
      }
    }
    if (flatBefore) part.alreadyFlat = part.alreadyFlat.filter((id) => alreadyFlat.has(id));
    // What this part no longer holds (another instance took it over) is that instance's to flatten.
    const flattening = new Set(toFlatten.map((h) => h.id));
    part.pending = part.pending.filter((id) => f.inFlight.has(id) || flattening.has(id));
    return toFlatten;
  };

  const launch = (f: Following, handles: StrategyHandle[]) => {
    if (handles.length === 0) return;
    if (abort.signal.aborted) {
      // Closed before this run's exits could start (a close right after the press): its step is
      // stored, so the next open carries on; its promise says so now instead of never settling.
      f.finished = true;
      live.delete(f);
      f.reject(new KillSwitchInterruptedError(f.part.reason, [...f.inFlight, ...handles.map((h) => h.id)], !deps.synchronous));
      return;
    }
    for (const handle of handles) f.inFlight.add(handle.id);
    // Recorded in order; stored with the outcomes that came with it (see `saveSoon`).
    const onOutcome = (outcome: KillSwitchOutcome) =>
      Promise.resolve(deps.inOrder(() => settleAll(f, outcome)))
        .then((settled) => Promise.all(settled.map(saveSoon)))
        .then(() => undefined);
    killSwitch(handles, f.part.reason, clock, deps.killSwitch, deps.deliver, { onOutcome, signal: abort.signal }).catch(
      (error: unknown) => {
        if (!(error instanceof KillSwitchInterruptedError)) deps.report(error, '(kill switch)');
      },
    );
  };

  /**
   * Records an outcome in the run whose exit loop produced it and in every later run that took its
   * exit over (a kill switch pressed again while the first was flattening): each one waits for the
   * same exit, not a second. Returns the runs that recorded it.
   */
  const settleAll = (f: Following, outcome: KillSwitchOutcome): Following[] => {
    settle(f, outcome);
    const settled = [f];
    for (let heir = f.successor; heir && heir.inFlight.has(outcome.strategyId); heir = heir.successor) {
      settle(heir, outcome);
      settled.push(heir);
    }
    return settled;
  };

  const settle = (f: Following, outcome: KillSwitchOutcome) => {
    const id = outcome.strategyId;
    f.inFlight.delete(id);
    f.part.pending = without(f.part.pending, id);
    if (outcome.flat) (outcome.neverHeld ? f.part.alreadyFlat : f.part.flattened).push(id);
    else if ('reason' in outcome) f.part.failed.push({ strategyId: id, reason: outcome.reason });
    // Lost: the new owner's part flattens it and lists it.
  };

  /**
   * The next save (and check) of the part, shared by every outcome recorded before it starts: a
   * burst of fills is one store write and one pass over the strategies, not one per position
   * (2,000 positions among 10k strategies took 21 s of CPU with one each). It waits for a turn of
   * the event loop to gather the burst, then runs in the caller's order of safety writes.
   */
  let nextSave: { done: Promise<void>; started: boolean; runs: Set<Following> } | undefined;
  const saveSoon = (f: Following): Promise<void> => {
    if (nextSave && !nextSave.started) {
      nextSave.runs.add(f);
      return nextSave.done;
    }
    const entry: { done: Promise<void>; started: boolean; runs: Set<Following> } = {
      done: Promise.resolve(),
      started: false,
      runs: new Set([f]),
    };
    entry.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      deps.inOrder(async () => {
        entry.started = true;
        for (const run of entry.runs) {
          await saveOrReport(run);
          await checkOrRetry(run);
        }
      }),
    );
    nextSave = entry;
    return entry.done;
  };

  /**
   * {@link check}, reporting its failure; a run it could not finish (its closing step refused by
   * the store) is checked again after {@link KILL_SWITCH_STEP_RETRY_MS}, in the order of safety
   * writes, until the store takes the step or the system closes. Never rejects.
   */
  const checkOrRetry = (f: Following): Promise<void> =>
    check(f).catch((error: unknown) => {
      deps.report(error, '(kill switch)');
      if (f.finished || f.retry !== undefined || abort.signal.aborted) return;
      f.retry = clock.setTimeout(() => {
        f.retry = undefined;
        if (f.finished || abort.signal.aborted) return;
        Promise.resolve(deps.inOrder(() => checkOrRetry(f))).catch((failed: unknown) => deps.report(failed, '(kill switch)'));
      }, KILL_SWITCH_STEP_RETRY_MS);
    });

  /** Takes on what this instance newly holds; once its part is idle, finishes the run if complete. */
  const check = async (f: Following): Promise<void> => {
    if (f.finished) return;
    if (active(f)) {
      const before = JSON.stringify(f.part);
      const toFlatten = classify(f);
      if (JSON.stringify(f.part) !== before) await saveOrReport(f);
      launch(f, toFlatten);
    }
    if (f.inFlight.size > 0) return;
    if (active(f)) {
      // The other parts as stored now: one may have flattened or finished since the last load.
      const latest = await store.loadSystemState();
      f.others = latest.killSwitchParts.filter((p) => sameRun(p, f.part) && !mine(p));
      const run = whole(f);
      if (run.finishedAt === null) {
        if (run.pending.length > 0) return;
        const failed = new Set(run.failed.map((x) => x.strategyId));
        const holders = store.holdingPositions
          ? await store.holdingPositions()
          : deps
              .handles()
              .filter((h) => openQuantity(h) > 0)
              .map((h) => h.id);
        if (holders.some((id) => !failed.has(id))) return; // another instance's (or a dead one's, until taken over)
        f.part.finishedAt = clock.now();
        try {
          await save(f);
        } catch (error) {
          // Not stored: the retry must write it again (a finishedAt kept here would skip that write).
          f.part.finishedAt = null;
          throw error;
        }
      }
    } else if (f.part.finishedAt === null) {
      // Overruled (or replaced by a newer run): this part ends with its own exits.
      f.part.finishedAt = clock.now();
      await saveOrReport(f);
    }
    finish(f);
  };

  /**
   * Leaves an older run to its own exits, which the new run takes over: it waits for their
   * outcomes (recorded in both) instead of starting a second exit for the same position. An older
   * run with no exit working is over here (waited for unless synchronous).
   */
  const replace = (next: Following): MaybePromise<void> => {
    const previous = following;
    following = next;
    if (!previous || previous.finished) return;
    previous.replaced = true;
    if (previous.inFlight.size > 0) {
      previous.successor = next;
      for (const id of previous.inFlight) {
        next.inFlight.add(id);
        if (!next.part.pending.includes(id)) next.part.pending.push(id);
      }
      return;
    }
    const checked = check(previous);
    if (!deps.synchronous) return checked;
    checked.catch((error: unknown) => deps.report(error, '(kill switch)'));
  };

  return {
    start(run) {
      const f = begin(
        {
          ...run,
          at: run.startedAt,
          pending: [],
          flattened: [],
          alreadyFlat: [],
          failed: [],
          finishedAt: null,
          ...(deps.instanceId !== undefined ? { instanceId: deps.instanceId } : {}),
        },
        [],
      );
      const toFlatten = classify(f);
      // HALTED is stored (the caller wrote it), the first step is written before any exit. If the
      // store refuses that step (the disk filled between the two writes), the stored HALTED already
      // names a kill switch, which a restart would carry on: the exits start here too, the step is
      // reported and stored with the next one, instead of a rejection that leaves every position
      // open in a HALTED process until a restart or a second press.
      return then(saveOrReport(f), () =>
        then(replace(f), () => {
          // What the older run is flattening already, this one waits for (see `replace`).
          launch(
            f,
            toFlatten.filter((handle) => !f.inFlight.has(handle.id)),
          );
          const checked = checkOrRetry(f);
          return deps.synchronous ? f.run : checked.then(() => f.run);
        }),
      );
    },
    async follow(state) {
      const run = state.killSwitch;
      if (!run) return undefined;
      // Closed before it could join (a close in the same tick as the open that resumes it): the run
      // stays stored for the next open, and its promise says so now instead of never settling.
      if (abort.signal.aborted && run.finishedAt === null) {
        const part = state.killSwitchParts.find(mine);
        const error = new KillSwitchInterruptedError(run.reason, part?.pending ?? run.pending, !deps.synchronous);
        // Its end, unless this instance followed it already (that run was rejected, and told, at the close).
        if (!following || !sameRun(following.part, run)) ended({ outcome: 'interrupted', error });
        throw error;
      }
      if (following && sameRun(following.part, run)) {
        const f = following;
        f.others = state.killSwitchParts.filter((p) => !mine(p));
        if (run.finishedAt !== null && f.inFlight.size === 0 && !f.finished) finish(f);
        else await checkOrRetry(f);
        return f.run;
      }
      if (run.finishedAt !== null || !deps.haltedSince(run.tradingStateChanges)) return undefined;
      // Join it: with this instance's stored part after a restart, else a part of its own.
      const stored = state.killSwitchParts.find(mine);
      const { reason, operator, startedAt, tradingStateChanges } = run;
      const part: KillSwitchProgress = stored
        ? {
            ...stored,
            pending: [...stored.pending],
            flattened: [...stored.flattened],
            alreadyFlat: [...stored.alreadyFlat],
            failed: [...stored.failed],
          }
        : {
            reason,
            operator,
            startedAt,
            tradingStateChanges,
            at: clock.now(),
            pending: [],
            flattened: [],
            alreadyFlat: [],
            failed: [],
            finishedAt: null,
            ...(deps.instanceId !== undefined ? { instanceId: deps.instanceId } : {}),
          };
      const f = begin(
        part,
        state.killSwitchParts.filter((p) => !mine(p)),
      );
      await replace(f);
      // Safety first: the exits start now, the step recording them follows.
      launch(f, classify(f));
      await saveOrReport(f);
      await checkOrRetry(f);
      return f.run;
    },
    adopt: async () =>
      deps.inOrder(async () => {
        if (following && !following.finished) await checkOrRetry(following);
      }),
    close() {
      const saving = nextSave?.done ?? Promise.resolve();
      abort.abort();
      for (const f of live) {
        if (f.retry !== undefined) clock.clearTimeout(f.retry);
        f.finished = true;
        f.reject(new KillSwitchInterruptedError(f.part.reason, [...f.inFlight], !deps.synchronous));
      }
      live.clear();
      return saving;
    },
  };
}
