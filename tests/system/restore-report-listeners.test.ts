/**
 * A record a strategy's invoked actor writes while the strategy is restored (a bare report as its
 * monitor starts) reaches the system's subscribers like any other, and no listener throws (the
 * registry's listener read the strategy's handle before it was made: a ReferenceError, and the
 * subscribers never heard the record).
 */
import { strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { bareReportingMonitor } from '../support/monitors';

const { counter, logic: positionMonitor } = bareReportingMonitor();
const variant = { ...strangle, actors: { positionMonitor } };

test('a record written while a strategy is restored reaches system subscribers, and no listener throws', () => {
  const first = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM) });
  first.add(variant, { id: 's', params: { underlying: 'SPX' } });
  for (const event of managing(VARIANTS[2].entry, 2)) expect((first.send('s', event) as { accepted: boolean }).accepted).toBe(true);
  const saved = first.get('s').getPersistedSnapshot(); // MANAGING, seq 6

  const listenerErrors: unknown[] = [];
  const second = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), onListenerError: (e) => listenerErrors.push(e) });
  const heard: number[] = [];
  second.subscribe((notice) => heard.push(notice.record.seq));
  counter.reports = 1; // the restored monitor reports VIX_SPIKE bare as it starts: MANAGING -> ADJUSTING, seq 7
  second.add(variant, { id: 's', snapshot: saved });
  counter.reports = 0;
  const trail = second
    .get('s')
    .getAuditTrail()
    .map((r) => r.seq);
  expect({ trailEnd: trail.at(-1), heard, listenerErrors: listenerErrors.map(String) }).toEqual({
    trailEnd: 7,
    heard: [7],
    listenerErrors: [],
  });
});
