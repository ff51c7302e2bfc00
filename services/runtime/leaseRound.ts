import { OwnershipLostError, SnapshotRestoreError, type StoreConflictError } from '../../machines/errors.js';
import type { Clock } from '../market/clock.js';
import type { StoredStrategy, StrategyStore } from '../store/types.js';

/** What the lease keeper needs from the persistent system around it. */
export interface LeaseKeeperOptions {
  store: StrategyStore;
  clock: Clock;
  /** The store's instance name, for the ownership errors it answers. */
  instanceId: string;
  /** True when the system holds the strategy in memory. */
  has(id: string): boolean;
  /** Stops and forgets the in-memory copy, whatever its position (no flat check). */
  detach(id: string): void;
  /** Starts a strategy from its stored form. @throws when it cannot (unknown variant, bad snapshot). */
  restore(stored: StoredStrategy): void;
  /** Audit records to load with each strategy taken over (its in-memory window); default all. */
  window?: number;
  /** Runs `task` after the strategy's queued writes. */
  enqueue<T>(id: string, task: () => Promise<T>): Promise<T>;
  report(error: unknown, strategyId: string): void;
  /** Told each change of this instance's ownership (for the operator's log). */
  onChange?: (change: LeaseChange) => void;
  /**
   * Runs with every round, beside it (the shared trading state is reloaded there): the round's
   * renewal never waits for it, and a reload still running when the next round starts is not doubled.
   */
  beforeRound?(): Promise<void>;
  /**
   * Runs after a round's takeovers (an active kill switch flattens what was claimed), after the
   * reload in flight and beside the next rounds, one at a time.
   */
  afterRound?(): Promise<void>;
}

/**
 * A change of which instance holds a strategy, as this instance sees it: `claimed` (a lease round
 * took it over: its owner's lease ran out, or it was released), `lost` (another instance took it
 * over: this copy was let go of, whatever its position), `reload` (a write whose answer was lost
 * had committed: the copy is let go of and claimed back from the store by the next round),
 * `setAside` (a round claimed it but could not serve it as stored, reported to `onStoreError`: it
 * is released, and this instance does not claim it again until its row or audit trail changes).
 */
export interface LeaseChange {
  strategyId: string;
  change: 'claimed' | 'lost' | 'reload' | 'setAside';
  /** The state it was restored in (`claimed`). */
  state?: string;
  /** Why, in an operator's words. */
  reason: string;
}

/**
 * Ownership of a multi-instance system's strategies: the periodic lease round and the fenced ids.
 * A fence lasts while the strategy is stored: once its new owner removed it, a round (on a store
 * with `storedIds`) forgets the fence and the id is unknown here.
 */
export interface LeaseKeeper {
  /**
   * Lets go of a strategy another instance owns now: the in-memory copy is detached whatever its
   * position (the position lives on with the new owner) and the id answers `error` from then on.
   */
  fence(id: string, error: OwnershipLostError): void;
  /**
   * A write found the stored strategy ahead of this copy while this instance still owns it: a
   * write whose answer was lost (the connection dropped after the server took it) committed.
   * Lets go of the copy (the id answers an OwnershipLostError saying so meanwhile) and of the
   * lease, so the next round claims the strategy again, here or elsewhere, and restores it from
   * the store. Should the release fail, the lease expires and is claimed the same way.
   */
  reload(id: string, error: StoreConflictError): void;
  /** @throws {OwnershipLostError} for an id this instance was fenced off. */
  check(id: string): void;
  /** The ownership error of an id this instance was fenced off, if it was. */
  fencedError(id: string): OwnershipLostError | undefined;
  /** This instance stored a new strategy under `id` (with its lease): the fence of an earlier one of the id is lifted. */
  created(id: string): void;
  /** Starts the rounds: every third of the store's lease on the clock. */
  start(): void;
  stop(): void;
}

/** The state a stored strategy is in (its snapshot's value), as text. */
const stateOfStored = (s: StoredStrategy): string => {
  const value = (s.snapshot as { value?: unknown } | null)?.value;
  return typeof value === 'string' ? value : JSON.stringify(value);
};

/**
 * The deadline a stored strategy waits for, or Infinity: restores and takeovers start the most
 * urgent first. A stored snapshot may be any JSON, null too (the restore then refuses it).
 */
