/**
 * Records an invoked actor writes as a strategy is restored (a bare report as its monitor starts)
 * are written with the strategy's next write, from its in-memory trail. The trail keeps every
 * record the store does not hold yet, whatever `auditWindow`: with a window smaller than their
 * number the older ones were dropped before they were written (a gap in the stored trail, for good).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { bareReportingMonitor } from '../support/monitors';
import { tempDir } from '../persistence/helpers';

const { counter, logic: positionMonitor } = bareReportingMonitor();
const variant = { ...strangle, actors: { positionMonitor } };

async function run(auditWindow: number) {
  const { dir, cleanup } = tempDir('restore-reports-');
  const file = join(dir, 's.db');
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const first = await openStrategySystem({ store: new SqliteStore(file), variants: [variant], clock, auditWindow });
    await first.add(variant, { id: 's', params: { underlying: 'SPX' } });
    for (const event of managing(VARIANTS[2].entry, 2)) expect((await first.send('s', event)).accepted).toBe(true);
    await first.close(); // stored: seq 6, MANAGING

    counter.reports = 2; // the monitor restarted by the restore moves the strategy twice (seq 7 and 8)
    const second = await openStrategySystem({
      store: new SqliteStore(file),
      variants: [variant],
      clock,
      auditWindow,
      onListenerError: () => {},
    });
    counter.reports = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
    await second.flush();
    expect((await second.send('s', { type: 'VIX_SPIKE', vix: 41 } as never)).accepted).toBe(true); // seq 9
    // The system's own pages: every record once, 1..9.
    const page = await second.readAuditTrail('s', { limit: 100 });
    await second.close();

    const db = new Database(file, { readonly: true });
    const seqs = (db.prepare("SELECT seq FROM audit_records WHERE strategy_id = 's' ORDER BY seq").all() as Array<{ seq: number }>).map(
      (r) => r.seq,
    );
    const stored = (db.prepare("SELECT seq FROM strategies WHERE strategy_id = 's'").get() as { seq: number }).seq;
    db.close();
    const verify = await verifyStore(new SqliteStore(file, { lock: false }), [variant]);
    return { stored, seqs, paged: page.records.map((r) => r.seq), verify };
  } finally {
    cleanup();
  }
}

test.each([100, 2, 1])('auditWindow %i: records written at the restore are all stored, seqs contiguous', async (auditWindow) => {
  const { stored, seqs, paged, verify } = await run(auditWindow);
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  expect({ stored, seqs, paged, differences: verify.differences }).toEqual({ stored: 9, seqs: all, paged: all, differences: [] });
});
