/**
 * A report that waited out a long store outage (more than the 12 bounded tries) still gets the
 * bounded tries meant for a strategy not held here when the first OwnershipLostError follows (it
 * is being reloaded right after the store came back). Before, the outage's try count was counted
 * against them and the report was dropped at once.
 */
import { StoreUnavailableError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { startBrokerRouting } from '../../services/runtime/routing/brokerRouting';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

test('a fill that waited out a 15-minute outage survives a short reload after it', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  // The strategies' own clock stands still (no entry deadline here): only the routing's and broker's moves.
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const e of [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry] as StrategyEvent[])
    expect(system.send('lt', e).accepted).toBe(true);
  expect(system.get('lt').state).toBe('PENDING_ENTRY');
  let mode: 'down' | 'reloading' | 'up' = 'down';
  const errors: unknown[] = [];
  const broker = new PaperBroker({ clock, latencyMs: 100 });
  const routing = startBrokerRouting({
    broker,
    clock,
    onError: (e) => errors.push(e),
    target: {
      get: (id) => system.get(id),
      has: (id) => mode !== 'reloading' && system.has(id),
      send: (id, event) => {
        if (mode === 'down') throw new StoreUnavailableError('sqlite', 'disk I/O error');
        return system.send(id, event);
      },
    },
  });
  routing.submitFor(system.get('lt'));
  for (let t = 0; t < 15 * 60; t++) {
    clock.increment(1000);
    await settle();
  }
  expect(system.get('lt').state).toBe('PENDING_ENTRY');
  mode = 'reloading'; // the store is back; the strategy is reloaded (31 s: one retry falls in it)
  for (let t = 0; t < 31; t++) {
    clock.increment(1000);
    await settle();
  }
  mode = 'up';
  for (let t = 0; t < 120; t++) {
    clock.increment(1000);
    await settle();
  }
  routing.stop();
  const trail = system
    .get('lt')
    .getAuditTrail()
    .filter((r) => r.trigger.startsWith('ORDER_'))
    .map((r) => [r.trigger, r.accepted]);
  expect({ trail, dropped: errors.filter((e) => !(e instanceof StoreUnavailableError)).map(String) }).toEqual({
    trail: [
      ['ORDER_SUBMITTED', true],
      ['ORDER_FILLED', true],
    ],
    dropped: [],
  });
});
