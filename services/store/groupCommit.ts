/**
 * Group commit: the `append` calls that are ready together (a broadcast, concurrent HTTP requests,
 * deadlines due at one instant) share one transaction, and so one fsync (SQLite) or one round
 * trip (PostgreSQL). Each caller's promise settles only after the commit that holds its write, so
 * durability is that of one transaction per write: what is acknowledged is on disk.
 */

/** Bounds of group commit (see docs/persistence.md). */
export interface GroupCommitOptions {
  /** Most writes in one transaction (default 256): bounds the time one commit holds the event loop. */
  maxBatch?: number;
  /**
   * How long the first queued write waits for company, in ms of real time (default 0: only what
   * is queued by the next turn of the event loop joins it, so a lone write waits for no timer).
   */
  maxWaitMs?: number;
}

/** The defaults: large enough to make a broadcast a few dozen commits, small enough that each stays short. */
export const DEFAULT_GROUP_COMMIT: Required<GroupCommitOptions> = { maxBatch: 256, maxWaitMs: 0 };

/**
 * What a batch commit reports per write, in order: `undefined` when it is committed, or the error
 * that refused it alone (its seq moved on, another instance owns it, the trading state forbids it).
 * A batch commit that throws fails every write of the batch with what it threw: none is committed.
 */
export type BatchOutcome = ReadonlyArray<unknown>;

/** What a store learns about each batch it committed (metrics; tests count transactions with it). */
export interface BatchReport {
  /** Writes in the batch. */
  writes: number;
  /** Writes committed (the others were refused one by one, or the batch failed). */
  committed: number;
  /** The error that failed the whole batch, if it failed. */
  failed?: unknown;
}

/** Queues writes and commits them in batches; see {@link createGroupCommit}. */
export interface GroupCommit<W> {
  /** Resolves after the commit that holds `write`; rejects with what refused it (alone, or with its batch). */
  submit(write: W): Promise<void>;
  /** Resolves once every write submitted so far is committed or refused. */
  drain(): Promise<void>;
  /** Writes queued or in a commit. */
  readonly pending: number;
}

interface Queued<W> {
  write: W;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Makes a group commit over `commit`, which writes one batch in one transaction and reports each
 * write's outcome. One batch is committed at a time; while it commits, the next one gathers. The
 * queue is taken in the order writes were submitted, so two writes of one strategy are committed
 * in the order they were made (and the second sees the first).
 *
 * Scheduling is event-loop time, not the strategies' clock: a batch waits for `setImmediate` (or
 * `maxWaitMs` of real time), and a batch larger than `maxBatch` is split with a turn of the
 * event loop between the parts, so timers, I/O and HTTP requests run between commits.
 *
 * @example
 * ```ts
 * const group = createGroupCommit<StrategyWrite>((writes) => writeAllInOneTransaction(writes), { maxBatch: 256 });
 * await Promise.all(writes.map((w) => group.submit(w))); // one transaction, one fsync
 * ```
 */
export function createGroupCommit<W>(
  commit: (writes: W[]) => BatchOutcome | Promise<BatchOutcome>,
  options: GroupCommitOptions = {},
  onBatch?: (report: BatchReport) => void,
): GroupCommit<W> {
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? DEFAULT_GROUP_COMMIT.maxBatch));
  const maxWaitMs = Math.max(0, options.maxWaitMs ?? DEFAULT_GROUP_COMMIT.maxWaitMs);
  let queue: Array<Queued<W>> = [];
  let scheduled: 'immediate' | 'timer' | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let committing = 0;
  let idle: Array<() => void> = [];

  const schedule = () => {
    if (committing > 0 || queue.length === 0) return;
    // A full batch needs no more company: it goes at the next turn even when maxWaitMs is set.
    if (maxWaitMs === 0 || queue.length >= maxBatch) {
      if (scheduled === 'immediate') return;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      scheduled = 'immediate';
      setImmediate(() => void run());
    } else if (scheduled === undefined) {
      scheduled = 'timer';
      timer = setTimeout(() => void run(), maxWaitMs);
    }
  };

  const settle = (batch: Array<Queued<W>>, outcome: BatchOutcome) => {
    let committed = 0;
    batch.forEach((entry, i) => {
      const error = outcome[i];
      if (error === undefined) {
        committed++;
        entry.resolve();
      } else entry.reject(error);
    });
    return committed;
  };

  const run = async () => {
    scheduled = undefined;
    timer = undefined;
    if (committing > 0 || queue.length === 0) return;
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    committing++;
    let report: BatchReport;
    try {
      const outcome = await commit(batch.map((entry) => entry.write));
      report = { writes: batch.length, committed: settle(batch, outcome) };
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      report = { writes: batch.length, committed: 0, failed: error };
    } finally {
      committing--;
    }
    onBatch?.(report);
    // What gathered during the commit (or did not fit) goes at the next turn of the event loop.
    if (queue.length > 0) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      scheduled = 'immediate';
      setImmediate(() => void run());
    } else {
      const waiting = idle;
      idle = [];
      for (const done of waiting) done();
    }
  };

  return {
    submit(write) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ write, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && committing === 0) return Promise.resolve();
      return new Promise<void>((done) => idle.push(done));
    },
    get pending() {
      return queue.length + committing;
    },
  };
}
