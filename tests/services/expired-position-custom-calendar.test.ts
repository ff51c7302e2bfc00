/**
 * A service configured with its own sessions (here an extra 13:00 early close on Fri 2026-12-04,
 * which the built-in NYSE calendar closes at 16:00) answers "has this position expired?" from those
 * sessions everywhere: the DTE monitor holds the 0DTE expiring that day at the 13:30 restart, and
 * the kill switch's EMERGENCY_EXIT then places no close order for it either. Before, the broker
 * routing asked the built-in calendar (close 16:00: not expired yet) and sent a close order for
 * contracts the configured calendar had expired. SQLite file, simulated clock, a scripted broker.
 */
import { tempDir } from '../persistence/helpers';
import { ExpiredPositionError } from '../../machines/errors';
import { createSessionCache, type SessionSource } from '../../services/market/marketClock';
import { holdZeroDte, makeHarness, ny } from '../support/restartHarness';
import { ScriptedBroker, settled } from '../support/scriptedBroker';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('expired-calendar-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

/** The NYSE sessions, except Fri 2026-12-04 closes early at 13:00 ET. */
function withEarlyClose(date: string): SessionSource {
  const base = createSessionCache();
  const early = (s: ReturnType<SessionSource['session']>) =>
    s && s.date === date ? { ...s, close: ny(`${date}T13:00`), earlyClose: true } : s;
  return {
    session: (d) => early(base.session(d)),
    nextSession: (at) => {
      const s = base.nextSession(at);
      const e = early(s) ?? s;
      return e.close > at ? e : base.nextSession(e.close);
    },
  };
}

test('the kill switch places no close order for a position expired by the configured early close', async () => {
  const first = await h.boot('2026-12-04T10:40', false);
  await holdZeroDte(first.system, 'z', { expiry: '2026-12-04' });
  await first.stop(); // down over the 12:45 exit and the configured 13:00 close

  const broker = new ScriptedBroker();
  const second = await h.boot('2026-12-04T13:30', { extra: { broker, sessions: withEarlyClose('2026-12-04') } });
  await second.until('2026-12-04T13:30:05');
  expect(second.system.get('z').state).toBe('ERROR'); // held by the DTE monitor: expired at 13:00
  const run = second.system.killSwitch('operator: flatten everything');
  run.catch(() => undefined);
  await settled();
  await second.until('2026-12-04T13:30:10');
  await settled();
  expect(broker.orders).toEqual([]); // before, B-1: close 2 contracts expiring 2026-12-04
  const result = await run;
  expect(result.flattened).toEqual([]);
  expect(result.failed).toEqual([
    { strategyId: 'z', reason: expect.stringMatching(/^position expired unmanaged: 2 contracts expiring 2026-12-04/) },
  ]);
  expect(second.system.get('z').state).toBe('ERROR');
  expect(h.errors.every((e) => e instanceof ExpiredPositionError)).toBe(true);
});
