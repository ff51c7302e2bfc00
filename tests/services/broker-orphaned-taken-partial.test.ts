/**
 * A partial fill the strategy took, delivered again by the broker (a reconnect replaying its last
 * reports) after the strategy was removed. The routing made an orphan of the order at the removal
 * and counted nothing of what the strategy had taken: the repeat was told as an
 * UntrackedFillError, "1 contracts are at the broker with no strategy tracking them", though the
 * strategy had tracked them and closed them with its exit. A false alarm to an operator
 * reconciling the account. Now what the strategy took of an order counts as told when the order is
 * orphaned: the repeat is known by its report id, or, without one, by the order's quantity. In-memory
 * system, simulated clock, the hand-scripted broker: no mocks.
 */
import { UntrackedFillError } from '../../index';
import { brokerDay, settled } from '../support/scriptedBroker';

/** `s` (2 contracts) took a partial fill of 1 on its entry B-1, exited it (B-2) and was removed; the broker then replays the partial. */
async function removedAfterPartial(reportId: string | undefined) {
  const day = await brokerDay();
  const { broker, system, errors, send } = day;
  const partial = { orderId: 'B-1', strategyId: 's', kind: 'partial' as const, quantity: 1, ...(reportId ? { reportId } : {}) };
  broker.report(partial);
  await settled();
  expect(system.get('s').getSnapshot().context.position?.quantity).toBe(1);
  expect(send({ type: 'EMERGENCY_EXIT', reason: 'operator' })).toMatchObject({ accepted: true, to: 'EXITING' });
  await settled();
  expect(broker.cancels).toEqual(['B-1']);
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'reject', quantity: 0, reason: 'cancelled', reportId: 'R-cancel' });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'R-exit' });
  await settled();
  expect(system.get('s').state).toBe('CLOSED');
  system.remove('s');
  await settled();
  return { ...day, partial, errors };
}

test.each([
  ['with its report id', 'R-1'],
  ['without a report id', undefined],
])('a partial fill the removed strategy took, delivered again (%s), is no untracked fill', async (_, reportId) => {
  const { broker, errors, partial, driver, system } = await removedAfterPartial(reportId);
  broker.report(partial);
  await settled();
  expect(errors).toEqual([]);
  driver.stop();
  system.stop();
});

test('a partial fill of the removed strategy’s order it never took is still told as untracked', async () => {
  const { broker, errors, driver, system } = await removedAfterPartial('R-1');
  // Not a repeat: 1 more contract filled before the cancel took (the broker's report came late).
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'R-2' });
  await settled();
  expect(errors).toEqual([expect.any(UntrackedFillError)]);
  expect(errors[0]).toMatchObject({ orderId: 'B-1', quantity: 1 });
  driver.stop();
  system.stop();
});
