/**
 * A stored snapshot whose context lacks a field or holds one of the wrong kind (a row edited in the
 * database, a snapshot a caller built) is refused with SnapshotRestoreError naming the field.
 * Before, it restored as it was: the first event threw inside the strategy's actor, XState relayed
 * the error to the coordinator, and the whole system stopped with it, every neighbour included
 * (with no observer, the process ended). And a strategy actor that fails anyway (an action that
 * throws) now stops alone: the coordinator handles its error instead of failing with it.
 */
import { assign } from 'xstate';
import { join } from 'node:path';
import { SnapshotRestoreError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor, type PersistedStrategy } from '../../services/runtime/strategyActor';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from '../persistence/helpers';
import { editStoredSnapshot } from '../support/tamper';

/** A READY strategy's persisted snapshot, with `edit` applied to a copy of its context. */
function tampered(edit: (context: Record<string, unknown>) => void): PersistedStrategy {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'victim' });
  system.send('victim', { type: 'MARKET_OPEN' });
  const saved = JSON.parse(JSON.stringify(system.get('victim').getPersistedSnapshot())) as PersistedStrategy;
  edit((saved.snapshot as unknown as { context: Record<string, unknown> }).context);
  return saved;
}

test.each([
  ['stats missing', (c: Record<string, unknown>) => delete c.stats, 'stats must be an object'],
  ['recentEventIds missing', (c: Record<string, unknown>) => delete c.recentEventIds, 'recentEventIds must be a list of strings'],
  ['an incarnation that is not a string', (c: Record<string, unknown>) => (c.incarnation = 7), 'incarnation must be a non-empty string'],
  ['a position of "two" contracts', (c: Record<string, unknown>) => (c.position = { quantity: 'two', openedAt: 0 }), 'position.quantity'],
  [
    'a price over more contracts than the position holds',
    (c: Record<string, unknown>) => (c.position = { quantity: 2, openedAt: 0, entryPrice: 3, pricedQuantity: 5 }),
    'position.pricedQuantity',
  ],
  ['errorCount -1', (c: Record<string, unknown>) => (c.errorCount = -1), 'errorCount must be a whole number'],
  [
    'a deadline in a made-up state',
    (c: Record<string, unknown>) => (c.deadline = { kind: 'STUCK', state: 'NOWHERE', at: 0 }),
    'deadline.state',
  ],
  [
    'timeInState of a made-up state',
    (c: Record<string, unknown>) => ((c.stats as { timeInState: object }).timeInState = { NOWHERE: 5 }),
    'stats.timeInState.NOWHERE',
  ],
  ['lastRecord without a seq', (c: Record<string, unknown>) => (c.lastRecord = { at: 0 }), 'lastRecord must be null'],
])('in memory, %s: add() refuses it, naming the field; the system and its neighbour run on', (_name, edit, field) => {
  const saved = tampered(edit);
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'neighbour' });
  expect(() => system.add(lt112, { id: 'victim', snapshot: saved })).toThrow(SnapshotRestoreError);
  expect(() => system.add(lt112, { id: 'victim', snapshot: saved })).toThrow(field);
  expect(system.has('victim')).toBe(false);
  expect(system.actorRef.getSnapshot().status).toBe('active');
  expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
  // The actor on its own refuses it the same way.
  expect(() => createStrategyActor(createStrategyMachine(lt112), { snapshot: saved })).toThrow(`the snapshot does not fit the chart: `);
});

test('an untouched snapshot still restores and runs', () => {
  const saved = tampered(() => undefined);
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'victim', snapshot: saved });
  expect(system.send('victim', { type: 'TIME_WINDOW_START', window: 'entry' })).toMatchObject({ accepted: true, to: 'ANALYZING' });
});

test('SQLite: a row edited to drop context.stats is refused at the open, naming the strategy; nothing is lost from the file', async () => {
  const { dir, cleanup } = tempDir('sl-tamper-');
  const file = join(dir, 's.db');
  try {
    const first = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
    await first.add(lt112, { id: 'victim' });
    await first.add(lt112, { id: 'neighbour' });
    await first.send('victim', { type: 'MARKET_OPEN' });
    await first.close();
    editStoredSnapshot(file, 'victim', (snapshot) => delete snapshot.context.stats);

    const opening = openStrategySystem({ store: new SqliteStore(file), variants: [lt112], clock: createSimulatedClock(FRIDAY_11AM) });
    await expect(opening).rejects.toThrow(SnapshotRestoreError);
    await expect(opening).rejects.toThrow(/"victim".*stats must be an object/s);
    // The row is as it was: repaired, it opens.
    editStoredSnapshot(file, 'victim', (snapshot) => {
      expect(snapshot.context.stats).toBeUndefined();
      snapshot.context.stats = { transitions: 1, rejected: 0, timeInState: {} };
    });
    const repaired = await openStrategySystem({
      store: new SqliteStore(file),
      variants: [lt112],
      clock: createSimulatedClock(FRIDAY_11AM),
    });
    expect(await repaired.send('victim', { type: 'TIME_WINDOW_START', window: 'entry' })).toMatchObject({
      accepted: true,
      to: 'ANALYZING',
    });
    await repaired.close();
  } finally {
    cleanup();
  }
});

test("a strategy whose actor fails is put back alone: the coordinator and the strategy's neighbours run on", () => {
  // An action that throws fails the strategy's actor; XState reports it to the actor's parent.
  const failing = createStrategyMachine(lt112).provide({
    actions: {
      enterError: assign(() => {
        throw new Error('boom');
      }),
    } as never,
  });
  const errors: unknown[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
  try {
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    system.add(failing, { id: 'bad' });
    system.add(lt112, { id: 'neighbour' });
    system.send('bad', { type: 'MARKET_OPEN' });
    // Through the runtime the throw is refused (ACTOR_FAILED, tests/runtime/failing-action.test.ts);
    // an event sent to the actor itself, around the runtime, fails it: the strategy is put back on
    // its committed state (tests/runtime/actor-failed-around.test.ts), and refuses the same again.
    const failed = system.get('bad').actorRef;
    failed.send({ type: 'SYSTEM_ERROR', reason: 'feed lost', at: FRIDAY_11AM } as never);
    expect(failed.getSnapshot().status).toBe('error');
    expect(system.send('bad', { type: 'SYSTEM_ERROR', reason: 'feed lost' })).toMatchObject({ accepted: false, code: 'ACTOR_FAILED' });
    expect(system.get('bad').actorRef.getSnapshot()).toMatchObject({ status: 'active', value: 'READY' });
    // Before, the unhandled `xstate.error.actor.bad` failed the coordinator too.
    expect(system.actorRef.getSnapshot().status).toBe('active');
    expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    expect(system.setTradingState('REDUCING', 'risk').to).toBe('REDUCING');
    expect(String(errors[0])).toContain('strategy bad: its actor failed on an event sent around the runtime');
  } finally {
    spy.mockRestore();
  }
});
