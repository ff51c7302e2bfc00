/**
 * A calendar notice that went out before a restart is not sent again by the restarted service
 * (same trading day, its event still ahead): an operator's RESUME after it stands, and a strategy
 * that refused it (in ERROR at the notice time) is not suspended after recovering. A notice whose
 * time passed while the service was down still goes out at the start. A later event's notice that
 * came while a strategy was suspended still extends its suspension after a restart (FOMC Wed
 * 2026-06-17, AAPL earnings Thu 06-18: it stays suspended on the earnings day).
 */
import { tempDir } from '../persistence/helpers';
import { parseEventCalendar } from '../../services/market/eventCalendar';
import { lt112 } from '../../machines/variants';
import { feed, makeHarness, ny, trail } from '../support/restartHarness';
import { stepToDue } from '../../services/simulation/simulatedTime';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('calendar-restart-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

// The notice of the Wed 2026-06-17 FOMC decision goes out Tue 06-16 09:35 ET.
const calendar = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17'].join('\n'), 'csv');
const notices = (h: ReturnType<typeof makeHarness>, system: Awaited<ReturnType<typeof h.boot>>['system'], id: string) =>
  system
    .get(id)
    .getAuditTrail()
    .filter((r) => r.trigger === 'FOMC_MEETING')
    .map((r) => `${r.timestamp} ${r.accepted ? 'accepted' : 'refused'}`);

test('a notice sent at 09:35 and answered with RESUME is not sent again after a restart at 11:00', async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra: { eventCalendar: calendar } });
  await first.system.add(lt112, { id: 'resumed' });
  await first.until('2026-06-16T09:40'); // MARKET_OPEN 09:30 (READY), the notice 09:35 (SUSPENDED)
  expect(first.system.get('resumed').state).toBe('SUSPENDED');
  await feed(first.system, 'resumed', [{ type: 'RESUME' }]); // the operator trades through it
  await first.until('2026-06-16T09:45');
  await first.stop();

  const second = await h.boot('2026-06-16T11:00', { broker: false, extra: { eventCalendar: calendar } });
  await second.until('2026-06-16T11:00:05');
  expect(notices(h, second.system, 'resumed')).toEqual(['2026-06-16T09:35:00.000-04:00 accepted']);
  expect(second.system.get('resumed').state).toBe('ANALYZING');
});

test('a strategy that refused the notice in ERROR and recovered is not suspended by a restart', async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra: { eventCalendar: calendar } });
  await first.system.add(lt112, { id: 'erred' });
  await first.until('2026-06-16T09:31');
  await feed(first.system, 'erred', [{ type: 'SYSTEM_ERROR', reason: 'feed down' }]);
  await first.until('2026-06-16T10:05'); // refused at 09:35 in ERROR; recovered at 10:01
  expect(notices(h, first.system, 'erred')).toEqual(['2026-06-16T09:35:00.000-04:00 refused']);
  expect(first.system.get('erred').state).toBe('ANALYZING');
  await first.stop();

  const second = await h.boot('2026-06-16T11:00', { broker: false, extra: { eventCalendar: calendar } });
  await second.until('2026-06-16T11:00:05');
  expect(notices(h, second.system, 'erred')).toEqual(['2026-06-16T09:35:00.000-04:00 refused']);
  expect(second.system.get('erred').state).toBe('ANALYZING');
});

test('a notice whose time passed while the service was down goes out at the start', async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra: { eventCalendar: calendar } });
  await first.system.add(lt112, { id: 'missed' });
  await first.until('2026-06-16T09:31');
  await first.stop();

  const second = await h.boot('2026-06-16T11:00', { broker: false, extra: { eventCalendar: calendar } });
  await second.until('2026-06-16T11:00:05');
  // At the first step of the restarted clock (it moves a second at a time here).
  expect(notices(h, second.system, 'missed')).toEqual([expect.stringMatching(/^2026-06-16T11:00:0[01]\.000-04:00 accepted$/)]);
  expect(second.system.get('missed').state).toBe('SUSPENDED');
});

