/**
 * A viewer that connects late to the bridge of a big system: its replay (every live actor's
 * `@xstate.actor` message, each with its machine's definition: about 22 KB for a new strategy, some
 * 43 MB for these 2,000) is queued for it at once, in one go. The bridge drops a viewer that falls more than
 * BRIDGE_MAX_BACKLOG (16 MiB) behind; the replay itself must not count as falling behind, or a
 * system of a thousand or two strategies could never be inspected by a viewer opened after it started.
 * The bridge runs in a child process on the BUILT package (see ./inspect-support): `npm run build` first.
 */
import { connectViewer, startProducer, type Producer, type Viewer } from './inspect-support';

let producer: Producer | undefined;
const viewers: Viewer[] = [];
afterEach(async () => {
  viewers.splice(0).forEach((v) => v.close());
  await producer?.stop();
  producer = undefined;
});

test('a late viewer of 2000 strategies receives the whole replay (over 16 MiB), and is not dropped for it', async () => {
  producer = startProducer();
  const { wsUrl } = await producer.call<{ wsUrl: string }>({ cmd: 'bridge' });
  await producer.call({ cmd: 'open', mode: 'memory' });
  const ids = Array.from({ length: 2000 }, (_, i) => `s${i}`);
  for (let i = 0; i < ids.length; i += 50)
    await producer.call({ cmd: 'run', steps: ids.slice(i, i + 50).map((id) => ({ op: 'add', id, variant: 'lt112' })) });
  const status = await producer.call({ cmd: 'run', steps: [{ op: 'mark', reason: 'all added' }] });
  // The bridge reads its own inspector's messages on later turns: let it record them all, so the
  // late viewer learns them from the replay, not live.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const late = await connectViewer(wsUrl);
  viewers.push(late);
  await late.waitFor((m) => m.type === '@xstate.event' && m.event?.type === 'system.setTradingState', 'the marker');
  const actors = new Set(late.messages.filter((m) => m.type === '@xstate.actor').map((m) => m.sessionId));
  expect(status.strategies.filter((s) => !actors.has(s.sessionId))).toEqual([]);
}, 90_000);
