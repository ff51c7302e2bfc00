/**
 * Steps of the persisted kill switch tests: moving a simulated clock while a persistent system's
 * writes commit, and the events that bring an LT112 strategy to MANAGING 2 contracts.
 */
import type { StrategyEvent } from '../../machines/events';
import type { SimulatedClockHandle } from '../../services/market/clock';
import type { PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import type { StoredSystemState, StrategyStore } from '../../services/store/types';
import { VARIANTS } from './fixtures';

/** From INITIALIZING to MANAGING 2 LT112 contracts expiring 2026-12-18. */
export const toPosition: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
  { type: 'MARKET_OPEN' },
];

/** Moves the simulated clock in small steps, letting the writes each step started commit. */
export async function advance(system: PersistentStrategySystem, clock: SimulatedClockHandle, ms: number, step = 100): Promise<void> {
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await system.flush();
      await new Promise((r) => setImmediate(r));
    }
  };
  await settle();
  for (let done = 0; done < ms; done += step) {
    clock.increment(Math.min(step, ms - done));
    await settle();
  }
}

/** What `store` holds of the system (trading state history, kill switch runs): opened, read and closed again. */
export async function storedSystemState(store: StrategyStore): Promise<StoredSystemState> {
  await store.open();
  try {
    return await store.loadSystemState();
  } finally {
    await store.close();
  }
}
