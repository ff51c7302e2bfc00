/**
 * The event-id window's duplicate check (an index that follows `recentEventIds` from snapshot to
 * snapshot) answers exactly what a scan of the window would: while the window fills, while it
 * slides, after a rollback and after a restore; and the window keeps exactly `eventIdWindow` ids.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createEventIdIndex, SCANNED_WINDOW } from '../../services/runtime/eventIdIndex';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { start } from '../support/fixtures';

describe('createEventIdIndex', () => {
  // 0: every window indexed; 3: short windows scanned, longer ones indexed; the default scans all of these.
  test.each([0, 3, SCANNED_WINDOW])(
    'agrees with a scan of the window as it fills, slides, goes back and jumps (scanned below %i)',
    (scanBelow) => {
      const index = createEventIdIndex(scanBelow);
      const windows: string[][] = [];
      let window: string[] = [];
      for (let i = 0; i < 40; i++) {
        // Fill up to 5 ids, then slide (the oldest dropped), as appendRecord does.
        window = [...window.slice(window.length >= 5 ? 1 : 0), `id-${i}`];
        windows.push(window);
      }
      // Forward, then back to an older window (a rollback), then a window from elsewhere (a restore),
      // then windows holding an id twice (older snapshots), sliding until it is held once again.
      const twice = [
        ['id-1', 'id-2', 'id-1', 'id-3'],
        ['id-2', 'id-1', 'id-3', 'id-1'],
        ['id-1', 'id-3', 'id-1', 'id-4'],
        ['id-3', 'id-1', 'id-4', 'id-5'],
      ];
      const sequence = [...windows, windows[10], windows[11], ['x', 'y'], windows[39], [], ...twice, ['id-1', 'id-4', 'id-5', 'id-6']];
      for (const w of sequence) {
        for (let i = -1; i < 42; i++) expect(index.has(w, `id-${i}`)).toBe(w.includes(`id-${i}`));
        expect(index.has(w, 'x')).toBe(w.includes('x'));
      }
    },
  );
});

describe('the event-id window of a strategy', () => {
  test('a window of 1 remembers exactly the newest id', () => {
    const { strategy } = start({ ...lt112, id: 'windowOfOne', eventIdWindow: 1 });
    strategy.trigger({ type: 'MARKET_OPEN', eventId: 'a' });
    strategy.trigger({ type: 'TIME_WINDOW_START', eventId: 'b' });
    expect(strategy.getSnapshot().context.recentEventIds).toEqual(['b']);
    // 'a' fell out of the window: a replay of it is no longer a duplicate.
    expect(strategy.trigger({ type: 'TIME_WINDOW_END', eventId: 'b' })).toMatchObject({ code: 'DUPLICATE_EVENT' });
    expect(strategy.trigger({ type: 'TIME_WINDOW_END', eventId: 'a' })).toMatchObject({ accepted: true, to: 'READY' });
  });

  test('ids that slid out of the window are accepted again, those inside are duplicates, also after a restore', () => {
    const { strategy, clock } = start({ ...lt112, id: 'window3', eventIdWindow: 3 });
    const types = ['MARKET_OPEN', 'TIME_WINDOW_START', 'TIME_WINDOW_END', 'TIME_WINDOW_START', 'TIME_WINDOW_END'] as const;
    // INITIALIZING -> READY -> ANALYZING -> READY -> ANALYZING -> READY, each event with a new id.
    ['a', 'b', 'c', 'd', 'e'].forEach((eventId, i) =>
      expect(strategy.trigger({ type: types[i], eventId })).toMatchObject({ accepted: true }),
    );
    expect(strategy.getSnapshot().context.recentEventIds).toEqual(['c', 'd', 'e']);
    expect(strategy.explain({ type: 'TIME_WINDOW_START', eventId: 'd' })).toMatchObject({ code: 'DUPLICATE_EVENT' });
    expect(strategy.explain({ type: 'TIME_WINDOW_START', eventId: 'b' })).toBeNull();
    const saved = JSON.parse(JSON.stringify(strategy.getPersistedSnapshot()));
    const restored = createStrategyActor(createStrategyMachine({ ...lt112, id: 'window3', eventIdWindow: 3 }), {
      clock: createSimulatedClock(clock.now()),
      snapshot: saved,
    });
    expect(restored.explain({ type: 'TIME_WINDOW_START', eventId: 'e' })).toMatchObject({ code: 'DUPLICATE_EVENT' });
    expect(restored.explain({ type: 'TIME_WINDOW_START', eventId: 'a' })).toBeNull();
  });
});
