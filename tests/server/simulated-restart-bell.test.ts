/**
 * `serve --simulate` restarted over its own data resumes where its records end. When the newest
 * record was a bell (the 16:00 MARKET_CLOSE), the restart resumed at that very instant and the bell
 * rang again: every strategy got it twice (the second refused, in its audit trail). It now resumes
 * just past it. Real SQLite in a temp dir, the simulated clock as fast as it runs.
 */
import { DateTime } from 'luxon';
import { startService, type RunningService } from '../../server/service';
import { MARKET_ZONE } from '../../services/market/time';
import { tempDir } from '../persistence/helpers';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const CLOSE = ny('2026-11-23T16:00');
const TOKEN = 'simulated-restart-bell-token-01';

async function runUntil(dataDir: string, until: number): Promise<RunningService> {
  const service = await startService({
    dataDir,
    port: 0,
    logger: false,
    token: TOKEN,
    market: { simulate: { from: '2026-11-23', speed: 1e9, until } },
    strategies: [{ id: 'lt-spx', variant: 'lt112', params: { underlying: 'SPX' } }],
  });
  const deadline = Date.now() + 60_000;
  while (service.market!.clock.now() < until) {
    if (Date.now() > deadline) throw new Error('simulated clock stuck');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await service.system.flush();
  return service;
}

test('a restart right after the close bell does not ring it again', async () => {
  const tmp = tempDir('sl-sim-bell-');
  let service: RunningService | undefined;
  try {
    service = await runUntil(tmp.dir, CLOSE);
    const closes = () =>
      service!.system
        .get('lt-spx')
        .getAuditTrail()
        .filter((r) => r.trigger === 'MARKET_CLOSE' && r.at === CLOSE);
    expect(service.system.get('lt-spx').getAuditTrail().at(-1)?.at).toBe(CLOSE);
    expect(closes()).toHaveLength(1);
    await service.close();

    service = await runUntil(tmp.dir, CLOSE + 30 * 60_000);
    expect(closes()).toHaveLength(1);
  } finally {
    await service?.close();
    tmp.cleanup();
  }
}, 120_000);
