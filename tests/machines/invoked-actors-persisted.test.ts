/**
 * Invoked actors in a persistent system: what a monitor asks for is written ahead like any send,
 * and a strategy reopened from the store in MANAGING runs its monitor again.
 */
import { fromCallback, type EventObject } from 'xstate';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { mustExist } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import type { StrategyEvent } from '../../machines/events';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { tempDir } from '../persistence/helpers';

const toManaging = managing(VARIANTS[1].entry, 2);

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** A strategy in MANAGING in a SQLite-backed system, with a monitor that records its starts and can ask for events. */
async function managedStrategy() {
  const started: StrategyActorInput[] = [];
  let sendBack: ((event: EventObject) => void) | undefined;
  const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ input, sendBack: send }) => {
    started.push(input);
    sendBack = send;
  });
  const ask = (event: StrategyEvent) => mustExist(sendBack, 'a started monitor')(lifecycleRequest(event));
  const variants = [{ ...lt112, actors: { positionMonitor } }];
  const file = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
  await first.add(variants[0], { id: 'lt', params: { underlying: 'SPX' } });
  for (const event of toManaging) expect((await first.send('lt', event)).accepted).toBe(true);
  return { started, ask, variants, file, first };
}

test('a persisted strategy writes what its monitor asks for, and its monitor runs again after a reopen', async () => {
  const { started, ask, variants, file, first } = await managedStrategy();
  expect(started.map((i) => i.state)).toEqual(['MANAGING']);
  await first.close();

  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
  expect(second.get('lt').state).toBe('MANAGING');
  expect(started).toHaveLength(2);
  expect(started[1]).toMatchObject({ strategyId: 'lt', state: 'MANAGING', position: { quantity: 2 } });
  ask({ type: 'VIX_SPIKE', vix: 41 });
  await new Promise<void>((resolve) => setImmediate(resolve));
  await second.flush();
  expect(second.get('lt').state).toBe('PENDING_EXIT');
  await second.close();

  const third = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
  expect(third.get('lt').state).toBe('PENDING_EXIT');
  expect(third.get('lt').getAuditTrail().at(-1)).toMatchObject({
    trigger: 'VIX_SPIKE',
    previousState: 'MANAGING',
    currentState: 'PENDING_EXIT',
    data: { vix: 41 },
  });
  await third.close();
});

test('a stored MANAGING strategy written before states invoked actors runs its monitor when reopened', async () => {
  const { started, ask, variants, file, first } = await managedStrategy();
  await first.close();
  // The earlier release stored no invoked children in its snapshots.
  const db = new Database(file);
  expect(db.prepare("UPDATE strategies SET snapshot = json_set(snapshot, '$.children', json('{}'))").run().changes).toBe(1);
  db.close();

  const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
  expect(second.get('lt').state).toBe('MANAGING');
  expect(started.map((i) => i.state)).toEqual(['MANAGING', 'MANAGING']);
  expect(started[1]).toMatchObject({ strategyId: 'lt', params: { underlying: 'SPX' }, position: { quantity: 2 } });
  ask({ type: 'VIX_SPIKE', vix: 41 });
  await new Promise<void>((resolve) => setImmediate(resolve));
  await second.flush();
  expect(second.get('lt').state).toBe('PENDING_EXIT');
  await second.close();
});
