import type { KillSwitchProgress, StoredSystemState } from './types.js';

/**
 * Whether `changes` has at least `count` entries and every one after them is to HALTED: a kill
 * switch started at `count` is in force (an operator confirming the halt does not overrule it;
 * ACTIVE or REDUCING does). The one rule for the system that resumes a run and for `status`.
 *
 * @example
 * ```ts
 * haltedSince(state.tradingStateHistory, run.tradingStateChanges); // false once ACTIVE was set since
 * ```
 */
export function haltedSince(changes: ReadonlyArray<{ to: string }>, count: number): boolean {
  if (changes.length < count) return false;
  for (let i = count; i < changes.length; i++) if (changes[i].to !== 'HALTED') return false;
  return true;
}

/** The part name of a step written without an instance (a single-instance store). */
const partOf = (step: KillSwitchProgress) => step.instanceId ?? '';

/** A run is known by its HALTED's place in the trading state history and its start time. */
const sameRun = (a: KillSwitchProgress, b: KillSwitchProgress) =>
  a.tradingStateChanges === b.tradingStateChanges && a.startedAt === b.startedAt;

/** Ids in the order first seen, without repeats. */
const unique = (ids: Iterable<string>) => [...new Set(ids)];

/**
 * The newest kill switch run in `steps` (oldest first): its parts, the newest step of each
 * instance, and the whole run merged from them. The newest run is the one started after the most
 * trading state changes: a step of an older run written late (an overruled run finishing its
 * exits) does not hide a newer one.
 */
export function newestKillSwitch(steps: readonly KillSwitchProgress[]): Pick<StoredSystemState, 'killSwitch' | 'killSwitchParts'> {
  if (steps.length === 0) return { killSwitch: null, killSwitchParts: [] };
  const newest = steps.reduce((best, step) =>
    step.tradingStateChanges > best.tradingStateChanges ||
    (step.tradingStateChanges === best.tradingStateChanges && step.startedAt > best.startedAt)
      ? step
      : best,
  );
  const parts = new Map<string, KillSwitchProgress>();
  for (const step of steps) if (sameRun(step, newest)) parts.set(partOf(step), step);
  const killSwitchParts = [...parts.values()];
  return { killSwitch: mergeKillSwitchParts(killSwitchParts), killSwitchParts };
}

/**
 * One run as a whole from its instances' parts: a strategy flattened by any instance is flattened
 * (also when it was pending in the part of an instance that died), one given up on is failed,
 * and the run has finished once any instance found that no strategy is left holding a position.
 */
export function mergeKillSwitchParts(parts: readonly KillSwitchProgress[]): KillSwitchProgress | null {
  const [first] = parts;
  if (!first) return null;
  const flattened = unique(parts.flatMap((p) => p.flattened));
  const failed = new Map<string, { strategyId: string; reason: string }>();
  for (const f of parts.flatMap((p) => p.failed)) if (!flattened.includes(f.strategyId)) failed.set(f.strategyId, f);
  const settled = new Set([...flattened, ...failed.keys()]);
  const finished = parts.map((p) => p.finishedAt).filter((at): at is number => at !== null);
  return {
    reason: first.reason,
    operator: first.operator,
    startedAt: first.startedAt,
    tradingStateChanges: first.tradingStateChanges,
    at: Math.max(...parts.map((p) => p.at)),
    pending: unique(parts.flatMap((p) => p.pending)).filter((id) => !settled.has(id)),
    flattened,
    alreadyFlat: unique(parts.flatMap((p) => p.alreadyFlat)).filter((id) => !settled.has(id)),
    failed: [...failed.values()],
    finishedAt: finished.length ? Math.max(...finished) : null,
  };
}
