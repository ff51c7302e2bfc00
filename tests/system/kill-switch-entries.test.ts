/**
 * The kill switch and entry orders still working at the broker: a strategy in PENDING_ENTRY or
 * ENTERING is flat now but a fill can still open a position while trading is halted. The kill
 * switch watches it until the broker answers: a fill is flattened, a rejection or the stuck
 * deadline leaves it flat (listed as already flat), and the run is not done before that.
 */
import { join } from 'node:path';
import { StrategyNotFlatError } from '../../machines/errors';
import type { StrategyEvent } from '../../machines/events';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyDefinition } from '../../machines/definition';
import { edgeTargetsOf } from '../../machines/edgeTargets';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, MINUTE, VARIANTS } from '../support/fixtures';

const toEntering: StrategyEvent[] = [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  VARIANTS[1].entry,
  { type: 'ORDER_SUBMITTED' },
];
const settledYet = (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((next) => setImmediate(() => next(false)))]);

test('in memory: an entry that fills after the kill switch started is flattened; one rejected is already flat; the run waits for both', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  for (const id of ['fills', 'rejected', 'flat']) system.add(lt112, { id });
  for (const e of toEntering) {
    system.send('fills', e);
    system.send('rejected', e);
  }
  system.send('flat', { type: 'MARKET_OPEN' });
  // The exit order's broker: fills every exit 100 ms later.
  system.subscribe(({ strategyId, record }) => {
    if (record.accepted && record.currentState === 'EXITING')
      clock.setTimeout(
        () =>
          system.send(strategyId, { type: 'ORDER_FILLED', quantity: system.get(strategyId).getSnapshot().context.position?.quantity ?? 0 }),
        100,
      );
  });

  const done = system.killSwitch('risk desk');
  expect(await settledYet(done)).toBe(false); // two entry orders are still working

  // The broker answers the entries while trading is halted: fills are facts and are taken.
  expect(system.send('fills', { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' })).toMatchObject({
    accepted: true,
    to: 'POSITION_OPEN',
  });
  expect(system.send('rejected', { type: 'ORDER_REJECTED', reason: 'no liquidity' })).toMatchObject({ accepted: true, to: 'READY' });
  clock.increment(0);
  expect(system.get('fills').state).toBe('EXITING'); // the kill switch sent its exit
  clock.increment(100);

  const result = await done;
  expect(result.flattened).toEqual(['fills']);
  expect(result.alreadyFlat.sort()).toEqual(['flat', 'rejected']);
  expect(result.failed).toEqual([]);
  expect(system.get('fills').state).toBe('CLOSED');
  expect(system.get('fills').getSnapshot().context.position?.quantity ?? 0).toBe(0);
  system.stop();
});

test('in memory: an entry order nobody answers keeps the run open until its stuck deadline leaves the strategy flat in ERROR', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'silent' });
  for (const e of toEntering) system.send('silent', e);
  const done = system.killSwitch('risk desk');
  clock.increment(4 * MINUTE);
  expect(await settledYet(done)).toBe(false);
  clock.increment(1 * MINUTE); // ENTERING's 5-minute stuck deadline
  expect(system.get('silent').state).toBe('ERROR');
  expect(await done).toEqual({ reason: 'risk desk', flattened: [], alreadyFlat: ['silent'], failed: [] });
  system.stop();
});

test('SQLite: a fill sent just before the kill switch starts is not reported flat: the position it opens is flattened', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock });
    await system.add(lt112, { id: 'a' });
    for (const e of toEntering) await system.send('a', e);
    system.subscribe(({ strategyId, record }) => {
      if (record.accepted && record.currentState === 'EXITING')
        clock.setTimeout(() => void system.send(strategyId, { type: 'ORDER_FILLED', quantity: 1 }), 100);
    });

    const fill = system.send('a', { type: 'ORDER_FILLED', quantity: 1 }); // not awaited: on its way to the store
    const run = await system.startKillSwitch('panic');
    await fill;
    await system.flush();
    expect(await settledYet(run.done)).toBe(false); // the position the fill opened is still to flatten
    clock.increment(0);
    await system.flush();
    clock.increment(100);
    await system.flush();

    expect(await run.done).toEqual({ reason: 'panic', flattened: ['a'], alreadyFlat: [], failed: [] });
    expect(system.get('a').state).toBe('CLOSED');
    expect(system.get('a').getSnapshot().context.position?.quantity ?? 0).toBe(0);
    await system.close();
  } finally {
    cleanup();
  }
});

