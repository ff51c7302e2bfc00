/**
 * The bridge's replay memory (server/inspectorReplay.ts) on the `@statelyai/inspect` wire format:
 * what a late viewer is given, in which order, and that it stays bounded however long it runs.
 */
import { createInspectionReplay } from '../../server/inspectorReplay';

const actor = (sessionId: string, status = 'active') => JSON.stringify({ type: '@xstate.actor', sessionId, name: sessionId, _version: '0.7.2', snapshot: { status, value: 'INITIALIZING' } });
const snapshot = (sessionId: string, value: string, status = 'active') => JSON.stringify({ type: '@xstate.snapshot', sessionId, _version: '0.7.2', event: { type: 'E' }, snapshot: { status, value } });
const event = (sessionId: string, n: number) => JSON.stringify({ type: '@xstate.event', sessionId, _version: '0.7.2', event: { type: `E${n}` } });
const read = (messages: string[]) => messages.map((m) => JSON.parse(m) as { type: string; sessionId: string; snapshot?: { value?: string }; event?: { type: string } });

test('a late viewer gets every live actor, then the recent events, then each actor\'s latest snapshot', () => {
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
