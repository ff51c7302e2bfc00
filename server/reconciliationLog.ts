import type { ReconciliationReport } from '../services/runtime/persistentSystem.js';

/** One log line about what the start's broker reconciliation found. */
export interface ReconciliationLine {
  level: 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/**
 * The log lines of a reconciliation report: a warning per strategy held in ERROR for a position
 * mismatch (its state says so too), an error per mismatch nothing could hold (a TERMINATED
 * strategy) and per broker position of a strategy the system does not hold: contracts no strategy
 * manages, which only an operator can settle.
 *
 * @example
 * ```ts
 * reconciliationLines({ checked: 1, mismatches: [], unknown: [{ strategyId: 'old', quantity: 4 }] });
 * // [{ level: 'error', message: 'broker holds 4 contracts for strategy old, which this system does not hold: no strategy manages them', ... }]
 * ```
 */
export function reconciliationLines(report: ReconciliationReport): ReconciliationLine[] {
  const lines: ReconciliationLine[] = [];
  for (const m of report.mismatches) {
    const mismatch = `position mismatch: expected ${m.expected}, broker has ${m.broker}`;
    lines.push(
      m.held
        ? { level: 'warn', message: `strategy ${m.strategyId}: held in ERROR: ${mismatch}`, fields: { ...m } }
        : {
            level: 'error',
            message: `strategy ${m.strategyId}: ${mismatch}, and its state takes no hold: check the account`,
            fields: { ...m },
          },
    );
  }
  for (const u of report.unknown)
    lines.push({
      level: 'error',
      message: `broker holds ${u.quantity} contracts for strategy ${u.strategyId}, which this system does not hold: no strategy manages them`,
      fields: { ...u },
    });
  return lines;
}
