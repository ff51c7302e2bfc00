/**
 * A position whose options expired while the service was down (over its exit and the expiry's
 * close) gets no exit order at the restart: the strategy is held in ERROR for an operator, with an
 * ExpiredPositionError to onError naming it and its expiry, and the position left as it was (nothing
 * pretends the exit filled). Before, the 0DTE down over Friday 2026-11-27's early close sent
 * TIME_WINDOW_END and an exit order at Monday's open, and an lt112 down for weeks past its expiry
 * sent DEFENSIVE_EXIT_DTE and an exit order at the first open. SQLite file, simulated clock, paper broker.
 */
import { tempDir } from '../persistence/helpers';
import { ExpiredPositionError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { feed, holdZeroDte, makeHarness, ny, trail } from '../support/restartHarness';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('expired-restart-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

test('a 0DTE down from 11:00 over the early close of Fri 2026-11-27 is held at the 13:30 restart, and nothing is sent Monday', async () => {
  const first = await h.boot('2026-11-27T10:40', false);
  await holdZeroDte(first.system, 'z', { expiry: '2026-11-27' });
  await first.until('2026-11-27T11:00');
  await first.stop(); // the crash: down over the 12:45 exit and the 13:00 close

  const second = await h.boot('2026-11-27T13:30', {});
  await second.until('2026-11-30T09:35');
  expect(trail(second.system, 'z', ny('2026-11-27T13:30'))).toEqual([
    'Fri 11-27 13:30:01 SYSTEM_ERROR MANAGING->ERROR',
    'Mon 11-30 09:30:00 MARKET_OPEN ERROR->ERROR (refused)',
  ]);
  const { context } = second.system.get('z').getSnapshot();
  expect(context.deadline).toBeNull(); // held for an operator, no recovery by itself
  expect(context.position).toMatchObject({ quantity: 2, expiry: '2026-11-27' }); // not pretended filled
  const hold = second.system
    .get('z')
    .getAuditTrail()
    .find((r) => r.trigger === 'SYSTEM_ERROR');
  expect(hold?.data.reason).toMatch(/position expired unmanaged: 2 contracts expiring 2026-11-27 .*no exit order sent/);
  expect(h.errors).toEqual([expect.any(ExpiredPositionError)]);
  expect(h.errors[0]).toMatchObject({ strategyId: 'z', expiry: '2026-11-27', quantity: 2, state: 'MANAGING' });
  expect(String(h.errors[0])).toMatch(/strategy z: 2 contracts expiring 2026-11-27 expired unmanaged/);
});

test('an lt112 down for weeks past its expiry (2027-02-26) gets no 21-DTE exit at the restart: it is held', async () => {
  const first = await h.boot('2026-11-02T10:40', false);
  await first.system.add(lt112, { id: 'l' });
  await feed(first.system, 'l', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-02-26' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-02-26' },
    { type: 'MARKET_OPEN' },
  ]);
  await first.stop();

  const second = await h.boot('2027-03-15T08:00', {});
  await second.until('2027-03-15T09:35');
  expect(trail(second.system, 'l', ny('2027-03-15T08:00'))).toEqual([
    'Mon 03-15 08:00:01 SYSTEM_ERROR MANAGING->ERROR',
    'Mon 03-15 09:30:00 MARKET_OPEN ERROR->ERROR (refused)',
  ]);
  expect(second.system.get('l').getSnapshot().context.position).toMatchObject({ quantity: 2, expiry: '2027-02-26' });
  expect(h.errors).toEqual([expect.any(ExpiredPositionError)]);
  expect(h.errors[0]).toMatchObject({ strategyId: 'l', expiry: '2027-02-26', state: 'MANAGING' });
});

test('a restart on the expiry day before its close still exits the position (not expired yet)', async () => {
  const first = await h.boot('2026-12-04T10:40', false);
  await holdZeroDte(first.system, 'z', { expiry: '2026-12-04' });
  await first.stop();
  const second = await h.boot('2026-12-04T15:50', {});
  await second.until('2026-12-04T15:51');
  expect(trail(second.system, 'z', ny('2026-12-04T15:50'))).toEqual([
    'Fri 12-04 15:50:01 TIME_WINDOW_END MANAGING->PENDING_EXIT [catchUp]',
    'Fri 12-04 15:50:02 ORDER_SUBMITTED PENDING_EXIT->EXITING',
    'Fri 12-04 15:50:03 ORDER_FILLED EXITING->CLOSED',
  ]);
  expect(h.errors).toEqual([]);
});