export const storedDueAt = (s: StoredStrategy): number =>
  (s.snapshot as { context?: { deadline?: { at: number } | null } } | null)?.context?.deadline?.at ?? Infinity;

/**
 * Keeps a persistent system's leases: renews its own, takes over orphans, lets go of what another
 * instance fenced. A round never aborts half-way: each lost or claimed strategy is handled on its
 * own, a failure is reported and the others proceed, and a claimed strategy that cannot be
 * restored is released at once so it is never leased by an instance that does not serve it, and
 * set aside: not claimed (nor reported) again by this instance while it is stored as it is.
 */
export function createLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { store, clock } = options;
  const fenced = new Map<string, OwnershipLostError>();
  const periodMs = Math.max(1, Math.floor((store.leaseMs ?? 15_000) / 3));
  let timer: unknown;
  let stopped = false;

  const fence = (id: string, error: OwnershipLostError) => {
    if (options.has(id)) options.detach(id);
    fenced.set(id, error);
  };
  /** Tells `onChange`; a throwing listener is reported, never stops a round. */
  const tell = (change: LeaseChange) => {
    try {
      options.onChange?.(change);
    } catch (error) {
      options.report(error, change.strategyId);
    }
  };

  /**
   * A strategy claimed that cannot be served as stored: reported, and said to be set aside. Its
   * release sets it aside (see {@link StrategyStore.release}): this instance does not claim it
   * again, nor report it again, until its row or trail changes.
   */
  const refuse = (id: string, error: unknown) => {
    options.report(error, id);
    tell({
      strategyId: id,
      change: 'setAside',
      reason: 'refused as stored (see the store error): not claimed again by this instance until its row or audit trail changes',
    });
  };

  const takeOver = async (stored: StoredStrategy) => {
    const id = stored.strategyId;
    try {
      await options.enqueue(id, async () => {
        if (options.has(id)) options.detach(id);
        options.restore(stored);
        fenced.delete(id);
      });
      tell({
        strategyId: id,
        change: 'claimed',
        state: stateOfStored(stored),
        reason: 'taken over by a lease round: its lease had run out or was released',
      });
    } catch (error) {
      refuse(id, error);
      await store.release?.(id, { setAside: true }).catch((e: unknown) => options.report(e, id));
    }
  };

  /**
   * The trading-state reload and the kill switch's adoption run beside the rounds, one at a time,
   * never in front of a renewal: a reload waiting on a lock or a slow server (up to the query
   * timeout, a lease by default), or an adoption waiting on a broker, would otherwise hold every
   * lease of this instance past its expiry and hand them all to another instance.
   */
  let safetyWork: Promise<void> | undefined;
  let reloadWanted = false;
  let adoptWanted = false;
  /** Reloads and adopts while either is wanted: a reload asked for while an adoption runs comes next; an adoption follows the reload of its round. */
  const safety = async () => {
    while (!stopped && (reloadWanted || adoptWanted)) {
      if (reloadWanted) {
        reloadWanted = false;
        await options.beforeRound?.().catch((error: unknown) => options.report(error, '(trading state)'));
      }
      if (adoptWanted && !stopped) {
        adoptWanted = false;
        await options.afterRound?.().catch((error: unknown) => options.report(error, '(kill switch)'));
      }
    }
  };
  /** Asks for a reload (a round starts) or an adoption (a round claimed strategies); the running work picks it up, else it starts. */
  const safetyRound = (want: 'reload' | 'adopt') => {
    if (want === 'reload') reloadWanted = true;
    else adoptWanted = true;
    if (safetyWork) return;
    safetyWork = safety().finally(() => {
      safetyWork = undefined;
      // Asked for between the loop's last check and here.
      if (!stopped && (reloadWanted || adoptWanted)) safetyRound(reloadWanted ? 'reload' : 'adopt');
    });
  };

  /**
   * Forgets the fences of ids no longer stored: the strategy this instance was fenced off was
   * removed by its new owner, so the id now answers UnknownStrategyError (not OwnershipLostError),
   * and fences do not pile up for ever in a long-running service whose strategies come and go.
   * One query for every fenced id. A fence set again while it ran (the id stored anew, then lost
   * again) is newer than the answer and is kept.
   */
  const forgetRemoved = async () => {
    if (fenced.size === 0 || !store.storedIds) return;
    const asked = [...fenced];
    const stored = new Set(await store.storedIds(asked.map(([id]) => id)));
    for (const [id, error] of asked) if (!stored.has(id) && fenced.get(id) === error) fenced.delete(id);
  };

  const round = async () => {
    timer = undefined;
    if (stopped || !store.maintainLeases) return;
    const started = clock.now();
    // The shared trading state is reloaded every round (a NOTIFY may have been missed), beside it.
    safetyRound('reload');
    try {
      const { claimed, lost, refused = [] } = await store.maintainLeases(options.window === undefined ? {} : { window: options.window });
      for (const id of lost) {
        const error = new OwnershipLostError(id, options.instanceId, 'its lease was taken over by another instance');
        await options.enqueue(id, async () => fence(id, error)).catch((e: unknown) => options.report(e, id));
        tell({ strategyId: id, change: 'lost', reason: 'another instance took it over: this copy was let go of' });
      }
      // Rows the store would not hand over as they are (they disagree with their trail): reported
      // and let go of, like a strategy that cannot be restored here; never started.
      for (const { strategyId, error } of refused) {
        refuse(strategyId, error);
        await store.release?.(strategyId, { setAside: true }).catch((e: unknown) => options.report(e, strategyId));
      }
      // Deadlines that passed while unowned fire as each strategy starts: restore in deadline order.
      for (const stored of [...claimed].sort((a, b) => storedDueAt(a) - storedDueAt(b))) await takeOver(stored);
      // After the reload in flight, if any: an active kill switch flattens what was claimed.
      if (claimed.length > 0) safetyRound('adopt');
      await forgetRemoved();
    } catch (error) {
      options.report(error, '(leases)');
    }
    // Every third of a lease from the start of this round, not from its end: a slow round does not
    // push the next renewal back.
    if (!stopped) timer = clock.setTimeout(() => void round(), Math.max(0, periodMs - (clock.now() - started)));
  };

  return {
    fence,
    reload(id, error) {
      fence(
        id,
        new OwnershipLostError(
          id,
          options.instanceId,
          `${error.message}; a write whose answer was lost had committed: the strategy is reloaded from the store by the next lease round`,
        ),
      );
      store.release?.(id).catch((e: unknown) => options.report(e, id));
      tell({ strategyId: id, change: 'reload', reason: `${error.message}: reloaded from the store by the next lease round` });
    },
    check(id) {
      const error = fenced.get(id);
      if (error) throw error;
    },
    fencedError: (id) => fenced.get(id),
    created: (id) => void fenced.delete(id),
    start() {
      if (store.maintainLeases && !stopped) timer = clock.setTimeout(() => void round(), periodMs);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}

/** A stored strategy that cannot be started, as the error that names it and its variant. */
export function unrestorable(stored: StoredStrategy, cause: unknown): SnapshotRestoreError {
  if (cause instanceof SnapshotRestoreError && cause.message.includes(`"${stored.strategyId}"`)) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SnapshotRestoreError(`stored strategy "${stored.strategyId}" of variant "${stored.variant}" cannot be restored: ${why}`);
}

/**
 * Starts the stored strategies at open, synchronously: deadlines that passed while down fire as
 * each one starts and are written after the open returns, where the caller's subscribers see
 * them. On a shared store (one that can release a lease) a strategy that cannot be restored here
 * is reported and released in the background, set aside (this instance does not claim it again
 * while it is stored as it is), so an instance that runs its variant takes it over, and the others
 * start. A single-process store has no other instance to serve it: starting
 * without it would hide it, so the open is refused.
 * @throws {SnapshotRestoreError} naming the strategy and its variant (single-process stores).
 */
export function restoreAtStart(
  stored: readonly StoredStrategy[],
  restore: (stored: StoredStrategy) => void,
  store: StrategyStore,
  report: (error: unknown, strategyId: string) => void,
): void {
  for (const strategy of stored) {
    try {
      restore(strategy);
    } catch (error) {
      const refused = unrestorable(strategy, error);
      if (!store.release) throw refused;
      report(refused, strategy.strategyId);
      // Set aside: this instance's lease rounds do not claim it back (to report it again) until it changes.
      void store.release(strategy.strategyId, { setAside: true }).catch((e: unknown) => report(e, strategy.strategyId));
    }
  }
}