test('a strategy with an entry order working cannot be removed (its fill would have nowhere to go); once the broker answers, it can', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'e' });
  for (const e of toEntering.slice(0, 3)) system.send('e', e);
  expect(system.get('e').state).toBe('PENDING_ENTRY');
  expect(() => system.remove('e')).toThrow(StrategyNotFlatError);
  system.send('e', toEntering[3]);
  expect(() => system.remove('e')).toThrow(/may have an entry order working in ENTERING/);
  system.send('e', { type: 'ORDER_REJECTED', reason: 'no liquidity' });
  system.remove('e');
  expect(system.has('e')).toBe(false);
  system.stop();
});

/**
 * The broker's acknowledgement of an order placed before trading stopped is a fact: refusing it
 * left the strategy in PENDING_ENTRY (or PENDING_EXIT) while its order worked at the broker, and
 * the fill that followed reached a state with no edge for it.
 */
describe('acknowledgements of orders already at the broker are applied whatever the trading state', () => {
  const toPendingEntry = toEntering.slice(0, 3);

  test('in memory: an entry acknowledged after the kill switch started moves to ENTERING, and its fill is flattened', async () => {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    system.add(lt112, { id: 'placed' });
    for (const e of toPendingEntry) system.send('placed', e);
    system.subscribe(({ strategyId, record }) => {
      if (record.accepted && record.currentState === 'EXITING')
        clock.setTimeout(() => system.send(strategyId, { type: 'ORDER_FILLED', quantity: 2 }), 100);
    });

    const done = system.killSwitch('risk desk');
    expect(system.send('placed', { type: 'ORDER_SUBMITTED', orderId: 'o-1' })).toMatchObject({ accepted: true, to: 'ENTERING' });
    expect(system.send('placed', { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' })).toMatchObject({
      accepted: true,
      to: 'POSITION_OPEN',
    });
    clock.increment(0);
    clock.increment(100);

    expect(await done).toEqual({ reason: 'risk desk', flattened: ['placed'], alreadyFlat: [], failed: [] });
    expect(system.get('placed').state).toBe('CLOSED');
    system.stop();
  });

  test.each(['HALTED', 'REDUCING'] as const)(
    'SQLite, %s: the acknowledgements of an entry and of an exit are stored and survive a reopen; a new entry is refused',
    async (tradingState) => {
      const { dir, cleanup } = tempDir();
      try {
        const clock = createSimulatedClock(FRIDAY_11AM);
        const system = await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock });
        await system.add(lt112, { id: 'entry' });
        await system.add(lt112, { id: 'exit' });
        await system.add(lt112, { id: 'newcomer' });
        for (const e of toPendingEntry) await system.send('entry', e);
        for (const e of [
          ...toEntering,
          { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
          { type: 'MARKET_OPEN' },
        ] as StrategyEvent[])
          await system.send('exit', e);
        await system.send('exit', { type: 'MARGIN_CALL' });
        for (const e of toPendingEntry.slice(0, 2)) await system.send('newcomer', e);
        expect([system.get('entry').state, system.get('exit').state, system.get('newcomer').state]).toEqual([
          'PENDING_ENTRY',
          'PENDING_EXIT',
          'ANALYZING',
        ]);

        await system.setTradingState(tradingState, 'incident');
        expect(await system.send('entry', { type: 'ORDER_SUBMITTED', orderId: 'o-1' })).toMatchObject({ accepted: true, to: 'ENTERING' });
        expect(await system.send('exit', { type: 'ORDER_SUBMITTED', orderId: 'o-2' })).toMatchObject({ accepted: true, to: 'EXITING' });
        const code = tradingState === 'HALTED' ? 'TRADING_HALTED' : 'TRADING_REDUCING';
        expect(await system.send('newcomer', VARIANTS[1].entry)).toMatchObject({ accepted: false, code });
        await system.close();

        const reopened = await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [lt112], clock });
        expect([reopened.get('entry').state, reopened.get('exit').state]).toEqual(['ENTERING', 'EXITING']);
        await reopened.close();
      } finally {
        cleanup();
      }
    },
  );

  test('HALTED refuses a decision to exit (an edge to PENDING_EXIT) with the exit named; REDUCING lets it through', () => {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    const holding = [
      ...toEntering,
      { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
      { type: 'MARKET_OPEN' },
    ] as StrategyEvent[];
    for (const id of ['halted', 'reducing']) {
      system.add(lt112, { id });
      for (const e of holding) system.send(id, e);
    }
    system.setTradingState('HALTED', 'incident');
    expect(system.send('halted', { type: 'MARGIN_CALL' })).toMatchObject({
      accepted: false,
      code: 'TRADING_HALTED',
      reason: 'trading state is HALTED: every order-producing transition is rejected (this one: exit)',
    });
    expect(system.get('halted').state).toBe('MANAGING');
    system.setTradingState('REDUCING', 'incident easing');
    expect(system.send('reducing', { type: 'MARGIN_CALL' })).toMatchObject({ accepted: true, to: 'PENDING_EXIT' });
    system.stop();
  });
});

