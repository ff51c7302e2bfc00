/**
 * An EMERGENCY_EXIT a position monitor asks for stands while the strategy still holds a position,
 * even after a committed move has left the state it was asked in. Before, it followed the rule of
 * every request (request-later-stay.test.ts): asked in MANAGING, with a MANAGING -> ADJUSTING
 * (VIX_SPIKE) landing before its turn, it was dropped silently, and the strategy kept its position
 * with nobody flattening it. Flat by its turn (the exit filled: CLOSED), it is still dropped; an
 * analyzer's stale ENTRY_CONDITIONS_MET still is too (request-later-stay.test.ts).
 */
import { join } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { drive, FRIDAY_11AM, managing, VARIANTS } from '../support/fixtures';
import { countingMonitor } from '../support/monitors';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const entry = VARIANTS[2].entry;
const EXIT = { type: 'EMERGENCY_EXIT', reason: 'monitor: gap down' } as const;
/** From MANAGING (3 contracts) to CLOSED: the exit ordered and filled in full. */
const CLOSE = [{ type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }, { type: 'ORDER_FILLED', quantity: 3 }] as const;

function lone() {
  const { monitor, logic } = countingMonitor();
  const strategy = createStrategyActor(createStrategyMachine(strangle).provide({ actors: { positionMonitor: logic } }), {
    id: 'st',
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  drive(strategy, managing(entry));
  return { monitor, strategy };
}

test('createStrategyActor: an exit asked in MANAGING is applied after a committed move to ADJUSTING', async () => {
  const { monitor, strategy } = lone();
  monitor.ask!(EXIT); // MANAGING's monitor asks for an emergency exit...
  expect(strategy.trigger({ type: 'VIX_SPIKE' })).toMatchObject({ accepted: true, to: 'ADJUSTING' }); // ...as the strategy moves on
  await settle();
  expect(strategy.state).toBe('EXITING');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({
    trigger: 'EMERGENCY_EXIT',
    accepted: true,
    previousState: 'ADJUSTING',
    currentState: 'EXITING',
  });
  strategy.stop();
});

test('createStrategyActor: an exit asked in MANAGING is dropped once the strategy is held in ERROR before its turn', async () => {
  // ERROR holds the position, but whoever put it there (a position mismatch, an operator) decides
  // what happens next: a stale monitor's exit would send an order for a quantity that may no
  // longer match the broker's. A fresh one (ERROR's own actors, an operator) is taken as ever.
  const { monitor, strategy } = lone();
  monitor.ask!(EXIT);
  expect(strategy.trigger({ type: 'SYSTEM_ERROR', reason: 'position mismatch', hold: true })).toMatchObject({
    accepted: true,
    to: 'ERROR',
  });
  await settle();
  expect(strategy.state).toBe('ERROR');
  expect(strategy.getAuditTrail().map((r) => r.trigger)).not.toContain('EMERGENCY_EXIT');
  expect(strategy.trigger(EXIT)).toMatchObject({ accepted: true, from: 'ERROR', to: 'EXITING' });
  strategy.stop();
});

test('createStrategyActor: an exit whose strategy is flat (CLOSED) by its turn is dropped, unaudited', async () => {
  const { monitor, strategy } = lone();
  monitor.ask!(EXIT);
  drive(strategy, [...CLOSE]);
  expect(strategy.state).toBe('CLOSED');
  await settle();
  expect(strategy.state).toBe('CLOSED');
  expect(strategy.getAuditTrail().map((r) => r.trigger)).not.toContain('EMERGENCY_EXIT');
  strategy.stop();
});

test('createStrategyActor: an exit that finds its strategy EXITING already is triggered, and audited as refused', async () => {
  const { monitor, strategy } = lone();
  monitor.ask!(EXIT);
  drive(strategy, [{ type: 'MARGIN_CALL' }, { type: 'ORDER_SUBMITTED' }]);
  await settle();
  expect(strategy.state).toBe('EXITING');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({
    trigger: 'EMERGENCY_EXIT',
    accepted: false,
    code: 'NO_EDGE',
    currentState: 'EXITING',
  });
  strategy.stop();
});

test('in-memory system: an exit asked in MANAGING is applied after a committed move to ADJUSTING; flat, it is dropped', async () => {
  const { monitor, logic } = countingMonitor();
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  system.add({ ...strangle, actors: { positionMonitor: logic } }, { id: 'st' });
  for (const e of managing(entry)) expect(system.send('st', e)).toMatchObject({ accepted: true });
  monitor.ask!(EXIT);
  expect(system.send('st', { type: 'VIX_SPIKE' })).toMatchObject({ accepted: true, to: 'ADJUSTING' });
  await settle();
  expect(system.get('st').state).toBe('EXITING');
  expect(system.get('st').getAuditTrail().at(-1)).toMatchObject({ trigger: 'EMERGENCY_EXIT', accepted: true, previousState: 'ADJUSTING' });

  // A second strategy: the exit is asked, then the position is closed before its turn.
  const second = countingMonitor();
  system.add({ ...strangle, actors: { positionMonitor: second.logic } }, { id: 'st2' });
  for (const e of managing(entry)) expect(system.send('st2', e)).toMatchObject({ accepted: true });
  second.monitor.ask!(EXIT);
  for (const e of CLOSE) expect(system.send('st2', e)).toMatchObject({ accepted: true });
  await settle();
  expect(system.get('st2').state).toBe('CLOSED');
  expect(
    system
      .get('st2')
      .getAuditTrail()
      .map((r) => r.trigger),
  ).not.toContain('EMERGENCY_EXIT');
  system.stop();
});

async function persistent(
  prefix: string,
  run: (args: { system: Awaited<ReturnType<typeof openStrategySystem>>; ask: () => void }) => Promise<void>,
) {
  const { dir, cleanup } = tempDir(prefix);
  const { monitor, logic } = countingMonitor();
  const variant = { ...strangle, actors: { positionMonitor: logic } };
  const system = await openStrategySystem({
    store: new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 }),
    variants: [variant],
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  try {
    await system.add(variant, { id: 'st' });
    for (const e of managing(entry)) expect(await system.send('st', e)).toMatchObject({ accepted: true });
    await run({ system, ask: () => monitor.ask!(EXIT) });
  } finally {
    await system.close();
    cleanup();
  }
}

test('persistent system: an exit queued behind a write that moves MANAGING -> ADJUSTING is written and applied', async () => {
  await persistent('sl-emx-adjust-', async ({ system, ask }) => {
    // The monitor asks; in the same turn VIX_SPIKE is sent: its write is queued before the request.
    ask();
    expect(await system.send('st', { type: 'VIX_SPIKE' })).toMatchObject({ accepted: true, to: 'ADJUSTING' });
    for (let i = 0; i < 20 && system.get('st').state !== 'EXITING'; i++) await settle();
    expect(system.get('st').state).toBe('EXITING');
    const stored = (await system.store.readAuditTrail('st')).at(-1);
    expect(stored).toMatchObject({ trigger: 'EMERGENCY_EXIT', accepted: true, previousState: 'ADJUSTING', currentState: 'EXITING' });
  });
});

test('persistent system: an exit queued behind writes that close the position is dropped, nothing written', async () => {
  await persistent('sl-emx-closed-', async ({ system, ask }) => {
    ask();
    const moves = CLOSE.map((e) => system.send('st', e));
    expect((await Promise.all(moves)).at(-1)).toMatchObject({ accepted: true, to: 'CLOSED' });
    for (let i = 0; i < 20; i++) await settle();
    expect(system.get('st').state).toBe('CLOSED');
    const stored = await system.store.readAuditTrail('st');
    expect(stored.map((r) => r.trigger)).not.toContain('EMERGENCY_EXIT');
    expect(stored.at(-1)).toMatchObject({ trigger: 'ORDER_FILLED', currentState: 'CLOSED' });
  });
});
