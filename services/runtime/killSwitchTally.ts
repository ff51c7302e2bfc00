/**
 * The bookkeeping of one kill switch run as this instance follows it: which strategies it holds
 * go to pending, flattened or already flat, and how each exit's outcome is recorded in the run
 * and in the runs that took its exits over. No I/O: it reads the strategies and updates the
 * run's part in memory; the part that stores and drives it is `killSwitchPart.ts`.
 */
import type { KillSwitchInterruptedError } from '../../machines/errors.js';
import type { StrategyState } from '../../machines/states.js';
import { hasStateTag } from '../../machines/tags.js';
import type { TimerHandle } from '../market/clock.js';
import { needsKillSwitch, type KillSwitchOutcome, type KillSwitchResult } from './killSwitch.js';
import type { KillSwitchRun } from './killSwitchPartTypes.js';
import { mergeKillSwitchParts } from '../store/killSwitchSteps.js';
import type { KillSwitchProgress } from '../store/types.js';
import type { StrategyHandle } from './strategyActor.js';

/** One run as this instance follows it: its own part, the others' as last loaded, its exits in flight. */
export interface Following {
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

/** True when two parts are of the same run (started at the same instant, at the same trading state change). */
export const sameRun = (a: KillSwitchProgress, b: KillSwitchProgress) =>
  a.tradingStateChanges === b.tradingStateChanges && a.startedAt === b.startedAt;
const without = (ids: string[], id: string) => ids.filter((other) => other !== id);

/** The whole run as this part knows it: every instance's part merged. */
export const wholeRun = (f: Following): KillSwitchProgress => mergeKillSwitchParts([...f.others, f.part]) ?? f.part; // never null: the list holds f.part

/**
 * Whether the strategy held a position at any time since `since` (its trail in memory): false
 * only when the trail reaches back before `since` (or to its first record) and shows none (an
 * entry that never filled, ended by its stuck deadline while the process was down, is flat and
 * never was flattened).
 */
function heldSince(handle: StrategyHandle, since: number): boolean {
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
}

/** Sorts what this instance holds (`handles`) into the part; returns the strategies to flatten now. */
export function classifyHoldings(f: Following, handles: () => StrategyHandle[]): StrategyHandle[] {
  const run = wholeRun(f);
  const failed = new Set(run.failed.map((x) => x.strategyId));
  const pendingSomewhere = new Set([...run.pending, ...f.part.pending]);
  // Sets for the lookups: this runs over every strategy of the instance (10k: lists were quadratic).
  const flattened = new Set(run.flattened);
  const { part } = f;
  const pending = new Set(part.pending);
  const alreadyFlat = new Set(part.alreadyFlat);
  let flatBefore = false;
  const toFlatten: StrategyHandle[] = [];
  for (const handle of handles()) {
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
}

/**
 * Records an outcome in the run whose exit loop produced it and in every later run that took its
 * exit over (a kill switch pressed again while the first was flattening): each one waits for the
 * same exit, not a second. Returns the runs that recorded it.
 */
export function settleAll(f: Following, outcome: KillSwitchOutcome): Following[] {
  settle(f, outcome);
  const settled = [f];
  for (let heir = f.successor; heir && heir.inFlight.has(outcome.strategyId); heir = heir.successor) {
    settle(heir, outcome);
    settled.push(heir);
  }
  return settled;
}

/** Records one outcome in one run's part. */
function settle(f: Following, outcome: KillSwitchOutcome): void {
  const id = outcome.strategyId;
  f.inFlight.delete(id);
  f.part.pending = without(f.part.pending, id);
  if (outcome.flat) (outcome.neverHeld ? f.part.alreadyFlat : f.part.flattened).push(id);
  else if ('reason' in outcome) f.part.failed.push({ strategyId: id, reason: outcome.reason });
  // Lost: the new owner's part flattens it and lists it.
}
