/**
 * A bell refused by the store (MARKET_CLOSE at 16:00) is sent again by working out what the present
 * requires, not by reacting to the state anew: in ADJUSTING, with an adjust order already working
 * at the broker, reacting again asked the routing for the state's order a second time.
 */
import { DateTime } from 'luxon';
import { StoreUnavailableError } from '../../machines/errors';
import { strangle } from '../../machines/variants';
import { PaperBroker, type OrderRequest } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { MARKET_ZONE } from '../../services/market/time';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FlakyMemoryStore } from '../support/flakyStore';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();

test('a store failure retried in ADJUSTING does not place a second adjust order', () => {
  const store = new FlakyMemoryStore();
  const clock = createSimulatedClock(ny('2026-11-23T09:00:00'));
  const system = createStrategySystem({ store, clock });
  system.add(strangle, { id: 's' });
  const orders: OrderRequest[] = [];
  const paper = new PaperBroker({
    clock,
    session: '',
    script: (o) => (o.side === 'adjust' ? [{ kind: 'fill', afterMs: 3 * 3600_000 }] : [{ kind: 'fill' }]),
  });
  const broker = Object.assign(Object.create(paper) as PaperBroker, {
    submit: (order: OrderRequest) => (orders.push(order), paper.submit(order)),
  });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  clock.set(ny('2026-11-23T10:00:00'));
  expect(system.get('s').state).toBe('ANALYZING');
  system.send('s', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-02-02' });
  clock.set(ny('2026-11-23T10:05:00'));
  clock.set(ny('2026-11-24T09:31:00'));
  expect(system.get('s').state).toBe('MANAGING');
  expect(system.send('s', { type: 'VIX_SPIKE', vix: 40 } as never)).toMatchObject({ accepted: true, to: 'ADJUSTING' });
  clock.set(ny('2026-11-24T10:06:00'));
  expect(orders.filter((o) => o.side === 'adjust')).toHaveLength(1);
  store.full = true;
  clock.set(ny('2026-11-24T16:00:00'));
  expect(store.refused).toBeGreaterThan(0);
  expect(errors.every((e) => e instanceof StoreUnavailableError)).toBe(true);
  store.full = false;
  clock.set(ny('2026-11-24T16:00:05'));
  expect(system.get('s').state).toBe('ADJUSTING');
  expect(orders.filter((o) => o.side === 'adjust')).toHaveLength(1);
  day.stop();
  system.stop();
});
