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

/** What starts the reason of the HALTED a kill switch stores first (the operator's reason follows). */
export const KILL_SWITCH_REASON_PREFIX = 'kill switch: ';

/**
 * The kill switch run whose start was interrupted, as its first step would have stored it, or
 * null when there is none. A kill switch stores HALTED (reason `kill switch: …`) first and its
 * run's first step after it: a process killed between the two leaves HALTED in force with no run
 * stored for it. This finds the newest such HALTED still in force (only HALTED changes since) that
 * no stored run covers (`run`, the newest stored one, started before it), and gives the run it
 * started: its reason and operator, started at the change (`startedAt`, `at`), known by the count
 * of changes up to and including it, nothing flattened yet. Every instance derives the same run
 * from the same history, so each joins it with a part of its own (flattening only what it holds).
 *
 * @example
 * ```ts
 * interruptedKillSwitchStart(state.tradingStateHistory, state.killSwitch); // the run to carry on, or null
 * ```
 */
export function interruptedKillSwitchStart(
  changes: ReadonlyArray<{ to: string; reason: string; operator?: string; at: number }>,
  run: Pick<KillSwitchProgress, 'tradingStateChanges'> | null,
): KillSwitchProgress | null {
  for (let i = changes.length - 1; i >= 0 && changes[i].to === 'HALTED'; i--) {
    const change = changes[i];
    if (!change.reason.startsWith(KILL_SWITCH_REASON_PREFIX)) continue;
    const count = i + 1;
    // A stored run started at or after it carries it (a step without a count is never taken for missing).
    if (run && !(run.tradingStateChanges < count)) return null;
    return {
      reason: change.reason.slice(KILL_SWITCH_REASON_PREFIX.length),
      operator: change.operator ?? 'kill-switch',
      startedAt: change.at,
      tradingStateChanges: count,
      at: change.at,
      pending: [],
      flattened: [],
      alreadyFlat: [],
      failed: [],
      finishedAt: null,
    };
  }
  return null;
}

/**
 * `state` with the run of an interrupted kill switch start ({@link interruptedKillSwitchStart}) as
 * its kill switch (no parts stored yet), or `state` itself when there is none.
 *
 * @example
 * ```ts
 * const { killSwitch } = withInterruptedKillSwitch(await store.loadSystemState());
 * ```
 */
export function withInterruptedKillSwitch(state: StoredSystemState): StoredSystemState {
  const start = interruptedKillSwitchStart(state.tradingStateHistory, state.killSwitch);
  return start ? { ...state, killSwitch: start, killSwitchParts: [] } : state;
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
 * (also when it was pending in the part of an instance that died), one given up on is failed, one
 * any instance found flat is no longer pending (an entry order a dead instance was watching, then
 * rejected on the instance that took it over: listed as already flat there), and the run has
 * finished once any instance found that no strategy is left holding a position.
 */
export function mergeKillSwitchParts(parts: readonly KillSwitchProgress[]): KillSwitchProgress | null {
  const [first] = parts;
  if (!first) return null;
  const flattened = unique(parts.flatMap((p) => p.flattened));
  const failed = new Map<string, { strategyId: string; reason: string }>();
  for (const f of parts.flatMap((p) => p.failed)) if (!flattened.includes(f.strategyId)) failed.set(f.strategyId, f);
  const settled = new Set([...flattened, ...failed.keys()]);
  const alreadyFlat = unique(parts.flatMap((p) => p.alreadyFlat)).filter((id) => !settled.has(id));
  const flatSomewhere = new Set(alreadyFlat);
  const finished = parts.map((p) => p.finishedAt).filter((at): at is number => at !== null);
  return {
    reason: first.reason,
    operator: first.operator,
    startedAt: first.startedAt,
    tradingStateChanges: first.tradingStateChanges,
    at: Math.max(...parts.map((p) => p.at)),
    // A part lists an id either as pending or as already flat, never both: already flat in one part
    // and pending in another, the pending one is an older owner's (dead, or fenced off since).
    pending: unique(parts.flatMap((p) => p.pending)).filter((id) => !settled.has(id) && !flatSomewhere.has(id)),
    flattened,
    alreadyFlat,
    failed: [...failed.values()],
    finishedAt: finished.length ? Math.max(...finished) : null,
  };
}

const isStringArray = (value: unknown) => Array.isArray(value) && value.every((id) => typeof id === 'string');
const isTime = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

/**
 * What is wrong with a stored kill switch step (parsed JSON) as a {@link KillSwitchProgress}, or
 * undefined when it has that shape (a step written before runs carried `tradingStateChanges` may
 * lack it). A step of another shape would throw deep inside the merge of a run's parts, or be read
 * as a run with nothing left to flatten: the store reports it as damage instead.
 *
 * @example
 * ```ts
 * killSwitchStepProblem({ reason: 'x', pending: 'z' }); // 'its pending is not a list of strategy ids'
 * ```
 */
export function killSwitchStepProblem(step: unknown): string | undefined {
  if (typeof step !== 'object' || step === null || Array.isArray(step)) return 'it is not an object';
  const s = step as Record<string, unknown>;
  for (const key of ['reason', 'operator'] as const) if (typeof s[key] !== 'string') return `its ${key} is not a string`;
  for (const key of ['startedAt', 'at'] as const) if (!isTime(s[key])) return `its ${key} is not a time (a number)`;
  if (s.finishedAt !== null && !isTime(s.finishedAt)) return 'its finishedAt is neither null nor a time (a number)';
  if (s.tradingStateChanges !== undefined && !(Number.isInteger(s.tradingStateChanges) && (s.tradingStateChanges as number) >= 0))
    return 'its tradingStateChanges is not a count';
  if (s.instanceId !== undefined && typeof s.instanceId !== 'string') return 'its instanceId is not a string';
  for (const key of ['pending', 'flattened', 'alreadyFlat'] as const)
    if (!isStringArray(s[key])) return `its ${key} is not a list of strategy ids`;
  const failed = s.failed;
  if (
    !Array.isArray(failed) ||
    !failed.every(
      (f) =>
        typeof f === 'object' &&
        f !== null &&
        typeof (f as { strategyId?: unknown }).strategyId === 'string' &&
        typeof (f as { reason?: unknown }).reason === 'string',
    )
  )
    return 'its failed is not a list of { strategyId, reason }';
  return undefined;
}
