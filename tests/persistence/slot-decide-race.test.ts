/**
 * A restored slot held undecided keeps an entry's own reservation: when the store's late decision
 * (it never held one) arrives while that entry's write is in flight, the reservation stands and a
 * second entry is refused at the limit (the decision dropped it, and two entries went past a limit of 1).
 */
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { AuditTrailQuery, StrategyWrite } from '../../services/store/types';
import { tempDir } from './helpers';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];
const limits = { maxOpenPositions: 1 };

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('slot-race-')));
afterEach(() => cleanup());

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('an entry reserved while the store decides keeps its slot: a second entry is refused (limit 1)', async () => {
  const path = join(dir, 's.db');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock, limits });
  for (const id of ['idle', 'other']) {
    await first.add(lt112, { id });
    for (const e of toAnalyzing) await first.send(id, e);
  }
  expect(await first.send('idle', { type: 'FOMC_MEETING', date: '2026-12-09' })).toMatchObject({ accepted: true, to: 'SUSPENDED' });
  for (let i = 0; i < 60; i++) expect((await first.send('idle', { type: i % 2 ? 'MARKET_CLOSE' : 'MARKET_OPEN' })).accepted).toBe(false);
  await first.close();

  // A store with latency (as PostgreSQL has): reads and writes answer when the test lets them.
  const reads = gate();
  const writes = gate();
  class SlowStore extends SqliteStore {
    override async readAuditTrail(id: string, query?: AuditTrailQuery) {
      await reads.opened;
      return super.readAuditTrail(id, query);
    }
    override async append(write: StrategyWrite) {
      await writes.opened;
      return super.append(write);
    }
  }
  const second = await openStrategySystem({ store: new SlowStore(path), variants: [lt112], clock, limits });
  try {
    expect(second.summary().portfolio.slotsUsed).toBe(1); // held, undecided
    // The operator sends the suspended strategy straight to PENDING_ENTRY (legal flat): an entry, its slot reserved now.
    const override = second.send('idle', {
      type: 'MANUAL_OVERRIDE',
      target: 'PENDING_ENTRY',
      reason: 'operator',
      operator: 'ops',
    } as never);
    for (let i = 0; i < 5; i++) await tick();
    // The store's answer arrives while that write is in flight.
    reads.open();
    for (let i = 0; i < 20; i++) await tick();
    const slotsWhileInFlight = second.summary().portfolio.slotsUsed;
    const otherEntry = second.send('other', VARIANTS[1].entry);
    writes.open();
    const [a, b] = await Promise.all([override, otherEntry]);
    const inPendingEntry = ['idle', 'other'].filter((id) => second.get(id).state === 'PENDING_ENTRY');
    expect({
      slotsWhileInFlight,
      idle: a.accepted,
      other: b.accepted,
      inPendingEntry,
      slots: second.summary().portfolio.slotsUsed,
    }).toEqual({
      slotsWhileInFlight: 1,
      idle: true,
      other: false,
      inPendingEntry: ['idle'],
      slots: 1,
    });
  } finally {
    writes.open();
    await second.close();
  }
});
