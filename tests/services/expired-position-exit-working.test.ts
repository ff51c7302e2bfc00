/**
 * A 0DTE whose exit order was working when the service went down (EXITING at 12:57 on Fri
 * 2026-11-27) and restarted at 13:00:30, after that day's 13:00 close and before EXITING's stuck deadline (13:02): the broker's answer to that order
 * decides, not the expiry. Its fill, reported after the restart, closes the strategy with no error;
 * it is not held for an expiry it was already exiting (its fill then refused as a position mismatch).
 * SQLite file, simulated clock, a scripted broker holding the working order.
 */
import { tempDir } from '../persistence/helpers';
import { ExpiredPositionError } from '../../machines/errors';
import { feed, holdZeroDte, makeHarness, ny, trail } from '../support/restartHarness';
import { ScriptedBroker, settled } from '../support/scriptedBroker';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('expired-exiting-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

/**
 * The 0DTE 's' holding 2 contracts expiring 2026-11-27, its exit order X-1 working since 12:57, the
 * service down over the 13:00 close and back at 13:00:30 with a broker that still has X-1 working.
 */
async function restartedWithExitWorking() {
  const first = await h.boot('2026-11-27T10:40', false);
  await holdZeroDte(first.system, 's', { expiry: '2026-11-27', orderId: 'B-0' });
  await first.until('2026-11-27T12:57');
  await feed(first.system, 's', [
    { type: 'TIME_WINDOW_END', window: 'manage' },
    { type: 'ORDER_SUBMITTED', orderId: 'X-1' },
  ]);
  expect(first.system.get('s').state).toBe('EXITING');
  await first.stop();

  const broker = new ScriptedBroker();
  broker.held = 2;
  broker.book.set('X-1', { strategyId: 's', side: 'close', quantity: 2, expiry: '2026-11-27' });
  const second = await h.boot('2026-11-27T13:00:30', { extra: { broker } });
  await second.until('2026-11-27T13:00:33');
  await settled();
  return { broker, second };
}

test('an exit order working over the close is followed after the restart: its fill closes the strategy, nothing is held', async () => {
  const { broker, second } = await restartedWithExitWorking();
  // The broker reports that the exit filled at 12:59.
  broker.report({ orderId: 'X-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-X1', price: 0.05 });
  await settled();
  await second.until('2026-11-27T13:00:35');
  expect(trail(second.system, 's', ny('2026-11-27T13:00:30'))).toEqual(['Fri 11-27 13:00:33 ORDER_FILLED EXITING->CLOSED']);
  expect(second.system.get('s').getSnapshot().context.position).toBeNull();
  expect(broker.orders).toEqual([]);
  expect(h.errors).toEqual([]);
});

test('an exit order working over the close that the broker rejects after the restart: held for an operator, no new order', async () => {
  const { broker, second } = await restartedWithExitWorking();
  broker.report({ orderId: 'X-1', strategyId: 's', kind: 'reject', quantity: 0, reportId: 'R-X1', reason: 'expired' });
  await settled();
  await second.until('2026-11-27T13:00:36');
  await settled();
  expect(broker.orders).toEqual([]);
  expect(second.system.get('s').state).toBe('ERROR');
  expect(second.system.get('s').getSnapshot().context.deadline).toBeNull();
  // The routing refuses to place the exit again (PENDING_EXIT) and tells it; the DTE monitor, which
  // finds the same expired position in ERROR, tells no second alert of it.
  expect(h.errors.map((e) => e instanceof ExpiredPositionError && [e.strategyId, e.expiry, e.state])).toEqual([
    ['s', '2026-11-27', 'PENDING_EXIT'],
  ]);
});
