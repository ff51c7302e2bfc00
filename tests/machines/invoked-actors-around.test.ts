/**
 * What an invoked actor does wrong must not move a strategy around the runtime or kill it:
 * - an actor that fails (throws on start, rejects, errors) asks for SYSTEM_ERROR naming itself,
 *   and the strategy goes to ERROR down the trigger path instead of its actor failing with it;
 * - an event that reaches the actor around the runtime (a bare `sendBack` instead of
 *   `lifecycleRequest`, `actorRef.send`) is undone and triggered through the runtime: validated,
 *   gated, stamped with the strategy's clock, audited once and written ahead.
 */
import { join } from 'node:path';
import { fromCallback, fromPromise, type AnyActorLogic, type EventObject } from 'xstate';
import type { StrategyActorInput } from '../../machines/actors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { mustExist } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import type { TransitionRecord } from '../../machines/types';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor, type TransitionNotice } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyWrite } from '../../services/store/types';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, MINUTE, VARIANTS, managing } from '../support/fixtures';

const toManaging = managing(VARIANTS[1].entry, 2);
const toAnalyzing: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }];
/** Lets queued microtasks and immediates (the routed requests) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** lt112 with its invoked actors replaced. */
const withActors = (actors: Partial<Record<'positionMonitor' | 'entryAnalyzer' | 'errorAlert', AnyActorLogic>>) => ({
  ...lt112,
  actors,
});

/** A callback actor that keeps its `sendBack` for the test to call. */
function grab() {
  let sendBack: ((event: EventObject) => void) | undefined;
  const starts = { n: 0 };
  const logic = fromCallback<EventObject, StrategyActorInput>(({ sendBack: send }) => {
    starts.n++;
    sendBack = send;
  });
  return { logic, starts, send: (event: EventObject | StrategyEvent) => mustExist(sendBack, 'a started actor')(event) };
}

/** A SQLite file in a fresh directory, removed after `body`. */
async function inTempDir(body: (file: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await body(join(dir, 'strategies.db'));
  } finally {
    cleanup();
  }
}

/** A persistent system over `store` (default: SQLite at `file`) on the simulated clock. */
const open = (file: string, variants: Array<ReturnType<typeof withActors>>, store = new SqliteStore(file)) =>
  openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });

/** Opens `file` and drives a new strategy `lt` of `variants[0]` to MANAGING. */
async function managingIn(file: string, variants: Array<ReturnType<typeof withActors>>, store?: SqliteStore) {
  const system = await open(file, variants, store);
  await system.add(variants[0], { id: 'lt', params: { underlying: 'SPX' } });
  for (const event of toManaging) await system.send('lt', event);
  return system;
}

/** The VIX_SPIKE records strategy `lt` holds. */
const spikes = (system: { get(id: string): { getAuditTrail(): readonly TransitionRecord[] } }) =>
  system
    .get('lt')
    .getAuditTrail()
    .filter((r) => r.trigger === 'VIX_SPIKE').length;

let errors: jest.SpyInstance;
beforeEach(() => (errors = jest.spyOn(console, 'error').mockImplementation(() => undefined)));
afterEach(() => errors.mockRestore());

