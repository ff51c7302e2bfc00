/**
 * A strategy an operator suspends after resuming it from a calendar suspension stays suspended:
 * the trading day's RESUME after the calendar event is for the event's suspension only. Before,
 * the driver kept the event's resume date once the strategy left SUSPENDED, and its first open
 * after the event (FOMC Wed 2026-06-17: Thu 06-18) resumed the operator's hold; a restarted
 * service (the reference) read the operator's suspension from the trail and left it alone.
 */
import { tempDir } from '../persistence/helpers';
import { parseEventCalendar } from '../../services/market/eventCalendar';
import { lt112 } from '../../machines/variants';
import { feed, makeHarness, ny } from '../support/restartHarness';
import { stepToDue } from '../../services/simulation/simulatedTime';

let cleanup: () => void;
let h: ReturnType<typeof makeHarness>;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('operator-suspension-'));
  h = makeHarness(dir);
});
afterEach(async () => {
  await h.closeAll();
  cleanup();
});

// The notice of the Wed 2026-06-17 FOMC decision goes out Tue 06-16 09:35 ET.
const extra = { eventCalendar: parseEventCalendar(['type,symbol,date', 'FOMC,,2026-06-17'].join('\n'), 'csv') };
type Booted = Awaited<ReturnType<ReturnType<typeof makeHarness>['boot']>>;
const go = (b: Booted, iso: string) => stepToDue(b.clock, ny(iso), () => b.system.flush());
const hold = { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'checking the fills', operator: 'ops-anna' } as const;

/** Suspended by the notice, resumed by the operator, then suspended by the operator on purpose. */
async function heldByOperator(first: Booted) {
  await first.system.add(lt112, { id: 'held' });
  await go(first, '2026-06-16T09:40'); // MARKET_OPEN 09:30 (READY), the notice 09:35 (SUSPENDED)
  expect(first.system.get('held').state).toBe('SUSPENDED');
  await feed(first.system, 'held', [{ type: 'RESUME' }]); // the operator trades through the event
  await go(first, '2026-06-16T09:45');
  await feed(first.system, 'held', [hold]);
  expect(first.system.get('held').state).toBe('SUSPENDED');
}

const resumes = (b: Booted) =>
  b.system
    .get('held')
    .getAuditTrail()
    .filter((r) => r.trigger === 'RESUME')
    .map((r) => r.timestamp);

test("no restart: the first open after the event leaves the operator's suspension alone", async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra });
  await heldByOperator(first);
  await go(first, '2026-06-18T09:31');
  expect(first.system.get('held').state).toBe('SUSPENDED');
  expect(resumes(first)).toEqual(['2026-06-16T09:40:00.000-04:00']); // the operator's only
});

test("reference: with a restart on Wed, the operator's suspension is left alone too", async () => {
  const first = await h.boot('2026-06-16T09:00', { broker: false, extra });
  await heldByOperator(first);
  await go(first, '2026-06-17T12:00');
  await first.stop();
  const second = await h.boot('2026-06-17T12:00', { broker: false, extra });
  await go(second, '2026-06-18T09:31');
  expect(second.system.get('held').state).toBe('SUSPENDED');
  expect(resumes(second)).toEqual(['2026-06-16T09:40:00.000-04:00']);
});
