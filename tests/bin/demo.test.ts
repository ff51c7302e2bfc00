/** `npm start`'s demo: three strategies through one simulated trading day. */
import { runDemo } from '../../bin/demo';

test('walks three strategies through the day and reports their statistics', () => {
  const lines: string[] = [];
  const { statistics, strategies } = runDemo((line) => lines.push(line));
  expect(statistics.map((s) => [s.strategyId, s.currentState, s.openQuantity])).toEqual([
    ['0dte-spx', 'CLOSED', 0],
    ['lt112-spx', 'POSITION_OPEN', 1],
    ['strangle-spy', 'POSITION_OPEN', 2],
  ]);
  // The unanswered LT112 order went stuck -> ERROR at 10:11 and recovered by itself at 10:41.
  const lt112 = strategies[1].getAuditTrail();
  expect(lt112.find((r) => r.currentState === 'ERROR')?.timestamp).toBe('2026-12-04T10:11:00.000-05:00');
  expect(lt112.find((r) => r.previousState === 'ERROR')?.timestamp).toBe('2026-12-04T10:41:00.000-05:00');
  // The duplicated fill was applied once.
  expect(strategies[2].getAuditTrail().filter((r) => r.code === 'DUPLICATE_EVENT')).toHaveLength(1);
  expect(lines.some((l) => l.includes('Final statistics'))).toBe(true);
  expect(lines.filter((l) => l.includes(' -> ')).length).toBe(strategies.reduce((n, s) => n + s.getAuditTrail().length, 0));
});
