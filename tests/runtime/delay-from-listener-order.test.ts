/**
 * A transition listener that moves a simulated clock past a deadline its strategy still waits for
 * (a refused event leaves PENDING_ENTRY's stuck deadline armed). The timer fired at once, and the
 * in-memory pipeline took the deadline inside the publication of the refused event's record: the
 * listeners after the one that moved the clock heard seqs 5 and 6 before 4. Now a delay that falls
 * due while its strategy is publishing waits for the publication to end (a microtask), as XState
 * queues an event sent during a transition: every listener hears the records in seq order.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const HOUR = 60 * 60_000;
/** To PENDING_ENTRY (stuck deadline armed), then a MARKET_OPEN it refuses. */
const events: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[1].entry, { type: 'MARKET_OPEN' }];
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('in-memory system: every listener hears the records in seq order when one moves the clock past a deadline', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'a' });
  const heard: number[] = [];
  system.subscribe(({ record }) => {
    if (record.trigger === 'MARKET_OPEN' && !record.accepted) clock.increment(HOUR);
  });
  system.subscribe(({ record }) => void heard.push(record.seq));
  for (const event of events) system.send('a', event);
  await settle();
  const trail = system.get('a').getAuditTrail();
  expect(trail.map((r) => `${r.trigger} ${r.currentState} ${r.accepted}`).slice(3, 5)).toEqual([
    'MARKET_OPEN PENDING_ENTRY false',
    'lifecycle.deadline ERROR true',
  ]);
  expect(heard).toEqual(trail.map((r) => r.seq));
  expect(heard).toEqual([...heard].sort((x, y) => x - y));
  system.stop();
});

test('lone strategy: the same from its own subscribe', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const strategy = createStrategyActor(createStrategyMachine(lt112), { id: 'a', clock });
  const heard: number[] = [];
  strategy.subscribe(({ record }) => {
    if (record.trigger === 'MARKET_OPEN' && !record.accepted) clock.increment(HOUR);
  });
  strategy.subscribe(({ record }) => void heard.push(record.seq));
  for (const event of events) strategy.trigger(event);
  await settle();
  expect(strategy.getAuditTrail()[4]).toMatchObject({ trigger: 'lifecycle.deadline', currentState: 'ERROR' });
  expect(heard).toEqual(strategy.getAuditTrail().map((r) => r.seq));
  strategy.stop();
});
