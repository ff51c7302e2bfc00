/** A trading day over a SQLite system that can be stopped and started again on the same file (a restart), on simulated clocks. */
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { StrategyEvent } from '../../machines/events';
import type { TransitionRecord } from '../../machines/types';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { PaperBroker } from '../../services/broker/broker';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { stepClock } from '../../services/simulation/simulatedTime';
import { SqliteStore } from '../../services/store/sqliteStore';
import { MARKET_ZONE } from '../../services/market/time';
import { startTradingDay, type TradingDay, type TradingDayOptions } from '../../services/day/tradingDay';
import { createSimulatedMarket } from '../../services/simulation/simulatedMarket';

export const variants = [zeroDte, lt112, strangle];
export const ny = (iso: string) => DateTime.fromISO(iso, { zone: MARKET_ZONE }).toMillis();
export const hhmm = (r: TransitionRecord) => DateTime.fromMillis(r.at, { zone: MARKET_ZONE }).toFormat('ccc MM-dd HH:mm:ss');

export function makeHarness(dir: string) {
  const open: Array<{ system: PersistentStrategySystem; day?: TradingDay }> = [];
  const errors: unknown[] = [];
  async function boot(at: string | number, drive: false | { broker?: boolean; market?: boolean; extra?: Partial<TradingDayOptions> }) {
    const clock: SimulatedClockHandle = createSimulatedClock(typeof at === 'number' ? at : ny(at));
    const broker = drive && drive.broker !== false ? new PaperBroker({ clock }) : undefined;
    const system = await openStrategySystem({ store: new SqliteStore(join(dir, 'day.db')), variants, clock });
    // As serve's prepareMarket: the paper broker's book is seeded from the stored positions (no reconciliation).
    if (broker)
      for (const id of system.ids()) {
        const held = system.peek(id).snapshot.context.position?.quantity ?? 0;
        if (held > 0) broker.setPosition(id, held);
      }
    const day = drive
      ? startTradingDay({
          target: system,
          clock,
          ...(broker ? { broker } : {}),
          ...(drive.market ? { market: createSimulatedMarket({ seed: 1 }) } : {}),
          onError: (e) => errors.push(e),
          ...(drive.extra ?? {}),
        })
      : undefined;
    open.push({ system, day });
    const until = (iso: string | number) => stepClock(clock, typeof iso === 'number' ? iso : ny(iso), () => system.flush(), 1000);
    const stop = async () => {
      day?.stop();
      await system.close();
      open.splice(
        open.findIndex((o) => o.system === system),
        1,
      );
    };
    return { clock, system, day, until, stop };
  }
  async function closeAll() {
    for (const { system, day } of open.splice(0)) {
      day?.stop();
      await system.close();
    }
  }
  return { boot, closeAll, errors };
}

export async function feed(system: PersistentStrategySystem, id: string, events: StrategyEvent[]) {
  for (const event of events) {
    const result = await system.send(id, event);
    if (!result.accepted) throw new Error(`setup step ${event.type} rejected in ${result.from}: ${result.reason}`);
  }
}

export function trail(system: PersistentStrategySystem, id: string, from = 0) {
  return system
    .get(id)
    .getAuditTrail()
    .filter((r) => r.at >= from)
    .map(
      (r) =>
        `${hhmm(r)} ${r.trigger} ${r.previousState}->${r.currentState}${r.accepted ? '' : ' (refused)'}${r.data.catchUp ? ' [catchUp]' : ''}`,
    );
}

/**
 * Adds a zeroDte `id` and feeds it to a filled entry of `quantity` contracts expiring `expiry`
 * (market open, entry window, conditions met, order submitted and filled, each order event with
 * `orderId` when given), then, unless `manage` is false, into its manage window (MANAGING).
 */
export async function holdZeroDte(
  system: PersistentStrategySystem,
  id: string,
  options: { expiry: string; quantity?: number; orderId?: string; manage?: boolean },
) {
  const { expiry, quantity = 2, orderId, manage = true } = options;
  const order = orderId === undefined ? {} : { orderId };
  await system.add(zeroDte, { id });
  await feed(system, id, [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START', window: 'entry' },
    { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry },
    { type: 'ORDER_SUBMITTED', ...order },
    { type: 'ORDER_FILLED', quantity, expiry, ...order },
    ...(manage ? [{ type: 'TIME_WINDOW_START', window: 'manage' } as const] : []),
  ]);
}
