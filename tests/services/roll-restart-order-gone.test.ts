/**
 * A restart in the middle of a strangle's roll (ADJUSTING, its adjustment order in flight). A roll
 * changes no quantity, so the broker's position agreeing with the strategy's says nothing about
 * whether the roll filled while the service was down: an adjustment order the broker no longer
 * works may have filled. Before, the routing placed it again blind, and the position was rolled
 * twice. Now the adjustment ends with what the strategy holds (ORDER_REJECTED, back to MANAGING);
 * one the broker still works is followed again. SQLite in a temp dir, the simulated clock, the
 * scripted broker (its book and positions outlive the process, as a real broker's): no mocks.
 */
import { join } from 'node:path';
import { strangle } from '../../machines/variants';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { ScriptedBroker, sendEntry, settled } from '../support/scriptedBroker';

const MONDAY_10AM = Date.parse('2026-11-23T10:00:00-05:00');

let dir: string;
let cleanup: () => void;
const open: Array<{ system: PersistentStrategySystem; stop: () => void }> = [];
beforeEach(() => ({ dir, cleanup } = tempDir('sl-roll-restart-')));
afterEach(async () => {
  for (const { system, stop } of open.splice(0)) {
    stop();
    await system.close();
  }
  cleanup();
});

/** A process over `file`: the persistent system and its trading day over `broker`. */
async function processOver(file: string, broker: ScriptedBroker, at: number) {
  const clock = createSimulatedClock(at);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [strangle], clock });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  const run = { system, stop: () => day.stop() };
  open.push(run);
  const turn = async () => {
    for (let i = 0; i < 4; i++) {
      clock.increment(0);
      await settled();
      await system.flush();
    }
  };
  return { system, clock, errors, turn, run };
}

/** A strangle of 2 contracts in ADJUSTING, its adjustment order B-2 working; then the process stops. */
async function rollingThenStopped(file: string, broker: ScriptedBroker) {
  const p = await processOver(file, broker, MONDAY_10AM);
  await p.system.add(strangle, { id: 's', params: { quantity: 2 } });
  sendEntry(p.system);
  await p.turn();
  broker.report({ orderId: 'B-1', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-1', price: 1 });
  broker.held = 2;
  await p.turn();
  await p.system.send('s', { type: 'MARKET_OPEN' });
  await p.system.send('s', { type: 'RISK_LIMIT_EXCEEDED' });
  await p.turn();
  expect(p.system.get('s').state).toBe('ADJUSTING');
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}`)).toEqual(['B-1:open', 'B-2:adjust']);
  open.splice(open.indexOf(p.run), 1);
  p.run.stop();
  await p.system.close();
}

test('the roll filled while the service was down (the broker works it no more): no second roll order, back to MANAGING', async () => {
  const file = join(dir, 'roll.db');
  const broker = new ScriptedBroker();
  await rollingThenStopped(file, broker);
  // While nothing listens, the broker fills the roll: its report reaches no one.
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'E-2', price: 1 });
  const p = await processOver(file, broker, MONDAY_10AM + 60_000);
  await p.turn();
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}`)).toEqual(['B-1:open', 'B-2:adjust']);
  expect(p.system.get('s').state).toBe('MANAGING');
  expect(p.system.get('s').getSnapshot().context.position?.quantity).toBe(2);
  expect(p.system.get('s').getAuditTrail().at(-1)).toMatchObject({
    trigger: 'ORDER_REJECTED',
    data: { reason: expect.stringContaining('after a restart the broker has no working adjustment order') },
  });
  expect(p.errors).toEqual([]);
});

test('the roll still working at the broker after the restart is followed again: its fill ends the adjustment', async () => {
  const file = join(dir, 'roll.db');
  const broker = new ScriptedBroker();
  await rollingThenStopped(file, broker);
  const p = await processOver(file, broker, MONDAY_10AM + 60_000);
  await p.turn();
  expect(p.system.get('s').state).toBe('ADJUSTING');
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'partial', quantity: 1, reportId: 'E-2', price: 1 });
  broker.report({ orderId: 'B-2', strategyId: 's', kind: 'fill', quantity: 1, reportId: 'E-3', price: 1 });
  await p.turn();
  expect(broker.orders.map((o) => `${o.id}:${o.order.side}`)).toEqual(['B-1:open', 'B-2:adjust']);
  expect(p.system.get('s').state).toBe('MANAGING');
  expect(p.system.get('s').getSnapshot().context.position?.quantity).toBe(2);
  expect(p.errors).toEqual([]);
});
