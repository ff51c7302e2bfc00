/**
 * The trading-day driver over a persisted system, restarted after downtime: what was missed is not
 * replayed, the present is caught up (one event per need, each marked `catchUp` in the audit).
 * SQLite files in a temp dir, the simulated clock, the paper broker: no mocks.
 */
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { StrategyEvent } from '../../machines/events';
import type { TransitionRecord } from '../../machines/types';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { stepClock } from '../../services/simulation/simulatedTime';
import { SqliteStore } from '../../services/store/sqliteStore';
import { MARKET_ZONE } from '../../services/market/time';
import { startTradingDay, type TradingDay } from '../../services/day/tradingDay';
import { tempDir } from '../persistence/helpers';
import { holdZeroDte } from '../support/restartHarness';

const variants = [zeroDte, lt112, strangle];
const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const hhmm = (r: TransitionRecord) => DateTime.fromMillis(r.at, { zone: MARKET_ZONE }).toFormat('ccc HH:mm');

let dir: string;
let cleanup: () => void;
const open: Array<{ system: PersistentStrategySystem; day?: TradingDay }> = [];
beforeEach(() => ({ dir, cleanup } = tempDir('sl-day-')));
afterEach(async () => {
  for (const { system, day } of open.splice(0)) {
    day?.stop();
    await system.close();
  }
  cleanup();
});

/** One "process": a system over the test's database on a fresh clock at `at`, optionally driven. */
async function boot(at: string, drive: { broker?: (clock: SimulatedClockHandle) => PaperBroker } | false) {
  const clock = createSimulatedClock(ny(at));
  const broker = drive ? (drive.broker?.(clock) ?? new PaperBroker({ clock })) : undefined;
  const system = await openStrategySystem({ store: new SqliteStore(join(dir, 'day.db')), variants, clock, ...(broker ? { broker } : {}) });
  const day = drive
    ? startTradingDay({
        target: system,
        clock,
        ...(broker ? { broker } : {}),
        onError: (e) => {
          throw e;
        },
      })
    : undefined;
  open.push({ system, day });
  // One-second steps: the persisted answers and the reactions to them land within the second they belong to.
  const until = (iso: string) => stepClock(clock, ny(iso), () => system.flush(), 1000);
  const stop = async () => {
    day?.stop();
    await system.close();
    open.splice(
      open.findIndex((o) => o.system === system),
      1,
    );
  };
  return { clock, system, day, until, stop };
}

async function feed(system: PersistentStrategySystem, id: string, events: StrategyEvent[]) {
  for (const event of events) {
    const result = await system.send(id, event);
    if (!result.accepted) throw new Error(`setup step ${event.type} rejected in ${result.from}: ${result.reason}`);
  }
}

/** The records after the restart: trigger, time, state reached, catch-up note. */
function since(system: PersistentStrategySystem, id: string, at: number) {
  return system
    .get(id)
    .getAuditTrail()
    .filter((r) => r.at >= at && r.accepted)
    .map((r) => [r.trigger, hhmm(r), r.currentState, r.data.catchUp ?? null]);
}

