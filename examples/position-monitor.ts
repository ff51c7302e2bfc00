/**
 * A position monitor: the `positionMonitor` actor that MANAGING and ADJUSTING invoke, fed by a
 * price feed. It watches the underlying and the VIX while the strategy holds its position and asks
 * for RISK_LIMIT_EXCEEDED when the underlying moves too far from where monitoring began, or
 * VIX_SPIKE when the VIX crosses its limit. It type-checks with the package (tsconfig includes
 * examples/) and tests/machines/position-monitor-example.test.ts runs it on a simulated feed.
 *
 * XState starts it when the strategy enters MANAGING (or ADJUSTING), stops it when the state is
 * left (the returned function unsubscribes from the feed) and starts it again when a strategy is
 * restored in those states. What it asks for goes through the strategy's trigger path: validated,
 * gated by the system, audited and, in a persistent system, written before the strategy moves.
 *
 * @example
 * ```ts
 * import { EventEmitter } from 'node:events';
 * const feed = new EventEmitter(); // your market data: feed.emit('tick', { symbol: 'SPX', price: 6020 })
 * const positionMonitor = createPositionMonitor(feed, { maxMovePct: 3, vixSpike: 30 });
 * // In memory:
 * const strategy = createStrategyActor(createStrategyMachine(lt112).provide({ actors: { positionMonitor } }), { params: { underlying: 'SPX' } });
 * // Persisted (the system builds machines from definitions):
 * const system = await openStrategySystem({ store, variants: [{ ...lt112, actors: { positionMonitor } }] });
 * ```
 */
import { fromCallback, type CallbackActorLogic, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput, type StrategyEvent } from '../index.js';

/** One price of the feed: the underlying's (`SPX`) or the volatility index's (`VIX`). */
export interface PriceTick {
  symbol: string;
  price: number;
}

/** A source of ticks; a Node `EventEmitter` emitting `'tick'` fits. */
export interface PriceFeed {
  on(event: 'tick', listener: (tick: PriceTick) => void): unknown;
  off(event: 'tick', listener: (tick: PriceTick) => void): unknown;
}

/** When the monitor asks the strategy to act. */
export interface MonitorLimits {
  /** Move of the underlying from the first price seen, in percent, that exceeds the risk limit. */
  maxMovePct: number;
  /** VIX level at or above which the monitor reports a spike. */
  vixSpike: number;
  /** Symbol of the volatility index in the feed, any case (as the ticks' symbols); default `VIX`. */
  vixSymbol?: string;
}

/**
 * Builds the `positionMonitor` actor logic over `feed`. Each limit is reported once when it is
 * crossed and again only after the value has come back inside it, so a strategy that refused the
 * request (a gate, a halted system) hears of the next crossing, not of every tick.
 */
export function createPositionMonitor(feed: PriceFeed, limits: MonitorLimits): CallbackActorLogic<EventObject, StrategyActorInput> {
  // Upper case, as each tick's symbol is compared: before, a vixSymbol of 'vix' never matched.
  const vixSymbol = (limits.vixSymbol ?? 'VIX').toUpperCase();
  return fromCallback<EventObject, StrategyActorInput>(({ input, sendBack }) => {
    const underlying = String(input.position?.underlying ?? input.params.underlying ?? '').toUpperCase();
    const ask = (event: StrategyEvent) => sendBack(lifecycleRequest(event));
    let reference: number | undefined;
    let riskReported = false;
    let vixReported = false;
    const onTick = ({ symbol, price }: PriceTick) => {
      // A price of 0 or below is a bad print: as the reference, every later price was an infinite move (an exit).
      if (!Number.isFinite(price) || price <= 0) return;
      if (symbol.toUpperCase() === vixSymbol) {
        const over = price >= limits.vixSpike;
        if (over && !vixReported) ask({ type: 'VIX_SPIKE', vix: price });
        vixReported = over;
      } else if (symbol.toUpperCase() === underlying) {
        reference ??= price;
        const movePct = (Math.abs(price - reference) / reference) * 100;
        const over = movePct >= limits.maxMovePct;
        if (over && !riskReported) {
          ask({
            type: 'RISK_LIMIT_EXCEEDED',
            reason: `${underlying} moved ${movePct.toFixed(1)}% (${reference} -> ${price}) in ${input.state}; limit ${limits.maxMovePct}%`,
          });
        }
        riskReported = over;
      }
    };
    feed.on('tick', onTick);
    return () => void feed.off('tick', onTick);
  });
}
