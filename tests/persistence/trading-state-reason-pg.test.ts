/**
 * On PostgreSQL, the reason and operator of a trading state change are checked before anything is
 * written: a NUL character or a reason longer than 500 characters is refused with
 * InvalidOptionsError naming the argument, and the trading state is unchanged. A kill switch with
 * such text engages all the same, its text made storable.
 *
 * Before, a NUL failed the write "(22021) invalid byte sequence" and a reason of ~8 KB failed the
 * NOTIFY "(22023) payload string too long", both reported as StoreUnavailableError: the kill switch
 * did not engage and the operator was told the store was down. The longest text taken (500
 * characters of reason, 64 of operator, each JSON-escaped to six bytes) still fits a NOTIFY.
 */
import { InvalidOptionsError, StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { freshDatabase } from './pg';

/** The call is refused as input naming `argument` (not as a store outage), and nothing changed. */
async function refusedAsInput(system: PersistentStrategySystem, call: () => Promise<unknown>, argument: string): Promise<void> {
  const before = system.tradingStateHistory().length;
  const error = await call().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidOptionsError);
  expect(error).not.toBeInstanceOf(StoreUnavailableError);
  expect(error).toMatchObject({ option: argument });
  expect(system.tradingStateHistory()).toHaveLength(before);
}

let system: PersistentStrategySystem;
beforeEach(async () => {
  const url = await freshDatabase('ts_reason');
  system = await openStrategySystem({
    store: new PostgresStore({ connectionString: url }),
    variants: [lt112],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
});
afterEach(async () => {
  await system.close();
});

test('a NUL or an over-long reason is refused as input, not as a store outage; a kill switch with them engages', async () => {
  await refusedAsInput(system, () => system.setTradingState('REDUCING', 'a\u0000b'), 'reason');
  await refusedAsInput(system, () => system.setTradingState('REDUCING', 'x'.repeat(10_000)), 'reason');
  expect(system.tradingState).toBe('ACTIVE');
  const run = await system.startKillSwitch(`fat finger\u0000${'x'.repeat(10_000)}`, 'o\u0000ps');
  await run.done;
  expect(system.tradingState).toBe('HALTED');
  expect(system.tradingStateHistory().at(-1)).toMatchObject({
    reason: `kill switch: fat finger\uFFFD${'x'.repeat(488)}\u2026`,
    operator: 'o\uFFFDps',
  });
});

test('the longest reason and operator taken are stored and published, whatever their characters', async () => {
  // Control characters are escaped to six bytes in the NOTIFY's JSON; a payload must stay under 8000.
  const reason = '\u0001'.repeat(500);
  const operator = '\u0002'.repeat(64);
  const run = await system.startKillSwitch(reason, operator);
  await run.done;
  expect(system.tradingStateHistory().at(-1)).toMatchObject({ to: 'HALTED', reason: `kill switch: ${reason}`, operator });
  const change = await system.setTradingState('REDUCING', '€'.repeat(500), operator);
  expect(change).toMatchObject({ to: 'REDUCING', reason: '€'.repeat(500) });
});
