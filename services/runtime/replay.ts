import { initialTransition, transition } from 'xstate';
import { MAX_DEPTH, tooDeepAt } from '../../machines/bounds.js';
import { createStrategyMachine, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import { StoredDataTooDeepError } from '../../machines/errors.js';
import { DELAY_NAMES } from '../../machines/delays.js';
import type { MachineEvent } from '../../machines/events.js';
import type { Position, TransitionRecord } from '../../machines/types.js';
import type { StoredStrategy, StrategyStore } from '../store/types.js';

/** The delay of each state's `after` (see machines/lifecycle.ts), by the state it leaves. */
const DELAY_OF_STATE: Record<string, string> = Object.fromEntries(Object.entries(DELAY_NAMES).map(([delay, state]) => [state, delay]));

/**
 * The machine event that wrote `record`, rebuilt from the record alone. Every rejection but a
 * failed hook was decided by the runtime (the machine has no catch-all), so it is replayed as the
 * runtime recorded it; a deadline record is XState's delayed event of the state it left.
 */
export function eventOfRecord(record: TransitionRecord, machineId: string): MachineEvent {
  const base: Record<string, unknown> = { at: record.at };
  if (record.eventId !== undefined) base.eventId = record.eventId;
  if (!record.accepted && record.code !== undefined && record.code !== 'HOOK_FAILED') {
    return {
      ...base,
      type: 'lifecycle.rejected',
      trigger: record.trigger,
      reason: record.reason ?? '',
      code: record.code,
      data: record.data,
    };
  }
  if (record.trigger === 'lifecycle.deadline') {
    const delay = DELAY_OF_STATE[record.previousState];
    return { ...base, type: `xstate.after.${delay}.${machineId}.${record.previousState}`, dueAt: record.data.dueAt } as MachineEvent;
  }
  return { ...record.data, ...base, type: record.trigger } as MachineEvent;
}

/** One way a replay disagrees with what was stored. */
export interface ReplayDifference {
  strategyId: string;
  /** The record (seq) where it first differs, or `snapshot` for the final comparison. */
  where: string;
  /**
   * The field that differs; `seq` for a record missing (`stored`: the seq found in its place,
   * none at the trail's end; `replayed`: the seq expected) or past the snapshot's seq; `record`
   * for a stored record the machine wrote none for (no edge for its event there).
   */
  field: string;
  stored: unknown;
  replayed: unknown;
}

/** What a replay rebuilt and how it compares. */
export interface ReplayResult {
  snapshot: StrategySnapshot;
  differences: ReplayDifference[];
}

/** JSON text with object keys sorted: equal for equal values whatever the key order (JSONB reorders keys). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function diff(
  strategyId: string,
  where: string,
  stored: Record<string, unknown>,
  replayed: Record<string, unknown>,
  out: ReplayDifference[],
) {
  for (const field of new Set([...Object.keys(stored), ...Object.keys(replayed)])) {
    if (canonical(stored[field]) !== canonical(replayed[field]))
      out.push({ strategyId, where, field, stored: stored[field], replayed: replayed[field] });
  }
}

/**
 * The replayed context as a build before `Position.pricedQuantity` wrote it, where the stored one
 * was written so (its position has none): that build's `entryPrice` stood for the whole quantity,
 * which the replay says with a `pricedQuantity` equal to the quantity. Any other `pricedQuantity`
 * (some fills carried no price) is a real difference and stays to be reported.
 */
function asWrittenBefore(stored: Record<string, unknown>, replayed: Record<string, unknown>): Record<string, unknown> {
  const kept = stored.position as Partial<Position> | null | undefined;
  const position = replayed.position as Position | null | undefined;
  if (!kept || typeof kept !== 'object' || 'pricedQuantity' in kept || !position || position.pricedQuantity !== position.quantity)
    return replayed;
  const { pricedQuantity: _same, ...before } = position;
  return { ...replayed, position: before };
}

/**
 * Throws {@link StoredDataTooDeepError} when `value` nests past {@link MAX_DEPTH}. Every reader
 * below (canonical JSON, XState's snapshots, the report) recurses; older versions stored input
 * unbounded, so a store may hold data deep enough to overflow the stack.
 */
function checkDepth(strategyId: string, where: string, value: unknown): void {
  const at = tooDeepAt(value, MAX_DEPTH);
  if (at !== null) throw new StoredDataTooDeepError(strategyId, where, at, MAX_DEPTH);
}

/** A replay in progress: records are applied one at a time, in seq order. */
interface Replayer {
  /** Applies one record; false once a record differs (the replay stops there). */
  step(record: TransitionRecord): boolean;
  readonly snapshot: StrategySnapshot;
  readonly differences: ReplayDifference[];
}

function startReplay(
  machine: StrategyMachine,
  strategy: Pick<StoredStrategy, 'strategyId' | 'params' | 'createdAt'> & { snapshot?: StoredStrategy['snapshot'] },
): Replayer {
  checkDepth(strategy.strategyId, 'params', strategy.params);
  const differences: ReplayDifference[] = [];
  // The incarnation was drawn at random when the strategy was added: no trail says it, the stored snapshot does.
  const stored = (strategy.snapshot as { context?: { incarnation?: unknown } } | undefined)?.context?.incarnation;
  let snapshot = initialTransition(machine, {
    strategyId: strategy.strategyId,
    params: strategy.params,
    createdAt: strategy.createdAt,
    ...(typeof stored === 'string' ? { incarnation: stored } : {}),
  })[0] as StrategySnapshot;
  return {
    step(record) {
      checkDepth(strategy.strategyId, `record ${record.seq}`, record);
      if (differences.length) return false;
      const previous = snapshot.context.lastRecord;
      // Seqs run from 1 without gaps: a record missing (deleted, or a trail cut at its start) is
      // named, not compared with the record that happens to follow it.
      const expected = (previous?.seq ?? 0) + 1;
      if (record.seq !== expected) {
        differences.push({
          strategyId: strategy.strategyId,
          where: `record ${expected}`,
          field: 'seq',
          stored: record.seq,
          replayed: expected,
        });
        return false;
      }
      snapshot = transition(machine, snapshot, eventOfRecord(record, machine.id))[0] as StrategySnapshot;
      const rebuilt = snapshot.context.lastRecord;
      // The machine took no edge for the record's event, so it wrote no record: the stored one is
      // reported whole, not compared with the previous record the context still holds.
      if (rebuilt === previous) {
        differences.push({
          strategyId: strategy.strategyId,
          where: `record ${record.seq}`,
          field: 'record',
          stored: record,
          replayed: undefined,
        });
        return false;
      }
      if (canonical(rebuilt) === canonical(record)) return true;
      diff(
        strategy.strategyId,
        `record ${record.seq}`,
        // Records and contexts are compared field by field, as the plain JSON objects they are.
        record as unknown as Record<string, unknown>,
        (rebuilt ?? {}) as unknown as Record<string, unknown>,
        differences,
      );
      return false;
    },
    get snapshot() {
      return snapshot;
    },
    differences,
  };
}

/**
 * Rebuilds a strategy from its audit trail alone: each record's event is applied, purely, to the
 * machine from its initial state; every record the replay writes must equal the stored one.
 * Data nested past {@link MAX_DEPTH} (an older version's store) throws {@link StoredDataTooDeepError}.
 * The whole trail is needed: a store's trail is replayed page by page by {@link verifyStore}.
 *
 * @example
 * ```ts
 * const { snapshot, differences } = replayAuditTrail(createStrategyMachine(lt112), { strategyId, params, createdAt, auditTrail });
 * ```
 */
export function replayAuditTrail(
  machine: StrategyMachine,
  strategy: Pick<StoredStrategy, 'strategyId' | 'params' | 'createdAt' | 'auditTrail'>,
): ReplayResult {
  const replay = startReplay(machine, strategy);
  // Every record is checked before any is replayed: a too-deep record is refused whatever precedes it.
  for (const record of strategy.auditTrail) checkDepth(strategy.strategyId, `record ${record.seq}`, record);
  for (const record of strategy.auditTrail) if (!replay.step(record)) break;
  return { snapshot: replay.snapshot, differences: replay.differences };
}

/** The outcome of {@link verifyStore}. */
export interface VerifyReport {
  strategies: number;
  records: number;
  differences: ReplayDifference[];
}

/** Records read from the store at a time by {@link verifyStore}. */
export const REPLAY_PAGE = 1000;

/**
 * Opens `store`, reads every strategy (without claiming leases and without its trail), replays
 * each one from its audit trail up to the snapshot's seq (so it can run beside live instances) read page by page ({@link REPLAY_PAGE} records at a time, so
 * memory does not grow with history), compares the result with its stored snapshot (state and
 * whole context), then closes the store. An empty `differences` means the trail and the
 * snapshots agree everywhere. Throws {@link StoredDataTooDeepError} naming the strategy and the
 * record when stored data nests past {@link MAX_DEPTH}.
 */
export async function verifyStore(store: StrategyStore, variants: readonly StrategyDefinition[]): Promise<VerifyReport> {
  const machines = new Map(variants.map((def) => [def.id, createStrategyMachine(def)]));
  await store.open();
  const report: VerifyReport = { strategies: 0, records: 0, differences: [] };
  try {
    for (const stored of await store.loadAll({ claim: false, window: 0 })) {
      report.strategies++;
      const machine = machines.get(stored.variant);
      if (!machine) {
        report.records += stored.seq;
        report.differences.push({
          strategyId: stored.strategyId,
          where: 'variant',
          field: 'variant',
          stored: stored.variant,
          replayed: undefined,
        });
        continue;
      }
      checkDepth(stored.strategyId, 'snapshot', stored.snapshot);
      const replay = startReplay(machine, stored);
      const { read, next } = await replayStored(store, stored.strategyId, stored.seq, replay);
      report.records += read;
      report.differences.push(...replay.differences);
      const beyond = next ? await recordBeyond(store, stored.strategyId, next) : null;
      if (beyond) report.differences.push(beyond);
      if (replay.differences.length || beyond) continue;
      const replayedThrough = replay.snapshot.context.lastRecord?.seq ?? 0;
      if (replayedThrough < stored.seq) {
        // The trail stops short of its snapshot (records deleted at its end): the first missing
        // record is named, not the snapshot fields it would explain. A strategy removed while it
        // was read (its trail deleted with it) is not a difference.
        if (await stillStored(store, stored.strategyId)) {
          report.differences.push({
            strategyId: stored.strategyId,
            where: `record ${replayedThrough + 1}`,
            field: 'seq',
            stored: undefined,
            replayed: replayedThrough + 1,
          });
        }
        continue;
      }
      // A stored snapshot is XState's persisted snapshot of a strategy machine (checked on restore).
      const saved = stored.snapshot as unknown as { value: unknown; context: Record<string, unknown> };
      diff(stored.strategyId, 'snapshot', { value: saved.value }, { value: replay.snapshot.value }, report.differences);
      const replayed = asWrittenBefore(saved.context, replay.snapshot.context as unknown as Record<string, unknown>);
      diff(stored.strategyId, 'snapshot', saved.context, replayed, report.differences);
    }
  } finally {
    await store.close();
  }
  return report;
}

/** Whether `strategyId` is still in the store (read again: it may have been removed since the first read). */
async function stillStored(store: StrategyStore, strategyId: string): Promise<boolean> {
  return (await store.loadAll({ claim: false, window: 0 })).some((s) => s.strategyId === strategyId);
}

/**
 * The difference a stored record `next` past the snapshot's seq makes, unless the strategy's stored
 * seq, read again, covers it (its owner committed it after the snapshot was read): the trail is
 * then ahead of its snapshot (a restore would start from the older state and its next write
 * collide with that record).
 */
async function recordBeyond(store: StrategyStore, strategyId: string, next: TransitionRecord): Promise<ReplayDifference | null> {
  // Rare (a live owner writing on, or a damaged store): the current seqs are read again.
  const now = (await store.loadAll({ claim: false, window: 0 })).find((s) => s.strategyId === strategyId);
  if (now && now.seq >= next.seq) return null;
  return { strategyId, where: `record ${next.seq}`, field: 'seq', stored: next.seq, replayed: undefined };
}

/**
 * Feeds a strategy's stored trail up to `seq` (the snapshot's) to `replay`, a page at a time;
 * returns how many records it read and the first record past `seq`, if any (committed after the
 * snapshot was read, or a trail ahead of its snapshot: see {@link recordBeyond}), which is not
 * replayed. Past a difference the records are still read: counted and checked for depth.
 */
async function replayStored(
  store: StrategyStore,
  strategyId: string,
  seq: number,
  replay: Replayer,
): Promise<{ read: number; next?: TransitionRecord }> {
  let read = 0;
  let after = 0;
  for (;;) {
    const page = await store.readAuditTrail(strategyId, { after, limit: REPLAY_PAGE });
    for (const record of page) {
      if (record.seq > seq) return { read, next: record };
      read++;
      replay.step(record);
    }
    if (page.length < REPLAY_PAGE) return { read };
    after = page[page.length - 1].seq;
  }
}
