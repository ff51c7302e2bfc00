/** Store-level writes for the group commit tests: one MARKET_OPEN record per write, as the runtime makes them. */
import type { Snapshot } from 'xstate';
import type { TransitionRecord } from '../../machines/types';
import type { NewStrategy, StrategyWrite } from '../../services/store/types';
import { FRIDAY_11AM } from '../support/fixtures';

const snapshotAt = (seq: number): Snapshot<unknown> => ({
  status: 'active',
  output: undefined,
  error: undefined,
  ...{ value: 'READY', context: { seq } },
});

/** A strategy as `create` takes it. */
export function newStrategy(strategyId: string): NewStrategy {
  return { strategyId, variant: 'lt112', params: {}, snapshot: snapshotAt(0), state: 'INITIALIZING', at: FRIDAY_11AM };
}

/** The write that takes `strategyId` from `expectedSeq` to the next seq. */
export function writeAfter(strategyId: string, expectedSeq: number, extra: Partial<StrategyWrite> = {}): StrategyWrite {
  const seq = expectedSeq + 1;
  const at = FRIDAY_11AM + seq * 1000;
  const record: TransitionRecord = {
    seq,
    timestamp: new Date(at).toISOString(),
    at,
    previousState: 'INITIALIZING',
    currentState: 'READY',
    trigger: 'MARKET_OPEN',
    data: {},
    message: 'INITIALIZING -> READY',
    accepted: true,
  };
  return { strategyId, expectedSeq, records: [record], snapshot: snapshotAt(seq), state: 'READY', at, ...extra };
}