test('down over a close: a strategy left ANALYZING gets the missed MARKET_CLOSE, then the open window, each marked as catch-up', async () => {
  const first = await boot('2026-11-25T09:00', false); // Wednesday before Thanksgiving
  await first.system.add(lt112, { id: 'lt112-a' });
  first.clock.set(ny('2026-11-25T10:05'));
  await feed(first.system, 'lt112-a', [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START', window: 'entry' }]);
  await first.stop();

  // Thursday is a holiday; back on Friday 11:00, an early-close day (13:00).
  const second = await boot('2026-11-27T11:00', {});
  const restart = second.clock.now();
  await second.until('2026-11-27T11:00:05');
  expect(since(second.system, 'lt112-a', restart)).toEqual([
    ['MARKET_CLOSE', 'Fri 11:00', 'READY', 'missed while the service was down: the market closed Wed 2026-11-25 16:00 ET'],
    [
      'TIME_WINDOW_START',
      'Fri 11:00',
      'ANALYZING',
      'missed while the service was down: the entry window is open since Fri 2026-11-27 10:00 ET',
    ],
  ]);
  // From here the day runs live: the window (15:00, an hour before a full day's close) ends an hour before the 13:00 close.
  await second.until('2026-11-27T13:01');
  expect(since(second.system, 'lt112-a', restart + 60_000).map((r) => r.slice(0, 3))).toEqual([['TIME_WINDOW_END', 'Fri 12:00', 'READY']]);
});

test('down over a weekend: one MARKET_OPEN, not one per missed day, then the entry window', async () => {
  const first = await boot('2026-11-27T18:00', false);
  await first.system.add(strangle, { id: 'strangle-w' });
  await first.stop();

  const second = await boot('2026-11-30T10:15', {});
  const restart = second.clock.now();
  await second.until('2026-11-30T10:16');
  expect(since(second.system, 'strangle-w', restart)).toEqual([
    ['MARKET_OPEN', 'Mon 10:15', 'READY', 'missed while the service was down: the market opened Mon 2026-11-30 09:30 ET'],
    [
      'TIME_WINDOW_START',
      'Mon 10:15',
      'ANALYZING',
      'missed while the service was down: the entry window is open since Mon 2026-11-30 10:00 ET',
    ],
  ]);
  expect(second.day!.status()).toEqual({ phase: 'open', nextBell: { type: 'MARKET_CLOSE', at: ny('2026-11-30T16:00') }, strategies: 1 });
});

test('down over the 21-DTE open: the defensive exit is sent at once while the market is open, then the exit order fills', async () => {
  const first = await boot('2026-11-25T10:30', false);
  await first.system.add(lt112, { id: 'lt112-d' });
  await feed(first.system, 'lt112-d', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-19' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
  ]);
  await first.stop();

  // 2026-12-18 is 21 DTE on Friday 2026-11-27: its 09:30 open was missed.
  const second = await boot('2026-11-27T11:00', {
    broker: (clock) => new PaperBroker({ clock, latencyMs: 500, initialPositions: [{ strategyId: 'lt112-d', quantity: 2 }] }),
  });
  const restart = second.clock.now();
  await second.until('2026-11-27T11:02');
  expect(since(second.system, 'lt112-d', restart)).toEqual([
    ['MARKET_OPEN', 'Fri 11:00', 'MANAGING', 'missed while the service was down: the market opened Fri 2026-11-27 09:30 ET'],
    [
      'DEFENSIVE_EXIT_DTE',
      'Fri 11:00',
      'PENDING_EXIT',
      'missed while the service was down: the defensive exit (DTE rule) fell due at an earlier open',
    ],
    ['ORDER_SUBMITTED', 'Fri 11:00', 'EXITING', null],
    ['ORDER_FILLED', 'Fri 11:00', 'CLOSED', null],
  ]);
  const fill = second.system.get('lt112-d').getAuditTrail().at(-1)!;
  expect(fill).toMatchObject({ eventId: expect.stringMatching(/^paper-[0-9a-f]{8}-1\/paper-report-1$/), data: { quantity: 2 } });
  expect(fill.eventId).toBe(`${String(fill.data.orderId)}/paper-report-1`);
  expect(second.system.reconciliation.mismatches).toEqual([]);
});

test('back after the close of the 21-DTE day: nothing is sent at night, the defensive exit goes at the next open', async () => {
  const first = await boot('2026-11-25T10:30', false);
  await first.system.add(lt112, { id: 'lt112-n' });
  await feed(first.system, 'lt112-n', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-19' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-18' },
  ]);
  await first.stop();

  const second = await boot('2026-11-27T20:00', {
    broker: (clock) => new PaperBroker({ clock, initialPositions: [{ strategyId: 'lt112-n', quantity: 1 }] }),
  });
  const restart = second.clock.now();
  await second.until('2026-11-27T20:05');
  expect(since(second.system, 'lt112-n', restart)).toEqual([]);
  second.clock.set(ny('2026-11-30T09:29'));
  await second.until('2026-11-30T09:31');
  expect(since(second.system, 'lt112-n', restart).slice(0, 2)).toEqual([
    ['MARKET_OPEN', 'Mon 09:30', 'MANAGING', null],
    [
      'DEFENSIVE_EXIT_DTE',
      'Mon 09:30',
      'PENDING_EXIT',
      'missed while the service was down: the defensive exit (DTE rule) fell due at an earlier open',
    ],
  ]);
});

