/** A database with strategies in known situations, written through the real persisted system. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';

/**
 * Writes four strategies: `lt112-spx` holding 2 contracts (POSITION_OPEN), `strangle-spy` in ERROR
 * (its entry order never answered: stuck in ENTERING), `0dte-spx` READY, `lt112-idle` INITIALIZING.
 */
export async function buildDatabase(file: string): Promise<void> {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [zeroDte, lt112, strangle], clock });
  const send = async (id: string, events: StrategyEvent[]) => {
    for (const event of events) {
      const result = await system.send(id, event);
      if (!result.accepted) throw new Error(`setup: ${id} ${event.type} rejected in ${result.from}: ${result.reason}`);
      clock.increment(MINUTE);
    }
  };
  await system.add(lt112, { id: 'lt112-spx', params: { underlying: 'SPX' } });
  await system.add(strangle, { id: 'strangle-spy', params: { underlying: 'SPY' } });
  await system.add(zeroDte, { id: '0dte-spx', params: { underlying: 'SPX' } });
  await system.add(lt112, { id: 'lt112-idle' });
  await send('lt112-spx', [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    VARIANTS[1].entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-03-29' },
  ]);
  await send('strangle-spy', [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, VARIANTS[2].entry, { type: 'ORDER_SUBMITTED' }]);
  await send('0dte-spx', [{ type: 'MARKET_OPEN' }]);
  clock.increment(6 * MINUTE); // strangle-spy's order is stuck: ERROR
  await system.flush();
  if (system.get('strangle-spy').state !== 'ERROR') throw new Error(`setup: strangle-spy is in ${system.get('strangle-spy').state}`);
  await system.close();
}

/** A digest of the database file and its WAL, to show a command changed nothing. */
export function digest(file: string): string {
  const hash = createHash('sha256');
  for (const f of [file, `${file}-wal`]) hash.update(existsSync(f) ? readFileSync(f) : Buffer.alloc(0));
  return hash.digest('hex');
}
