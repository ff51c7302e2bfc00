/**
 * Strategies a service creates from its configuration at a first start, during the session, join
 * the running day, and their records say so. Before, the driver took them for strategies left
 * behind by a restart, and their records said "missed while the service was down" of a service
 * that had never run.
 */
import { createSimulatedClock } from '../../services/market/clock';
import { startService } from '../../server/service';
import { tempDir } from '../persistence/helpers';

test('a configured strategy created at the first start mid-session gets its MARKET_OPEN as joining the day; a restart later still notes what it missed', async () => {
  const tmp = tempDir('sl-join-');
  const clock = createSimulatedClock('2026-12-04T11:00:00-05:00');
  const options = {
    dataDir: tmp.dir,
    port: 0,
    logger: false as const,
    token: 'join-test-token-0123456789abcdef',
    clock,
    market: true,
    strategies: [{ id: 'lt', variant: 'lt112', params: { underlying: 'SPX' } }],
  };
  try {
    const first = await startService(options);
    clock.increment(1000);
    await first.system.flush();
    const open = first.system
      .get('lt')
      .getAuditTrail()
      .find((r) => r.trigger === 'MARKET_OPEN');
    expect(open).toMatchObject({ accepted: true, currentState: 'READY' });
    expect(open?.data.catchUp).toBe('added while the day was under way: the market opened Fri 2026-12-04 09:30 ET');
    await first.close();

    // Down over the weekend: Monday's open was missed, and the record says so.
    const later = createSimulatedClock('2026-12-07T10:30:00-05:00');
    const second = await startService({ ...options, clock: later });
    later.increment(1000);
    await second.system.flush();
    const caughtUp = second.system
      .get('lt')
      .getAuditTrail()
      .filter((r) => r.at >= Date.parse('2026-12-07T10:30:00-05:00') && r.data.catchUp !== undefined);
    expect(caughtUp.length).toBeGreaterThan(0);
    expect(String(caughtUp[0].data.catchUp)).toMatch(/^missed while the service was down/);
    await second.close();
  } finally {
    tmp.cleanup();
  }
});
