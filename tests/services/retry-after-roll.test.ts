/**
 * `DteMonitorHandle.retry()` works out again only the exit of the position it was sent for. A
 * DEFENSIVE_EXIT_DTE refused by the store, then a roll (new expiry) before the trading day's
 * backoff ends: the rolled position keeps its own 21-DTE exit. Before, the retry cancelled it,
 * sent an exit the DTE guard refused, and the rolled position's exit was never armed again.
 */
import type { StrategyEvent } from '../../machines/events';
import { strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { startDteMonitor } from '../../services/market/dteMonitor';
import { drive, start } from '../support/fixtures';

const et = (local: string): number => Date.parse(`${local}-05:00`);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

test('a roll between a refused exit and its retry keeps the rolled position armed at its own 21 DTE', () => {
  const clock = createSimulatedClock(Date.parse('2026-10-01T10:00:00-04:00'));
  const { strategy } = start(strangle, { clock });
  drive(strategy, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-18' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-18' },
  ] as StrategyEvent[]);
  const sent: StrategyEvent[] = [];
  let refuse = true;
  const monitor = startDteMonitor({
    strategy,
    send: (event) => {
      sent.push(event);
      if (!refuse) strategy.trigger(event); // the first write is refused: nothing moved
    },
  });
  clock.set(Date.parse('2026-10-02T09:30:00-04:00'));
  drive(strategy, [{ type: 'MARKET_OPEN' }]);
  expect(strategy.state).toBe('MANAGING');
  clock.set(et('2026-11-27T09:30:00'));
  expect(sent.map((e) => e.type)).toEqual(['DEFENSIVE_EXIT_DTE']); // refused by the store
  refuse = false;
  // Store back; before the trading day's retry, a VIX spike and a roll to 2027-03-19.
  clock.set(et('2026-11-27T09:30:05'));
  drive(strategy, [
    { type: 'VIX_SPIKE', vix: 30 },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2027-03-19' },
  ] as StrategyEvent[]);
  expect(strategy.state).toBe('MANAGING');
  const armed = monitor.dueAt;
  expect(iso(armed)).toBe('2027-02-26T14:30:00.000Z'); // the rolled position's 21 DTE
  // The trading day's retry of the refused exit.
  clock.set(et('2026-11-27T09:30:10'));
  monitor.retry();
  clock.set(et('2026-11-27T09:31:00'));
  const rolledExitSentNow = strategy
    .getAuditTrail()
    .filter((r) => r.trigger === 'DEFENSIVE_EXIT_DTE')
    .map((r) => [r.timestamp, r.accepted]);
  // Expected: the rolled position still armed at its own exit.
  expect({ dueAt: iso(monitor.dueAt), rolledExitSentNow }).toEqual({ dueAt: iso(armed), rolledExitSentNow: [] });
  monitor.stop();
});
