/**
 * The broker refuses the roll order only after the strategy has moved on: an emergency exit (an
 * operator, the kill switch) came while the submission was on its way, and the exit order works.
 * Before, the refusal reached EXITING as ORDER_REJECTED, taken as the exit's rejection ("retry the
 * exit"): back to PENDING_EXIT while the exit still worked at the broker. Now a refusal of a
 * submission the strategy no longer waits on answers nothing (nothing of it is at the broker), and
 * the exit closes the position. The real runtime, trading day and routing; the scripted broker,
 * its answer to the roll order held back by the test.
 */
import type { OrderRequest } from '../../services/broker/broker';
import { ScriptedBroker, settled } from '../support/scriptedBroker';
import { exitFills, strangleRolling } from '../support/strangleRoll';

/** A scripted broker whose answer to an adjustment order waits until the test gives it. */
class SlowRollBroker extends ScriptedBroker {
  refuseRoll: ((error: Error) => void) | undefined;
  override submit(order: OrderRequest): Promise<{ orderId: string }> {
    if (order.side !== 'adjust') return super.submit(order);
    return new Promise((_resolve, reject) => (this.refuseRoll = reject));
  }
}

test('a roll order refused after an emergency exit came is no answer to the exit: the exit goes on and closes', async () => {
  const broker = new SlowRollBroker();
  const { clock, system, strategy, errors, driver } = await strangleRolling(broker);
  expect(broker.refuseRoll).toBeDefined(); // the roll's submission is on its way
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'desk' })).toMatchObject({ accepted: true, to: 'EXITING' });
  clock.increment(0);
  await settled();
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}:${o.order.quantity}`)).toEqual(['B-1:open:2', 'B-2:close:2']);
  broker.refuseRoll?.(new Error('market closed for the new expiry'));
  await settled();
  clock.increment(0);
  await settled();
  expect({ state: strategy.state, working: [...broker.book.keys()] }).toEqual({ state: 'EXITING', working: ['B-2'] });
  await exitFills(broker, clock, 'B-2', 'E-2');
  expect({ state: strategy.state, position: strategy.getSnapshot().context.position, errors }).toEqual({
    state: 'CLOSED',
    position: null,
    errors: [],
  });
  driver.stop();
});
