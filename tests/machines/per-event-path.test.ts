/**
 * The per-event path's shortcuts change nothing a caller sees: each audit action is followed by
 * the `transition` emit, an event no edge takes is refused from the chart exactly as `refusalOf`
 * says, a refused event is audited with the code and reason `explain()` gives beforehand, and the
 * record that leaves a stuck state ends its deadline.
 */
import { assign, createActor, type AnyStateNode, type AnyTransitionDefinition } from 'xstate';
import { createStrategyMachine, type StrategySnapshot } from '../../machines/createStrategyMachine';
import { STRATEGY_EVENT_TYPES } from '../../machines/events';
import { STRATEGY_STATES } from '../../machines/states';
import { lt112 } from '../../machines/variants';
import { hasNoEdge, refusalOf } from '../../services/runtime/rejection';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, VARIANTS, drive, start } from '../support/fixtures';

const at = FRIDAY_11AM;
const entry = VARIANTS[1].entry;

function transitionsOf(node: AnyStateNode): AnyTransitionDefinition[] {
  const all: AnyTransitionDefinition[] = [];
  for (const list of node.transitions.values()) all.push(...list);
  for (const child of Object.values(node.states) as AnyStateNode[]) all.push(...transitionsOf(child));
  return all;
}

const typeOf = (action: unknown) => (typeof action === 'string' ? action : (action as { type?: string }).type);

test('every audit action of every edge is followed by recordAnnouncement, and only those', () => {
  const machine = createStrategyMachine(lt112);
  let audited = 0;
  for (const t of transitionsOf(machine.root)) {
    const types = t.actions.map(typeOf);
    types.forEach((type, i) => {
      if (type === 'recordTransition' || type === 'recordHookFailure' || type === 'recordRejection') {
        audited++;
        expect(types[i + 1]).toBe('recordAnnouncement');
      }
      if (type === 'recordAnnouncement') expect(['recordTransition', 'recordHookFailure', 'recordRejection']).toContain(types[i - 1]);
    });
  }
  expect(audited).toBeGreaterThan(50);
});

test('a bare XState actor of the machine emits one transition per audit record', () => {
  const actor = createActor(createStrategyMachine(lt112), { input: { createdAt: at } });
  const seqs: number[] = [];
  actor.on('transition', ({ record }) => seqs.push(record!.seq));
  actor.start();
  for (const event of [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    { type: 'lifecycle.rejected', trigger: 'X', reason: 'r', code: 'NO_EDGE' },
    { type: 'ENTRY_CONDITIONS_FAILED' },
  ]) {
    actor.send({ ...event, at } as never);
  }
  expect(seqs).toEqual([1, 2, 3, 4]);
  actor.stop();
});

test('hasNoEdge agrees with refusalOf for every state and event type', () => {
  const machine = createStrategyMachine(lt112);
  const context = createActor(machine, { input: { createdAt: at } }).getSnapshot().context;
  for (const state of STRATEGY_STATES) {
    const snapshot = machine.resolveState({ value: state, context }) as unknown as StrategySnapshot;
    for (const type of STRATEGY_EVENT_TYPES) {
      const refusal = refusalOf(machine, snapshot, { type, at } as never);
      expect([state, type, hasNoEdge(machine, snapshot, type)]).toEqual([state, type, refusal?.code === 'NO_EDGE']);
    }
  }
});

test('a refused trigger is audited with the code and reason explain() gave before it', () => {
  const { strategy } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }]);
  for (const event of [{ ...entry, vix: 999 }, { type: 'ORDER_FILLED', quantity: 1 }, { type: 'MARKET_OPEN' }] as never[]) {
    const explained = strategy.explain(event);
    const result = strategy.trigger(event);
    expect(explained).not.toBeNull();
    expect(result.accepted).toBe(false);
    expect({ code: result.code, reason: result.reason }).toEqual(explained);
    expect(strategy.getAuditTrail().at(-1)).toBe(result.record);
    expect(strategy.state).toBe('ANALYZING');
  }
});

test('the record that leaves a stuck state ends its deadline; entering one arms it', () => {
  const { strategy } = start(lt112);
  drive(strategy, [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, entry]);
  expect(strategy.getSnapshot().context.deadline).toMatchObject({ kind: 'STUCK', state: 'PENDING_ENTRY' });
  drive(strategy, [{ type: 'ORDER_SUBMITTED' }]);
  expect(strategy.getSnapshot().context.deadline).toMatchObject({ kind: 'STUCK', state: 'ENTERING' });
  drive(strategy, [{ type: 'ORDER_REJECTED' }]);
  expect(strategy.state).toBe('READY');
  expect(strategy.getSnapshot().context.deadline).toBeNull();
});

test('an audit action replaced with one that writes no record announces nothing to the strategy actor', () => {
  const machine = createStrategyMachine(lt112).provide({ actions: { recordTransition: assign(() => ({})) } as never });
  const strategy = createStrategyActor(machine, { id: 'silent' });
  strategy.trigger({ type: 'MARKET_OPEN' });
  strategy.trigger({ type: 'TIME_WINDOW_START' });
  expect(strategy.getAuditTrail()).toEqual([]);
  strategy.stop();
});