test("a strategy suspended by a calendar event resumes at the first open after it, though the service restarted after that day's close and the suspending record is older than the trail it loads", async () => {
  const first = await boot('2026-12-08T09:35', false);
  await first.system.add(lt112, { id: 'lt' });
  await feed(first.system, 'lt', [{ type: 'MARKET_OPEN' }, { type: 'FOMC_MEETING', date: '2026-12-09' }]);
  // The close bell reaches it in SUSPENDED and is refused: the newest record no longer names the event.
  first.clock.set(ny('2026-12-08T16:00'));
  expect(await first.system.send('lt', { type: 'MARKET_CLOSE' })).toMatchObject({ accepted: false, code: 'NO_EDGE' });
  // More refusals than a restart loads (its window of 32): the suspending record is only in the store.
  for (let i = 0; i < 40; i++) await first.system.send('lt', { type: 'MARKET_CLOSE' });
  await first.stop();

  const second = await boot('2026-12-08T17:00', {});
  await second.until('2026-12-10T09:31');
  expect(second.system.get('lt').state).not.toBe('SUSPENDED');
  const resumed = second.system
    .get('lt')
    .getAuditTrail()
    .find((r) => r.trigger === 'RESUME');
  expect(resumed && [hhmm(resumed), resumed.previousState, resumed.accepted]).toEqual(['Thu 09:30', 'SUSPENDED', true]);
});

test('a strategy suspended by a calendar event is resumed at once by a restart after the first open after the event, not a day later', async () => {
  const first = await boot('2026-12-08T09:35', false);
  await first.system.add(lt112, { id: 'lt' });
  await feed(first.system, 'lt', [{ type: 'MARKET_OPEN' }, { type: 'FOMC_MEETING', date: '2026-12-09' }]);
  await first.stop();

  // Down until Thursday 09:45: the first open after the event (09:30) passed while it was down.
  const second = await boot('2026-12-10T09:45', {});
  const restart = second.clock.now();
  await second.until('2026-12-10T09:46');
  const resumed = second.system
    .get('lt')
    .getAuditTrail()
    .filter((r) => r.at >= restart && r.trigger === 'RESUME');
  expect(resumed.map((r) => [hhmm(r), r.previousState, r.accepted])).toEqual([['Thu 09:45', 'SUSPENDED', true]]);
  expect(resumed[0].data.catchUp).toMatch(/missed while the service was down: the market opened Thu 2026-12-10 09:30 ET/);
  expect(second.system.get('lt').state).not.toBe('SUSPENDED');
  // Friday's open does not resume it again.
  await second.until('2026-12-11T09:31');
  expect(
    second.system
      .get('lt')
      .getAuditTrail()
      .filter((r) => r.at >= restart && r.trigger === 'RESUME'),
  ).toHaveLength(1);
});

test('a restart exactly at the opening bell: one MARKET_OPEN, from the bell, with no catch-up note (nothing was missed)', async () => {
  const first = await boot('2026-11-27T18:00', false);
  await first.system.add(strangle, { id: 's' });
  await first.stop();
  const second = await boot('2026-11-30T09:30', {});
  const restart = second.clock.now();
  await second.until('2026-11-30T09:31');
  const opens = second.system
    .get('s')
    .getAuditTrail()
    .filter((r) => r.at >= restart && r.trigger === 'MARKET_OPEN');
  expect(opens.map((r) => [hhmm(r), r.accepted, r.data.catchUp ?? null])).toEqual([['Mon 09:30', true, null]]);
});

test("a persisted 0DTE position gets one TIME_WINDOW_END at 15:45 (the DTE monitor's), not a second one from the window bell", async () => {
  const first = await boot('2026-12-04T10:40', false);
  await holdZeroDte(first.system, 'z', { expiry: '2026-12-04', quantity: 1, manage: false });
  await first.stop();
  const second = await boot('2026-12-04T15:40', {
    broker: (clock) => new PaperBroker({ clock, initialPositions: [{ strategyId: 'z', quantity: 1 }] }),
  });
  const t0 = second.clock.now();
  await second.until('2026-12-04T15:47');
  const ends = second.system
    .get('z')
    .getAuditTrail()
    .filter((r) => r.at >= t0 && r.trigger === 'TIME_WINDOW_END');
  expect(ends.map((r) => [hhmm(r), r.accepted])).toEqual([['Fri 15:45', true]]);
});
