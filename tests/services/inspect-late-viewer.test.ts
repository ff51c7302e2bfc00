/**
 * The inspector bridge over a real WebSocket, fed by `@statelyai/inspect`'s own WebSocket
 * inspector (as `serve --inspect` does): a viewer that connects after hundreds of events still
 * learns every live actor (the coordinator and each strategy) with the state it is in now, and
 * nothing of a removed strategy. The system runs in a child process (node:child_process, through
 * ./inspect-support) on the BUILT package, dist/ (`npm run build` first): `@statelyai/inspect` is
 * ES modules only, which jest's CommonJS runtime cannot load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events';
import { MINUTE, VARIANTS } from '../support/fixtures';
import {
  connectViewer,
  startProducer,
  topLevel,
  viewOf,
  type InspectMessage,
  type Producer,
  type ProducerStatus,
  type Viewer,
} from './inspect-support';

const entryOf = Object.fromEntries(VARIANTS.map((v) => [v.def.id, v.entry])) as Record<string, StrategyEvent>;
const VARIANT_IDS = ['zeroDte', 'lt112', 'strangle'];
/** The states that invoke each of a strategy's actors. */
const INVOKED_IN: Record<string, string[]> = {
  positionMonitor: ['MANAGING', 'ADJUSTING'],
  entryAnalyzer: ['ANALYZING'],
  errorAlert: ['ERROR'],
};
const RECOVERY = 'xstate.after.errorRecovery.lt112.ERROR';

