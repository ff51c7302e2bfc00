/**
 * With a store that answers later (PostgreSQL, any async append), what the strategy's actor and
 * the actors its transition started report while the write is under way waits with the
 * transaction's own events. Before, it was shown at once: an event from an actor the inspector
 * had not been told of yet, and a snapshot of the strategy in the state it had not committed (and
 * that a refused write then rolled back).
 */
import { fromCallback, type EventObject, type InspectionEvent } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { join } from 'node:path';
import type { StrategyWrite } from '../../services/store/types';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { tempDir } from '../persistence/helpers';

type Ref = { sessionId: string; id?: string };
const sessionOf = (e: InspectionEvent) => (e.actorRef as Ref).sessionId;

class LaterStore extends SqliteStore {
  gate: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  later = false;
  override append(write: StrategyWrite) {
    if (!this.later) return super.append(write);
    return new Promise<void>((resolve, reject) => {
      this.gate = { resolve: () => resolve(super.append(write)), reject };
    });
  }
}

jest.setTimeout(15000);
test('an invoked actor reporting during an async write: inspector never sees an uncommitted state nor an actor before its creation', async () => {
  let sendBack: ((e: EventObject) => void) | undefined;
  const analyzer = fromCallback<EventObject, StrategyActorInput>(({ sendBack: sb }) => {
    sendBack = sb;
  });
  const { dir, cleanup } = tempDir('sl-inspect-async-');
  const store = new LaterStore(join(dir, 's.db'));
  const seen: InspectionEvent[] = [];
  const variant = { ...lt112, actors: { entryAnalyzer: analyzer } };
  const system = await openStrategySystem({
    store,
    variants: [variant],
    clock: createSimulatedClock(FRIDAY_11AM),
    inspect: (e) => void seen.push(e),
  });
  await system.add(variant, { id: 'lt' });
  await system.send('lt', { type: 'MARKET_OPEN' });
  store.later = true;
  const pending = system.send('lt', { type: 'TIME_WINDOW_START' });
  await new Promise((r) => setTimeout(r, 20));
  expect(store.gate).not.toBeNull();
  // The analyzer of ANALYZING (started by the transition being written) reports now.
  expect(sendBack).toBeDefined();
  sendBack!(lifecycleRequest(VARIANTS[1].entry));
  await new Promise((r) => setTimeout(r, 20));
  // The write is refused: the transition to ANALYZING is rolled back.
  store.later = false;
  store.gate!.reject(new StoreUnavailableError('memory', 'disk full'));
  await expect(pending).rejects.toThrow(StoreUnavailableError);
  await new Promise((r) => setTimeout(r, 5));
  expect(system.get('lt').state).toBe('READY');

  // 1. No snapshot of any 'lt' session in ANALYZING was shown.
  const ltSessions = new Set(seen.filter((e) => e.type === '@xstate.actor' && (e.actorRef as Ref).id === 'lt').map(sessionOf));
  const analyzingShown = seen.filter(
    (e) =>
      e.type === '@xstate.snapshot' &&
      ltSessions.has(sessionOf(e)) &&
      (e as unknown as { snapshot: { value: unknown } }).snapshot.value === 'ANALYZING',
  );
  // 2. No event whose source is an actor never announced (or announced later).
  const announced = new Set<string>();
  const unannounced: string[] = [];
  for (const e of seen) {
    if (e.type === '@xstate.actor') announced.add(sessionOf(e));
    const src = (e as { sourceRef?: Ref }).sourceRef;
    if (e.type === '@xstate.event' && src && !announced.has(src.sessionId)) unannounced.push(src.id ?? src.sessionId);
  }
  await system.close();
  cleanup();
  expect({ analyzingShown: analyzingShown.length, unannounced }).toEqual({ analyzingShown: 0, unannounced: [] });
});
