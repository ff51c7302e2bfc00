/**
 * A position monitor for tests: an invoked callback actor that counts how many of it run and lets
 * the test report through it, wrapped (`ask`, as invoked actors should) or bare (`send`).
 */
import { fromCallback, type EventObject } from 'xstate';
import { lifecycleRequest, type StrategyActorInput } from '../../machines/actors';
import type { StrategyEvent } from '../../machines/events';

export function countingMonitor() {
  const monitor = {
    running: 0,
    started: 0,
    /** Reports an event through the runtime (`lifecycleRequest`). */
    ask: undefined as ((event: StrategyEvent) => void) | undefined,
    /** Sends an event bare (`sendBack` of the event itself), around the runtime. */
    send: undefined as ((event: EventObject) => void) | undefined,
  };
  const logic = fromCallback<EventObject, StrategyActorInput>(({ sendBack }) => {
    monitor.running++;
    monitor.started++;
    monitor.ask = (event) => sendBack(lifecycleRequest(event));
    monitor.send = sendBack;
    return () => {
      monitor.running--;
    };
  });
  return { monitor, logic };
}

/**
 * A position monitor that reports bare as it starts, `reports` times in all (set it before the
 * strategy starts or is restored): VIX_SPIKE in MANAGING (to ADJUSTING), ORDER_REJECTED in
 * ADJUSTING (back to MANAGING), so each report is one accepted transition the runtime did not ask for.
 */
export function bareReportingMonitor() {
  const counter = { reports: 0 };
  const logic = fromCallback<EventObject, StrategyActorInput>(({ sendBack, input }) => {
    if (counter.reports <= 0) return;
    counter.reports--;
    sendBack(input.state === 'MANAGING' ? { type: 'VIX_SPIKE', vix: 41 } : { type: 'ORDER_REJECTED', reason: 'no' });
  });
  return { counter, logic };
}
