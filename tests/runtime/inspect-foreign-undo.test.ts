/**
 * A bare event an invoked actor sends (`sendBack({ type: 'RISK_LIMIT_EXCEEDED' })` instead of
 * `lifecycleRequest(...)`) moves the XState actor before the runtime sees it; the runtime undoes
 * the move and triggers the event through its own path, which may refuse it (trading HALTED, a
 * hook that throws). The inspector hears only committed states (docs/lifecycle.md): before, it
 * was shown the strategy in PENDING_EXIT, a state it never committed, then stopped there.
 */
import { fromCallback, type EventObject, type InspectionEvent } from 'xstate';
import type { StrategyActorInput } from '../../machines/actors';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { mustExist } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';

const toManaging = managing(VARIANTS[1].entry, 2);

/** The values the inspector was shown of the strategy's actors (its snapshots, by their strategyId), with their status. */
function shownStates(seen: readonly InspectionEvent[], id: string): string[] {
  return seen
    .filter((e): e is Extract<InspectionEvent, { type: '@xstate.snapshot' }> => e.type === '@xstate.snapshot')
    .filter((e) => (e.snapshot as { context?: { strategyId?: unknown } }).context?.strategyId === id)
    .map((e) => {
      const snapshot = e.snapshot as { value?: unknown; status?: string };
      return `${JSON.stringify(snapshot.value)}:${snapshot.status}`;
    });
}

function monitor() {
  let sendBack: ((event: EventObject) => void) | undefined;
  const positionMonitor = fromCallback<EventObject, StrategyActorInput>(({ sendBack: send }) => void (sendBack = send));
  return { positionMonitor, send: (event: EventObject & Record<string, unknown>) => mustExist(sendBack, 'a started monitor')(event) };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

let spy: jest.SpyInstance;
beforeEach(() => (spy = jest.spyOn(console, 'error').mockImplementation(() => undefined)));
afterEach(() => spy.mockRestore());

test('in a halted system: the bare risk event is refused, and the inspector never shows the strategy out of MANAGING', async () => {
  const { positionMonitor, send } = monitor();
  const seen: InspectionEvent[] = [];
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), inspect: (e) => void seen.push(e) });
  system.add({ ...lt112, actors: { positionMonitor } }, { id: 'lt' });
  for (const event of toManaging) expect(system.send('lt', event).accepted).toBe(true);
  system.setTradingState('HALTED', 'halt for the test');
  seen.length = 0;
  send({ type: 'RISK_LIMIT_EXCEEDED', reason: 'moved 4%' });
  await settle();
  expect(system.get('lt').state).toBe('MANAGING');
  expect(system.get('lt').getAuditTrail().at(-1)).toMatchObject({ trigger: 'RISK_LIMIT_EXCEEDED', code: 'TRADING_HALTED' });
  const shown = shownStates(seen, 'lt');
  expect(shown.length).toBeGreaterThan(0);
  expect(shown.filter((s) => !s.startsWith('"MANAGING"'))).toEqual([]);
  // The replaced actor is shown stopped in MANAGING, its replacement running in MANAGING.
  expect(shown.at(-1)).toBe('"MANAGING":active');
  system.stop();
});

test('a lone strategy whose hook aborts the re-triggered event: never shown in PENDING_EXIT', async () => {
  const { positionMonitor, send } = monitor();
  const seen: InspectionEvent[] = [];
  const machine = createStrategyMachine(lt112).provide({ actors: { positionMonitor } });
  const strategy = createStrategyActor(machine, {
    id: 'lone',
    clock: createSimulatedClock(FRIDAY_11AM),
    inspect: (e) => void seen.push(e),
    hooks: {
      onEnter: {
        PENDING_EXIT: () => {
          throw new Error('exit desk closed');
        },
      },
    },
  });
  for (const event of toManaging) expect(strategy.trigger(event).accepted).toBe(true);
  seen.length = 0;
  send({ type: 'RISK_LIMIT_EXCEEDED', reason: 'moved 4%' });
  await settle();
  expect(strategy.state).toBe('MANAGING');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({
    trigger: 'lifecycle.hookFailed',
    code: 'HOOK_FAILED',
    reason: expect.stringContaining('RISK_LIMIT_EXCEEDED aborted'),
  });
  const shown = shownStates(seen, 'lone');
  expect(shown.length).toBeGreaterThan(0);
  expect(shown.filter((s) => !s.startsWith('"MANAGING"'))).toEqual([]);
  expect(shown.at(-1)).toBe('"MANAGING":active');
  strategy.stop();
});
