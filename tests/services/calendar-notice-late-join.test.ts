/**
 * A strategy added to a running service after a calendar notice went out, its event still ahead,
 * is given that notice by its catch-up, as the strategies there at the notice had it (FOMC Wed
 * 2026-06-17, noticed Tue 06-16 09:35 ET; AAPL earnings Thu 06-18, noticed Wed 06-17 09:35 ET).
 * Before, it had none: added at 11:00 the day before the decision, it opened its entry window on
 * the FOMC day while every other strategy sat it out. Added before the open (INITIALIZING, which
 * has no edge for a notice), it is given it after its MARKET_OPEN, before the entry window: before,
 * the notice was refused in INITIALIZING and the strategy traded on the decision day.
 * Persisted system over SQLite, simulated clock.
 */
import { tempDir } from '../persistence/helpers';
import { parseEventCalendar } from '../../services/market/eventCalendar';
import { lt112 } from '../../machines/variants';
import { makeHarness, trail } from '../support/restartHarness';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('calendar-join-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

const calendar = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17', 'EARNINGS,AAPL,2026-06-18'].join('\n'), 'csv');

test('added at 11:00 the day before an FOMC decision: suspended before its entry window, resumed after the decision day', async () => {
  const s = await h.boot('2026-06-16T09:00', { broker: false, extra: { eventCalendar: calendar } });
  await s.system.add(lt112, { id: 'early', params: { underlying: 'SPX' } });
  await s.until('2026-06-16T11:00');
  await s.system.add(lt112, { id: 'late', params: { underlying: 'SPX' } });
  s.day?.refresh();
  await s.until('2026-06-18T10:00:05');
  expect(trail(s.system, 'late').filter((line) => !line.includes('(refused)'))).toEqual([
    'Tue 06-16 11:00:01 MARKET_OPEN INITIALIZING->READY [catchUp]',
    'Tue 06-16 11:00:02 FOMC_MEETING READY->SUSPENDED [catchUp]',
    'Thu 06-18 09:30:00 RESUME SUSPENDED->READY',
    'Thu 06-18 10:00:00 TIME_WINDOW_START READY->ANALYZING',
  ]);
  expect(s.system.get('late').getAuditTrail()[1].data.catchUp).toBe(
    'added while the day was under way: the FOMC 2026-06-17 notice went out Tue 2026-06-16 09:35 ET',
  );
  // The notice it already had is not sent again to the one that was there.
  expect(
    s.system
      .get('early')
      .getAuditTrail()
      .filter((r) => r.trigger === 'FOMC_MEETING'),
  ).toHaveLength(1);
  expect(h.errors).toEqual([]);
});

test('added before the open on the decision day: the notice waits for its MARKET_OPEN; earnings only for its underlying', async () => {
  const s = await h.boot('2026-06-17T08:00', { broker: false, extra: { eventCalendar: calendar } });
  await s.system.add(lt112, { id: 'spx', params: { underlying: 'SPX' } });
  await s.system.add(lt112, { id: 'aapl', params: { underlying: 'AAPL' } });
  s.day?.refresh();
  await s.until('2026-06-17T10:00:05');
  // INITIALIZING has no edge for the notice: it comes with the open, before the entry window.
  expect(trail(s.system, 'spx').filter((line) => !line.includes('(refused)'))).toEqual([
    'Wed 06-17 09:30:00 MARKET_OPEN INITIALIZING->READY',
    'Wed 06-17 09:30:01 FOMC_MEETING READY->SUSPENDED [catchUp]',
  ]);
  expect(
    s.system
      .get('spx')
      .getAuditTrail()
      .find((r) => r.accepted && r.trigger === 'FOMC_MEETING')?.data.catchUp,
  ).toBe('added while the day was under way: the FOMC 2026-06-17 notice went out Tue 2026-06-16 09:35 ET');
  expect(s.system.get('aapl').state).toBe('SUSPENDED');
  expect(
    s.system
      .get('spx')
      .getAuditTrail()
      .filter((r) => r.trigger === 'EARNINGS_APPROACHING'),
  ).toEqual([]);
  expect(
    s.system
      .get('aapl')
      .getAuditTrail()
      .filter((r) => r.trigger === 'EARNINGS_APPROACHING' || r.trigger === 'FOMC_MEETING')
      .map((r) => [r.trigger, r.data.date]),
  ).toEqual([
    ['FOMC_MEETING', '2026-06-17'],
    ['EARNINGS_APPROACHING', '2026-06-18'],
  ]);
  // SPX resumes at the first open after the FOMC; AAPL stays out over its earnings day (Fri 06-19 is Juneteenth).
  await s.until('2026-06-18T09:30:05');
  expect(s.system.get('spx').state).toBe('READY');
  expect(s.system.get('aapl').state).toBe('SUSPENDED');
  await s.until('2026-06-22T09:30:05');
  expect(s.system.get('aapl').state).toBe('READY');
  expect(h.errors).toEqual([]);
});
