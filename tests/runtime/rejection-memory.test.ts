/**
 * The trail keeps every rejection record: a NO_EDGE refusal's reason and message are made once
 * per state and event type and shared, so a record refused that way costs only its own object,
 * payload and timestamp.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a NO_EDGE rejection record kept in the trail costs under 420 bytes of heap', () => {
  const clock = createSimulatedClock('2026-03-02T09:00:00-05:00');
  const count = 5_000;
  const strategy = createStrategyActor(createStrategyMachine(lt112), {
    id: 'mem',
    clock,
    auditLimit: count + 10,
    params: { underlying: 'SPX' },
  });
  strategy.trigger({ type: 'MARKET_OPEN' });
  // Warm: the first refusal of each kind makes its memo entries.
  strategy.trigger({ type: 'ORDER_FILLED', quantity: 1 });
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    clock.increment(1_000);
    expect(strategy.trigger({ type: 'ORDER_SUBMITTED' }).code).toBe('NO_EDGE');
  }
  gc();
  const perRecord = (process.memoryUsage().heapUsed - before) / count;
  const last = strategy.getAuditTrail().at(-1);
  expect(last?.reason).toBe('READY has no edge for ORDER_SUBMITTED');
  expect(last?.message).toBe('rejected ORDER_SUBMITTED in READY');
  // Measured: about 350 bytes; worded afresh per record (two cons-string trees), about 520.
  expect(perRecord).toBeLessThan(420);
  strategy.stop();
});
