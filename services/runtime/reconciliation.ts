import type { StrategyEvent } from '../../machines/events.js';
import { holdingsByStrategy, type BrokerAdapter } from '../broker/broker.js';
import type { StrategySnapshot } from '../../machines/createStrategyMachine.js';
import { topLevelState } from '../../machines/states.js';
import type { TriggerResult } from './strategyActor.js';

/** What reconciliation with the broker found on restore. */
export interface ReconciliationReport {
  checked: number;
  /**
   * Strategies whose position differs from the broker's. `held`: the strategy is now held in ERROR;
   * false where its state takes no hold (TERMINATED has no way out): an operator must see to it.
   */
  mismatches: Array<{ strategyId: string; expected: number; broker: number; held: boolean }>;
  /** Broker positions of strategies this system does not hold. */
  unknown: Array<{ strategyId: string; quantity: number }>;
}

/**
 * Compares every restored position with the broker's; a mismatch never silently continues: the
 * strategy is held in ERROR ("position mismatch: expected X, broker has Y") for an operator.
 *
 * @example
 * ```ts
 * const report = await reconcile(broker, { ids: core.ids, handleOf: core.handleOf }, send);
 * ```
 */
export async function reconcile(
  broker: BrokerAdapter,
  system: { ids(): string[]; handleOf(id: string): { peekSnapshot(): Pick<StrategySnapshot, 'value' | 'context'> } },
  send: (id: string, event: StrategyEvent) => Promise<TriggerResult>,
): Promise<ReconciliationReport> {
  const report: ReconciliationReport = { checked: 0, mismatches: [], unknown: [] };
  const held = holdingsByStrategy(await broker.positions());
  for (const id of system.ids()) {
    report.checked++;
    // Read without waking a dormant strategy (see dormantRestore.ts): only a mismatch is sent to it.
    const snapshot = system.handleOf(id).peekSnapshot();
    const expected = snapshot.context.position?.quantity ?? 0;
    const actual = held.get(id) ?? 0;
    held.delete(id);
    if (expected === actual) continue;
    const state = topLevelState(snapshot.value);
    const reason = `position mismatch: expected ${expected}, broker has ${actual}`;
    const result = await send(
      id,
      state === 'ERROR' || state === 'TERMINATED'
        ? { type: 'MANUAL_OVERRIDE', target: 'ERROR', reason, operator: 'reconciliation', hold: true }
        : { type: 'SYSTEM_ERROR', reason, hold: true },
    );
    report.mismatches.push({ strategyId: id, expected, broker: actual, held: result.accepted });
  }
  for (const [strategyId, quantity] of held) report.unknown.push({ strategyId, quantity });
  return report;
}
