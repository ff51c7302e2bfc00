/**
 * A reject carries no fill, so a broker adapter (a JS one, or one mapping a JSON feed) may leave
 * `quantity` out of it: the ORDER_REJECTED is delivered. The first version of the boundary check
 * refused the whole report with InvalidExecutionReportError, and the strategy never learnt its
 * order was rejected: it waited in PENDING_ENTRY on a dead order.
 */
import { handBroker } from '../support/handBroker';
import { startBrokerRouting } from '../../services/runtime/routing/brokerRouting';
import type { OrderTarget } from '../../services/runtime/routing/routingTarget';
import { committedResult } from '../../services/runtime/handleResults';
import { createSimulatedClock } from '../../services/market/clock';
import { FRIDAY_11AM } from '../support/fixtures';

test('a reject without a quantity still reaches the strategy as ORDER_REJECTED', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const sent: string[] = [];
  const target: OrderTarget = {
    get: () => {
      throw new Error('not read');
    },
    send: (_id, event) => {
      sent.push(event.type);
      return committedResult(
        {
          seq: 1,
          timestamp: '',
          at: clock.now(),
          previousState: 'PENDING_ENTRY',
          currentState: 'READY',
          trigger: event.type,
          data: {},
          message: '',
          accepted: true,
        },
        undefined,
      );
    },
  };
  const { broker, emit } = handBroker();
  const errors: unknown[] = [];
  startBrokerRouting({ broker, target, clock, onError: (e) => errors.push(e) });
  emit({ orderId: 'o1', strategyId: 'a', kind: 'reject', reportId: 'r1', reason: 'margin' });
  expect(errors.map(String)).toEqual([]);
  expect(sent).toEqual(['ORDER_REJECTED']);
});
