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
