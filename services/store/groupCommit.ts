/**
 * Group commit: the `append` calls that are ready together (a broadcast, concurrent HTTP requests,
 * deadlines due at one instant) share one transaction, and so one fsync (SQLite) or one round
 * trip (PostgreSQL). Each caller's promise settles only after the commit that holds its write, so
 * durability is that of one transaction per write: what is acknowledged is on disk.
 */

/** Bounds of group commit (see docs/persistence.md). */
export interface GroupCommitOptions {
  /**
   * Most writes in one transaction (default 128): bounds the time one commit, and the
   * acknowledgements that follow it, hold the event loop. Measured on a 10k broadcast (SQLite,
   * synchronous=FULL, 2 cores, 2026-12-03, batches of 256 and 128 alternating): the longest pause
   * of the event loop per broadcast read 22-52 ms with 256 and 18-34 ms with 128, for the same
   * total time (more fsyncs, each short); 256 had been a third shorter than 512.
   */
  maxBatch?: number;
  /**
   * How long the first queued write waits for company, in ms of real time (default 0: no timer;
   * the batch waits for turns of the event loop instead, see `maxWaitTurns`).
   */
  maxWaitMs?: number;
  /**
   * With `maxWaitMs` 0: how many more turns of the event loop (`setImmediate`, no timer) a batch
   * below `maxBatch` waits while writes keep arriving (default 4). A turn that brought no new write
   * ends the wait, so a burst queued at once waits at most one more turn; a broadcast that queues a
   * part per turn fills its batches up to `maxBatch`. A lone write (no other write joined it by the
   * end of the microtasks queued with it) waits for no turn: it is committed at once, unless the
   * writes committed at once have held the event loop for {@link LONE_WRITES_TURN_MS} since its
   * last turn (a caller awaiting one send after another never leaves the microtasks otherwise).
   */
  maxWaitTurns?: number;
  /**
   * Batches committing at once (default 1). Over a store whose commit is a round trip (PostgreSQL),
   * 2 lets the next batch's writes be made while one commits: writes found together with none in
   * flight are split in two batches side by side. Writes of one key (see {@link createGroupCommit})
   * are never in two batches at once, so they commit in the order they were made. Without a key, 1.
   */
  concurrency?: number;
}

/**
 * How long (ms of real time) lone writes may be committed at once, one after the other, before the
 * next one waits for a turn of the event loop. A loop that awaits each send gets its commit with
 * no turn between them (the fastest a lone sender can go); without this bound a long loop of them
 * would run entirely in microtasks, and no timer, I/O or HTTP request would run until it ended.
 */
export const LONE_WRITES_TURN_MS = 10;

/** The defaults: a broadcast to 10k strategies is about eighty commits, each short. */
export const DEFAULT_GROUP_COMMIT: Required<GroupCommitOptions> = { maxBatch: 128, maxWaitMs: 0, maxWaitTurns: 4, concurrency: 1 };

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
 * Scheduling is event-loop time, not the strategies' clock: a lone write commits once the
 * microtasks queued with it have run; writes that came together wait for `setImmediate`, and
 * for more turns while writes keep arriving (`maxWaitTurns`), or for `maxWaitMs` of real time; a
 * batch larger than `maxBatch` is split with a turn of the event loop between the parts, so
 * timers, I/O and HTTP requests run between commits.
 *
 * @example
 * ```ts
 * const group = createGroupCommit<StrategyWrite>((writes) => writeAllInOneTransaction(writes), { maxBatch: 128 });
 * await Promise.all(writes.map((w) => group.submit(w))); // one transaction, one fsync
 * ```
 */