let producer: Producer | undefined;
const viewers: Viewer[] = [];
let dir: string | undefined;
afterEach(async () => {
  viewers.splice(0).forEach((v) => v.close());
  await producer?.stop();
  producer = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const viewer = async (wsUrl: string) => {
  const v = await connectViewer(wsUrl);
  viewers.push(v);
  return v;
};
const send = (id: string, event: StrategyEvent) => ({ op: 'send', id, event });
/** The coordinator's event for a trading state change with this reason (in memory or recorded after the store write). */
const marked = (reason: string) => (m: InspectMessage) =>
  m.type === '@xstate.event' &&
  (m.event?.type === 'system.setTradingState'
    ? m.event.reason
    : m.event?.type === 'system.recordTradingState'
      ? (m.event.change as { reason?: string }).reason
      : undefined) === reason;

/**
 * Connects a viewer once everything so far has reached the bridge, and splits what it receives
 * into the replay (before a marker sent after it connected) and the rest.
 */
async function lateViewer(p: Producer, wsUrl: string, early: Viewer, settled: string): Promise<InspectMessage[]> {
  await early.waitFor(marked(settled), `marker ${settled}`);
  const late = await viewer(wsUrl);
  await p.call({ cmd: 'run', steps: [{ op: 'mark', reason: `${settled}/connected` }] });
  const live = await late.waitFor(marked(`${settled}/connected`), 'marker after connecting');
  return late.messages.slice(0, late.messages.indexOf(live));
}

/** Every live actor is replayed, actor message first, and ends on its current state; nothing else is. */
function expectReplayOf(replay: InspectMessage[], status: ProducerStatus, gone: string[]) {
  const actors = replay.filter((m) => m.type === '@xstate.actor');
  // A strategy's invoked actors (positionMonitor, entryAnalyzer, errorAlert) are live actors too:
  // each replayed child belongs to a live strategy in a state that invokes it.
  const stateOf = new Map(status.strategies.map((s) => [s.sessionId, s.state]));
  const children = actors.filter((m) => m.parentId !== undefined && stateOf.has(m.parentId));
  for (const child of children)
    expect([child.name, INVOKED_IN[child.name ?? '']?.includes(stateOf.get(child.parentId!)!)]).toEqual([child.name, true]);
  expect(
    actors
      .filter((m) => !children.includes(m))
      .map((m) => m.sessionId)
      .sort(),
  ).toEqual([status.coordinator!, ...status.strategies.map((s) => s.sessionId)].sort());
  expect(replay[0]).toMatchObject({ type: '@xstate.actor', sessionId: status.coordinator, _version: expect.any(String) });
  const view = viewOf(replay);
  for (const strategy of status.strategies) {
    const actorAt = replay.findIndex((m) => m.type === '@xstate.actor' && m.sessionId === strategy.sessionId);
    const snapshotAt = replay.map((m) => m.type === '@xstate.snapshot' && m.sessionId === strategy.sessionId).lastIndexOf(true);
    expect(actorAt).toBeLessThan(snapshotAt);
    expect({
      id: strategy.id,
      name: view.get(strategy.sessionId)?.name,
      state: topLevel(view.get(strategy.sessionId)?.snapshot?.value),
      status: view.get(strategy.sessionId)?.snapshot?.status,
    }).toEqual({
      id: strategy.id,
      name: strategy.id,
      state: strategy.state,
      status: 'active',
    });
  }
  for (const sessionId of gone) expect(replay.filter((m) => m.sessionId === sessionId)).toEqual([]);
  // Bounded: an actor message and a snapshot per live actor, and at most 100 recent events.
  expect(replay.length).toBeLessThanOrEqual(2 * actors.length + 100);
}

test('after 700+ events across six strategies, a late viewer learns every live actor in its current state, and not the removed one', async () => {
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  const early = await viewer(wsUrl);
  const opened = await producer.call({ cmd: 'open', mode: 'memory' });
  // s0..s5: zeroDte, lt112, strangle, zeroDte, lt112, strangle.
  const ids = ['s0', 's1', 's2', 's3', 's4', 's5'];
  const steps: Array<Record<string, unknown>> = ids.flatMap((id, i) => [
    { op: 'add', id, variant: VARIANT_IDS[i % 3] },
    send(id, { type: 'MARKET_OPEN' }),
  ]);
  for (let round = 0; round < 60; round++)
    for (const id of ids) steps.push(send(id, { type: 'TIME_WINDOW_START' }), send(id, { type: 'ENTRY_CONDITIONS_FAILED' }));
  const entry: StrategyEvent[] = [
    { type: 'TIME_WINDOW_START' },
    entryOf.zeroDte,
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' },
  ];
  steps.push(
    ...entry.map((e) => send('s3', e)),
    send('s1', { type: 'SYSTEM_ERROR', reason: 'feed lost' }),
    { op: 'advance', ms: 30 * MINUTE }, // the ERROR recovery delay fires: s1 back to READY
    send('s5', { type: 'SYSTEM_ERROR', reason: 'still in ERROR' }),
    send('s2', { type: 'TIME_WINDOW_START' }),
  );
  expect(steps.filter((s) => s.op === 'send').length).toBeGreaterThan(700);
  const before = await producer.call({ cmd: 'run', steps });
  const removed = before.strategies.find((s) => s.id === 's4')!.sessionId;
  const status = await producer.call({
    cmd: 'run',
    steps: [
      { op: 'remove', id: 's4' },
      { op: 'mark', reason: 'settled' },
    ],
  });
  expect(status.coordinator).toBe(opened.coordinator);
  expect(status.strategies.map((s) => [s.id, s.state])).toEqual([
    ['s0', 'READY'],
    ['s1', 'READY'],
    ['s2', 'ANALYZING'],
    ['s3', 'POSITION_OPEN'],
    ['s5', 'ERROR'],
  ]);

  const replay = await lateViewer(producer, wsUrl, early, 'settled');
  expectReplayOf(replay, status, [removed]);
  const idOf = new Map(before.strategies.map((s) => [s.sessionId, s.id]));
  const childrenIn = (messages: InspectMessage[]) => messages.filter((m) => m.type === '@xstate.actor' && idOf.has(m.parentId ?? ''));
  // Of the 364 invoked actors below, the replay holds exactly the two still running, in creation
  // order: s5's errorAlert (ERROR) and s2's entryAnalyzer (ANALYZING).
  expect(childrenIn(replay).map((m) => [idOf.get(m.parentId!), m.name])).toEqual([
    ['s5', 'errorAlert'],
    ['s2', 'entryAnalyzer'],
  ]);
  // The coordinator ends on its current context: the last trading state change is the marker.
  expect((viewOf(replay).get(status.coordinator!)?.snapshot?.context?.changes as Array<{ reason: string }>).at(-1)?.reason).toBe('settled');

  // The viewer that was there all along saw every actor, the fired delay and the removal.
  const s1 = status.strategies.find((s) => s.id === 's1')!.sessionId;
  expect(early.messages.filter((m) => m.type === '@xstate.event' && m.sessionId === s1).map((m) => m.event?.type)).toContain(RECOVERY);
  const announced = early.messages.filter((m) => m.type === '@xstate.actor');
  expect(announced.filter((m) => !idOf.has(m.parentId ?? '')).map((m) => m.name)).toEqual(['strategySystem', ...ids]);
  // ...and each invoked actor: an entryAnalyzer per entry into ANALYZING (6 x 60 rounds, s3's
  // entry, s2 now), an errorAlert per ERROR (s1, s5). Every one that is gone was relayed ending
  // stopped (most are announced already stopped: @statelyai/inspect converts the actor event a
  // tick late, reading the child's snapshot then), which is why the replay above forgot them.
  const children = childrenIn(early.messages);
  expect([
    children.filter((m) => m.name === 'entryAnalyzer').length,
    children.filter((m) => m.name === 'errorAlert').length,
    children.length,
  ]).toEqual([362, 2, 364]);
  const lastStatusOf = (sessionId: string) =>
    early.messages.filter((m) => m.sessionId === sessionId && m.type !== '@xstate.event').at(-1)?.snapshot?.status;
  expect(
    children.filter((m) => lastStatusOf(m.sessionId) !== 'stopped').map((m) => [idOf.get(m.parentId!), m.name, lastStatusOf(m.sessionId)]),
  ).toEqual([
    ['s5', 'errorAlert', 'active'],
    ['s2', 'entryAnalyzer', 'active'],
  ]);
  expect(early.messages.filter((m) => m.sessionId === removed && m.type === '@xstate.snapshot').at(-1)?.snapshot?.status).toBe('stopped');
  expect(early.messages.filter((m) => m.type === '@xstate.event').length).toBeGreaterThan(600);
});

test('a persisted system: its restored strategies (one recovering from ERROR at start) are what a late viewer learns, the closed system is dropped', async () => {
  dir = mkdtempSync(join(tmpdir(), 'inspect-'));
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  const early = await viewer(wsUrl);
  const dbFile = join(dir, 'strategies.db');
  await producer.call({ cmd: 'open', mode: 'persisted', dbFile });
  const steps: Array<Record<string, unknown>> = [
    { op: 'add', id: 'p-lt112', variant: 'lt112' },
    { op: 'add', id: 'p-strangle', variant: 'strangle' },
    { op: 'add', id: 'p-down', variant: 'lt112' },
    send('p-lt112', { type: 'MARKET_OPEN' }),
    send('p-strangle', { type: 'MARKET_OPEN' }),
    send('p-down', { type: 'MARKET_OPEN' }),
    send('p-lt112', { type: 'SYSTEM_ERROR', reason: 'feed lost' }),
    { op: 'advance', ms: 30 * MINUTE }, // recovered through the write queue
    send('p-strangle', { type: 'TIME_WINDOW_START' }),
    send('p-down', { type: 'SYSTEM_ERROR', reason: 'down in ERROR' }),
  ];
  const running = await producer.call({ cmd: 'run', steps });
  expect(running.strategies.map((s) => [s.id, s.state])).toEqual([
    ['p-lt112', 'READY'],
    ['p-strangle', 'ANALYZING'],
    ['p-down', 'ERROR'],
  ]);
  const firstLt112 = running.strategies[0].sessionId;
  const coordinators = () =>
    early.messages.filter((m) => m.type === '@xstate.actor' && m.name === 'strategySystem').map((m) => m.sessionId);
  const firstCoordinator = coordinators()[0];
  await early.waitFor(
    (m) => m.type === '@xstate.event' && m.sessionId === firstLt112 && m.event?.type === RECOVERY,
    'the recovery of the persisted strategy',
  );

  await producer.call({ cmd: 'close' });
  await producer.call({ cmd: 'run', steps: [{ op: 'advance', ms: 30 * MINUTE }] }); // while down: p-down's recovery falls due
  await producer.call({ cmd: 'open', mode: 'persisted', dbFile });
  const running2 = await producer.call({
    cmd: 'run',
    steps: [
      { op: 'advance', ms: 0 },
      { op: 'mark', reason: 'restored' },
    ],
  });
  // Restored in deadline order: the overdue one first.
  expect(running2.strategies.map((s) => [s.id, s.state])).toEqual([
    ['p-down', 'READY'],
    ['p-lt112', 'READY'],
    ['p-strangle', 'ANALYZING'],
  ]);
  await early.waitFor(marked('restored'), 'marker restored');
  expect(coordinators()).toHaveLength(2);
  const status = { ...running2, coordinator: coordinators()[1] };
  const down = status.strategies.find((s) => s.id === 'p-down')!.sessionId;
  await early.waitFor(
    (m) => m.type === '@xstate.event' && m.sessionId === down && m.event?.type === RECOVERY,
    'the overdue recovery fired at restore',
  );

  const replay = await lateViewer(producer, wsUrl, early, 'restored');
  expectReplayOf(replay, status, [firstCoordinator, ...running.strategies.map((s) => s.sessionId)]);
});

test('a transition the store refuses (entry while another instance halted trading) never shows in the inspector: the strategy stays where it is', async () => {
  dir = mkdtempSync(join(tmpdir(), 'inspect-'));
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  const early = await viewer(wsUrl);
  const dbFile = join(dir, 'strategies.db');
  await producer.call({ cmd: 'open', mode: 'persisted', dbFile });
  const { strategies } = await producer.call({
    cmd: 'run',
    steps: [
      { op: 'add', id: 'r', variant: 'lt112' },
      send('r', { type: 'MARKET_OPEN' }),
      send('r', { type: 'TIME_WINDOW_START' }),
      { op: 'haltBehindItsBack', dbFile },
      { ...send('r', entryOf.lt112), refused: 'TRADING_HALTED' },
      { op: 'advance', ms: 0 },
    ],
  });
  expect(strategies).toMatchObject([{ id: 'r', state: 'ANALYZING' }]);
  const status = await producer.call({ cmd: 'run', steps: [{ op: 'mark', reason: 'refused' }] });
  const replay = await lateViewer(producer, wsUrl, early, 'refused');
  const coordinator = early.messages.find((m) => m.type === '@xstate.actor' && m.name === 'strategySystem')!.sessionId;
  expectReplayOf(replay, { ...status, coordinator }, []);
  // Nobody, early or late, was ever shown the entry the store refused: not in the strategy's
  // session now, nor in the one the rollback replaced (before, that one went to PENDING_ENTRY and
  // was shown stopped there), nor the analyzer's stop and restart in between.
  const shown = early.messages
    .filter((m) => m.type === '@xstate.snapshot' && m.sessionId === strategies[0].sessionId)
    .map((m) => topLevel(m.snapshot?.value));
  expect(shown).not.toContain('PENDING_ENTRY');
  expect(shown.at(-1)).toBe('ANALYZING');
  const everShown = early.messages.filter((m) => m.type === '@xstate.snapshot').map((m) => topLevel(m.snapshot?.value));
  expect(everShown).not.toContain('PENDING_ENTRY');
  const entryEvents = early.messages.filter((m) => m.type === '@xstate.event' && m.event?.type === entryOf.lt112.type);
  expect(entryEvents).toEqual([]);
});

test("an application's own createWebSocketInspector pointed at the bridge: a late viewer learns its strategy", async () => {
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  const early = await viewer(wsUrl);
  const { strategies } = await producer.call({ cmd: 'external' });
  const [strategy] = strategies;
  expect(strategy.state).toBe('ANALYZING');
  await early.waitFor(
    (m) => m.type === '@xstate.snapshot' && m.sessionId === strategy.sessionId && topLevel(m.snapshot?.value) === 'ANALYZING',
    'the last snapshot',
  );
  expect(
    early.messages.filter((m) => m.type === '@xstate.event' && m.sessionId === strategy.sessionId).map((m) => m.event?.type),
  ).toContain(RECOVERY);

  const late = await viewer(wsUrl);
  const last = await late.waitFor((m) => m.type === '@xstate.snapshot' && m.sessionId === strategy.sessionId, 'the replayed snapshot');
  // (Named by its machine, 'lt112': createStrategyActor does not give XState its id.)
  expect(late.messages[0]).toMatchObject({ type: '@xstate.actor', sessionId: strategy.sessionId, _version: expect.any(String) });
  expect(topLevel(last.snapshot?.value)).toBe('ANALYZING');
});
