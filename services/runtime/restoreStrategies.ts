import type { StrategyDefinition } from '../../machines/definition.js';
import { SnapshotRestoreError } from '../../machines/errors.js';
import type { StoredStrategy, StrategyStore } from '../store/types.js';
import { storedDueAt, unrestorable } from './leaseRound.js';
import type { RestoreHints } from './strategyRegistry.js';
import type { AddStrategyOptions } from './strategySystem.js';

/**
 * Audit records per strategy a persistent system loads at restore by default (see its
 * `restoreWindow` option): few, so a restore costs the same after a month or a year of history.
 * The in-memory window fills up again (to `auditWindow`) as the strategy runs; older pages are
 * read from the store.
 */
export const DEFAULT_RESTORE_WINDOW = 32;

/** What {@link createRestorer} needs from the persistent system around it. */
export interface RestorerOptions {
  /** Every variant the store may hold, by id. */
  variants: ReadonlyMap<string, StrategyDefinition>;
  /** The system the restored strategies are added to (`mayDefer`: it may keep them dormant). */
  system: { add(definition: StrategyDefinition, options: AddStrategyOptions, restore?: RestoreHints): unknown };
  /** Told the stored seq of each strategy it restores (the write-ahead's expected seq). */
  persisted(strategyId: string, seq: number): void;
}

/**
 * Starts one strategy from its stored form (snapshot, audit window, seq) in the system. A snapshot
 * the chart cannot take (a state it does not have) is refused before anything starts and reported
 * as a {@link SnapshotRestoreError} naming the strategy and its variant. With `mayDefer` (the
 * open), a strategy whose state runs nothing at once is kept dormant: checked against the chart
 * now, its actor made when first needed (see dormantRestore.ts).
 *
 * @example
 * ```ts
 * const restore = createRestorer({ variants, system, persisted: (id, seq) => persistedSeq.set(id, seq) });
 * restore(stored, true);
 * ```
 */
export function createRestorer(options: RestorerOptions): (stored: StoredStrategy, mayDefer?: boolean) => void {
  const { variants, system } = options;
  /** @throws {SnapshotRestoreError} naming the strategy and its variant. */
  return (stored, mayDefer = false) => {
    const def = variants.get(stored.variant);
    if (!def)
      throw new SnapshotRestoreError(
        `stored strategy "${stored.strategyId}" is of variant "${stored.variant}", which is not among the variants given (${[...variants.keys()].join(', ')})`,
      );
    try {
      system.add(
        def,
        {
          id: stored.strategyId,
          params: stored.params,
          snapshot: {
            format: 'strategy-lifecycle/1',
            strategyId: stored.strategyId,
            variant: stored.variant,
            snapshot: stored.snapshot,
          },
        },
        { mayDefer, auditTrail: () => stored.auditTrail },
      );
    } catch (error) {
      throw unrestorable(stored, error);
    }
    options.persisted(stored.strategyId, stored.seq);
  };
}

/**
 * Loads every stored strategy with its newest `window` audit records, in deadline order: started
 * in that order (by `restoreAtStart`), deadlines that passed while down fire in the order
 * they fell due.
 *
 * @example
 * ```ts
 * restoreAtStart(await loadForRestore(store, 200), restore, store, report);
 * ```
 * @throws {StoreUnavailableError} when the store cannot be read.
 */
export async function loadForRestore(store: StrategyStore, window: number): Promise<StoredStrategy[]> {
  const stored = await store.loadAll({ window });
  return [...stored].sort((a, b) => storedDueAt(a) - storedDueAt(b));
}
