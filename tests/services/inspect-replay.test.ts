/**
 * The bridge's replay memory (server/inspectorReplay.ts) on the `@statelyai/inspect` wire format:
 * what a late viewer is given, in which order, and that it stays bounded however long it runs.
 */
import { createInspectionReplay } from '../../server/inspectorReplay';

const actor = (sessionId: string, status = 'active') =>
  JSON.stringify({ type: '@xstate.actor', sessionId, name: sessionId, _version: '0.7.2', snapshot: { status, value: 'INITIALIZING' } });
const snapshot = (sessionId: string, value: string, status = 'active') =>
  JSON.stringify({ type: '@xstate.snapshot', sessionId, _version: '0.7.2', event: { type: 'E' }, snapshot: { status, value } });
const event = (sessionId: string, n: number) =>
  JSON.stringify({ type: '@xstate.event', sessionId, _version: '0.7.2', event: { type: `E${n}` } });
const read = (messages: string[]) =>
  messages.map((m) => JSON.parse(m) as { type: string; sessionId: string; snapshot?: { value?: string }; event?: { type: string } });

test("a late viewer gets every live actor, then the recent events, then each actor's latest snapshot", () => {
  const replay = createInspectionReplay({ eventTail: 3 });
  replay.record(actor('x:0'));
  replay.record(actor('x:1'));
  for (let n = 0; n < 1000; n++) {
    replay.record(event(`x:${n % 2}`, n));
    replay.record(snapshot(`x:${n % 2}`, `S${n}`));
  }
  expect(read(replay.replay()).map((m) => [m.type, m.sessionId, m.type === '@xstate.event' ? m.event?.type : m.snapshot?.value])).toEqual([
    ['@xstate.actor', 'x:0', 'INITIALIZING'],
    ['@xstate.actor', 'x:1', 'INITIALIZING'],
    ['@xstate.event', 'x:1', 'E997'],
    ['@xstate.event', 'x:0', 'E998'],
    ['@xstate.event', 'x:1', 'E999'],
    ['@xstate.snapshot', 'x:0', 'S998'],
    ['@xstate.snapshot', 'x:1', 'S999'],
  ]);
});

test.each(['stopped', 'done', 'error'])('an actor whose snapshot is %s is forgotten with its events', (status) => {
  const replay = createInspectionReplay();
  replay.record(actor('x:0'));
  replay.record(actor('x:1'));
  replay.record(event('x:1', 1));
  replay.record(snapshot('x:1', 'READY'));
  replay.record(snapshot('x:1', 'READY', status));
  expect(replay.sessionIds()).toEqual(['x:0']);
  expect(read(replay.replay()).filter((m) => m.sessionId === 'x:1')).toEqual([]);
});

test('an actor already stopped when announced, a snapshot or event of an unknown actor, and non-inspection messages are not kept', () => {
  const replay = createInspectionReplay();
  replay.record(actor('x:0', 'stopped'));
  replay.record(snapshot('x:9', 'READY'));
  replay.record(event('x:9', 1));
  replay.record('not json');
  replay.record(JSON.stringify({ type: '@statelyai.connected' }));
  replay.record(JSON.stringify(null));
  expect(replay.replay()).toEqual([]);
});

/**
 * The wire sequence `@statelyai/inspect` sends for a strategy's invoked actor (entryAnalyzer),
 * as recorded from createWebSocketInspector: it converts each XState inspection event a tick late
 * (idleCallback: setTimeout 0), and its `@xstate.actor` message carries `actorRef.getSnapshot()`
 * read then. A child invoked and stopped in the same tick (TIME_WINDOW_START then
 * ENTRY_CONDITIONS_FAILED) is therefore announced already `stopped`, followed by its stale
 * `xstate.init` snapshot (still `active`) and then its `xstate.stop` snapshot; one that lived
 * across a tick is announced `active`.
 */
