#!/usr/bin/env node
/**
 * The demo behind `npm start`: three strategies (0DTE, LT112, strangle) walked through one
 * simulated NYSE trading day on a simulated clock, printing every transition and the final
 * statistics. It runs in milliseconds; nothing waits for real time.
 */
import { createStrategyMachine } from '../machines/createStrategyMachine.js';
import type { StrategyEvent } from '../machines/events.js';
import { StrategyLifecycleError } from '../machines/errors.js';
import { lt112, strangle, zeroDte } from '../machines/variants/index.js';
import { createSimulatedClock } from '../services/market/clock.js';
import { marketCalendar } from '../services/market/marketCalendar.js';
import { getStatistics, type StrategyStatistics } from '../services/runtime/statistics.js';
import { createStrategyActor, type StrategyActor } from '../services/runtime/strategyActor.js';
import { formatDuration, MARKET_ZONE } from '../services/market/time.js';
import { DateTime } from 'luxon';

/** The demo's trading day: a Friday, so the Friday-only 0DTE variant trades. */
export const DEMO_DAY = '2026-12-04';

type Step = [time: string, strategy: string, event: StrategyEvent];

const SCRIPT: Step[] = [
  ['09:30', '*', { type: 'MARKET_OPEN' }],
  ['09:45', 'strangle-spy', { type: 'TIME_WINDOW_START' }],
  ['09:46', 'strangle-spy', { type: 'ENTRY_CONDITIONS_MET', vix: 21, expiry: '2027-01-22', underlying: 'SPY' }],
  ['09:47', 'strangle-spy', { type: 'ORDER_SUBMITTED', orderId: 'S-1' }],
  ['09:48', 'strangle-spy', { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-01-22', price: 3.1, eventId: 'fill-S-1' }],
  ['09:48', 'strangle-spy', { type: 'ORDER_FILLED', quantity: 2, expiry: '2027-01-22', price: 3.1, eventId: 'fill-S-1' }], // the broker delivers the fill twice
  ['10:00', 'lt112-spx', { type: 'TIME_WINDOW_START' }],
  ['10:05', 'lt112-spx', { type: 'ENTRY_CONDITIONS_MET', vix: 17, expiry: '2027-03-29', underlying: 'SPX' }],
  ['10:06', 'lt112-spx', { type: 'ORDER_SUBMITTED', orderId: 'L-1' }], // never answered: stuck after 5 min, ERROR, recovers 30 min later
  ['10:30', '0dte-spx', { type: 'TIME_WINDOW_START', window: 'entry' }],
  ['10:35', '0dte-spx', { type: 'ENTRY_CONDITIONS_MET', vix: 17 }],
  ['10:36', '0dte-spx', { type: 'ORDER_SUBMITTED', orderId: 'Z-1' }],
  ['10:37', '0dte-spx', { type: 'ORDER_FILLED', quantity: 4, expiry: DEMO_DAY, price: 1.85 }],
  ['10:40', '0dte-spx', { type: 'TIME_WINDOW_START', window: 'manage' }],
  ['13:00', 'lt112-spx', { type: 'TIME_WINDOW_START' }],
  ['13:01', 'lt112-spx', { type: 'ENTRY_CONDITIONS_MET', vix: 55, expiry: '2027-03-29' }], // VIX too high: rejected by isVixInRange
  ['13:05', 'lt112-spx', { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' }],
  ['13:06', 'lt112-spx', { type: 'ORDER_SUBMITTED', orderId: 'L-2' }],
  ['13:07', 'lt112-spx', { type: 'ORDER_FILLED', quantity: 1, expiry: '2027-03-29', price: 42.5 }],
  ['15:30', '0dte-spx', { type: 'TIME_WINDOW_END', window: 'manage' }],
  ['15:31', '0dte-spx', { type: 'ORDER_SUBMITTED', orderId: 'Z-2' }],
  ['15:32', '0dte-spx', { type: 'ORDER_PARTIALLY_FILLED', quantity: 3 }],
  ['15:33', '0dte-spx', { type: 'ORDER_FILLED', quantity: 1 }],
  ['16:00', '*', { type: 'MARKET_CLOSE' }],
];

/** What the demo returns: each strategy's final statistics. */
export interface DemoResult {
  strategies: StrategyActor[];
  statistics: StrategyStatistics[];
}

/** Runs the demo day, writing each line to `print`. */
export function runDemo(print: (line: string) => void = console.log): DemoResult {
  const session = marketCalendar.session(DEMO_DAY);
  if (!session) throw new StrategyLifecycleError(`the demo day ${DEMO_DAY} is not a trading day`);
  const clock = createSimulatedClock(session.open - 60 * 60_000);
  const strategies = [
    createStrategyActor(createStrategyMachine(zeroDte), { id: '0dte-spx', clock, params: { underlying: 'SPX' } }),
    createStrategyActor(createStrategyMachine(lt112), { id: 'lt112-spx', clock, params: { underlying: 'SPX' } }),
    createStrategyActor(createStrategyMachine(strangle), { id: 'strangle-spy', clock, params: { underlying: 'SPY' } }),
  ];
  const time = (at: number) => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toFormat('HH:mm:ss');
  for (const strategy of strategies) {
    strategy.subscribe(({ strategyId, record }) => {
      const move = `${record.previousState} -> ${record.currentState}`.padEnd(30);
      const what = record.accepted ? record.message.replace(/^\S+ -> \S+ ?/, '') : `REJECTED: ${record.reason}`;
      print(`${time(record.at)}  ${strategyId.padEnd(13)} ${move} ${record.trigger.padEnd(24)} ${what}`);
    });
  }
  print(
    `Simulated trading day ${DEMO_DAY} (${session.earlyClose ? 'early close' : 'regular session'} ${time(session.open)}-${time(session.close)} New York)\n`,
  );
  for (const [hhmm, target, event] of SCRIPT) {
    const at = DateTime.fromISO(`${DEMO_DAY}T${hhmm}`, { zone: MARKET_ZONE }).toMillis();
    clock.set(at);
    for (const strategy of strategies) if (target === '*' || strategy.id === target) strategy.trigger(event);
  }
  const statistics = strategies.map((s) => getStatistics(s));
  print('\nFinal statistics');
  print(`${'strategy'.padEnd(13)} ${'state'.padEnd(14)} ${'in state'.padEnd(9)} transitions  rejected  errors  position`);
  for (const s of statistics) {
    print(
      `${s.strategyId.padEnd(13)} ${s.currentState.padEnd(14)} ${formatDuration(s.timeInCurrentStateMs).padEnd(9)} ${String(s.totalTransitions).padStart(11)}  ${String(s.rejectedTriggers).padStart(8)}  ${String(s.errorCount).padStart(6)}  ${s.openQuantity}`,
    );
  }
  for (const s of strategies) s.stop();
  return { strategies, statistics };
}

// Run when executed directly (CommonJS build: `npm start`), not when imported by a test.
if (typeof require !== 'undefined' && require.main === module) runDemo();