describe('an invoked actor that fails', () => {
  test('a monitor that throws on start sends the strategy to ERROR, audited; its actor keeps running and can be flattened', async () => {
    const positionMonitor = fromCallback<EventObject, StrategyActorInput>(() => {
      throw new Error('price feed down');
    });
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    const s = system.add(withActors({ positionMonitor }), { id: 'lt', params: { underlying: 'SPX' } });
    for (const event of toManaging) expect(system.send('lt', event).accepted).toBe(true);
    await settle();
    expect(s.getSnapshot().status).toBe('active');
    expect(s.state).toBe('ERROR');
    expect(s.getAuditTrail().at(-1)).toMatchObject({
      trigger: 'SYSTEM_ERROR',
      previousState: 'MANAGING',
      currentState: 'ERROR',
      accepted: true,
      data: { reason: 'positionMonitor failed: price feed down' },
    });
    // ERROR holds the position: the strategy still takes the safety exit.
    expect(system.send('lt', { type: 'EMERGENCY_EXIT' })).toMatchObject({ accepted: true, to: 'EXITING' });
    system.stop();
  });

  test('an analyzer whose promise rejects sends ANALYZING to ERROR, which recovers after its delay', async () => {
    const entryAnalyzer = fromPromise<undefined, StrategyActorInput>(() => Promise.reject(new Error('no quotes')));
    const clock = createSimulatedClock(FRIDAY_11AM);
    const s = createStrategyActor(createStrategyMachine(withActors({ entryAnalyzer })), { id: 'lt', clock });
    for (const event of toAnalyzing) expect(s.trigger(event).accepted).toBe(true);
    await settle();
    expect(s.state).toBe('ERROR');
    expect(s.getAuditTrail().at(-1)?.data).toEqual({ reason: 'entryAnalyzer failed: no quotes' });
    clock.increment(30 * MINUTE);
    expect(s.state).toBe('READY');
    s.stop();
  });

  test('an alert that fails in ERROR is audited as a refused SYSTEM_ERROR naming it, and ERROR stays', async () => {
    let starts = 0;
    const errorAlert = fromCallback<EventObject, StrategyActorInput>(() => {
      starts++;
      throw new Error('pager unreachable');
    });
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    const s = system.add(withActors({ errorAlert }), { id: 'lt', params: { underlying: 'SPX' } });
    expect(system.send('lt', { type: 'SYSTEM_ERROR', reason: 'test' }).to).toBe('ERROR');
    await settle();
    expect(starts).toBe(1);
    expect(s.getSnapshot().status).toBe('active');
    expect(s.state).toBe('ERROR');
    expect(s.getAuditTrail().at(-1)).toMatchObject({
      trigger: 'SYSTEM_ERROR',
      accepted: false,
      data: { reason: 'errorAlert failed: pager unreachable' },
    });
    system.stop();
  });

  test('in a persisted system the move to ERROR is written ahead and survives a reopen', () =>
    inTempDir(async (file) => {
      const positionMonitor = fromPromise<undefined, StrategyActorInput>(() => Promise.reject(new Error('price feed down')));
      const variants = [withActors({ positionMonitor })];
      const first = await managingIn(file, variants);
      await settle();
      await first.flush();
      expect(first.get('lt').state).toBe('ERROR');
      await first.close();
      const second = await open(file, variants);
      expect(second.get('lt').state).toBe('ERROR');
      expect(second.get('lt').getAuditTrail().at(-1)?.data).toEqual({ reason: 'positionMonitor failed: price feed down' });
      await second.close();
    }));
});

