/**
 * A fill the strategy refuses still happened at the broker. Before, the routing took the refusal
 * as delivered: an exit fill of more contracts than were open ("an exit fill of 3 exceeds the 2
 * contracts open") or a fractional quantity was audited as rejected and nothing else, no
 * `onError`, and the strategy went on as if it held what it held before (EXITING with 2 contracts
 * the broker no longer held, then the stuck deadline, then auto-recovery back to MANAGING them).
 * Now such a fill is told to `onError` as a RefusedFillError and the strategy is held in ERROR
 * for an operator, with no auto-recovery; a redelivery of the same fill moves nothing.
 */
import { RefusedFillError } from '../../machines/errors';
import { brokerDay, brokerDayExiting, settled } from '../support/scriptedBroker';

/** The day with its 2 contracts open and an exit order (B-2) working. */
async function exiting() {
  const d = await brokerDayExiting();
  expect(d.broker.orders[1]).toEqual({ id: 'B-2', order: expect.objectContaining({ side: 'close', quantity: 2 }) });
  return d;
}

const held = (d: Awaited<ReturnType<typeof brokerDay>>) => ({
  state: d.strategy.state,
  recovery: d.strategy.getSnapshot().context.deadline,
  reason: d.strategy.getSnapshot().context.lastError?.reason,
  errors: d.errors.map((e) => (e instanceof RefusedFillError ? e.code : String(e))),
});

test('an exit fill of more contracts than are open holds the strategy for an operator, not EXITING with 2 contracts', async () => {
  const d = await exiting();
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 3, reportId: 'E-2', price: 1 });
  await settled();
  expect(held(d)).toEqual({
    state: 'ERROR',
    recovery: null,
    reason: expect.stringMatching(/^position mismatch: the broker reports a fill of 3 on order B-2 that the strategy refused in EXITING/),
    errors: ['GUARD_FAILED'],
  });
  // The same fill delivered again changes nothing: the hold carries its eventId.
  const records = d.strategy.getAuditTrail().filter((r) => r.accepted).length;
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 3, reportId: 'E-2', price: 1 });
  await settled();
  expect(d.strategy.getAuditTrail().filter((r) => r.accepted).length).toBe(records);
  expect(d.strategy.state).toBe('ERROR');
  d.driver.stop();
});

test('a partial exit fill that closes everything open holds the strategy, and its working exit is cancelled', async () => {
  const d = await exiting();
  d.broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 2, reportId: 'E-2', price: 1 });
  await settled();
  expect(held(d)).toMatchObject({ state: 'ERROR', recovery: null, errors: ['GUARD_FAILED'] });
  // The exit order still works at the broker: held, the strategy waits on none, so it is cancelled.
  expect(d.broker.cancels).toEqual(['B-2']);
  d.driver.stop();
});

test('an entry fill of a fraction of a contract is not dropped in silence', async () => {
  const d = await brokerDay();
  expect(d.strategy.state).toBe('ENTERING');
  d.broker.report({ orderId: 'B-1', strategyId: 's', kind: 'partial', quantity: 0.5, reportId: 'E-1', price: 1 });
  await settled();
  expect(held(d)).toMatchObject({ state: 'ERROR', recovery: null, errors: ['INVALID_EVENT'] });
  d.driver.stop();
});
