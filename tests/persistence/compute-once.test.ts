/**
 * The event pipeline computes each transition once, on the real actor, and a failed store write
 * rolls it back: state, context, audit trail, listeners and the inspector all show the state
 * before the event.
 */
import { join } from 'node:path';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { StrategyDefinition } from '../../machines/definition';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import type { TransitionNotice } from '../../services/runtime/strategyActor';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { setImmutable, tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'strategies.db');
});
afterEach(() => {
  setImmutable([file, `${file}-wal`, `${file}-shm`], false);
  cleanup();
});

const ENTRY = VARIANTS[1].entry;
/** The id of the actor an inspection event is about (strategies are registered under their id). */
const actorId = (e: InspectionEvent) => (e.actorRef as AnyActorRef).id;
type Seen = Extract<InspectionEvent, { type: '@xstate.event' | '@xstate.snapshot' }>;

/** lt112 with one more entry guard that counts how often the machine evaluates it, and a hook. */
function counted(): { def: StrategyDefinition; calls: () => number } {
  let calls = 0;
  const def: StrategyDefinition = {
    ...lt112,
    entryGuards: [...(lt112.entryGuards ?? []), { name: 'isCounted', description: 'counts its evaluations', check: () => (calls++, null) }],
    // Hooks made the old path compute the transition once more, purely, before the commit.
    hooks: { onTransition: () => undefined },
  };
  return { def, calls: () => calls };
}

async function open(def: StrategyDefinition, inspect?: (event: InspectionEvent) => void) {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new SqliteStore(file), variants: [def], clock, ...(inspect ? { inspect } : {}) });
  return system;
}

test('a persisted send computes its transition once: one guard evaluation, one event into the actor', async () => {
  const { def, calls } = counted();
  const events: string[] = [];
  const system = await open(def, (e) => {
    if (e.type === '@xstate.event' && actorId(e) === 'lt') events.push(e.event.type);
  });
  await system.add(def, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  await system.send('lt', { type: 'TIME_WINDOW_START' });
  const before = calls();
  events.length = 0;
  const result = await system.send('lt', ENTRY);
  expect(result).toMatchObject({ accepted: true, from: 'ANALYZING', to: 'PENDING_ENTRY' });
  expect(calls() - before).toBe(1);
  expect(events).toEqual(['ENTRY_CONDITIONS_MET']);
  await system.close();
});

test('a failed store write rolls back: state, context, audit trail, listeners and the inspector show the pre-event state', async () => {
  const { def, calls } = counted();
  const seen: Seen[] = [];
  const system = await open(def, (e) => {
    if ((e.type === '@xstate.snapshot' || e.type === '@xstate.event') && actorId(e) === 'lt') seen.push(e);
  });
  await system.add(def, { id: 'lt', params: { underlying: 'SPX' } });
  await system.send('lt', { type: 'MARKET_OPEN' });
  await system.send('lt', { type: 'TIME_WINDOW_START' });
  const notices: TransitionNotice[] = [];
  system.subscribe((notice) => notices.push(notice));
  const strategy = system.get('lt');
  const context = structuredClone(strategy.getSnapshot().context);
  const trail = strategy.getAuditTrail().length;

  setImmutable([file, `${file}-wal`], true);
  const callsBefore = calls();
  await expect(system.send('lt', ENTRY)).rejects.toBeInstanceOf(StoreUnavailableError);
  // The actor did take the event (computed once: its guard ran once), then the failed write put it
  // back; the inspector, shown transitions once committed, never saw the undone one.
  expect(calls() - callsBefore).toBe(1);
  expect(seen.some((e) => e.type === '@xstate.event' && e.event.type === 'ENTRY_CONDITIONS_MET')).toBe(false);
  expect(strategy.state).toBe('ANALYZING');
  expect(strategy.getSnapshot().context).toEqual(context);
  expect(strategy.actorRef.getSnapshot().value).toBe('ANALYZING');
  expect(strategy.actorRef.getSnapshot().context).toEqual(context);
  expect(strategy.getAuditTrail()).toHaveLength(trail);
  expect(notices).toEqual([]);
  const latest = seen.filter((e): e is Extract<Seen, { type: '@xstate.snapshot' }> => e.type === '@xstate.snapshot').at(-1)!;
  expect((latest.snapshot as unknown as { value: unknown }).value).toBe('ANALYZING');
  expect(latest.actorRef).toBe(strategy.actorRef);
  expect(system.summary().countByState).toMatchObject({ ANALYZING: 1 });

  // The replacement actor carries on: the same event commits once the store is back.
  setImmutable([file, `${file}-wal`], false);
  const result = await system.send('lt', ENTRY);
  expect(result).toMatchObject({ accepted: true, from: 'ANALYZING', to: 'PENDING_ENTRY' });
  expect(notices.map((n) => n.record.currentState)).toEqual(['PENDING_ENTRY']);
  expect(strategy.getAuditTrail()).toHaveLength(trail + 1);
  expect(strategy.getAuditTrail().at(-1)!.seq).toBe(trail + 1);
  await system.close();

  // And the store holds exactly the committed trail.
  const reopened = await open(def);
  expect(
    reopened
      .get('lt')
      .getAuditTrail()
      .map((r) => r.currentState),
  ).toEqual(['READY', 'ANALYZING', 'PENDING_ENTRY']);
  expect(reopened.get('lt').state).toBe('PENDING_ENTRY');
  await reopened.close();
});
