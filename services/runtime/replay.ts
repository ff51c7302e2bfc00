import { initialTransition, transition } from 'xstate';
import { MAX_DEPTH, tooDeepAt } from '../../machines/bounds.js';
import { createStrategyMachine, type StrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import { StoredDataTooDeepError } from '../../machines/errors.js';
import { DELAY_NAMES } from '../../machines/delays.js';
import type { MachineEvent } from '../../machines/events.js';
import type { TransitionRecord } from '../../machines/types.js';
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
    return { ...base, type: 'lifecycle.rejected', trigger: record.trigger, reason: record.reason ?? '', code: record.code, data: record.data };
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
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function diff(strategyId: string, where: string, storedObject: object, replayedObject: object, out: ReplayDifference[]) {
  const stored = new Map(Object.entries(storedObject));
  const replayed = new Map(Object.entries(replayedObject));
  for (const field of new Set([...stored.keys(), ...replayed.keys()])) {
    if (canonical(stored.get(field)) !== canonical(replayed.get(field))) out.push({ strategyId, where, field, stored: stored.get(field), replayed: replayed.get(field) });
  }
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

/**
 * Rebuilds a strategy from its audit trail alone: each record's event is applied, purely, to the
 * machine from its initial state; every record the replay writes must equal the stored one.
 * Data nested past {@link MAX_DEPTH} (an older version's store) throws {@link StoredDataTooDeepError}.
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
  checkDepth(strategy.strategyId, 'params', strategy.params);
  for (const record of strategy.auditTrail) checkDepth(strategy.strategyId, `record ${record.seq}`, record);
  const differences: ReplayDifference[] = [];
  let [snapshot] = initialTransition(machine, { strategyId: strategy.strategyId, params: strategy.params, createdAt: strategy.createdAt });
  for (const record of strategy.auditTrail) {
    [snapshot] = transition(machine, snapshot, eventOfRecord(record, machine.id));
    const rebuilt = snapshot.context.lastRecord;
    if (canonical(rebuilt) !== canonical(record)) {
      diff(strategy.strategyId, `record ${record.seq}`, record, rebuilt ?? {}, differences);
      break;
    }
  }
  return { snapshot, differences };
}

/** The outcome of {@link verifyStore}. */
export interface VerifyReport {
  strategies: number;
  records: number;
  differences: ReplayDifference[];
}

/**
 * Opens `store`, reads every strategy (without claiming leases), closes it, then replays every
 * stored strategy from its audit trail and compares the result with its stored
 * snapshot (state and whole context). An empty `differences` means the trail and the snapshots
 * agree everywhere. Throws {@link StoredDataTooDeepError} naming the strategy and the record
 * when stored data nests past {@link MAX_DEPTH}.
 */
export async function verifyStore(store: StrategyStore, variants: readonly StrategyDefinition[]): Promise<VerifyReport> {
  const machines = new Map(variants.map((def) => [def.id, createStrategyMachine(def)]));
  await store.open();
  const report: VerifyReport = { strategies: 0, records: 0, differences: [] };
  let all: StoredStrategy[];
  try {
    all = await store.loadAll({ claim: false });
  } finally {
    await store.close();
  }
  for (const stored of all) {
    report.strategies++;
    report.records += stored.auditTrail.length;
    const machine = machines.get(stored.variant);
    if (!machine) {
      report.differences.push({ strategyId: stored.strategyId, where: 'variant', field: 'variant', stored: stored.variant, replayed: undefined });
      continue;
    }
    checkDepth(stored.strategyId, 'snapshot', stored.snapshot);
    const { snapshot, differences } = replayAuditTrail(machine, stored);
    report.differences.push(...differences);
    if (differences.length) continue;
    const saved = stored.snapshot as unknown as { value: unknown; context: Record<string, unknown> };
    diff(stored.strategyId, 'snapshot', { value: saved.value }, { value: snapshot.value }, report.differences);
    diff(stored.strategyId, 'snapshot', saved.context, snapshot.context, report.differences);
  }
  return report;
}
