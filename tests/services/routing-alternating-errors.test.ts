/**
 * Broker routing counts the tries of a report per kind of error, and its wait grows with every
 * try: errors alternating store-down / not-held-here (a reload failing because the store is down)
 * still back off, and the operator is told. Before, the count was reset on each change of kind:
 * a retry every second, for ever, and nobody told.
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

test('a fill report facing alternating store-down / not-held errors for 30 minutes is told to onError', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
  for (const e of [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry] as StrategyEvent[])
    expect(system.send('lt', e).accepted).toBe(true);
  let held = true;
  let down = false;
  let tries = 0;
  let armed = false;
  const errors: unknown[] = [];
  const broker = new PaperBroker({ clock, latencyMs: 100 });
  const routing = startBrokerRouting({
    broker,
    clock,
    onError: (e) => errors.push(e),
    target: {
      get: (id) => system.get(id),
      // While the store is down, each try finds the strategy in the other condition (held / being reloaded).
      has: (id) => {
        if (!armed) return system.has(id);
        const now = held;
        held = true; // found being reloaded: the reload (from a store that is down) gives it back, dormant
        return now && system.has(id);
      },
      send: (id, event) => {
        if (down) {
          tries++;
          armed = true;
          held = false; // the refused write: the strategy is reloaded
          throw new StoreUnavailableError('sqlite', 'disk I/O error');
        }
        return system.send(id, event);
      },
    },
  });
  down = true;
  routing.submitFor(system.get('lt'));
  for (let t = 0; t < 30 * 60; t++) {
    clock.increment(1000);
    await settle();
  }
  routing.stop();
  // Observed: hundreds of tries at a 1-2 s pace, nothing ever told.
  // Expected: told (as before this change), and the backoff growing (not a write try every 2 s).
  expect({ told: errors.length > 0, hammering: tries > 200 }).toEqual({ told: true, hammering: false });
});