describe('an event that reaches the actor around the runtime', () => {
  test('a bare sendBack in a persisted system is written ahead, stamped with the system clock, and survives a reopen', () =>
    inTempDir(async (file) => {
      const monitor = grab();
      const variants = [withActors({ positionMonitor: monitor.logic })];
      const first = await managingIn(file, variants);
      const heard: TransitionNotice[] = [];
      first.subscribe((notice) => heard.push(notice));
      monitor.send({ type: 'VIX_SPIKE', vix: 41 });
      // Readers never see the unwritten move.
      expect(first.get('lt').state).toBe('MANAGING');
      await settle();
      await first.flush();
      expect(first.get('lt').state).toBe('PENDING_EXIT');
      expect(heard.map((n) => n.record.trigger)).toEqual(['VIX_SPIKE']);
      expect(heard[0].record).toMatchObject({ at: FRIDAY_11AM, previousState: 'MANAGING', currentState: 'PENDING_EXIT' });
      expect(errors.mock.calls.flat().join(' ')).toContain('VIX_SPIKE reached its actor around the runtime');
      await first.close();
      const second = await open(file, variants);
      expect(second.get('lt').state).toBe('PENDING_EXIT');
      expect(spikes(second)).toBe(1);
      await second.close();
    }));

  test('a bare sendBack while a write is under way is settled at its commit, then written after it', () =>
    inTempDir(async (file) => {
      const monitor = grab();
      const variants = [withActors({ positionMonitor: monitor.logic })];
      /** The SQLite store, running `during` once inside the next append (the transaction is open then). */
      let during: (() => void) | undefined;
      class DuringWrite extends SqliteStore {
        override append(write: StrategyWrite): Promise<void> {
          const run = during;
          during = undefined;
          run?.();
          return super.append(write);
        }
      }
      const first = await managingIn(file, variants, new DuringWrite(file));
      expect(first.get('lt').state).toBe('MANAGING');
      during = () => monitor.send({ type: 'VIX_SPIKE', vix: 41 });
      // MANAGING has no ORDER_FILLED edge: a refusal, written with the actor still in MANAGING.
      expect(await first.send('lt', { type: 'ORDER_FILLED', quantity: 1 })).toMatchObject({ accepted: false, to: 'MANAGING' });
      expect(during).toBeUndefined();
      await settle();
      await first.flush();
      expect(first.get('lt').state).toBe('PENDING_EXIT');
      await first.close();
      const second = await open(file, variants);
      const trail = second.get('lt').getAuditTrail();
      expect(second.get('lt').state).toBe('PENDING_EXIT');
      expect(trail.slice(-2).map((r) => [r.trigger, r.accepted])).toEqual([
        ['ORDER_FILLED', false],
        ['VIX_SPIKE', true],
      ]);
      expect(trail.map((r) => r.seq)).toEqual(trail.map((_, i) => trail[0].seq + i));
      await second.close();
    }));

  test('a bare sendBack is gated like any trigger: no adjustment while trading is halted', async () => {
    const monitor = grab();
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    const s = system.add({ ...strangle, actors: { positionMonitor: monitor.logic } }, { id: 'st', params: { underlying: 'SPX' } });
    for (const event of managing(VARIANTS[2].entry, 2)) expect(system.send('st', event).accepted).toBe(true);
    system.setTradingState('HALTED', 'test halt');
    // The strangle adjusts on a VIX spike: an order-producing move, refused while HALTED.
    monitor.send({ type: 'VIX_SPIKE', vix: 41 });
    expect(s.state).toBe('MANAGING');
    await settle();
    expect(s.state).toBe('MANAGING');
    expect(s.getAuditTrail().at(-1)).toMatchObject({ trigger: 'VIX_SPIKE', accepted: false, code: 'TRADING_HALTED' });
    system.stop();
  });

  test('a strategy stopped before the bare event is settled stays stopped: no actor is made again, nothing is triggered', async () => {
    const monitor = grab();
    const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
    const s = system.add(withActors({ positionMonitor: monitor.logic }), { id: 'lt', params: { underlying: 'SPX' } });
    for (const event of toManaging) expect(system.send('lt', event).accepted).toBe(true);
    expect(monitor.starts.n).toBe(1);
    const heard: string[] = [];
    s.subscribe((notice) => heard.push(notice.record.trigger));
    monitor.send({ type: 'VIX_SPIKE', vix: 41 });
    system.stop();
    await settle();
    expect(monitor.starts.n).toBe(1);
    expect(heard).toEqual([]);
    expect(s.getSnapshot().status).toBe('stopped');
  });

  test('a bare event sent as the actor starts joins the transition or the restore, once: no loop of restarts', () =>
    inTempDir(async (file) => {
      let starts = 0;
      const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
        starts++;
        // The monitor finds the VIX high at once: a bare report, sent synchronously on start.
        sendBack({ type: 'VIX_SPIKE', vix: 41 });
      });
      const variants = [withActors({ positionMonitor })];
      const first = await managingIn(file, variants);
      await settle();
      await first.flush();
      // Entered MANAGING, the monitor started and reported: the spike joined that transaction.
      expect(starts).toBe(1);
      expect(first.get('lt').state).toBe('PENDING_EXIT');
      expect(spikes(first)).toBe(1);
      await first.close();
      const second = await open(file, variants);
      expect(second.get('lt').state).toBe('PENDING_EXIT');
      expect(spikes(second)).toBe(1);
      expect(starts).toBe(1);
      await second.close();
    }));

  test('a bare event sent as a restored actor starts is kept once and written, with no loop of restarts', () =>
    inTempDir(async (file) => {
      const quiet = [withActors({})];
      await (await managingIn(file, quiet)).close();
      let starts = 0;
      const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
        starts++;
        sendBack({ type: 'VIX_SPIKE', vix: 41 });
      });
      const second = await open(file, [withActors({ positionMonitor })]);
      await settle();
      await second.flush();
      expect(starts).toBe(1);
      expect(second.get('lt').state).toBe('PENDING_EXIT');
      await second.close();
      const third = await open(file, quiet);
      expect(third.get('lt').state).toBe('PENDING_EXIT');
      expect(spikes(third)).toBe(1);
      await third.close();
    }));

  test('actorRef.send on a strategy actor takes the trigger path: stamped, one record each, heard once', async () => {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const s = createStrategyActor(createStrategyMachine(lt112), { id: 'lt', clock });
    const heard: string[] = [];
    s.subscribe((notice) => heard.push(`${notice.record.trigger} ${notice.record.accepted}`));
    s.actorRef.send({ type: 'MARKET_OPEN' });
    expect(s.state).toBe('INITIALIZING');
    await settle();
    expect(s.state).toBe('READY');
    clock.increment(MINUTE);
    s.actorRef.send({ type: 'TIME_WINDOW_START' });
    await settle();
    expect(heard).toEqual(['MARKET_OPEN true', 'TIME_WINDOW_START true']);
    // Told once per strategy, not at every bare event.
    expect(errors.mock.calls.filter((call) => String(call[0]).includes('around the runtime'))).toHaveLength(1);
    expect(s.state).toBe('ANALYZING');
    expect(s.getAuditTrail().map((r) => [r.seq, r.at])).toEqual([
      [1, FRIDAY_11AM],
      [2, FRIDAY_11AM + MINUTE],
    ]);
    s.stop();
  });
});
