/**
 * The one path of every event, in memory and persisted: validate -> gate -> one transition (on
 * the real actor) -> hooks -> store write -> commit or roll back -> notify. The first three
 * steps and the hooks are the strategy handle's (`prepare`, `begin`); this file adds the write.
 * An in-memory system has no write, so its answer is synchronous; a store answers with a promise.
 */
import { isThenable, type MaybePromise } from './settle.js';
import type { PreparedTrigger, StrategyHandle, Transaction } from './strategyHandle.js';
import type { TriggerResult } from './strategyActor.js';

/** Writes a transaction's records and snapshot; throws (or rejects) when the store refuses it. */
export type TransactionWrite = (tx: Transaction) => MaybePromise<void>;

/**
 * Runs a prepared trigger through the pipeline: the transition once, then `write` (none: in
 * memory), then the commit; a throwing or rejecting write rolls the strategy back to its last
 * committed snapshot and rethrows, so no listener, audit trail or delay saw the transition.
 *
 * @example
 * ```ts
 * const result = runPipeline(handle, handle.prepare(event, gate));                 // in memory: a TriggerResult
 * const stored = await runPipeline(handle, prepared, (tx) => store.append(writeOf(tx))); // after the commit
 * ```
 */
export function runPipeline(handle: StrategyHandle, prepared: PreparedTrigger, write?: TransactionWrite): MaybePromise<TriggerResult> {
  const tx = handle.begin(prepared);
  if (tx.kind === 'undelivered') return tx.result;
  if (!write || tx.records.length === 0) return handle.commit(tx);
  let written: MaybePromise<void>;
  try {
    written = write(tx);
  } catch (error) {
    handle.rollback(tx);
    throw error;
  }
  if (!isThenable(written)) return handle.commit(tx);
  return written.then(
    () => handle.commit(tx),
    (error: unknown) => {
      handle.rollback(tx);
      throw error;
    },
  );
}
