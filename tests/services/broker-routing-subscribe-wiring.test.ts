/**
 * The wiring startBrokerRouting documents calls `routing.submitFor` inside `system.subscribe`. With
 * a broker that acknowledges at once (PaperBroker), the routing's ORDER_SUBMITTED is sent from
 * inside the strategy's own transition listener, and the strategy refuses it as REENTRANT_TRIGGER
 * (not delivered, no audit record). The routing now sends it again on a later turn (0 ms of its
 * clock, or a microtask without one), the reports behind it waiting, so the entry is acknowledged
 * and then filled. An event that still cannot be delivered, or reaches a stopped strategy, is
 * told to `onError` as an UndeliveredEventError.
 *
 * Before, the routing counted the refused answer as delivered: the ORDER_SUBMITTED was lost, the
 * fill landed in PENDING_ENTRY with no edge for it, and the broker held 3 contracts the strategy
 * did not know of, with nothing told to `onError`.
 */
import { handBroker } from '../support/handBroker';
import { lt112 } from '../../machines/variants';
import { UndeliveredEventError } from '../../machines/errors';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { undeliveredResult } from '../../services/runtime/handleResults';
import { startBrokerRouting } from '../../services/runtime/routing/brokerRouting';
import { needsExitOrder, wantsOrder } from '../../services/runtime/routing/orderIntent';
import type { OrderTarget } from '../../services/runtime/routing/routingTarget';
import { PaperBroker, type ExecutionReport } from '../../services/broker/broker';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

function wired(withClock: boolean) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'a', params: { quantity: 3 } });
  const errors: unknown[] = [];
  const broker = new PaperBroker({ clock, session: '' });
  const routing = startBrokerRouting({ broker, target: system, ...(withClock ? { clock } : {}), onError: (e) => errors.push(e) });
  // As in the @example of startBrokerRouting:
  system.subscribe(({ strategyId, record }) => {
    if (record.accepted && (wantsOrder(record.currentState) || needsExitOrder(record))) routing.submitFor(system.get(strategyId));
  });
  system.send('a', { type: 'MARKET_OPEN' });
  system.send('a', { type: 'TIME_WINDOW_START' });
  system.send('a', VARIANTS[1].entry);
  return { clock, system, broker, errors };
}

test('the documented wiring gets the entry acknowledged and filled', async () => {
  const { clock, system, broker, errors } = wired(true);
  clock.increment(1000); // the deferred ORDER_SUBMITTED at once, the paper fill after its 100 ms latency
  const held = (await broker.positions()).find((p) => p.strategyId === 'a')?.quantity ?? 0;
  expect(held).toBe(3);
  expect(system.get('a').getSnapshot().context.position?.quantity).toBe(held);
  expect(system.get('a').state).toBe('POSITION_OPEN');
  const trail = system.get('a').getAuditTrail();
  expect(trail.filter((r) => r.trigger === 'ORDER_SUBMITTED').map((r) => r.accepted)).toEqual([true]);
  expect(trail.filter((r) => !r.accepted)).toEqual([]);
  expect(errors).toEqual([]);
});

test('without a clock the acknowledgement follows on a microtask, the fill waiting behind it', async () => {
  const { clock, system, broker, errors } = wired(false);
  expect(system.get('a').state).toBe('PENDING_ENTRY');
  clock.increment(1000); // the fill comes before the microtask: it waits behind the acknowledgement
  await Promise.resolve();
  const held = (await broker.positions()).find((p) => p.strategyId === 'a')?.quantity ?? 0;
  expect(held).toBe(3);
  expect(system.get('a').getSnapshot().context.position?.quantity).toBe(held);
  expect(system.get('a').state).toBe('POSITION_OPEN');
  expect(errors).toEqual([]);
});

/** A target that answers every send with `code` (not delivered), and a broker to emit reports by hand. */
function refusing(code: 'REENTRANT_TRIGGER' | 'ACTOR_STOPPED') {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const sent: string[] = [];
  const target: OrderTarget = {
    get: () => {
      throw new Error('not read in this test');
    },
    send: (_id, event) => {
      sent.push(event.type);
      return undeliveredResult('ENTERING', clock.now(), code, `refused: ${code}`);
    },
  };
  const { broker, emit } = handBroker();
  const errors: unknown[] = [];
  startBrokerRouting({ broker, target, clock, onError: (e) => errors.push(e) });
  return { clock, sent, errors, emit: (r: ExecutionReport) => emit(r) };
}

test('an event refused as REENTRANT_TRIGGER on every try is told to onError, and the next report is tried after it', () => {
  const { clock, sent, errors, emit } = refusing('REENTRANT_TRIGGER');
  emit({ orderId: 'o1', strategyId: 'a', kind: 'reject', quantity: 0, reportId: 'r1' });
  // Another order's (a second reject of o1 is dropped: that order is over).
  emit({ orderId: 'o2', strategyId: 'a', kind: 'reject', quantity: 0, reportId: 'r2' });
  expect(sent).toEqual(['ORDER_REJECTED']); // the second waits behind the first
  clock.increment(60_000);
  expect(errors.length).toBe(2);
  for (const error of errors) {
    expect(error).toBeInstanceOf(UndeliveredEventError);
    expect(error).toMatchObject({ strategyId: 'a', eventType: 'ORDER_REJECTED', code: 'REENTRANT_TRIGGER' });
  }
  expect(sent.length).toBeGreaterThan(2);
});

test('an event a stopped strategy does not take is told to onError at once, not counted as delivered', () => {
  const { sent, errors, emit } = refusing('ACTOR_STOPPED');
  emit({ orderId: 'o1', strategyId: 'a', kind: 'reject', quantity: 0, reportId: 'r1' });
  expect(sent).toEqual(['ORDER_REJECTED']);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(UndeliveredEventError);
  expect(errors[0]).toMatchObject({ code: 'ACTOR_STOPPED' });
});
