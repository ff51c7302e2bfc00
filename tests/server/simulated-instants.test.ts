/**
 * `serve --simulate` moves its clock from one due timer to the next, waiting for the store after
 * each: a reaction to a stored answer (the order placed on entering PENDING_ENTRY, the paper
 * broker's fill 200 ms after it) is stamped at its true instant, not at the next whole minute.
 * Real SQLite in a temp dir; the simulated clock runs as fast as it can up to noon.
 */
import { DateTime } from 'luxon';
import type { TransitionRecord } from '../../machines/types';
import { startService, type RunningService } from '../../server/service';
import { MARKET_ZONE } from '../../services/market/time';
import { tempDir } from '../persistence/helpers';

const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
const UNTIL = ny('2026-11-23T12:00');
let service: RunningService;
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  tmp = tempDir('sl-sim-instants-');
  service = await startService({
    dataDir: tmp.dir,
    port: 0,
    logger: false,
    token: 'simulated-instants-token-0123',
    market: { simulate: { from: '2026-11-23', speed: 1e9, until: UNTIL }, paper: { latencyMs: 200 } },
    strategies: [{ id: 'strangle-spy', variant: 'strangle', params: { underlying: 'SPY' } }],
  });
  const deadline = Date.now() + 60_000;
  while (service.market!.clock.now() < UNTIL) {
    if (Date.now() > deadline) throw new Error(`simulated clock stuck at ${new Date(service.market!.clock.now()).toISOString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await service.system.flush();
}, 90_000);

afterAll(async () => {
  await service?.close();
  await second?.close();
  tmp?.cleanup();
});
let second: RunningService | undefined;

test('the order goes out the instant PENDING_ENTRY is stored, and the fill lands 200 ms later, not on the next minute', () => {
  const trail = service.system
    .get('strangle-spy')
    .getAuditTrail()
    .filter((r) => r.accepted);
  const at = (trigger: string): number => trail.find((r: TransitionRecord) => r.trigger === trigger)!.at;
  const analysing = trail.find((r) => r.currentState === 'ANALYZING')!.at;
  expect(at('ENTRY_CONDITIONS_MET') - analysing).toBe(60_000); // the simulated market answers in one minute
  expect(at('ORDER_SUBMITTED')).toBe(at('ENTRY_CONDITIONS_MET'));
  expect(at('ORDER_FILLED') - at('ORDER_SUBMITTED')).toBe(200);
  expect(trail.map((r) => r.currentState).slice(0, 5)).toEqual(['READY', 'ANALYZING', 'PENDING_ENTRY', 'ENTERING', 'POSITION_OPEN']);
});

test('restarted over its own data with the same --from, the simulation resumes where its records end: time never runs backwards', async () => {
  await service.close();
  const stored = service.system.get('strangle-spy').getAuditTrail().at(-1)!.at;
  second = await startService({
    dataDir: tmp.dir,
    port: 0,
    logger: false,
    token: 'simulated-instants-token-0123',
    market: { simulate: { from: '2026-11-23', speed: 1, until: UNTIL + 60 * 60_000 }, paper: { latencyMs: 200 } },
    strategies: [{ id: 'strangle-spy', variant: 'strangle', params: { underlying: 'SPY' } }],
  });
  expect(second.market!.clock.now()).toBeGreaterThanOrEqual(stored);
  expect(second.market!.clock.now()).toBeLessThan(UNTIL + 60 * 60_000);
  await second.system.send('strangle-spy', { type: 'VIX_SPIKE' }); // a record made now
  const trail = second.system.get('strangle-spy').getAuditTrail();
  for (let i = 1; i < trail.length; i++) expect(trail[i].at).toBeGreaterThanOrEqual(trail[i - 1].at);
});
