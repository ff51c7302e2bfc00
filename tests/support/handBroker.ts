/**
 * A broker adapter whose execution reports a test emits by hand (anything, malformed too): every
 * order it is given is acknowledged as `o1`, it holds no positions, and cancels do nothing.
 */
import type { BrokerAdapter } from '../../services/broker/broker';

export function handBroker(): { broker: BrokerAdapter; emit: (report: unknown) => void } {
  let listener: ((report: never) => void) | undefined;
  const broker: BrokerAdapter = {
    submit: () => ({ orderId: 'o1' }),
    cancel: async () => undefined,
    positions: async () => [],
    onExecution: (next) => {
      listener = next;
      return () => undefined;
    },
  };
  return { broker, emit: (report) => listener?.(report as never) };
}
