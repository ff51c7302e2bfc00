/**
 * A real in-memory store that refuses writes while told to, as a full disk or a lost connection
 * would (StoreUnavailableError): for tests of what the runtime and the trading day do meanwhile.
 */
import { StoreUnavailableError } from '../../machines/errors';
import { MemoryStore } from '../../services/store/memoryStore';
import type { StrategyWrite } from '../../services/store/types';

export class FlakyMemoryStore extends MemoryStore {
  /** While true, writes (those `refuses` picks) fail. */
  full = false;
  /** Writes refused so far. */
  refused = 0;
  constructor(
    /** Which writes fail while `full` (default: every one). */
    private readonly refuses: (write: StrategyWrite) => boolean = () => true,
    private readonly why = 'SQLITE_FULL: database or disk is full',
  ) {
    super();
  }
  override append(write: StrategyWrite) {
    if (this.full && this.refuses(write)) {
      this.refused++;
      throw new StoreUnavailableError('memory', this.why);
    }
    return super.append(write);
  }
}

/** A store that refuses, while `full`, only the writes entering PENDING_ENTRY (an entry). */
export const failingEntries = () => new FlakyMemoryStore((write) => write.state === 'PENDING_ENTRY', 'disk full');
