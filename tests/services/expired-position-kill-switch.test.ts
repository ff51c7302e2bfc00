/**
 * The kill switch on a strategy whose contracts expired while it held them (the 0DTE of Fri
 * 2026-11-27, the service down over that day's close, held in ERROR by its DTE monitor at the
 * restart): no close order goes to the broker for the expired contracts. The broker routing
 * reports an ExpiredPositionError and holds the strategy in ERROR for an operator, and the kill
 * switch lists it as failed with that reason. Before, its EMERGENCY_EXIT placed a close order of 2
 * contracts expiring 2026-11-27 on Monday. SQLite file, simulated clock, a scripted broker.
 */
import { tempDir } from '../persistence/helpers';
import { ExpiredPositionError } from '../../machines/errors';
import { holdZeroDte, makeHarness, ny, trail } from '../support/restartHarness';
import { ScriptedBroker, settled } from '../support/scriptedBroker';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('expired-kill-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

test('the kill switch sends no close order for expired contracts: the strategy is held and listed as failed', async () => {
  const first = await h.boot('2026-11-27T10:40', false);
  await holdZeroDte(first.system, 'z', { expiry: '2026-11-27' });
  await first.stop(); // down over the 12:45 exit and the 13:00 close

  const broker = new ScriptedBroker();
  const second = await h.boot('2026-11-30T10:00', { extra: { broker } });
  await second.until('2026-11-30T10:00:05');
  expect(second.system.get('z').state).toBe('ERROR'); // held by the DTE monitor at the restart
  const run = second.system.killSwitch('operator: flatten everything');
  // A failed expectation before `await run` closes the system under it: its interruption is not an unhandled rejection.
  run.catch(() => undefined);
  await settled();
  await second.until('2026-11-30T10:00:10');
  await settled();
  expect(broker.orders).toEqual([]); // before, B-1: close 2 contracts expiring 2026-11-27
  const result = await run;

  expect(trail(second.system, 'z', ny('2026-11-30T10:00'))).toEqual([
    'Mon 11-30 10:00:01 SYSTEM_ERROR MANAGING->ERROR',
    'Mon 11-30 10:00:05 EMERGENCY_EXIT ERROR->EXITING',
    'Mon 11-30 10:00:06 SYSTEM_ERROR EXITING->ERROR',
  ]);
  expect(result.flattened).toEqual([]);
  expect(result.failed).toEqual([
    {
      strategyId: 'z',
      reason:
        "position expired unmanaged: 2 contracts expiring 2026-11-27 were still held in EXITING after that day's close; no close order sent, held for an operator",
    },
  ]);
  const { context } = second.system.get('z').getSnapshot();
  expect(context.deadline).toBeNull();
  expect(context.position).toMatchObject({ quantity: 2, expiry: '2026-11-27' });
  // Told once, by the monitor at the restart: the routing's refusal of the same expired position is
  // no second alert (before, the operator got two, MANAGING then EXITING).
  expect(h.errors.map((e) => [e instanceof ExpiredPositionError, (e as ExpiredPositionError).state])).toEqual([[true, 'MANAGING']]);
});
