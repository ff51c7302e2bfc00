/** examples/position-monitor.ts on a simulated feed: the monitor's reports move the strategy through its trigger path. */
import { EventEmitter } from 'node:events';
import { createPositionMonitor } from '../../examples/position-monitor';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategyActor } from '../../services/runtime/strategyActor';
import { FRIDAY_11AM, NEAR_EXPIRY, VARIANTS, drive } from '../support/fixtures';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const toManaging = (entry: StrategyEvent): StrategyEvent[] => [
  { type: 'MARKET_OPEN' },
  { type: 'TIME_WINDOW_START' },
  entry,
  { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 2, expiry: NEAR_EXPIRY, underlying: 'SPX' },
  { type: 'MARKET_OPEN' },
];

test('a move of the underlying past the limit exits lt112 (RISK_LIMIT_EXCEEDED), and the monitor lets go of the feed', async () => {
  const feed = new EventEmitter();
  const positionMonitor = createPositionMonitor(feed, { maxMovePct: 3, vixSpike: 30 });
  const strategy = createStrategyActor(createStrategyMachine(lt112).provide({ actors: { positionMonitor } }), {
    id: 'lt',
    params: { underlying: 'SPX' },
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  feed.emit('tick', { symbol: 'SPX', price: 6000 }); // not monitoring yet: no position
  drive(strategy, toManaging(VARIANTS[1].entry));
  expect(feed.listenerCount('tick')).toBe(1);
  for (const price of [6000, 6050, 5900, 6010]) feed.emit('tick', { symbol: 'SPX', price }); // inside 3%
  feed.emit('tick', { symbol: 'QQQ', price: 1 }); // another symbol
  await settle();
  expect(strategy.state).toBe('MANAGING');
  feed.emit('tick', { symbol: 'SPX', price: 5810 }); // -3.2%
  feed.emit('tick', { symbol: 'SPX', price: 5800 }); // still over: reported once
  await settle();
  expect(strategy.state).toBe('PENDING_EXIT');
  const requested = strategy.getAuditTrail().filter((r) => r.trigger === 'RISK_LIMIT_EXCEEDED');
  expect(requested).toHaveLength(1);
  expect(requested[0]).toMatchObject({
    accepted: true,
    previousState: 'MANAGING',
    currentState: 'PENDING_EXIT',
    data: { reason: 'SPX moved 3.2% (6000 -> 5810) in MANAGING; limit 3%' },
  });
  expect(feed.listenerCount('tick')).toBe(0);
  strategy.stop();
});

test('a VIX spike sends strangle to ADJUSTING, where a new monitor takes over; a second spike there is refused and audited', async () => {
  const feed = new EventEmitter();
  const positionMonitor = createPositionMonitor(feed, { maxMovePct: 3, vixSpike: 30 });
  const strategy = createStrategyActor(createStrategyMachine(strangle).provide({ actors: { positionMonitor } }), {
    id: 'st',
    params: { underlying: 'SPX' },
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  drive(strategy, toManaging(VARIANTS[2].entry));
  feed.emit('tick', { symbol: 'VIX', price: 24 });
  feed.emit('tick', { symbol: 'VIX', price: 31.5 });
  await settle();
  expect(strategy.state).toBe('ADJUSTING');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'VIX_SPIKE', accepted: true, data: { vix: 31.5 } });
  expect(feed.listenerCount('tick')).toBe(1); // the ADJUSTING monitor
  feed.emit('tick', { symbol: 'VIX', price: 33 });
  await settle();
  expect(strategy.state).toBe('ADJUSTING');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'VIX_SPIKE', accepted: false, code: 'NO_EDGE' });
  strategy.stop();
  expect(feed.listenerCount('tick')).toBe(0);
});

test('vixSymbol is matched as the feed is, whatever its case: "vix" hears the feed\'s VIX (before, never)', async () => {
  const feed = new EventEmitter();
  const positionMonitor = createPositionMonitor(feed, { maxMovePct: 3, vixSpike: 30, vixSymbol: 'vix' });
  const strategy = createStrategyActor(createStrategyMachine(strangle).provide({ actors: { positionMonitor } }), {
    id: 'st-lower',
    params: { underlying: 'SPX' },
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  drive(strategy, toManaging(VARIANTS[2].entry));
  feed.emit('tick', { symbol: 'VIX', price: 31.5 });
  await settle();
  expect(strategy.state).toBe('ADJUSTING');
  expect(strategy.getAuditTrail().at(-1)).toMatchObject({ trigger: 'VIX_SPIKE', accepted: true, data: { vix: 31.5 } });
  strategy.stop();
});

test('a price of 0 or below (a bad print) is ignored: it neither becomes the reference nor exits the position', async () => {
  const feed = new EventEmitter();
  const positionMonitor = createPositionMonitor(feed, { maxMovePct: 3, vixSpike: 30 });
  const strategy = createStrategyActor(createStrategyMachine(lt112).provide({ actors: { positionMonitor } }), {
    id: 'lt-zero',
    params: { underlying: 'SPX' },
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  drive(strategy, toManaging(VARIANTS[1].entry));
  // Before, 0 became the reference and the next real price was an infinite move: the position was exited.
  for (const price of [0, -1, 6000, 6020]) feed.emit('tick', { symbol: 'SPX', price });
  await settle();
  expect(strategy.state).toBe('MANAGING');
  expect(strategy.getAuditTrail().filter((r) => r.trigger === 'RISK_LIMIT_EXCEEDED')).toHaveLength(0);
  feed.emit('tick', { symbol: 'SPX', price: 5810 }); // -3.2% from the first good price
  await settle();
  expect(strategy.state).toBe('PENDING_EXIT');
  strategy.stop();
});