test('stopping an in-memory system during a kill switch says that nothing carries it on (no store to resume from)', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'held' });
  for (const e of [...toEntering, { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' }] as StrategyEvent[]) system.send('held', e);
  const done = system.killSwitch('risk desk'); // nobody answers the exit order
  const rejected = expect(done).rejects.toThrow(
    'kill switch "risk desk" interrupted by close with 1 strategy still to flatten (held); an in-memory system keeps no progress',
  );
  system.stop();
  await rejected;
  await expect(done).rejects.toMatchObject({ resumes: false, pending: ['held'] });
});

test("HALTED refuses an operator's override into a state that places an order (PENDING_ENTRY, ADJUSTING, PENDING_EXIT, EXITING); other overrides pass", () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(lt112, { id: 'flat' });
  system.add(strangle, { id: 'holding' });
  system.send('flat', { type: 'MARKET_OPEN' });
  for (const e of [
    ...toEntering.slice(0, 2),
    VARIANTS[2].entry,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-01-15' },
    { type: 'MARKET_OPEN' },
  ] as StrategyEvent[])
    system.send('holding', e);
  expect(system.get('holding').state).toBe('MANAGING');
  system.setTradingState('HALTED', 'desk');
  const override = (target: string) => ({ type: 'MANUAL_OVERRIDE', target, reason: 'ops', operator: 'amy' }) as StrategyEvent;
  expect(system.send('flat', override('PENDING_ENTRY'))).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  for (const target of ['ADJUSTING', 'PENDING_EXIT', 'EXITING'])
    expect(system.send('holding', override(target))).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
  expect(system.send('flat', override('SUSPENDED'))).toMatchObject({ accepted: true, to: 'SUSPENDED' });
  expect([system.get('flat').state, system.get('holding').state]).toEqual(['SUSPENDED', 'MANAGING']);
  system.stop();
});

test('a move between the substates of PENDING_EXIT places no new order: HALTED does not refuse it', () => {
  const priced: StrategyDefinition = {
    ...lt112,
    id: 'priced',
    substates: {
      PENDING_EXIT: {
        initial: 'PRICING',
        states: ['PRICING', 'PRICED'],
        edges: [{ from: 'PRICING', on: ['MARKET_OPEN'], to: 'PRICED', why: 'quotes in' }],
      },
    },
  };
  const machine = createStrategyMachine(priced);
  expect(edgeTargetsOf(machine, 'PENDING_EXIT', 'MARKET_OPEN')).toEqual([]);
  expect(edgeTargetsOf(machine, 'MANAGING', 'MARGIN_CALL')).toEqual(['PENDING_EXIT']);
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add(priced, { id: 'p' });
  for (const e of [
    ...toEntering,
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
    { type: 'MARKET_OPEN' },
    { type: 'MARGIN_CALL' },
  ] as StrategyEvent[])
    system.send('p', e);
  system.setTradingState('HALTED', 'desk');
  expect(system.send('p', { type: 'MARKET_OPEN' })).toMatchObject({ accepted: true });
  expect(system.get('p').getSnapshot().value).toEqual({ PENDING_EXIT: 'PRICED' });
  system.stop();
});
