/**
 * The strategy system as the routing sees it ({@link OrderTarget}) and what the routing reads of
 * its strategies: the state one is in here, its entry's data, its incarnation, and a report id
 * for a broker that gives none. A strategy not held here reads as absent, never as an error.
 */
import type { TradingState } from '../../../guards/portfolio.js';
import type { StrategyEvent } from '../../../machines/events.js';
import type { StrategyState } from '../../../machines/states.js';
import type { ExecutionReport } from '../../broker/broker.js';
import type { MaybePromise } from '../settle.js';
import type { StrategyActor, TriggerResult } from '../strategyActor.js';

/** What the routing needs of a strategy system: read a strategy, send it an event. */
export interface OrderTarget {
  get(id: string): StrategyActor;
  has?(id: string): boolean;
  send(id: string, event: StrategyEvent): MaybePromise<TriggerResult>;
  /** The system's trading state: no entry (HALTED, REDUCING) or adjustment (HALTED) is placed against it. */
  readonly tradingState?: TradingState;
}

/**
 * What the routing reads of the strategies behind `target`.
 *
 * @example
 * ```ts
 * const { stateOf } = targetLookups(system);
 * stateOf('lt112-spx'); // 'MANAGING', or undefined when it is not held here
 * ```
 */
export function targetLookups(target: OrderTarget) {
  /** The state `strategyId` is in here now, or undefined when it is not held here (fenced, reloading). */
  const stateOf = (strategyId: string): StrategyState | undefined => {
    try {
      return target.has && !target.has(strategyId) ? undefined : target.get(strategyId).state;
    } catch {
      return undefined;
    }
  };

  /** The data of the record that entered PENDING_ENTRY: the entry's expiry and underlying (an order placed before a restart). */
  const entryData = (strategyId: string): Record<string, unknown> => {
    try {
      const trail = target.get(strategyId).getAuditTrail();
      for (let i = trail.length - 1; i >= 0; i--) if (trail[i].accepted && trail[i].currentState === 'PENDING_ENTRY') return trail[i].data;
    } catch {
      // not held here: nothing to read
    }
    return {};
  };

  /**
   * The report id of a broker that gives none: its kind and the contracts the routing has seen
   * filled of the order, and the strategy's last audit seq. The count lives in this routing's
   * memory and starts again after a restart; the seq is stored with the strategy and only grows,
   * so a report after a restart never takes the id of one before it (which the strategy would
   * refuse as a duplicate: a real fill lost). Without the broker's id a report delivered twice
   * cannot be told from two reports: give `reportId`. The seq is the snapshot's (`lastRecord`), not
   * the in-memory audit window's, which is empty after a restore with `restoreWindow: 0`.
   */
  const fallbackReportId = (report: ExecutionReport, total: number): string => {
    let seq: number | undefined;
    try {
      seq = target.get(report.strategyId).getSnapshot().context.lastRecord?.seq;
    } catch {
      // not held here: the send refuses it anyway
    }
    return `${report.kind}-${total}${seq === undefined ? '' : `@${seq}`}`;
  };

  /**
   * True when an order placed by `incarnation` is not the current strategy's under `strategyId`:
   * one removed before it was added again, maybe before a restart, when the routing that knew
   * of the removal is gone. An order, or a strategy, without an incarnation (stored before it was
   * kept) matches any; so does a strategy not held here (nothing to compare with).
   */
  const ofEarlierIncarnation = (strategyId: string, incarnation: string | undefined): boolean => {
    if (incarnation === undefined) return false;
    try {
      if (target.has && !target.has(strategyId)) return false;
      const current = target.get(strategyId).getSnapshot().context.incarnation;
      return current !== undefined && current !== incarnation;
    } catch {
      return false;
    }
  };

  return { stateOf, entryData, fallbackReportId, ofEarlierIncarnation };
}

/** The lookups of {@link targetLookups}. */
export type TargetLookups = ReturnType<typeof targetLookups>;
