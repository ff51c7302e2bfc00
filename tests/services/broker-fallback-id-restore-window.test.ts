/**
 * A broker whose reports carry no `reportId`: the routing names a report `<orderId>/<kind>-<filled
 * so far>@<the strategy's last audit seq>`. The seq was read from the in-memory audit window, which
 * a persistent system restored with `restoreWindow: 0` holds empty: after a restart the id lost its
 * seq (`B-1/partial-1`), and after a second restart the next partial fill got that same id again,
 * was refused as a duplicate, and the strategy held 2 contracts while the broker held 3. The seq is
 * now the snapshot's (`lastRecord`), stored with the strategy whatever the window.
 * SQLite in a temp dir, the simulated clock, a scripted broker: no mocks.
 */
import { join } from 'node:path';
import { strangle } from '../../machines/variants';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { ScriptedBroker, settled } from '../support/scriptedBroker';

test.each([0, 32])(
  'restoreWindow %p: a partial fill after each of two restarts is applied, not refused as a duplicate',
  async (restoreWindow) => {
    const { dir, cleanup } = tempDir('sl-fallback-id-');
    const file = join(dir, 'f.db');
    const broker = new ScriptedBroker();
    const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
    const errors: unknown[] = [];
    const open = () => openStrategySystem({ store: new SqliteStore(file), variants: [strangle], clock, restoreWindow });
    let system = await open();
    let day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
    try {
      await system.add(strangle, { id: 's', params: { quantity: 4 } });
      await system.send('s', { type: 'MARKET_OPEN' });
      await system.send('s', { type: 'TIME_WINDOW_START', window: 'entry' });
      await system.send('s', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' });
      clock.increment(0);
      await settled();
      expect(broker.orders.map((o) => [o.id, o.order.side, o.order.quantity])).toEqual([['B-1', 'open', 4]]);
      for (let held = 1; held <= 3; held++) {
        if (held > 1) {
          // The service goes down and comes back over the same file; the broker still works B-1.
          day.stop();
          await system.close();
          system = await open();
          day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
          clock.increment(0);
          await settled();
        }
        broker.report({ orderId: 'B-1', strategyId: 's', kind: 'partial', quantity: 1, price: 1 });
        broker.held = held;
        await settled();
        await system.flush();
        expect({ held, position: system.get('s').getSnapshot().context.position?.quantity }).toEqual({ held, position: held });
      }
      const page = await system.readAuditTrail('s', { limit: 50 });
      const fills = page.records.filter((r) => r.trigger === 'ORDER_PARTIALLY_FILLED');
      expect(fills.map((r) => r.accepted)).toEqual([true, true, true]);
      expect(new Set(fills.map((r) => r.eventId)).size).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      day.stop();
      await system.close();
      cleanup();
    }
  },
);
