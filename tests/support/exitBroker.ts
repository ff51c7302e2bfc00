/**
 * A broker on a simulated clock for kill-switch scenarios: each accepted move to EXITING is an
 * exit order, answered 100 ms later (simulated) with a fill of the open quantity or a rejection.
 */
import type { StrategyEvent } from '../../machines/events';
import type { SimulatedClockHandle } from '../../services/market/clock';
import type { StrategyActor, TransitionListener } from '../../services/runtime/strategyActor';

/** What the broker needs of a system, in memory or persisted. */
interface BrokeredSystem {
  subscribe(listener: TransitionListener): () => void;
  get(id: string): StrategyActor;
  send(id: string, event: StrategyEvent): unknown;
}

/**
 * Answers every exit order of `system` as `answerFor(strategyId)` says, 100 ms after it; returns
 * the instants (`record.at`) of the exit orders, in order.
 */
export function exitBroker(
  system: BrokeredSystem,
  clock: SimulatedClockHandle,
  answerFor: (strategyId: string) => 'fill' | 'reject',
): number[] {
  const orders: number[] = [];
  system.subscribe(({ strategyId, record }) => {
    if (!record.accepted || record.currentState !== 'EXITING') return;
    orders.push(record.at);
    const answer = answerFor(strategyId);
    clock.setTimeout(() => {
      const open = system.get(strategyId).getSnapshot().context.position?.quantity ?? 0;
      void system.send(
        strategyId,
        answer === 'fill' ? { type: 'ORDER_FILLED', quantity: open } : { type: 'ORDER_REJECTED', reason: 'no liquidity' },
      );
    }, 100);
  });
  return orders;
}
