/**
 * The systems and the actor refuse options they cannot run with, naming them, before any strategy
 * is made or restored. Before: `auditWindow: NaN` kept every record in memory and a restart then
 * loaded none; `auditWindow: -1` or `0` kept one; `restoreWindow: NaN` restored no record;
 * `auditLimit: 1.5` kept one and `'x'` was ignored; `retryMs: -1` retried a failing write at once,
 * in a loop.
 */
import { join } from 'node:path';
import { InvalidOptionsError } from '../../machines/errors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { MemoryStore } from '../../services/store/memoryStore';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';

/** The InvalidOptionsError `make` throws or rejects with. */
async function refusal(make: () => unknown): Promise<InvalidOptionsError> {
  let error: unknown;
  try {
    await make();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidOptionsError);
  return error as InvalidOptionsError;
}

test.each([
  [{ auditWindow: NaN }, 'auditWindow', 'got NaN'],
  [{ auditWindow: 0 }, 'auditWindow', 'from 1'],
  [{ auditWindow: -1 }, 'auditWindow', 'got -1'],
  [{ restoreWindow: NaN }, 'restoreWindow', 'got NaN'],
  [{ restoreWindow: -1 }, 'restoreWindow', 'from 0'],
  [{ retryMs: -1 }, 'retryMs', 'got -1'],
  [{ retryMs: Infinity }, 'retryMs', 'got Infinity'],
  [{ auditLimit: 1.5 }, 'auditLimit', 'got 1.5'],
  [{ killSwitch: { maxRetries: -1 } }, 'killSwitch.maxRetries', 'got -1'],
  [{ killSwitch: { backoffMs: NaN } }, 'killSwitch.backoffMs', 'got NaN'],
  [{ onStoreError: 'log' }, 'onStoreError', 'must be a function'],
  [{ variants: lt112 }, 'variants', 'must be an array'],
  [{ listeners: () => undefined }, 'listeners', 'must be a list of functions'],
  [{ listeners: [() => undefined, 'x'] }, 'listeners[1]', 'must be a function, got "x"'],
])('openStrategySystem refuses %p, naming %s, and opens nothing', async (options, option, problem) => {
  const { dir, cleanup } = tempDir('sl-sysopt-');
  try {
    const file = join(dir, 's.db');
    const error = await refusal(() => openStrategySystem({ store: new SqliteStore(file), variants: [lt112], ...(options as object) }));
    expect(error.component).toBe('openStrategySystem');
    expect(error.option).toBe(option);
    expect(error.problem).toContain(problem);
    // Refused before the store was opened: the same file opens afterwards (no lock left held).
    const system = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112] });
    await system.close();
  } finally {
    cleanup();
  }
});

test('openStrategySystem without options, or without a store it can open, names what is wrong', async () => {
  expect((await refusal(() => openStrategySystem(undefined as never))).option).toBe('options');
  const memory = await refusal(() => openStrategySystem({ store: new MemoryStore() as never, variants: [lt112] }));
  expect(memory.option).toBe('store');
  expect(memory.problem).toMatch(
    /^must be a StrategyStore \(.*\), got an object without open\(\): a MemoryStore is for createStrategySystem$/,
  );
  expect((await refusal(() => openStrategySystem({ store: undefined as never, variants: [lt112] }))).problem).toContain('got undefined');
});

test.each([
  [{ auditLimit: 0 }, 'auditLimit'],
  [{ auditLimit: 'x' }, 'auditLimit'],
  [{ killSwitch: { maxBackoffMs: -5 } }, 'killSwitch.maxBackoffMs'],
  [{ onListenerError: 42 }, 'onListenerError'],
])('createStrategySystem refuses %p, naming %s', async (options, option) => {
  const error = await refusal(() => createStrategySystem(options as never));
  expect(error.component).toBe('createStrategySystem');
  expect(error.option).toBe(option);
});

test('createStrategyActor refuses an auditLimit that is not a whole number from 1', async () => {
  const machine = createStrategyMachine(lt112);
  const error = await refusal(() => createStrategyActor(machine, { auditLimit: NaN }));
  expect(error.component).toBe('createStrategyActor');
  expect(error.message).toBe('createStrategyActor: option auditLimit must be a whole number from 1 to 9007199254740991, got NaN');
});

test('the limits at their bounds run as documented: a window of one record, none restored', async () => {
  const { dir, cleanup } = tempDir('sl-sysopt-');
  const store = new SqliteStore(join(dir, 's.db'));
  const system = await openStrategySystem({ store, variants: [lt112], auditWindow: 1, restoreWindow: 0, retryMs: 1 });
  await system.add(lt112, { id: 'a' });
  await system.send('a', { type: 'MARKET_OPEN' });
  await system.send('a', { type: 'TIME_WINDOW_START', window: 'entry' });
  expect(
    system
      .get('a')
      .getAuditTrail()
      .map((r) => r.currentState),
  ).toEqual(['ANALYZING']);
  // The whole history is in the store, a page away.
  expect((await system.readAuditTrail('a')).records.map((r) => r.currentState)).toEqual(['READY', 'ANALYZING']);
  await system.close();
  cleanup();
  const memory = createStrategySystem({ auditLimit: 1 });
  memory.add(lt112, { id: 'b' });
  memory.send('b', { type: 'MARKET_OPEN' });
  expect(memory.get('b').getAuditTrail()).toHaveLength(1);
});
