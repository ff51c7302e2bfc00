/** The kill switch and an exit already working (EXITING, PARTIAL_EXIT): it waits for the broker, it places no second exit order. */
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM } from '../support/fixtures';
import { toPosition } from '../support/persistedSteps';

const toExiting: StrategyEvent[] = [...toPosition, { type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }];

test.each([
  ['EXITING', toExiting, 2],
  ['PARTIAL_EXIT', [...toExiting, { type: 'ORDER_PARTIALLY_FILLED', quantity: 1 }], 1],
] as const)(
  'a strategy in %s (tagged exiting) is left to its working exit order: no MANUAL_OVERRIDE to EXITING, flat once the rest fills',
  async (state, steps, open) => {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    system.add(lt112, { id: 'held' });
    for (const e of steps) system.send('held', e);
    expect(system.get('held').state).toBe(state);
    const before = system.get('held').getAuditTrail().length;

    const done = system.killSwitch('risk desk');
    clock.increment(1000);
    // Nothing sent: a MANUAL_OVERRIDE to EXITING here would place a second exit order for the contracts still open.
    expect(system.get('held').state).toBe(state);
    expect(system.get('held').getAuditTrail().slice(before)).toEqual([]);

    expect(system.send('held', { type: 'ORDER_FILLED', quantity: open })).toMatchObject({ accepted: true, to: 'CLOSED' });
    clock.increment(1000);
    expect(await done).toMatchObject({ flattened: ['held'], failed: [] });
  },
);
