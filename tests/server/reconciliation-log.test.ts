/**
 * The service says in its log what the start's broker reconciliation found. Before, the report
 * stayed in `system.reconciliation`, which nothing in the service reads: contracts at the broker
 * for a strategy the system does not hold, or for a TERMINATED one (which takes no hold), went
 * unseen. Real SQLite in a temp dir, the paper broker as the service's broker, the simulated clock.
 */
import { lt112 } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { createSimulatedClock } from '../../services/market/clock';
import { startService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { ReportingBroker } from '../support/scriptedBroker';

const TOKEN = 'reconciliation-log-test-token-0123';

test('mismatches and positions no strategy holds are logged at the start', async () => {
  const tmp = tempDir('sl-recon-log-');
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const first = await startService({ dataDir: tmp.dir, port: 0, logger: false, token: TOKEN, clock, market: false });
    try {
      for (const id of ['flat', 'ended']) await first.system.add(lt112, { id });
      await first.system.send('ended', { type: 'MARKET_OPEN' });
      expect(await first.system.send('ended', { type: 'TERMINATE' })).toMatchObject({ to: 'TERMINATED' });
    } finally {
      await first.close();
    }

    const lines: Array<{ level: number; msg: string; reconciliation?: unknown }> = [];
    const broker = new PaperBroker({
      clock,
      initialPositions: [
        { strategyId: 'flat', quantity: 1 },
        { strategyId: 'ended', quantity: 2 },
        { strategyId: 'gone', quantity: 4 },
      ],
    });
    const second = await startService({
      dataDir: tmp.dir,
      port: 0,
      token: TOKEN,
      clock,
      market: { broker },
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } },
    });
    await second.close();
    const said = lines.filter((l) => l.reconciliation !== undefined).map((l) => [l.level, l.msg]);
    expect(said).toEqual([
      [50, 'strategy ended: position mismatch: expected 0, broker has 2, and its state takes no hold: check the account'],
      [40, 'strategy flat: held in ERROR: position mismatch: expected 0, broker has 1'],
      [50, 'broker holds 4 contracts for strategy gone, which this system does not hold: no strategy manages them'],
    ]);
  } finally {
    tmp.cleanup();
  }
});

test("the trading day's errors go to the service's log as JSON lines", async () => {
  // Before, startService gave the trading day no onError: an untracked fill, an expired position
  // held or a report the routing cannot read went to stderr, outside the service's log.
  const tmp = tempDir('sl-day-errors-log-');
  const lines: Array<{ level: number; msg: string; err?: { type?: string } }> = [];
  const clock = createSimulatedClock(FRIDAY_11AM);
  const broker = new ReportingBroker({ clock });
  const service = await startService({
    dataDir: tmp.dir,
    port: 0,
    token: TOKEN,
    clock,
    market: { broker },
    logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } },
  });
  try {
    broker.deliver({ orderId: 'o-1', strategyId: 'lt', kind: 'filled', quantity: 1 });
    const said = lines.filter((l) => l.msg.startsWith('trading day: '));
    expect(said).toHaveLength(1);
    expect(said[0].level).toBe(50);
    expect(said[0].err?.type).toBe('InvalidExecutionReportError');
    expect(said[0].msg).toContain('kind');
  } finally {
    await service.close();
    tmp.cleanup();
  }
});
