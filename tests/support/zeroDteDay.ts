/**
 * A 0DTE trading day on Friday 2026-12-04, run by the trading day over the paper broker, for the
 * same-day exit tests: strategy `z` enters at 10:30 (2 contracts expiring that day) and is in
 * MANAGING by 10:45. Orders the broker is sent are kept; the day's errors too.
 */
import { DateTime } from 'luxon';
import { zeroDte } from '../../machines/variants';
import { PaperBroker, type OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';

/** A New York wall time as epoch ms. */
export const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

export function zeroDteDay(options: { stuckExits?: boolean } = {}) {
  const clock = createSimulatedClock(ny('2026-12-04T09:00:00'));
  const system = createStrategySystem({ clock });
  system.add(zeroDte, { id: 'z', params: { quantity: 2 } });
  const orders: OrderRequest[] = [];
  // `stuckExits`: closing orders are acknowledged and not answered for hours (an exit that sticks).
  const paper = new PaperBroker({
    clock,
    ...(options.stuckExits
      ? {
          script: (o: OrderRequest) =>
            o.side === 'close' ? [{ kind: 'fill' as const, afterMs: 6 * 3_600_000 }] : [{ kind: 'fill' as const }],
        }
      : {}),
  });
  const broker = Object.assign(Object.create(paper) as PaperBroker, {
    submit: (order: OrderRequest) => (orders.push(order), paper.submit(order)),
  });
  const errors: string[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => void errors.push(String(e)) });
  clock.set(ny('2026-12-04T10:30:00'));
  system.send('z', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' });
  clock.set(ny('2026-12-04T10:45:00'));
  return {
    clock,
    system,
    orders,
    errors,
    stop: () => {
      day.stop();
      system.stop();
    },
  };
}