test("a strategy's invoked actors entered and left thousands of times leave nothing behind; the one running now is kept", () => {
  const child = (sessionId: string, status: string) =>
    JSON.stringify({
      type: '@xstate.actor',
      sessionId,
      name: 'entryAnalyzer',
      parentId: 'x:1',
      _version: '0.7.2',
      snapshot: { status, input: { state: 'ANALYZING' } },
    });
  const childSnapshot = (sessionId: string, status: string, by: string) =>
    JSON.stringify({
      type: '@xstate.snapshot',
      sessionId,
      _version: '0.7.2',
      event: { type: by },
      snapshot: { status, input: { state: 'ANALYZING' } },
    });
  const childInit = (sessionId: string) =>
    JSON.stringify({ type: '@xstate.event', sessionId, _version: '0.7.2', event: { type: 'xstate.init' } });
  const replay = createInspectionReplay({ eventTail: 10 });
  replay.record(actor('x:0'));
  replay.record(actor('x:1'));
  let n = 2;
  for (let round = 0; round < 2000; round++) {
    const sessionId = `x:${n++}`;
    // Same tick: converted after the stop. Across ticks: converted while it ran.
    const announcedStopped = round % 2 === 0;
    replay.record(event('x:1', 2 * round));
    replay.record(child(sessionId, announcedStopped ? 'stopped' : 'active'));
    replay.record(childInit(sessionId));
    replay.record(childSnapshot(sessionId, 'active', 'xstate.init'));
    replay.record(snapshot('x:1', 'ANALYZING'));
    replay.record(event('x:1', 2 * round + 1));
    replay.record(childSnapshot(sessionId, 'stopped', 'xstate.stop'));
    replay.record(snapshot('x:1', 'READY'));
  }
  expect(replay.sessionIds()).toEqual(['x:0', 'x:1']);
  // The strategy enters ANALYZING once more: its entryAnalyzer is live, with its latest snapshot.
  replay.record(child(`x:${n}`, 'active'));
  replay.record(childInit(`x:${n}`));
  replay.record(childSnapshot(`x:${n}`, 'active', 'xstate.init'));
  replay.record(snapshot('x:1', 'ANALYZING'));
  expect(replay.sessionIds()).toEqual(['x:0', 'x:1', `x:${n}`]);
  const messages = read(replay.replay());
  expect(messages.filter((m) => m.type !== '@xstate.event').map((m) => [m.type, m.sessionId])).toEqual([
    ['@xstate.actor', 'x:0'],
    ['@xstate.actor', 'x:1'],
    ['@xstate.actor', `x:${n}`],
    ['@xstate.snapshot', 'x:1'],
    ['@xstate.snapshot', `x:${n}`],
  ]);
  expect(messages.length).toBeLessThanOrEqual(5 + 10);
});

test("an actor message's machine definition is kept once per machine, and a late viewer still receives it whole", () => {
  const replay = createInspectionReplay();
  // A definition of the size a strategy machine's has (about 20 KB), with characters JSON escapes.
  const definition = JSON.stringify({
    id: 'lt112',
    states: Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`S${i}`, { on: { 'E"\n': `T${i}` } }])),
  });
  const other = JSON.stringify({ id: 'strangle' });
  const sent = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({
      type: '@xstate.actor',
      name: 'lt112',
      sessionId: `x:${i}`,
      snapshot: { status: 'active', value: 'READY' },
      definition: i % 10 === 0 ? other : definition,
      _version: '0.7.2',
    }),
  );
  for (const message of sent) replay.record(message);
  const size = replay.size();
  expect(size).toMatchObject({ actors: 1000, definitions: 2 });
  // Each actor costs its own fields, not its definition's 20 KB.
  expect(definition.length).toBeGreaterThan(15_000);
  expect(size.chars).toBeLessThan(definition.length + 1000 * 200);
  expect(replay.replay().map((m) => JSON.parse(m) as unknown)).toEqual(sent.map((m) => JSON.parse(m) as unknown));

  // A definition no live actor uses any more is let go.
  for (let i = 0; i < 1000; i += 10) replay.record(snapshot(`x:${i}`, 'CLOSED', 'stopped'));
  expect(replay.size()).toMatchObject({ actors: 900, definitions: 1 });
  for (let i = 0; i < 1000; i++) replay.record(snapshot(`x:${i}`, 'CLOSED', 'stopped'));
  expect(replay.size()).toEqual({ actors: 0, definitions: 0, chars: 0 });
});

test('an actor message that already contains the placeholder text is kept as received', () => {
  const replay = createInspectionReplay();
  const message = JSON.stringify({
    type: '@xstate.actor',
    sessionId: 'x:0',
    snapshot: { status: 'active', context: { note: '\u0000definition\u0000' } },
    definition: '{"id":"m"}',
  });
  replay.record(message);
  expect(replay.replay()).toEqual([message]);
});
