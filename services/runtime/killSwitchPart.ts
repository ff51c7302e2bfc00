/**
 * This instance's part of a stored kill switch: starts or joins a run, launches the exit loops of
 * what it holds, stores its steps in order (retrying one the store refused) and settles the run's
 * `done` once the whole run is flat. Its contract is in `killSwitchPartTypes.ts`, the bookkeeping
 * of a run in `killSwitchTally.ts`.
 */
import { KillSwitchInterruptedError } from '../../machines/errors.js';
import { killSwitch, openQuantity, type KillSwitchOutcome, type KillSwitchResult } from './killSwitch.js';
import type { KillSwitchEnd, KillSwitchPart, KillSwitchPartDeps } from './killSwitchPartTypes.js';
import { classifyHoldings, sameRun, settleAll, wholeRun, type Following } from './killSwitchTally.js';
import type { KillSwitchProgress } from '../store/types.js';
import type { MaybePromise } from './settle.js';
import type { StrategyHandle } from './strategyActor.js';
import { attempt, then } from './writeQueue.js';

/**
 * Delay (on the system's clock) before a kill switch whose closing step the store could not write
 * (a full disk, a read-only file, the database down) checks and writes it again. Without it the
 * run stayed unfinished in memory and in the store once the store was back, its `done` never settling.
 */
export const KILL_SWITCH_STEP_RETRY_MS = 1000;

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

  const classify = (f: Following): StrategyHandle[] => classifyHoldings(f, () => deps.handles());
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
    const { reason, flattened, alreadyFlat, failed } = wholeRun(f);
    f.resolve({ reason, flattened, alreadyFlat, failed });
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
      const run = wholeRun(f);
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