const fomcThenEarnings = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17', 'EARNINGS,AAPL,2026-06-18'].join('\n'), 'csv');
const extra = { eventCalendar: fomcThenEarnings };
type Booted = Awaited<ReturnType<ReturnType<typeof makeHarness>['boot']>>;
const go = (b: Booted, iso: string) => stepToDue(b.clock, ny(iso), () => b.system.flush());

test('FOMC then AAPL earnings, no restart -> still SUSPENDED at Thu (earnings day) 09:31', async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra });
  await first.system.add(lt112, { id: 'aapl', params: { underlying: 'AAPL' } });
  await go(first, '2026-06-16T09:40');
  expect(first.system.get('aapl').state).toBe('SUSPENDED');
  await go(first, '2026-06-18T09:31');
  expect(first.system.get('aapl').state).toBe('SUSPENDED');
});

test('FOMC then AAPL earnings, restart Wed 12:00 (after the earnings notice) -> still SUSPENDED at Thu (earnings day) 09:31', async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra });
  await first.system.add(lt112, { id: 'aapl', params: { underlying: 'AAPL' } });
  await go(first, '2026-06-16T09:40');
  expect(first.system.get('aapl').state).toBe('SUSPENDED');
  await go(first, '2026-06-17T12:00');
  const refused = first.system
    .get('aapl')
    .getAuditTrail()
    .filter((r) => r.trigger === 'EARNINGS_APPROACHING');
  expect(refused.map((r) => r.accepted)).toEqual([false]);
  await first.stop();

  const second = await h.boot('2026-06-17T12:00', { broker: false, extra });
  await go(second, '2026-06-18T09:31');
  expect(second.system.get('aapl').state).toBe('SUSPENDED');
});

test('down over the notice, back during the entry window: the notice goes before the window catch-up (no analysis on the event eve)', async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra: { eventCalendar: calendar } });
  await first.system.add(lt112, { id: 'missed', params: { underlying: 'SPX' } });
  await first.until('2026-06-16T09:31');
  await first.stop();

  // Back at 11:00, inside lt112's entry window, with a market that answers an analysis at once.
  const second = await h.boot('2026-06-16T11:00', { broker: false, market: true, extra: { eventCalendar: calendar, analysisMs: 0 } });
  await second.until('2026-06-16T11:00:05');
  // Before, the catch-up opened the window first (READY -> ANALYZING) and the notice came after it:
  // the market's answer could take the strategy to an entry on the eve of the decision.
  expect(trail(second.system, 'missed', ny('2026-06-16T11:00')).filter((line) => !line.includes('(refused)'))).toEqual([
    expect.stringMatching(/^Tue 06-16 11:00:0\d FOMC_MEETING READY->SUSPENDED \[catchUp\]$/),
  ]);
  expect(second.system.get('missed').state).toBe('SUSPENDED');
  expect(h.errors).toEqual([]);
});

test('down over two notices (FOMC and AAPL earnings): each goes out once at the restart, the second not by both the calendar and the catch-up', async () => {
  const both = parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17', 'EARNINGS,AAPL,2026-06-17'].join('\n'), 'csv');
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra: { eventCalendar: both } });
  await first.system.add(lt112, { id: 'aapl', params: { underlying: 'AAPL' } });
  await first.until('2026-06-16T09:31');
  await first.stop();

  const second = await h.boot('2026-06-16T11:00', { broker: false, market: true, extra: { eventCalendar: both, analysisMs: 0 } });
  await second.until('2026-06-16T11:00:05');
  // Every send, refused ones included: before, the calendar's late ring sent the earnings notice
  // while it was still held for the catch-up, which sent it again a second later.
  const sent = trail(second.system, 'aapl', ny('2026-06-16T11:00')).map((line) => line.replace(/^Tue 06-16 11:00:0\d /, ''));
  expect(sent.filter((line) => line.startsWith('EARNINGS_APPROACHING'))).toHaveLength(1);
  expect(sent.filter((line) => line.startsWith('FOMC_MEETING'))).toEqual(['FOMC_MEETING READY->SUSPENDED [catchUp]']);
  expect(second.system.get('aapl').state).toBe('SUSPENDED');
  expect(h.errors).toEqual([]);
});
