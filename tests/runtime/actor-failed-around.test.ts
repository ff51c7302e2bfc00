/**
 * An invoked actor's malformed bare `sendBack` (`undefined` from a mapping that found nothing, a
 * string as XState v4 took) fails the strategy's own XState actor: XState cannot read the event.
 * Before, the runtime then left the strategy dead: a position held in MANAGING answered
 * ACTOR_STOPPED to every later event, its emergency exit included, and its monitor was gone. Now
 * the strategy is put back on its committed state, with its invoked actors running again.
 */
import { fromCallback, type EventObject } from 'xstate';
import { join } from 'node:path';
import type { StrategyActorInput } from '../../machines/actors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { mustExist } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';

const toManaging = managing(VARIANTS[1].entry, 2);

/** A monitor that records its starts and stops and hands out its sendBack. */
function recordingMonitor() {
  const log: string[] = [];
  let sendBack: ((event: unknown) => void) | undefined;
  const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ input, sendBack: send }) => {
    log.push(`start ${input.state}`);
    sendBack = send as (event: unknown) => void;
    return () => void log.push(`stop ${input.state}`);
  });
  return { log, positionMonitor, send: (event: unknown) => mustExist(sendBack, 'a started monitor')(event) };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

let errors: unknown[][];
let spy: jest.SpyInstance;
beforeEach(() => {
  errors = [];
  spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
});
afterEach(() => spy.mockRestore());

describe.each([
  ['undefined', undefined],
  ['a string event (XState v4 style)', 'VIX_SPIKE'],
])('a monitor that sends %s bare', (_name, bad) => {
  test('a lone strategy stays in MANAGING with its position, its monitor runs again, and its emergency exit is taken', async () => {
    const { log, positionMonitor, send } = recordingMonitor();
    const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor } });
    const strategy = createStrategyActor(machine, { id: 'lt', clock: createSimulatedClock(FRIDAY_11AM) });
    for (const event of toManaging) expect(strategy.trigger(event).accepted).toBe(true);
    send(bad);
    // Readers see the committed state at once.
    expect(strategy.getSnapshot()).toMatchObject({ status: 'active', value: 'MANAGING', context: { position: { quantity: 2 } } });
    await settle();
    expect(strategy.actorRef.getSnapshot()).toMatchObject({ status: 'active', value: 'MANAGING' });
    expect(log).toEqual(['start MANAGING', 'start MANAGING']);
    expect(String(errors[0]?.[0])).toContain('strategy lt: its actor failed on an event sent around the runtime');
    // The restarted monitor is the one that reports now.
    send({ type: 'lifecycle.request', event: { type: 'VIX_SPIKE', vix: 41 } });
    await settle();
    expect(strategy.state).toBe('PENDING_EXIT');
    expect(strategy.trigger({ type: 'EMERGENCY_EXIT', reason: 'flatten' })).toMatchObject({ accepted: true, to: 'EXITING' });
    strategy.stop();
  });

  test('a trigger right after the failure is taken, on the restored actor', () => {
    const { positionMonitor, send } = recordingMonitor();
    const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor } });
    const strategy = createStrategyActor(machine, { id: 'lt', clock: createSimulatedClock(FRIDAY_11AM) });
    for (const event of toManaging) strategy.trigger(event);
    send(bad);
    expect(strategy.can({ type: 'EMERGENCY_EXIT', reason: 'flatten' })).toBe(true);
    expect(strategy.trigger({ type: 'EMERGENCY_EXIT', reason: 'flatten' })).toMatchObject({
      accepted: true,
      from: 'MANAGING',
      to: 'EXITING',
    });
    expect(strategy.actorRef.getSnapshot().status).toBe('active');
    strategy.stop();
  });

  test('in a strategy system, the strategy is put back and its neighbour is untouched', async () => {
    const { log, positionMonitor, send } = recordingMonitor();
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    system.add({ ...lt112, actors: { positionMonitor } }, { id: 'lt' });
    system.add(lt112, { id: 'neighbour' });
    for (const event of toManaging) expect(system.send('lt', event).accepted).toBe(true);
    send(bad);
    await settle();
    expect(system.get('lt').actorRef.getSnapshot()).toMatchObject({ status: 'active', value: 'MANAGING' });
    expect(log).toEqual(['start MANAGING', 'start MANAGING']);
    expect(system.actorRef.getSnapshot().status).toBe('active');
    expect(system.send('lt', { type: 'EMERGENCY_EXIT', reason: 'flatten' })).toMatchObject({ accepted: true, to: 'EXITING' });
    expect(system.send('neighbour', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true, to: 'READY' });
    system.stop();
  });
});

test('in a persistent SQLite system, the strategy is put back, its exit is written, and it reopens in EXITING', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { positionMonitor, send } = recordingMonitor();
    const variants = [{ ...lt112, actors: { positionMonitor } }];
    const file = join(dir, 'strategies.db');
    const first = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
    await first.add(variants[0], { id: 'lt' });
    for (const event of toManaging) expect((await first.send('lt', event)).accepted).toBe(true);
    send(undefined);
    await settle();
    expect(first.get('lt').actorRef.getSnapshot()).toMatchObject({ status: 'active', value: 'MANAGING' });
    expect(await first.send('lt', { type: 'EMERGENCY_EXIT', reason: 'flatten' })).toMatchObject({ accepted: true, to: 'EXITING' });
    await first.close();
    const second = await openStrategySystem({ store: new SqliteStore(file), variants, clock: createSimulatedClock(FRIDAY_11AM) });
    expect(second.get('lt').state).toBe('EXITING');
    expect(second.get('lt').getAuditTrail().at(-1)).toMatchObject({
      trigger: 'EMERGENCY_EXIT',
      previousState: 'MANAGING',
      currentState: 'EXITING',
    });
    await second.close();
  } finally {
    cleanup();
  }
});

test('a monitor that sends such an event again as it restarts is not restarted in a loop: the strategy then stays stopped', async () => {
  let starts = 0;
  let sendBack: ((event: unknown) => void) | undefined;
  let broken = false;
  const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ sendBack: send }) => {
    starts++;
    sendBack = send as (event: unknown) => void;
    if (broken) send(undefined as never);
  });
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor } });
  const strategy = createStrategyActor(machine, { id: 'lt', clock: createSimulatedClock(FRIDAY_11AM) });
  for (const event of toManaging) strategy.trigger(event);
  broken = true;
  mustExist(sendBack, 'a started monitor')(undefined);
  await settle();
  await settle();
  expect(starts).toBe(2);
  expect(strategy.trigger({ type: 'EMERGENCY_EXIT', reason: 'flatten' })).toMatchObject({ accepted: false, code: 'ACTOR_STOPPED' });
  strategy.stop();
});