export function createGroupCommit<W>(
  commit: (writes: W[]) => BatchOutcome | Promise<BatchOutcome>,
  options: GroupCommitOptions = {},
  onBatch?: (report: BatchReport) => void,
  keyOf?: (write: W) => string,
): GroupCommit<W> {
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? DEFAULT_GROUP_COMMIT.maxBatch));
  const maxWaitMs = Math.max(0, options.maxWaitMs ?? DEFAULT_GROUP_COMMIT.maxWaitMs);
  const maxWaitTurns = Math.max(0, Math.floor(options.maxWaitTurns ?? DEFAULT_GROUP_COMMIT.maxWaitTurns));
  let queue: Array<Queued<W>> = [];
  let scheduled: 'immediate' | 'timer' | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const concurrency = keyOf ? Math.max(1, Math.floor(options.concurrency ?? DEFAULT_GROUP_COMMIT.concurrency)) : 1;
  // Keys are tracked only when batches can overlap: one at a time keeps the order by itself.
  const keyOfOverlapping = concurrency > 1 ? keyOf : undefined;
  /** Batches committing now, and how many writes of each key they hold. */
  let committing = 0;
  const inFlight = new Map<string, number>();
  let idle: Array<() => void> = [];
  // Gathering by turns: the queue's length at the last turn, and the turns waited so far.
  let gathered = 0;
  let turnsWaited = 0;

  let immediate: ReturnType<typeof setImmediate> | undefined;
  // Set while the first write of an idle queue waits for the microtasks queued with it.
  let loneCheck = false;
  // When lone writes started being committed at once, with no turn of the event loop since (0: none yet).
  let atOnceSince = 0;

  const atNextTurn = () => {
    if (scheduled === 'immediate') return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    scheduled = 'immediate';
    gathered = queue.length;
    immediate = setImmediate(() => {
      immediate = undefined;
      atOnceSince = 0;
      run();
    });
  };

  /**
   * The first write of an idle queue: the microtasks queued before this check (the other sends of
   * a burst or a broadcast part, each one microtask into its strategy's queue) have run. Alone
   * still, the write commits now, at no turn of the event loop; joined, the batch keeps its turn.
   */
  const afterMicrotasks = () => {
    if (!loneCheck) return;
    loneCheck = false;
    if (scheduled !== 'immediate' || committing >= concurrency || queue.length !== 1) return;
    // Lone writes committed at once for long enough: this one keeps its turn, so the event loop gets one.
    const now = performance.now();
    if (atOnceSince === 0) atOnceSince = now;
    else if (now - atOnceSince > LONE_WRITES_TURN_MS) return;
    if (immediate !== undefined) clearImmediate(immediate);
    immediate = undefined;
    run();
  };

  const schedule = () => {
    if (committing >= concurrency || queue.length === 0) return;
    // A full batch needs no more company: it goes at the next turn even when maxWaitMs is set.
    if (maxWaitMs === 0 || queue.length >= maxBatch) {
      if (scheduled === 'immediate') return;
      turnsWaited = 0;
      atNextTurn();
      if (maxWaitMs === 0 && queue.length === 1) {
        loneCheck = true;
        queueMicrotask(afterMicrotasks);
      }
    } else if (scheduled === undefined) {
      scheduled = 'timer';
      timer = setTimeout(run, maxWaitMs);
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

  /**
   * The next batch, from the head of the queue: at most `maxBatch`; with none in flight and room for
   * more, the share of one of `concurrency` batches; it stops at a write whose key is in flight.
   */
  const take = (): Array<Queued<W>> => {
    const limit = committing === 0 && concurrency > 1 ? Math.min(maxBatch, Math.ceil(queue.length / concurrency)) : maxBatch;
    let count = Math.min(limit, queue.length);
    if (keyOfOverlapping && inFlight.size > 0) {
      for (let i = 0; i < count; i++)
        if (inFlight.has(keyOfOverlapping(queue[i].write))) {
          count = i;
          break;
        }
    }
    const batch = count === queue.length ? queue : queue.slice(0, count);
    queue = count === queue.length ? [] : queue.slice(count);
    if (keyOfOverlapping)
      for (const entry of batch) inFlight.set(keyOfOverlapping(entry.write), (inFlight.get(keyOfOverlapping(entry.write)) ?? 0) + 1);
    return batch;
  };

  const run = () => {
    scheduled = undefined;
    timer = undefined;
    if (committing >= concurrency || queue.length === 0) return;
    // Writes still arriving turn after turn (a broadcast's parts): wait one more turn for them.
    if (maxWaitMs === 0 && queue.length < maxBatch && queue.length > gathered && turnsWaited < maxWaitTurns) {
      turnsWaited++;
      atNextTurn();
      return;
    }
    turnsWaited = 0;
    // Side by side up to `concurrency`; a batch blocked by a key in flight starts when that one ends.
    while (committing < concurrency && queue.length > 0) {
      const batch = take();
      if (batch.length === 0) return;
      void commitBatch(batch);
    }
  };

  const commitBatch = async (batch: Array<Queued<W>>) => {
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
      if (keyOfOverlapping)
        for (const entry of batch) {
          const key = keyOfOverlapping(entry.write);
          const left = (inFlight.get(key) ?? 1) - 1;
          if (left > 0) inFlight.set(key, left);
          else inFlight.delete(key);
        }
    }
    // A report callback (metrics, a log) that throws must not stop the write path or end the process.
    try {
      onBatch?.(report);
    } catch (error) {
      console.error('group commit: the onBatch callback threw (the batch itself is settled)', error);
    }
    // What gathered during the commit (or did not fit) goes at the next turn of the event loop.
    if (queue.length > 0) atNextTurn();
    else if (committing === 0) {
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
