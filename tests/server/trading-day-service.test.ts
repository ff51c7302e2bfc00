/**
 * The service runs the trading day by itself: started on a simulated clock with the paper broker
 * and one strategy of each variant (created from the service's options, as a config file does),
 * nothing is POSTed, and each strategy enters, manages, exits (21 DTE or the same-day close) and
 * closes, across Thanksgiving 2026 (Thu 26 Nov holiday, Fri 27 Nov early close at 13:00).
 * Real SQLite in a temp dir, real HTTP on loopback.
 */
import { DateTime } from 'luxon';
import type { TransitionRecord } from '../../machines/types';
import { startService, type RunningService } from '../../server/service';
import { MARKET_ZONE } from '../../services/market/time';
import { tempDir } from '../persistence/helpers';

const TOKEN = 'trading-day-test-token-0123456789';
const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const when = (r: TransitionRecord) => DateTime.fromMillis(r.at, { zone: MARKET_ZONE }).toFormat('yyyy-MM-dd HH:mm');
const UNTIL = ny('2026-11-28T00:00');

let service: RunningService;
let tmp: { dir: string; cleanup: () => void };
const trails: Record<string, TransitionRecord[]> = {};

async function trailOf(id: string): Promise<TransitionRecord[]> {
  const records: TransitionRecord[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = (await (await fetch(`${service.url}/strategies/${id}?offset=${offset}&limit=500`)).json()) as {
      audit: { total: number; records: TransitionRecord[] };
    };
    records.push(...page.audit.records);
    if (offset + 500 >= page.audit.total) return records.reverse();
  }
}

beforeAll(async () => {
  tmp = tempDir('sl-service-day-');
  service = await startService({
    dataDir: tmp.dir,
    port: 0,
    logger: false,
    token: TOKEN,
    // From 21 Aug a 112-120 DTE entry is the 18 Dec monthly, whose 21-DTE open is Fri 27 Nov.
    market: { simulate: { from: '2026-08-21', speed: 1e9, until: UNTIL } },
    strategies: [
      { id: 'zero-spx', variant: 'zeroDte', params: { underlying: 'SPX' } },
      { id: 'lt112-spx', variant: 'lt112', params: { underlying: 'SPX', quantity: 2 } },
      { id: 'strangle-spy', variant: 'strangle', params: { underlying: 'SPY' } },
    ],
  });
  const deadline = Date.now() + 150_000;
  while (service.market!.clock.now() < UNTIL) {
    if (Date.now() > deadline) throw new Error(`simulated clock stuck at ${new Date(service.market!.clock.now()).toISOString()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.system.flush();
  for (const id of service.system.ids()) trails[id] = await trailOf(id);
}, 180_000);

afterAll(async () => {
  await service?.close();
  tmp?.cleanup();
});

const accepted = (id: string) => trails[id].filter((r) => r.accepted);

test('no MARKET_OPEN on Thanksgiving, one at 09:30 on the early-close Friday', () => {
  const opens = accepted('lt112-spx')
    .concat(trails['lt112-spx'].filter((r) => !r.accepted))
    .filter((r) => r.trigger === 'MARKET_OPEN')
    .map(when);
  expect(opens.filter((d) => d.startsWith('2026-11-2'))).toEqual([
    '2026-11-20 09:30',
    '2026-11-23 09:30',
    '2026-11-24 09:30',
    '2026-11-25 09:30',
    '2026-11-27 09:30',
  ]);
});

test.each(['lt112-spx', 'strangle-spy'])(
  '%s enters, manages, exits at the 21-DTE open on Fri 27 Nov and closes, with no event posted',
  (id) => {
    const moves = accepted(id).map((r) => r.currentState);
    for (const state of [
      'READY',
      'ANALYZING',
      'PENDING_ENTRY',
      'ENTERING',
      'POSITION_OPEN',
      'MANAGING',
      'PENDING_EXIT',
      'EXITING',
      'CLOSED',
    ])
      expect(moves).toContain(state);
    const exit = accepted(id)
      .filter((r) => r.trigger === 'DEFENSIVE_EXIT_DTE')
      .at(-1)!;
    expect([when(exit), exit.previousState, exit.currentState, exit.data.dte]).toEqual([
      '2026-11-27 09:30',
      'MANAGING',
      'PENDING_EXIT',
      21,
    ]);
    const after = accepted(id)
      .filter((r) => r.seq > exit.seq)
      .map((r) => [r.trigger, r.currentState]);
    expect(after.slice(0, 2)).toEqual([
      ['ORDER_SUBMITTED', 'EXITING'],
      ['ORDER_FILLED', 'CLOSED'],
    ]);
    // Broker events carry ids made of the paper broker's order (its session's) and report ids.
    expect(
      accepted(id)
        .filter((r) => r.trigger.startsWith('ORDER_'))
        .every((r) => /^paper-[0-9a-f]{8}-\d+\/(submitted|paper-report-\d+)$/.test(r.eventId ?? '')),
    ).toBe(true);
    expect(service.system.get(id).getSnapshot().context.position).toBeNull();
  },
);

test('zeroDte trades on Fridays and is out at the window end: 15:45, or 12:45 before the 13:00 early close', () => {
  const exits = accepted('zero-spx').filter((r) => r.trigger === 'TIME_WINDOW_END' && r.currentState === 'PENDING_EXIT');
  expect(exits.length).toBeGreaterThan(3);
  expect(exits.map(when)).toContain('2026-11-27 12:45');
  for (const r of exits) expect(when(r).slice(11)).toBe(when(r).startsWith('2026-11-27') ? '12:45' : '15:45');
  const closes = accepted('zero-spx')
    .filter((r) => r.currentState === 'CLOSED')
    .map((r) => when(r).slice(0, 10));
  expect(closes).toEqual(exits.map((r) => when(r).slice(0, 10)));
  expect(service.system.get('zero-spx').getSnapshot().context.position).toBeNull();
});

test('nothing ended in ERROR and the dashboard-facing status names the phase and the next bell', async () => {
  for (const id of Object.keys(trails)) expect(trails[id].some((r) => r.currentState === 'ERROR')).toBe(false);
  expect(service.market!.day.status()).toEqual({
    phase: 'closed',
    nextBell: { type: 'MARKET_OPEN', at: ny('2026-11-30T09:30') },
    strategies: 3,
  });
});
